package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// openChain opens the wallet's backend on --network/--rpc, printing each
// transaction's progress on stderr.
func openChain(cmd *cobra.Command, g *globals, wf *walletFlags, w *wallet.Wallet) (*evm.Backend, func(), error) {
	dir, err := g.resolveDataDir()
	if err != nil {
		return nil, nil, err
	}
	b, closeChain, err := wf.chain.open(cmd.Context(), g, dir, w)
	if err != nil {
		return nil, nil, err
	}
	b.Progress = progressPrinter(cmd.ErrOrStderr(), b.Network)
	return b, closeChain, nil
}

// depositArgs is what `spare wallet deposit` deposits: into a new
// channel for payee (vouchers signed by signer; empty: this wallet), or a
// top-up of channel; locked for lock from now (a top-up: only when extend).
type depositArgs struct {
	payee, signer, channel string
	amount                 wallet.Amount
	lock                   time.Duration
	extend                 bool
}

// depositOnChain approves the escrow and deposits into a new channel for
// payee, or tops one up, waiting for the network's confirmations; it
// reports until when the deposit is locked, as the chain says.
func depositOnChain(cmd *cobra.Command, g *globals, wf *walletFlags, w *wallet.Wallet, a depositArgs) error {
	b, closeChain, err := openChain(cmd, g, wf, w)
	if err != nil {
		return err
	}
	defer closeChain()
	ctx := cmd.Context()
	out := map[string]string{"network": b.Network.Name, "unit": b.Network.Symbol}
	var id common.Hash
	if a.channel != "" {
		if id, err = parseChannel(a.channel); err != nil {
			return err
		}
		lock := time.Duration(0)
		if a.extend {
			lock = a.lock
		}
		if err := b.TopUpFor(ctx, id, a.amount, lock); err != nil {
			return err
		}
		out["topped_up"] = a.amount.String()
	} else {
		key, err := w.Key()
		if err != nil {
			return err
		}
		sig := key.Address()
		if a.signer != "" {
			sig = common.HexToAddress(a.signer)
		}
		ch, err := b.OpenFor(ctx, common.HexToAddress(a.payee), sig, a.amount, a.lock)
		if err != nil {
			return err
		}
		id = ch.ID
		out["payee"], out["deposit"] = ch.Payee.Hex(), ch.Deposit.String()
	}
	out["channel"] = id.Hex()
	on, err := b.Channel(ctx, id)
	if err != nil {
		return fmt.Errorf("deposited; reading the channel's lock: %w", err)
	}
	out["locked_until"] = "not locked (providers refuse the channel: top up with --lock)"
	if on.UnlockAt != 0 {
		out["locked_until"] = time.Unix(int64(on.UnlockAt), 0).UTC().Format(time.RFC3339)
	}
	return report(cmd, g, out)
}

// withdrawOnChain asks to close a channel, or withdraws what it holds
// beyond what was settled once the grace period is over; or sends
// settled earnings (tokens this wallet holds) to the owner's address.
func withdrawOnChain(cmd *cobra.Command, g *globals, wf *walletFlags, w *wallet.Wallet, id common.Hash, amt wallet.Amount, to string) error {
	b, closeChain, err := openChain(cmd, g, wf, w)
	if err != nil {
		return err
	}
	defer closeChain()
	ctx := cmd.Context()
	if id == (common.Hash{}) {
		me, err := w.Address()
		if err != nil {
			return err
		}
		dest, err := wallet.ParsePayoutAddress(to, me)
		if err != nil {
			return usageError{fmt.Errorf("--to: %s", strings.TrimPrefix(err.Error(), wallet.ErrBadPayee.Error()+": "))}
		}
		tx, err := b.Transfer(ctx, dest, amt) // the ledger records the payout
		if err != nil {
			return err
		}
		return report(cmd, g, map[string]string{"network": b.Network.Name, "paid_out": amt.String(), "to": dest.Hex(),
			"tx": tx.Hash.Hex(), "explorer": b.Network.TxURL(tx.Hash), "unit": b.Network.Symbol,
			"gas_used": strconv.FormatUint(tx.GasUsed, 10), "gas_wei": wallet.GasWei(tx.GasUsed, tx.GasPrice).String()})
	}
	ch, err := b.Channel(ctx, id)
	if err != nil {
		return err
	}
	if ch.CloseRequestedAt == 0 {
		if err := b.RequestClose(ctx, id); err != nil {
			return err
		}
		if ch, err = b.Channel(ctx, id); err != nil {
			return err
		}
		ends := ch.WithdrawableAt().UTC().Format(time.RFC3339)
		return report(cmd, g, map[string]string{"network": b.Network.Name, "channel": id.Hex(), "state": "closing", "grace_ends": ends})
	}
	if err := b.Withdraw(ctx, id); err != nil {
		if errors.Is(err, wallet.ErrGracePeriod) {
			return fmt.Errorf("withdraw: %w", err)
		}
		return err
	}
	return report(cmd, g, map[string]string{"network": b.Network.Name, "channel": id.Hex(), "state": "closed",
		"refund": (ch.Deposit - ch.Settled).String(), "unit": b.Network.Symbol})
}
