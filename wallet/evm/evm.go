// Package evm is the wallet's settlement backend on an EVM chain: the
// SpareEscrow payment-channel contract (wallet/contracts) reached over
// JSON-RPC. It applies the same voucher rules as the embedded ledger
// backend before sending anything, records each mined settlement in the
// ledger with its block, and re-checks those blocks so that a reorg that
// drops a settlement shows the amount as pending again.
package evm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/contracts"
)

// Client is what the backend needs of a JSON-RPC connection; both
// *ethclient.Client and the simulated backend's client provide it.
type Client interface {
	bind.ContractBackend
	bind.DeployBackend
	ethereum.ChainIDReader
	ethereum.BlockNumberReader
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
	TransactionByHash(ctx context.Context, hash common.Hash) (tx *types.Transaction, isPending bool, err error)
}

// ErrReverted reports a transaction mined with a failed status.
var ErrReverted = errors.New("transaction reverted")

// BackendName names this backend in the ledger.
const BackendName = "evm"

// Backend settles vouchers through the escrow contract with one wallet key.
type Backend struct {
	client       Client
	escrow       *contracts.SpareEscrow
	token        *contracts.TestToken // any ERC-20: only approve is used
	tokenAddress common.Address
	key          *wallet.Key
	ledger       *wallet.Ledger
	domain       wallet.Domain
	chain        *big.Int
	log          *slog.Logger

	// Network is the preset the backend was opened with (Open); zero
	// when built with New.
	Network Network
	// Mined, when set, is called after each transaction is sent; tests
	// use it to seal a block on the simulated chain.
	Mined func()
	// Confirmations is how many blocks, the transaction's own included, a
	// transaction waits for before it counts (0 means 1: mined).
	Confirmations uint64
	// Progress, when set, hears of each transaction sent, mined and
	// confirmed (the command line prints it).
	Progress func(Progress)
	// Lock is how long Open locks a new deposit: the payer's close
	// request cannot start the payee's grace period before it ends.
	// Zero: not locked (OpenFor names the lock per channel).
	Lock time.Duration
	// Policy decides when a provider's unsettled value is worth a
	// settlement (see ShouldSettle).
	Policy SettlePolicy

	// crash, in tests, stops a settlement at a point ("recorded": in the
	// ledger, not sent; "sent": sent, receipt not read; "bump recorded",
	// "bump sent": the same for a replacement at a higher fee) as a kill
	// would.
	crash func(point string) error
	// fees, in tests, sets a settlement's first transaction's fees (a
	// fee the node will not mine).
	fees func(*bind.TransactOpts)
	// poll is how often a settlement waiting to be mined reads the chain;
	// 0: ConfirmPoll.
	poll time.Duration
}

// Progress is one step of a transaction on its way to confirmed.
type Progress struct {
	Call          string      // "approve", "open", "settle", …
	Tx            common.Hash // the transaction
	Confirmations uint64      // blocks so far, its own included; 0: sent, not mined
	Want          uint64      // blocks wanted
}

// ConfirmPoll is how often a transaction waiting for confirmations reads
// the chain's head.
const ConfirmPoll = 500 * time.Millisecond

var _ wallet.Settlement = (*Backend)(nil)

// New connects to the escrow at escrowAddr paying in the ERC-20 at token.
func New(ctx context.Context, client Client, escrowAddr, token common.Address, key *wallet.Key, ledger *wallet.Ledger, log *slog.Logger) (*Backend, error) {
	if log == nil {
		log = slog.Default()
	}
	chain, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("evm backend: reading chain ID: %w", err)
	}
	esc, err := contracts.NewSpareEscrow(escrowAddr, client)
	if err != nil {
		return nil, err
	}
	tok, err := contracts.NewTestToken(token, client)
	if err != nil {
		return nil, err
	}
	return &Backend{
		client: client, escrow: esc, token: tok, tokenAddress: token, key: key, ledger: ledger,
		domain: wallet.Domain{ChainID: chain.Uint64(), Contract: escrowAddr},
		chain:  chain, log: log.With("component", "evm", "chain", chain.Uint64()),
	}, nil
}

// Domain is the EIP-712 domain vouchers for this escrow are signed under.
func (b *Backend) Domain() wallet.Domain { return b.domain }

func (b *Backend) opts(ctx context.Context) (*bind.TransactOpts, error) {
	o, err := bind.NewKeyedTransactorWithChainID(b.key.PrivateKey(), b.chain)
	if err != nil {
		return nil, err
	}
	o.Context = ctx
	return o, nil
}

// txFor says what a transaction sent with send is for, for the ledger's
// record of it (wallet.ChainTxRecord).
type txFor struct {
	channel common.Hash   // zero: none
	amount  wallet.Amount // the token amount it moves; 0: none
	// payout, when set, is where a payout's transfer pays amount to: the
	// ledger holds amount back while it is sent, and records the payout
	// once it is mined (RecordSendingPayout).
	payout string
}

// send runs one contract call as a transaction and waits until it is
// mined. With a ledger the signed transaction is recorded before it is
// sent and the mined one (reverted or not) with the gas it cost
// (sendRecorded); without one (a deploy) nothing is recorded.
func (b *Backend) send(ctx context.Context, what string, f txFor, call func(*bind.TransactOpts) (*types.Transaction, error)) (*types.Receipt, error) {
	if b.ledger != nil {
		return b.sendRecorded(ctx, what, f, call)
	}
	tx, err := b.sign(ctx, what, call)
	if err != nil {
		return nil, err
	}
	if err := b.broadcast(ctx, what, tx); err != nil {
		return nil, err
	}
	return b.await(ctx, what, tx)
}

// sign builds and signs a contract call's transaction without sending it
// (gas is estimated, so a call the contract would refuse fails here).
func (b *Backend) sign(ctx context.Context, what string, call func(*bind.TransactOpts) (*types.Transaction, error)) (*types.Transaction, error) {
	o, err := b.opts(ctx)
	if err != nil {
		return nil, err
	}
	o.NoSend = true
	if b.fees != nil {
		b.fees(o)
	}
	tx, err := call(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, decodeRevert(err))
	}
	return tx, nil
}

// broadcast sends a signed transaction; one the node holds already is
// not an error.
func (b *Backend) broadcast(ctx context.Context, what string, tx *types.Transaction) error {
	if err := b.client.SendTransaction(ctx, tx); err != nil && !strings.Contains(err.Error(), "already known") {
		return fmt.Errorf("%s: sending %s: %w", what, tx.Hash().Hex(), err)
	}
	if b.Mined != nil {
		b.Mined()
	}
	b.progress(Progress{Call: what, Tx: tx.Hash(), Want: max(b.Confirmations, 1)})
	return nil
}

// await waits until tx is mined and has the backend's confirmations.
func (b *Backend) await(ctx context.Context, what string, tx *types.Transaction) (*types.Receipt, error) {
	want := max(b.Confirmations, 1)
	rc, err := bind.WaitMined(ctx, b.client, tx)
	if err != nil {
		return nil, fmt.Errorf("%s: waiting for %s: %w", what, tx.Hash().Hex(), err)
	}
	if rc.Status != types.ReceiptStatusSuccessful {
		return rc, fmt.Errorf("%s: %w (tx %s)", what, ErrReverted, tx.Hash().Hex())
	}
	b.log.Info("mined", "call", what, "tx", tx.Hash().Hex(), "block", rc.BlockNumber, "gas", rc.GasUsed)
	return b.confirm(ctx, what, rc, want)
}

func (b *Backend) progress(p Progress) {
	if b.Progress != nil {
		b.Progress(p)
	}
}

// confirm waits until want blocks, rc's own included, are on the chain,
// and reads the receipt again: a reorg meanwhile may have moved it.
func (b *Backend) confirm(ctx context.Context, what string, rc *types.Receipt, want uint64) (*types.Receipt, error) {
	t := time.NewTicker(ConfirmPoll)
	defer t.Stop()
	last := uint64(0)
	for {
		head, err := b.client.BlockNumber(ctx)
		if err != nil {
			return rc, fmt.Errorf("%s: reading the chain head: %w", what, err)
		}
		have := uint64(0)
		if n := rc.BlockNumber.Uint64(); head >= n {
			have = head - n + 1
		}
		if have != last {
			b.progress(Progress{Call: what, Tx: rc.TxHash, Confirmations: min(have, want), Want: want})
			last = have
		}
		if have >= want {
			break
		}
		select {
		case <-ctx.Done():
			return rc, fmt.Errorf("%s: waiting for %d confirmations of %s: %w", what, want, rc.TxHash.Hex(), ctx.Err())
		case <-t.C:
		}
	}
	if want == 1 {
		return rc, nil
	}
	again, err := b.client.TransactionReceipt(ctx, rc.TxHash)
	if err != nil {
		return rc, fmt.Errorf("%s: %s left the chain while confirming: %w", what, rc.TxHash.Hex(), err)
	}
	return again, nil
}

// OnChain is a channel as the contract holds it.
type OnChain struct {
	wallet.ChannelInfo
	Settled          wallet.Amount
	CloseRequestedAt uint64
	UnlockAt         uint64 // unix seconds the deposit is locked until; 0: not locked
	Closed           bool
}

// WithdrawableAt is when the payer may withdraw: the grace period after
// the later of the close request and the lock's end; zero while no close
// is requested.
func (c OnChain) WithdrawableAt() time.Time {
	if c.CloseRequestedAt == 0 {
		return time.Time{}
	}
	return time.Unix(int64(max(c.CloseRequestedAt, c.UnlockAt)), 0).Add(wallet.CloseGrace)
}

// Channel reads a channel from the contract.
func (b *Backend) Channel(ctx context.Context, id common.Hash) (OnChain, error) {
	c, err := b.escrow.Channels(&bind.CallOpts{Context: ctx}, id)
	if err != nil {
		return OnChain{}, fmt.Errorf("reading channel %s: %w", id.Hex(), err)
	}
	if c.Payer == (common.Address{}) {
		return OnChain{}, fmt.Errorf("channel %s: %w", id.Hex(), wallet.ErrNotFound)
	}
	dep, err := wallet.AmountFromBig(c.Deposit)
	if err != nil {
		return OnChain{}, err
	}
	set, err := wallet.AmountFromBig(c.Settled)
	if err != nil {
		return OnChain{}, err
	}
	return OnChain{
		ChannelInfo: wallet.ChannelInfo{ID: id, Domain: b.domain, Payer: c.Payer, Payee: c.Payee, Signer: c.Signer, Token: c.Token, Deposit: dep},
		Settled:     set, CloseRequestedAt: c.CloseRequestedAt, UnlockAt: c.UnlockAt, Closed: c.Closed,
	}, nil
}

// Open approves the escrow and deposits for payee, locked for b.Lock;
// the channel is recorded in the ledger once mined.
func (b *Backend) Open(ctx context.Context, payee, signer common.Address, deposit wallet.Amount) (wallet.ChannelInfo, error) {
	return b.OpenFor(ctx, payee, signer, deposit, b.Lock)
}

// MaxLock is the longest the contract lets a deposit be locked ahead.
const MaxLock = 31 * 24 * time.Hour

// OpenFor is Open with the deposit locked for lock from the chain's
// latest block time: a requester passes its job's maximum duration (plus
// slack), so its own close request cannot cut the provider's time. The
// ledger records the deposit that arrived, which a fee-charging token
// makes less than deposit.
func (b *Backend) OpenFor(ctx context.Context, payee, signer common.Address, deposit wallet.Amount, lock time.Duration) (wallet.ChannelInfo, error) {
	if deposit <= 0 {
		return wallet.ChannelInfo{}, fmt.Errorf("deposit: %w: must be positive", wallet.ErrAmount)
	}
	unlockAt, err := b.unlockAt(ctx, lock)
	if err != nil {
		return wallet.ChannelInfo{}, fmt.Errorf("open: %w", err)
	}
	var salt common.Hash
	if _, err := rand.Read(salt[:]); err != nil {
		return wallet.ChannelInfo{}, err
	}
	id := wallet.ChannelID(b.domain, b.key.Address(), payee, salt)
	if _, err := b.send(ctx, "approve", txFor{channel: id, amount: deposit}, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return b.token.Approve(o, b.domain.Contract, deposit.Big())
	}); err != nil {
		return wallet.ChannelInfo{}, err
	}
	if _, err := b.send(ctx, "open", txFor{channel: id, amount: deposit}, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return b.escrow.Open(o, payee, signer, b.tokenAddr(), deposit.Big(), salt, unlockAt)
	}); err != nil {
		return wallet.ChannelInfo{}, err
	}
	// The ledger holds the channel now (afterCall).
	ch, err := b.Channel(ctx, id)
	if err != nil {
		return wallet.ChannelInfo{}, err
	}
	return ch.ChannelInfo, nil
}

func (b *Backend) tokenAddr() common.Address { return b.tokenAddress }

func (b *Backend) crashAt(point string) error {
	if b.crash == nil {
		return nil
	}
	return b.crash(point)
}

// Settle checks v under the contract's rules against the on-chain state,
// then settles it and records the mined settlement.
func (b *Backend) Settle(ctx context.Context, v *wallet.SignedVoucher) (wallet.Amount, error) {
	return b.claim(ctx, v, "settle")
}

// Close settles v (when above what is settled) and refunds the rest.
func (b *Backend) Close(ctx context.Context, v *wallet.SignedVoucher) (wallet.Amount, error) {
	return b.claim(ctx, v, "close")
}

func (b *Backend) claim(ctx context.Context, v *wallet.SignedVoucher, kind string) (wallet.Amount, error) {
	ch, err := b.Channel(ctx, v.ChannelID)
	if err != nil {
		return 0, err
	}
	switch {
	case ch.Closed:
		return 0, fmt.Errorf("%s: %w", kind, wallet.ErrChannelClosed)
	case ch.Payee != b.key.Address():
		return 0, fmt.Errorf("%s: %w (%s)", kind, wallet.ErrNotPayee, ch.Payee.Hex())
	}
	if err := b.ledger.SyncDeposit(ctx, ch.ID, ch.Deposit); err != nil && !errors.Is(err, wallet.ErrNotFound) {
		return 0, err
	}
	amount := wallet.Amount(0)
	if kind == "settle" || v.Cumulative > ch.Settled {
		if err := wallet.CheckVoucher(ch.ChannelInfo, ch.Settled, v); err != nil {
			return 0, fmt.Errorf("%s: %w", kind, err)
		}
		amount = v.Cumulative - ch.Settled
	}
	call := b.escrow.Settle
	if kind == "close" {
		call = b.escrow.Close
	}
	// The voucher, then the signed transaction, are durable before
	// anything is sent: a crash from here on ends in Resume sending the
	// same transaction (same nonce) or finding it mined.
	if amount > 0 {
		if _, err := b.ledger.RecordVoucher(ctx, v, common.Hash{}); err != nil && !errors.Is(err, wallet.ErrReplay) {
			return 0, err
		}
	}
	tx, err := b.sign(ctx, kind, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return call(o, v.ChannelID, v.Cumulative.Big(), v.Sig)
	})
	if err != nil {
		return 0, err
	}
	tx, note, err := b.capFirst(tx, amount)
	if err != nil {
		return 0, err
	}
	p, err := b.recordPending(ctx, tx, v, amount, kind)
	if err != nil {
		return 0, err
	}
	if note != "" {
		b.log.Warn("a settlement's fee is capped", "tx", p.Hash.Hex(), "why", note)
		if err := b.ledger.NotePendingTx(ctx, p.Hash, note); err != nil {
			return 0, err
		}
		p.Note = note
	}
	if err := b.crashAt("recorded"); err != nil {
		return 0, err
	}
	if err := b.broadcast(ctx, kind, tx); err != nil && !strings.Contains(err.Error(), "underpriced") {
		return 0, err
	}
	if err := b.crashAt("sent"); err != nil {
		return 0, err
	}
	if err := b.finish(ctx, []wallet.PendingTx{p}); err != nil {
		return 0, err
	}
	if kind == "close" {
		ch, err := b.Channel(ctx, v.ChannelID)
		if err != nil {
			return amount, err
		}
		return amount, b.markClosed(ctx, ch)
	}
	return amount, nil
}

// Settled reads what the contract has settled on a channel.
func (b *Backend) Settled(ctx context.Context, id common.Hash) (wallet.Amount, error) {
	ch, err := b.Channel(ctx, id)
	if err != nil {
		return 0, err
	}
	return ch.Settled, nil
}

// TopUp adds to a channel's deposit (payer), cancelling a close request;
// the lock is kept. The ledger records the deposit the chain holds.
func (b *Backend) TopUp(ctx context.Context, id common.Hash, amount wallet.Amount) error {
	return b.TopUpFor(ctx, id, amount, 0)
}

// TopUpFor adds amount to a channel's deposit and extends its lock to
// lock from now (the chain's time) when that is later; a zero amount only
// extends the lock (a reused channel's next job).
func (b *Backend) TopUpFor(ctx context.Context, id common.Hash, amount wallet.Amount, lock time.Duration) error {
	if amount < 0 || (amount == 0 && lock <= 0) {
		return fmt.Errorf("top-up: %w: must be positive, or extend the lock", wallet.ErrAmount)
	}
	unlockAt, err := b.unlockAt(ctx, lock)
	if err != nil {
		return err
	}
	if amount > 0 {
		if _, err := b.send(ctx, "approve", txFor{channel: id, amount: amount}, func(o *bind.TransactOpts) (*types.Transaction, error) {
			return b.token.Approve(o, b.domain.Contract, amount.Big())
		}); err != nil {
			return err
		}
	}
	if _, err := b.send(ctx, "topUp", txFor{channel: id, amount: amount}, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return b.escrow.TopUp(o, id, amount.Big(), unlockAt)
	}); err != nil {
		return err
	}
	return nil // the ledger holds the deposit that arrived now (afterCall)
}

// unlockAt is lock from the chain's latest block time (0: no lock).
func (b *Backend) unlockAt(ctx context.Context, lock time.Duration) (uint64, error) {
	if lock < 0 || lock > MaxLock {
		return 0, fmt.Errorf("lock %s: must be between 0 and %s", lock, MaxLock)
	}
	if lock == 0 {
		return 0, nil
	}
	head, err := b.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("reading the chain's time: %w", err)
	}
	return head.Time + uint64(lock/time.Second), nil
}

// RequestClose starts the grace period (payer).
func (b *Backend) RequestClose(ctx context.Context, id common.Hash) error {
	_, err := b.send(ctx, "requestClose", txFor{channel: id}, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return b.escrow.RequestClose(o, id)
	})
	return err
}

// Withdraw refunds deposit − settled after the grace period (payer),
// and records the channel closed.
func (b *Backend) Withdraw(ctx context.Context, id common.Hash) error {
	_, err := b.send(ctx, "withdraw", txFor{channel: id}, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return b.escrow.Withdraw(o, id)
	})
	return err // the ledger holds the channel closed now (afterCall)
}

// ReorgDepth is how many blocks below the head a settlement is re-checked
// against reorgs; deeper ones are final (Ethereum finalises within about
// 64 blocks; the deepest reorgs seen on other EVM chains were shallower
// than this). A poll so costs one receipt read per recent settlement, not
// one per settlement ever made.
const ReorgDepth = 256

// Reconcile re-checks the settlements the ledger holds as mined in the
// last ReorgDepth blocks, on this chain's channels still open: one whose
// transaction is no longer in the canonical chain (a reorg dropped it) is
// marked dropped, so its amount counts as pending again; the wallet's
// other transactions are re-checked the same way (reconcileCalls). It
// returns how many were dropped.
func (b *Backend) Reconcile(ctx context.Context) (int, error) {
	head, err := b.client.BlockNumber(ctx)
	if err != nil {
		return 0, fmt.Errorf("reconciling: reading the chain head: %w", err)
	}
	list, err := b.ledger.UnfinalSettlements(ctx, b.domain, head-min(head, ReorgDepth))
	if err != nil {
		return 0, err
	}
	dropped := 0
	for _, s := range list {
		rc, err := b.client.TransactionReceipt(ctx, s.TxHash)
		switch {
		case err == nil && rc.Status == types.ReceiptStatusSuccessful && rc.BlockHash != s.BlockHash:
			// Re-mined in another block by a reorg: still settled.
			if err := b.ledger.MoveSettlement(ctx, s.TxHash, rc.BlockHash, rc.BlockNumber.Uint64()); err != nil {
				return dropped, err
			}
		case errors.Is(err, ethereum.NotFound), err == nil && rc.Status != types.ReceiptStatusSuccessful:
			b.log.Warn("settlement left the canonical chain", "tx", s.TxHash.Hex(), "channel", s.ChannelID.Hex())
			if err := b.ledger.DropSettlement(ctx, s.TxHash); err != nil {
				return dropped, err
			}
			dropped++
		case err != nil:
			return dropped, fmt.Errorf("reconciling %s: %w", s.TxHash.Hex(), err)
		}
	}
	n, err := b.reconcileCalls(ctx, head-min(head, ReorgDepth))
	return dropped + n, err
}
