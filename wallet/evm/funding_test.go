package evm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet"
)

// TestCheckFunding plays requesters whose channel cannot pay: the
// provider's on-chain read refuses each before any work, naming why.
func TestCheckFunding(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t) // deposit 10.000000, payee e.payee, signer the payer
	signer := e.payerKey.Address()
	if got, err := e.payee.CheckFunding(ctx, ch.ID, signer, deposit); err != nil || got.Deposit != deposit {
		t.Fatalf("a channel holding exactly the maximum cost: %+v, %v", got, err)
	}
	other, _ := wallet.GenerateKey()
	for _, tc := range []struct {
		name    string
		id      common.Hash
		signer  common.Address
		maxCost wallet.Amount
		want    string
	}{
		{"no such channel", common.Hash{7}, signer, 1, "does not exist on chain 1337"},
		{"under-funded", ch.ID, signer, deposit + 1, "holds 10.000000 beyond what is claimed, the job may cost up to 10.000001"},
		{"someone else's signer", ch.ID, other.Address(), 1, "takes vouchers from " + signer.Hex()},
		{"zero signer", ch.ID, common.Address{}, 1, "not from the requester 0x0000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.payee.CheckFunding(ctx, tc.id, tc.signer, tc.maxCost)
			if !errors.Is(err, ErrUnfunded) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrUnfunded with %q", err, tc.want)
			}
		})
	}
	// Another payee's channel, read by a provider it does not pay.
	if _, err := e.payer.CheckFunding(ctx, ch.ID, signer, 1); !errors.Is(err, ErrUnfunded) || !strings.Contains(err.Error(), "not this provider") {
		t.Fatalf("a channel paying someone else: %v", err)
	}
	// A voucher the provider holds already claims part of the deposit.
	v := e.voucher(t, e.payer.Domain(), ch.ID, 4_000_000, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.payee.CheckFunding(ctx, ch.ID, signer, 6_000_001); !errors.Is(err, ErrUnfunded) {
		t.Fatalf("6.000001 on a channel with 6.000000 unclaimed: %v", err)
	}
	if amt, err := e.payee.SettleBest(ctx, ch.ID); err != nil || amt != 4_000_000 {
		t.Fatalf("settling the best voucher: %s, %v", amt, err)
	}
	if amt, err := e.payee.SettleBest(ctx, ch.ID); err != nil || amt != 0 {
		t.Fatalf("settling again (a restart after a settlement): %s, %v; want nothing sent", amt, err)
	}
	if got := e.balanceOf(t, e.payeeKey.Address()); got != 4_000_000 {
		t.Fatalf("payee holds %d, want 4000000", got)
	}
	// A closing channel is refused, and withdrawing before the grace
	// period ends is a sentence with the time, not a raw custom error.
	if err := e.payer.RequestClose(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.payee.CheckFunding(ctx, ch.ID, signer, 1); !errors.Is(err, ErrUnfunded) || !strings.Contains(err.Error(), "is closing") {
		t.Fatalf("a closing channel: %v", err)
	}
	err := e.payer.Withdraw(ctx, ch.ID)
	var ce *ContractError
	if !errors.As(err, &ce) || ce.Name != "GracePeriod" || !errors.Is(err, wallet.ErrGracePeriod) ||
		!strings.Contains(err.Error(), "grace period runs until 20") || strings.Contains(err.Error(), "custom error") {
		t.Fatalf("withdraw in the grace period: %v", err)
	}
}
