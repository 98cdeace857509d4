package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/sparegpu/spare/wallet"
)

// errNonceTaken reports a settlement none of whose transactions can be
// mined: another transaction took their nonce. Its voucher is settled
// anew.
var errNonceTaken = errors.New("its nonce went to another transaction")

// finish waits until one of a settlement's transactions (group: the
// first and its replacements, as recorded; the last is the latest sent)
// is mined and records it. While none is, once the latest has waited
// Policy.BumpAfter blocks it is replaced by the same call with the same
// nonce and a higher fee, within the cap (feeLimit); above the cap the
// settlement waits, and the ledger says why (NotePendingTx).
func (b *Backend) finish(ctx context.Context, group []wallet.PendingTx) error {
	t := time.NewTicker(b.pollEvery())
	defer t.Stop()
	note := group[len(group)-1].Note
	takenBefore := false
	for {
		rc, p, err := b.minedOf(ctx, group)
		if err != nil {
			return err
		}
		if rc != nil {
			return b.recordMined(ctx, p, rc)
		}
		latest := group[len(group)-1]
		hashes := make([]common.Hash, len(group))
		for i, p := range group {
			hashes[i] = p.Hash
		}
		taken, err := b.nonceTaken(ctx, latest.Nonce, hashes...)
		if err != nil {
			return fmt.Errorf("%s: %w", latest.Kind, err)
		}
		if taken && takenBefore {
			b.log.Warn("a pending settlement's nonce went to another transaction; its voucher is settled anew", "tx", latest.Hash.Hex(), "nonce", latest.Nonce)
			if err := b.ledger.FailPendingTx(ctx, latest.Hash); err != nil {
				return err
			}
			return fmt.Errorf("%s %s: %w", latest.Kind, latest.Hash.Hex(), errNonceTaken)
		}
		takenBefore = taken
		head, err := b.client.BlockNumber(ctx)
		if err != nil {
			return fmt.Errorf("%s: reading the chain head: %w", latest.Kind, err)
		}
		// No replacement for a nonce the account has passed: it would be
		// refused as too low.
		if !taken && head >= latest.SentBlock+b.Policy.bumpAfter() {
			next, why, err := b.bump(ctx, group, head)
			if err != nil {
				return err
			}
			if next != nil {
				group = append(group, *next)
			}
			if why != note {
				if why != "" {
					b.log.Warn("a settlement waits", "tx", latest.Hash.Hex(), "why", why)
				}
				if err := b.ledger.NotePendingTx(ctx, group[0].Hash, why); err != nil {
					return err
				}
				note = why
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for %s: %w", latest.Kind, group[len(group)-1].Hash.Hex(), ctx.Err())
		case <-t.C:
		}
	}
}

// nonceTaken says whether nonce went to a transaction other than those
// of hashes: the account's nonce has passed it and the node knows none
// of them, mined or pending. A node may show the account's new nonce a
// moment before the block's transactions and receipts (anvil does, and
// so may the nodes behind one load-balanced RPC URL), so a caller
// believes it only when it holds twice, a poll apart.
func (b *Backend) nonceTaken(ctx context.Context, nonce uint64, hashes ...common.Hash) (bool, error) {
	used, err := b.client.NonceAt(ctx, b.key.Address(), nil)
	if err != nil {
		return false, fmt.Errorf("reading the account's nonce: %w", err)
	}
	if used <= nonce {
		return false, nil
	}
	for _, h := range hashes {
		_, _, err := b.client.TransactionByHash(ctx, h)
		if err == nil {
			return false, nil // mined, its receipt on its way, or still in the pool
		}
		if !errors.Is(err, ethereum.NotFound) {
			return false, fmt.Errorf("looking up %s: %w", h.Hex(), err)
		}
	}
	return true, nil
}

func (b *Backend) pollEvery() time.Duration {
	if b.poll > 0 {
		return b.poll
	}
	return ConfirmPoll
}

// minedOf finds the transaction of group that is mined, if any.
func (b *Backend) minedOf(ctx context.Context, group []wallet.PendingTx) (*types.Receipt, wallet.PendingTx, error) {
	for _, p := range group {
		rc, err := b.client.TransactionReceipt(ctx, p.Hash)
		if errors.Is(err, ethereum.NotFound) {
			continue
		}
		if err != nil {
			return nil, p, fmt.Errorf("%s: reading the receipt of %s: %w", p.Kind, p.Hash.Hex(), err)
		}
		return rc, p, nil
	}
	return nil, wallet.PendingTx{}, nil
}

// recordMined waits for p's confirmations and records it mined (its
// siblings replaced), or failed when it reverted.
func (b *Backend) recordMined(ctx context.Context, p wallet.PendingTx, rc *types.Receipt) error {
	rc, err := b.confirm(ctx, p.Kind, rc, max(b.Confirmations, 1))
	if err != nil {
		return err // still pending: Resume finishes it
	}
	if rc.Status != types.ReceiptStatusSuccessful {
		// It cost its gas and settled nothing.
		if err := b.ledger.RevertPendingTx(ctx, wallet.ChainTxRecord{Hash: p.Hash, ChainID: p.ChainID, Kind: p.Kind, ChannelID: p.ChannelID,
			BlockHash: rc.BlockHash, BlockNumber: rc.BlockNumber.Uint64(), GasUsed: rc.GasUsed, GasPrice: gasPrice(rc)}); err != nil {
			return err
		}
		return fmt.Errorf("%s: %w (tx %s)", p.Kind, ErrReverted, p.Hash.Hex())
	}
	b.log.Info("mined", "call", p.Kind, "tx", p.Hash.Hex(), "block", rc.BlockNumber, "gas", rc.GasUsed)
	return b.ledger.ConfirmPendingTx(ctx, wallet.SettlementRecord{
		ChannelID: p.ChannelID, Cumulative: p.Cumulative, Amount: p.Amount, Kind: p.Kind,
		TxHash: rc.TxHash, BlockHash: rc.BlockHash, BlockNumber: rc.BlockNumber.Uint64(), GasUsed: rc.GasUsed,
		GasPrice: gasPrice(rc),
	})
}

// bump replaces the latest transaction of group with the same call at a
// higher fee: the tip and fee cap each rise by at least an eighth (a
// node's pool takes a replacement only 10% above), to at least what the
// node suggests, within feeLimit. The replacement is recorded before it
// is sent. It returns the replacement (nil: none sent) and why the
// settlement waits ("": it does not).
func (b *Backend) bump(ctx context.Context, group []wallet.PendingTx, head uint64) (*wallet.PendingTx, string, error) {
	latest := group[len(group)-1]
	old, err := rawTx(latest)
	if err != nil {
		return nil, "", err
	}
	tip, feeCap, market, err := b.nextFees(ctx, old)
	if err != nil {
		return nil, "", err
	}
	limit, basis := b.feeLimit(latest.Amount, old.Gas(), market)
	if feeCap.Cmp(limit) > 0 {
		feeCap = limit
		if tip.Cmp(feeCap) > 0 {
			tip = new(big.Int).Set(feeCap)
		}
	}
	if !outbids(old, tip, feeCap) {
		return nil, fmt.Sprintf("not mined at a fee cap of %s wei per gas; a higher fee would pass the cap of %s wei per gas (%s): it waits for the chain's fees to fall",
			old.GasFeeCap(), limit, basis), nil
	}
	tx, err := b.withFees(old, tip, feeCap)
	if err != nil {
		return nil, "", err
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, "", err
	}
	p := latest
	p.Hash, p.Raw, p.Original, p.SentBlock, p.Note = tx.Hash(), raw, group[0].Hash, head, ""
	if err := b.ledger.RecordPendingTx(ctx, p); err != nil {
		return nil, "", err
	}
	if err := b.crashAt("bump recorded"); err != nil {
		return nil, "", err
	}
	b.log.Info("replacing an unmined settlement with a higher fee", "old", latest.Hash.Hex(), "new", p.Hash.Hex(),
		"nonce", p.Nonce, "fee_cap", feeCap, "tip", tip)
	if err := b.broadcast(ctx, p.Kind, tx); err != nil {
		switch msg := err.Error(); {
		case strings.Contains(msg, "nonce too low"):
			return &p, "", nil // one of the group was mined meanwhile: finish finds it
		case strings.Contains(msg, "underpriced"):
			return &p, "the node refused a higher fee: " + msg, nil
		default:
			return &p, "", err
		}
	}
	if err := b.crashAt("bump sent"); err != nil {
		return nil, "", err
	}
	return &p, "", nil
}

// nextFees are a replacement's tip and fee cap: each at least an eighth
// (plus one wei) above old's, the tip at least what the node suggests,
// and the fee cap at least the market's: twice the latest base fee plus
// the suggested tip (a legacy transaction: the suggested gas price).
func (b *Backend) nextFees(ctx context.Context, old *types.Transaction) (tip, feeCap, market *big.Int, err error) {
	up := func(x *big.Int) *big.Int {
		y := new(big.Int).Rsh(x, 3)
		return y.Add(y, x).Add(y, big.NewInt(1))
	}
	feeCap = up(old.GasFeeCap())
	if old.Type() == types.LegacyTxType {
		market, err = b.client.SuggestGasPrice(ctx)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reading the node's gas price: %w", err)
		}
		feeCap = bigMax(feeCap, market)
		return feeCap, feeCap, market, nil
	}
	suggested, err := b.client.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the node's tip: %w", err)
	}
	tip = bigMax(up(old.GasTipCap()), suggested)
	h, err := b.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the chain's base fee: %w", err)
	}
	market = new(big.Int).Set(suggested)
	if h.BaseFee != nil {
		market.Add(market, new(big.Int).Mul(h.BaseFee, big.NewInt(2)))
	}
	want := new(big.Int).Sub(market, suggested)
	feeCap = bigMax(bigMax(feeCap, want.Add(want, tip)), tip)
	return tip, feeCap, market, nil
}

func bigMax(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// outbids says whether a node's pool takes tip and feeCap as a
// replacement for old: both above old's, by at least 10%.
func outbids(old *types.Transaction, tip, feeCap *big.Int) bool {
	enough := func(was, now *big.Int) bool {
		min := new(big.Int).Mul(was, big.NewInt(110))
		min.Add(min, big.NewInt(99)).Quo(min, big.NewInt(100))
		return now.Cmp(was) > 0 && now.Cmp(min) >= 0
	}
	return enough(old.GasFeeCap(), feeCap) && enough(old.GasTipCap(), tip)
}

// feeLimit is the most a settlement paying amount may pay per unit of gas
// at gas limit gas, and what the limit rests on: MaxFeePercent of amount
// at the network's TokenPerNative. Without a rate (or for a close that
// pays nothing) there is nothing to weigh gas against: MaxFeeGrowth times
// the market's fee cap (market) bounds only how far a settlement outbids
// the chain.
func (b *Backend) feeLimit(amount wallet.Amount, gas uint64, market *big.Int) (*big.Int, string) {
	rate, pct := b.Network.TokenPerNative, b.Policy.maxFeePercent()
	if rate == 0 || amount <= 0 || gas == 0 {
		return new(big.Int).Mul(market, big.NewInt(MaxFeeGrowth)),
			fmt.Sprintf("%d times the chain's fee now, as the network gives no token_per_native to weigh gas against what it settles", MaxFeeGrowth)
	}
	// amount × pct/100 in token units is amount × pct × 1e18 / (100 × rate) wei.
	wei := new(big.Int).Mul(big.NewInt(int64(amount)), big.NewInt(pct))
	wei.Mul(wei, big.NewInt(1e18))
	wei.Quo(wei, new(big.Int).Mul(big.NewInt(100), new(big.Int).SetUint64(rate)))
	return wei.Quo(wei, new(big.Int).SetUint64(gas)),
		fmt.Sprintf("%d%% of the %s it settles at %d token units per native coin", pct, amount, rate)
}

// capFirst lowers a settlement's first transaction's fee to feeLimit
// when the node's suggestion is above it; the returned note says so.
func (b *Backend) capFirst(tx *types.Transaction, amount wallet.Amount) (*types.Transaction, string, error) {
	limit, basis := b.feeLimit(amount, tx.Gas(), tx.GasFeeCap())
	if tx.GasFeeCap().Cmp(limit) <= 0 {
		return tx, "", nil
	}
	tip := tx.GasTipCap()
	if tip.Cmp(limit) > 0 {
		tip = limit
	}
	capped, err := b.withFees(tx, tip, limit)
	if err != nil {
		return nil, "", err
	}
	return capped, fmt.Sprintf("sent at a fee cap of %s wei per gas, below the node's %s: the cap is %s; it may wait for the chain's fees to fall",
		limit, tx.GasFeeCap(), basis), nil
}

// withFees signs old's call again, same nonce, with a new tip and fee
// cap (a legacy transaction: gas price feeCap).
func (b *Backend) withFees(old *types.Transaction, tip, feeCap *big.Int) (*types.Transaction, error) {
	var inner types.TxData
	switch old.Type() {
	case types.LegacyTxType:
		inner = &types.LegacyTx{Nonce: old.Nonce(), GasPrice: feeCap, Gas: old.Gas(), To: old.To(), Value: old.Value(), Data: old.Data()}
	case types.DynamicFeeTxType:
		inner = &types.DynamicFeeTx{ChainID: b.chain, Nonce: old.Nonce(), GasTipCap: tip, GasFeeCap: feeCap, Gas: old.Gas(),
			To: old.To(), Value: old.Value(), Data: old.Data(), AccessList: old.AccessList()}
	default:
		return nil, fmt.Errorf("replacing %s: transaction type %d is not one Spare signs", old.Hash().Hex(), old.Type())
	}
	return types.SignNewTx(b.key.PrivateKey(), types.LatestSignerForChainID(b.chain), inner)
}

func rawTx(p wallet.PendingTx) (*types.Transaction, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(p.Raw); err != nil {
		return nil, fmt.Errorf("pending transaction %s: %w", p.Hash.Hex(), err)
	}
	return tx, nil
}
