package gethtest

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
)

// TestStartAndFund: the node answers with geth --dev's chain ID, and Fund
// moves the developer account's ether to a fresh address.
func TestStartAndFund(t *testing.T) {
	n := Start(t)
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	a := crypto.PubkeyToAddress(k.PublicKey)
	want := big.NewInt(123_456_789)
	n.Fund(t, a, want)
	got, err := n.Client.BalanceAt(context.Background(), a, nil)
	if err != nil || got.Cmp(want) != 0 {
		t.Fatalf("balance %v, %v; want %v", got, err, want)
	}
}

// TestAnvilIncreaseTime: anvil answers as the dev chain does (chain ID,
// a funded developer account), and IncreaseTime moves its clock: the next
// block is a day later.
func TestAnvilIncreaseTime(t *testing.T) {
	n := StartAnvil(t)
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	n.Fund(t, crypto.PubkeyToAddress(k.PublicKey), big.NewInt(1))
	before, err := n.Client.HeaderByNumber(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n.IncreaseTime(t, 24*time.Hour)
	after, err := n.Client.HeaderByNumber(context.Background(), nil)
	if err != nil || after.Number.Uint64() != before.Number.Uint64()+1 || after.Time < before.Time+24*3600 {
		t.Fatalf("after a day: block %v at %v (%v); before: block %v at %v", after.Number, after.Time, err, before.Number, before.Time)
	}
}
