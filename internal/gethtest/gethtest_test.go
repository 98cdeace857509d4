package gethtest

import (
	"context"
	"math/big"
	"testing"

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
