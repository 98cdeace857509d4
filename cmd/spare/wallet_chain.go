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

// depositOnChain approves the escrow and deposits into a new channel for
// payee, or tops one up, waiting for the network's confirmations.
func depositOnChain(cmd *cobra.Command, g *globals, wf *walletFlags, w *wallet.Wallet, payee, signer, channel string, amt wallet.Amount) error {
	b, closeChain, err := openChain(cmd, g, wf, w)
	if err != nil {
		return err
	}
	defer closeChain()
	ctx := cmd.Context()
	if channel != "" {
		id, err := parseChannel(channel)
		if err != nil {
			return err
		}
		if err := b.TopUp(ctx, id, amt); err != nil {
			return err
		}
		return report(cmd, g, map[string]string{"network": b.Network.Name, "channel": id.Hex(), "topped_up": amt.String(), "unit": b.Network.Symbol})
	}
	key, err := w.Key()
	if err != nil {
		return err
	}
	sig := key.Address()
	if signer != "" {
		sig = common.HexToAddress(signer)
	}
	ch, err := b.Open(ctx, common.HexToAddress(payee), sig, amt)
	if err != nil {
		return err
	}
	return report(cmd, g, map[string]string{"network": b.Network.Name, "channel": ch.ID.Hex(), "payee": ch.Payee.Hex(),
		"deposit": ch.Deposit.String(), "unit": b.Network.Symbol})
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
		tx, err := b.Transfer(ctx, dest, amt)
		if err != nil {
			return err
		}
		if err := w.Ledger.RecordChainPayout(ctx, me, amt, dest.Hex(), tx); err != nil {
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
