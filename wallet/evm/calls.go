package evm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/sparegpu/spare/wallet"
)

// sendRecorded is send for a wallet with a ledger: the signed transaction
// is recorded pending, with its nonce, before it is sent, and recorded
// mined with its gas once it has its confirmations (finishCall). A kill
// at any point leaves it in the ledger; the next send, or Resume, sends
// the same transaction again or finds it mined, so it is neither lost nor
// sent twice. Pending ones are finished first, so that a new transaction
// takes the nonce after theirs.
func (b *Backend) sendRecorded(ctx context.Context, what string, f txFor, call func(*bind.TransactOpts) (*types.Transaction, error)) (*types.Receipt, error) {
	if err := b.Resume(ctx); err != nil {
		return nil, err
	}
	tx, err := b.sign(ctx, what, call)
	if err != nil {
		return nil, err
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, err
	}
	head, err := b.client.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the chain head: %w", what, err)
	}
	r := wallet.ChainTxRecord{Hash: tx.Hash(), ChainID: b.chain.Uint64(), Kind: what, ChannelID: f.channel, Amount: f.amount,
		Nonce: tx.Nonce(), Raw: raw, SentBlock: head}
	record := b.ledger.RecordSendingChainTx
	if f.payout != "" {
		record = func(ctx context.Context, r wallet.ChainTxRecord) error {
			return b.ledger.RecordSendingPayout(ctx, b.key.Address(), f.payout, r)
		}
	}
	if err := record(ctx, r); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := b.crashAt(what + " recorded"); err != nil {
		return nil, err
	}
	if err := b.broadcast(ctx, what, tx); err != nil {
		if !refused(err) {
			// No answer (a dropped connection, a timeout): the node may
			// hold it. It stays pending; the next send, or Resume, sends
			// it again or finds it mined.
			return nil, fmt.Errorf("%w (not known whether the node took it: it is sent again, or found mined, before the wallet's next transaction)", err)
		}
		// The node refused it: it will not be mined.
		if ferr := b.ledger.FailChainTx(ctx, r.Hash); ferr != nil {
			return nil, errors.Join(err, ferr)
		}
		return nil, err
	}
	if err := b.crashAt(what + " sent"); err != nil {
		return nil, err
	}
	return b.finishCall(ctx, r)
}

// finishCall waits until r is mined and has the backend's confirmations,
// applies what it did to the ledger (afterCall) and records it mined with
// the gas it cost (reverted: its gas only). One whose nonce another
// transaction took is recorded failed.
func (b *Backend) finishCall(ctx context.Context, r wallet.ChainTxRecord) (*types.Receipt, error) {
	t := time.NewTicker(b.pollEvery())
	defer t.Stop()
	takenBefore := false
	for {
		rc, err := b.client.TransactionReceipt(ctx, r.Hash)
		if err == nil {
			return b.recordCall(ctx, r, rc)
		}
		if !errors.Is(err, ethereum.NotFound) {
			return nil, fmt.Errorf("%s: reading the receipt of %s: %w", r.Kind, r.Hash.Hex(), err)
		}
		taken, err := b.nonceTaken(ctx, r.Nonce, r.Hash)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Kind, err)
		}
		if taken && takenBefore {
			b.log.Warn("a pending transaction's nonce went to another transaction", "call", r.Kind, "tx", r.Hash.Hex(), "nonce", r.Nonce)
			if err := b.ledger.FailChainTx(ctx, r.Hash); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%s %s: %w", r.Kind, r.Hash.Hex(), errNonceTaken)
		}
		takenBefore = taken
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: waiting for %s to be mined: %w", r.Kind, r.Hash.Hex(), ctx.Err())
		case <-t.C:
		}
	}
}

func (b *Backend) recordCall(ctx context.Context, r wallet.ChainTxRecord, rc *types.Receipt) (*types.Receipt, error) {
	reverted := rc.Status != types.ReceiptStatusSuccessful
	if !reverted {
		b.log.Info("mined", "call", r.Kind, "tx", r.Hash.Hex(), "block", rc.BlockNumber, "gas", rc.GasUsed)
		var err error
		if rc, err = b.confirm(ctx, r.Kind, rc, max(b.Confirmations, 1)); err != nil {
			return nil, err // still pending: the next send or Resume finishes it
		}
		if err := b.afterCall(ctx, r); err != nil {
			return nil, err
		}
	}
	r.BlockHash, r.BlockNumber, r.GasUsed, r.GasPrice, r.Reverted = rc.BlockHash, rc.BlockNumber.Uint64(), rc.GasUsed, gasPrice(rc), reverted
	if !reverted {
		// A payout's transfer is recorded as the payout, with its gas.
		if paid, err := b.ledger.ConfirmPayoutChainTx(ctx, r); err != nil || paid {
			if err != nil {
				return nil, fmt.Errorf("%s: recording the payout %s: %w", r.Kind, r.Hash.Hex(), err)
			}
			return rc, nil
		}
	}
	if reverted {
		r.Amount = 0
	}
	if err := b.ledger.RecordChainTx(ctx, r); err != nil {
		return nil, fmt.Errorf("%s: recording %s's gas: %w", r.Kind, r.Hash.Hex(), err)
	}
	if reverted {
		return rc, fmt.Errorf("%s: %w (tx %s)", r.Kind, ErrReverted, r.Hash.Hex())
	}
	return rc, nil
}

// afterCall records in the ledger what a mined call did to its channel,
// as the chain now holds it: an open adds the channel, a topUp its new
// deposit, a withdraw closes it. Each is idempotent, and runs before the
// call is recorded mined, so a kill between the two repeats it harmlessly.
func (b *Backend) afterCall(ctx context.Context, r wallet.ChainTxRecord) error {
	switch r.Kind {
	case "open", "topUp", "withdraw":
	default:
		return nil
	}
	ch, err := b.Channel(ctx, r.ChannelID)
	if err != nil {
		return fmt.Errorf("%s mined: %w", r.Kind, err)
	}
	switch r.Kind {
	case "open":
		return b.ledger.AddChannel(ctx, BackendName, ch.ChannelInfo)
	case "topUp":
		return ignoreNotFound(b.ledger.SyncDeposit(ctx, ch.ID, ch.Deposit))
	default:
		return b.markClosed(ctx, ch)
	}
}

// resumeCall finishes a transaction the ledger holds as recorded and not
// known mined: it is found mined, or sent again as signed and waited for;
// one that can never be mined here (the nonces before it are unused: a
// development chain started afresh) or that the node refuses is recorded
// failed.
func (b *Backend) resumeCall(ctx context.Context, r wallet.ChainTxRecord) error {
	if _, err := b.client.TransactionReceipt(ctx, r.Hash); err == nil {
		_, err := b.finishCall(ctx, r)
		return err
	}
	next, err := b.client.PendingNonceAt(ctx, b.key.Address())
	if err != nil {
		return fmt.Errorf("resuming %s: reading the account's next nonce: %w", r.Hash.Hex(), err)
	}
	if r.Nonce > next {
		b.log.Warn("a pending transaction can never be mined on this chain (the nonces before it are unused)",
			"call", r.Kind, "tx", r.Hash.Hex(), "nonce", r.Nonce, "next", next)
		return b.ledger.FailChainTx(ctx, r.Hash)
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(r.Raw); err != nil {
		return fmt.Errorf("pending %s %s: %w", r.Kind, r.Hash.Hex(), err)
	}
	if err := b.broadcast(ctx, r.Kind, tx); err != nil && !strings.Contains(err.Error(), "nonce too low") {
		if !refused(err) {
			return fmt.Errorf("resuming %s %s: %w", r.Kind, r.Hash.Hex(), err) // no answer: tried again later
		}
		// The node refuses it (funds, fee): it will not be mined.
		b.log.Warn("the node refused a pending transaction sent again; recorded failed", "call", r.Kind, "tx", r.Hash.Hex(), "err", err)
		return b.ledger.FailChainTx(ctx, r.Hash)
	}
	b.log.Info("resuming a transaction sent before a restart or a reorg", "call", r.Kind, "tx", r.Hash.Hex())
	_, err = b.finishCall(ctx, r)
	return err
}

// reconcileCalls re-checks the wallet's other transactions (approve,
// open, topUp, requestClose, withdraw, a reverted settlement…) recorded
// mined at block from or later: one a reorg moved to another block is
// recorded there with the gas and price its new receipt says; one no
// longer in the chain costs nothing and is pending again, to be sent
// again by Resume (or dropped, when recorded without its signed form).
// It returns how many left the chain.
func (b *Backend) reconcileCalls(ctx context.Context, from uint64) (int, error) {
	list, err := b.ledger.UnfinalChainTxs(ctx, b.domain.ChainID, from)
	if err != nil {
		return 0, err
	}
	dropped := 0
	for _, r := range list {
		rc, err := b.client.TransactionReceipt(ctx, r.Hash)
		switch {
		case err == nil && rc.BlockHash != r.BlockHash:
			r.BlockHash, r.BlockNumber, r.GasUsed, r.GasPrice = rc.BlockHash, rc.BlockNumber.Uint64(), rc.GasUsed, gasPrice(rc)
			r.Reverted = rc.Status != types.ReceiptStatusSuccessful
			if err := b.ledger.RecordChainTx(ctx, r); err != nil {
				return dropped, err
			}
		case errors.Is(err, ethereum.NotFound):
			b.log.Warn("a transaction left the canonical chain", "call", r.Kind, "tx", r.Hash.Hex())
			if err := b.ledger.ReorgedChainTx(ctx, r.Hash); err != nil {
				return dropped, err
			}
			dropped++
		case err != nil:
			return dropped, fmt.Errorf("reconciling %s: %w", r.Hash.Hex(), err)
		}
	}
	return dropped, nil
}

// refused says whether err is the node's answer refusing a transaction
// (a JSON-RPC error, or an HTTP error status), not a lost answer: after a
// dropped connection or a timeout the node may well hold it.
func refused(err error) bool {
	var rpcErr rpc.Error
	var httpErr rpc.HTTPError
	return errors.As(err, &rpcErr) || errors.As(err, &httpErr)
}
