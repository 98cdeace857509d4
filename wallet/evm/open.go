package evm

import (
	"context"
	"log/slog"

	"github.com/sparegpu/spare/wallet"
)

// Open is New for a checked network preset (see Dial): the escrow and
// token of n, waiting for n's confirmations.
func Open(ctx context.Context, client Client, n Network, key *wallet.Key, ledger *wallet.Ledger, log *slog.Logger) (*Backend, error) {
	b, err := New(ctx, client, n.Escrow, n.Token, key, ledger, log)
	if err != nil {
		return nil, err
	}
	b.Confirmations, b.Network = n.ConfirmationsOrDefault(), n
	b.Policy = n.Policy()
	return b, nil
}
