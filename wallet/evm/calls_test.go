package evm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"

	"github.com/sparegpu/spare/wallet"
)

// restartPayer is the payer's backend as a restarted process has it: the
// same key and ledger, nothing in memory.
func (e *chainEnv) restartPayer(t *testing.T) *Backend {
	t.Helper()
	b, err := New(context.Background(), e.client, e.escrow, e.token, e.payerKey, e.payerL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b.Mined = e.commit
	return b
}

// TestCallKilledAtEachPoint kills each of a requester's transactions
// (approve, open, topUp, requestClose, withdraw) at each point a kill -9
// can land: recorded and not sent; sent and not mined; mined and not
// recorded. A restart finishes it: the same transaction (no other is
// signed) is mined once, recorded with the gas its receipt says, what it
// did is in the ledger (the channel opened, its deposit, its close), and
// a second restart sends nothing.
func TestCallKilledAtEachPoint(t *testing.T) {
	type op struct {
		target string
		setup  func(t *testing.T, e *chainEnv) common.Hash         // the channel acted on (zero: a new one)
		run    func(e *chainEnv, b *Backend, id common.Hash) error // as the killed process ran it
		check  func(t *testing.T, e *chainEnv, id common.Hash)     // what the ledger and the chain hold after
	}
	opened := func(t *testing.T, e *chainEnv) common.Hash { return e.open(t).ID }
	deposited := func(want wallet.Amount) func(*testing.T, *chainEnv, common.Hash) {
		return func(t *testing.T, e *chainEnv, id common.Hash) {
			on, err := e.payer.Channel(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := e.payerL.Channel(context.Background(), id)
			if err != nil || rec.Deposit != want || on.Deposit != want {
				t.Fatalf("deposit in the ledger %s (%v), on chain %s; want %s", rec.Deposit, err, on.Deposit, want)
			}
		}
	}
	ops := []op{
		{"approve", nil, func(e *chainEnv, b *Backend, _ common.Hash) error {
			_, err := b.Open(context.Background(), e.payeeKey.Address(), e.payerKey.Address(), deposit)
			return err
		}, nil},
		{"open", nil, func(e *chainEnv, b *Backend, _ common.Hash) error {
			_, err := b.Open(context.Background(), e.payeeKey.Address(), e.payerKey.Address(), deposit)
			return err
		}, deposited(deposit)},
		{"topUp", opened, func(e *chainEnv, b *Backend, id common.Hash) error {
			return b.TopUp(context.Background(), id, 1_000_000)
		}, deposited(deposit + 1_000_000)},
		{"requestClose", opened, func(e *chainEnv, b *Backend, id common.Hash) error {
			return b.RequestClose(context.Background(), id)
		}, func(t *testing.T, e *chainEnv, id common.Hash) {
			if on, err := e.payer.Channel(context.Background(), id); err != nil || on.CloseRequestedAt == 0 {
				t.Fatalf("close requested on chain: %+v, %v", on, err)
			}
		}},
		{"withdraw", func(t *testing.T, e *chainEnv) common.Hash {
			id := e.open(t).ID
			if err := e.payer.RequestClose(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			if err := e.sim.AdjustTime(wallet.CloseGrace + time.Minute); err != nil {
				t.Fatal(err)
			}
			return id
		}, func(e *chainEnv, b *Backend, id common.Hash) error {
			return b.Withdraw(context.Background(), id)
		}, func(t *testing.T, e *chainEnv, id common.Hash) {
			on, err := e.payer.Channel(context.Background(), id)
			rec, rerr := e.payerL.Channel(context.Background(), id)
			if err != nil || rerr != nil || !on.Closed || rec.State != "closed" || rec.Refunded != deposit {
				t.Fatalf("after the withdraw: on chain %+v (%v), in the ledger %+v (%v)", on, err, rec, rerr)
			}
		}},
	}
	for _, o := range ops {
		for _, c := range []struct {
			name  string
			point string
			mine  bool // the node mines what was sent before the restart
		}{
			{"recorded, not sent", " recorded", false},
			{"sent, not mined", " sent", false},
			{"mined, not recorded", " sent", true},
		} {
			t.Run(o.target+"/"+c.name, func(t *testing.T) {
				e := newChain(t)
				ctx := context.Background()
				var id common.Hash
				if o.setup != nil {
					id = o.setup(t, e)
				}
				before, _ := e.payerL.Transactions(ctx, 100)
				hold := false
				e.payer.Mined = func() {
					if !hold {
						e.commit()
					}
				}
				e.payer.crash = func(p string) error {
					if p == o.target+" recorded" && !c.mine {
						hold = true // what is sent now stays in the pool
					}
					if p == o.target+c.point {
						return errKilled
					}
					return nil
				}
				if err := o.run(e, e.payer, id); !errors.Is(err, errKilled) {
					t.Fatalf("the killed %s returned %v", o.target, err)
				}
				pending, err := e.payerL.PendingChainTxs(ctx, e.payer.Domain().ChainID)
				if err != nil || len(pending) != 1 || pending[0].Kind != o.target {
					t.Fatalf("pending after the kill: %+v, %v; want the %s", pending, err, o.target)
				}
				killed := pending[0]
				if id == (common.Hash{}) {
					id = killed.ChannelID
				}
				for i := range 2 {
					b := e.restartPayer(t)
					var sent []common.Hash
					b.Progress = func(p Progress) {
						if p.Confirmations == 0 {
							sent = append(sent, p.Tx)
						}
					}
					if err := b.Resume(ctx); err != nil {
						t.Fatalf("restart %d: %v", i+1, err)
					}
					for _, h := range sent {
						if i > 0 || h != killed.Hash {
							t.Fatalf("restart %d sent %s; want at most the killed %s again on the first", i+1, h.Hex(), killed.Hash.Hex())
						}
					}
				}
				if p, _ := e.payerL.PendingChainTxs(ctx, e.payer.Domain().ChainID); len(p) != 0 {
					t.Fatalf("%d transactions still pending", len(p))
				}
				// Nothing but the killed transaction was sent: the account's
				// nonce is just past it.
				if n, err := e.client.NonceAt(ctx, e.payerKey.Address(), nil); err != nil || n != killed.Nonce+1 {
					t.Fatalf("the payer's nonce %d, %v; want %d (the killed transaction's, once)", n, err, killed.Nonce+1)
				}
				// An open and a topUp each follow their approve.
				after, err := e.payerL.Transactions(ctx, 100)
				if err != nil || len(after) != len(before)+1+boolInt(o.target == "open" || o.target == "topUp") {
					t.Fatalf("transactions recorded: %d before, %d after (%v)", len(before), len(after), err)
				}
				var hashes []common.Hash
				found := false
				for _, r := range after {
					hashes = append(hashes, r.Tx)
					found = found || (r.Tx == killed.Hash && r.Kind == o.target && !r.Reverted && r.GasUsed > 0)
				}
				if !found {
					t.Fatalf("the killed %s %s is not recorded mined with its gas: %+v", o.target, killed.Hash.Hex(), after)
				}
				used, wei := e.gasOf(t, hashes)
				if g, err := e.payerL.GasSpent(ctx); err != nil || g.Txs != len(after) || g.Used != used || g.Wei.Cmp(wei) != 0 {
					t.Fatalf("gas spent %+v (wei %s), %v; the chain says %d transactions, %d gas, %s wei", g, g.Wei, err, len(after), used, wei)
				}
				if o.check != nil {
					o.check(t, e, id)
				}
			})
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// chainTx is the payer's ledger row for transaction h.
func (e *chainEnv) chainTx(t *testing.T, h common.Hash) wallet.ChainTxRecord {
	t.Helper()
	for _, status := range []string{"mined", "pending"} {
		var list []wallet.ChainTxRecord
		var err error
		if status == "mined" {
			list, err = e.payerL.UnfinalChainTxs(context.Background(), 1337, 0)
		} else {
			list, err = e.payerL.PendingChainTxs(context.Background(), 1337)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list {
			if r.Hash == h {
				return r
			}
		}
	}
	t.Fatalf("transaction %s is neither mined nor pending in the ledger", h.Hex())
	return wallet.ChainTxRecord{}
}

// checkGas: the payer's gas spent is what the chain's receipts of hashes
// say, no more.
func (e *chainEnv) checkGas(t *testing.T, hashes ...common.Hash) {
	t.Helper()
	used, wei := e.gasOf(t, hashes)
	if g, err := e.payerL.GasSpent(context.Background()); err != nil || g.Txs != len(hashes) || g.Used != used || g.Wei.Cmp(wei) != 0 {
		t.Fatalf("gas spent %+v (wei %s), %v; the chain says %d transactions, %d gas, %s wei", g, g.Wei, err, len(hashes), used, wei)
	}
}

// TestReorgRechecksChainTxs: a requester's transactions are re-checked
// against reorgs as settlements are. One a reorg moves to another block
// is recorded there, with its new receipt's gas; one a reorg takes out of
// the chain costs nothing and is pending again, and Resume sends it again
// and records it where it is mined.
func TestReorgRechecksChainTxs(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	hashes := sent(e.payer)
	parent, err := e.client.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := e.open(t)
	if len(*hashes) != 2 {
		t.Fatalf("sent %d transactions; want approve and open", len(*hashes))
	}
	approve, open := (*hashes)[0], (*hashes)[1]
	was := e.chainTx(t, open)
	// A reorg from before the approve: the pool puts both back, and the
	// longer fork mines them in other blocks.
	if err := e.sim.Fork(parent.Hash()); err != nil {
		t.Fatal(err)
	}
	moved := false
	for i := 0; i < 50 && !moved; i++ {
		e.sim.Commit()
		rc, err := e.client.TransactionReceipt(ctx, open)
		moved = err == nil && rc.BlockHash != was.BlockHash
		if !moved {
			time.Sleep(10 * time.Millisecond) // the pool re-injects on its own goroutine; there is no hook
		}
	}
	if !moved {
		t.Fatal("the open was not mined again on the fork")
	}
	if n, err := e.payer.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("reconcile after the move: %d left the chain, %v; want 0", n, err)
	}
	for _, h := range []common.Hash{approve, open} {
		rc, err := e.client.TransactionReceipt(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if r := e.chainTx(t, h); r.Status != "mined" || r.BlockHash != rc.BlockHash || r.BlockNumber != rc.BlockNumber.Uint64() || r.GasUsed != rc.GasUsed {
			t.Fatalf("%s after the move: %+v; the chain has it in block %d %s, gas %d", r.Kind, r, rc.BlockNumber, rc.BlockHash.Hex(), rc.GasUsed)
		}
	}
	e.checkGas(t, approve, open)

	// A reorg that takes the close request out of the chain, checked
	// before the pool puts it back.
	parent, err = e.client.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.payer.RequestClose(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	closeTx := (*hashes)[2]
	was = e.chainTx(t, closeTx)
	if err := e.sim.Fork(parent.Hash()); err != nil {
		t.Fatal(err)
	}
	if n, err := e.payer.Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile after the reorg: %d left the chain, %v; want the close request", n, err)
	}
	if r := e.chainTx(t, closeTx); r.Status != "pending" || r.GasUsed != 0 || r.BlockHash != (common.Hash{}) {
		t.Fatalf("the close request out of the chain: %+v; want it pending, costing nothing", r)
	}
	e.checkGas(t, approve, open)
	if txs, _ := e.payerL.Transactions(ctx, 10); len(txs) != 2 {
		t.Fatalf("%d transactions listed; want the approve and open (the close request is pending)", len(txs))
	}
	e.produce(t)
	b := e.restartPayer(t)
	b.Mined, b.poll = nil, 5*time.Millisecond
	if err := b.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	rc, err := e.client.TransactionReceipt(ctx, closeTx)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.chainTx(t, closeTx); r.Status != "mined" || r.BlockHash != rc.BlockHash || r.BlockHash == was.BlockHash || r.GasUsed != rc.GasUsed {
		t.Fatalf("the close request after Resume: %+v; the chain has it in %s (it was in %s)", r, rc.BlockHash.Hex(), was.BlockHash.Hex())
	}
	if on, err := b.Channel(ctx, ch.ID); err != nil || on.CloseRequestedAt == 0 {
		t.Fatalf("close requested on chain: %+v, %v", on, err)
	}
	e.checkGas(t, approve, open, closeTx)
}

// TestPayoutKilledAtEachPoint: a payout's transfer is held back from what
// may be paid out before it is sent, so one above what is settled and not
// paid out is refused with nothing sent; killed at each point, a restart
// finishes it: the tokens move once and the ledger holds one payout of
// the amount, with its gas, and nothing held back.
func TestPayoutKilledAtEachPoint(t *testing.T) {
	to := common.HexToAddress("0x00000000000000000000000000000000000000d5")
	for _, c := range []struct {
		name  string
		point string
		mine  bool
	}{
		{"recorded, not sent", "transfer recorded", false},
		{"sent, not mined", "transfer sent", false},
		{"mined, not recorded", "transfer sent", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newChain(t)
			ctx := context.Background()
			ch := e.open(t)
			v := e.voucher(t, e.payer.Domain(), ch.ID, 3_000_000, e.payerKey)
			if _, err := e.payee.Settle(ctx, &v); err != nil {
				t.Fatal(err)
			}
			// The wallet holds more tokens than it settled (the test token
			// mints to anyone): the ledger, not the chain, refuses the excess.
			o := e.txOpts(t, e.payerKey.PrivateKey())
			pn, err := e.client.PendingNonceAt(ctx, e.payerKey.Address())
			if err != nil {
				t.Fatal(err)
			}
			o.Nonce = new(big.Int).SetUint64(pn)
			if _, err := e.tok.Mint(o, e.payeeKey.Address(), big.NewInt(5_000_000)); err != nil {
				t.Fatal(err)
			}
			e.commit()
			nonce, _ := e.client.NonceAt(ctx, e.payeeKey.Address(), nil)
			if _, err := e.payee.Transfer(ctx, to, 3_000_001); !errors.Is(err, wallet.ErrInsufficient) {
				t.Fatalf("a payout above what is settled: %v", err)
			}
			if n, _ := e.client.NonceAt(ctx, e.payeeKey.Address(), nil); n != nonce {
				t.Fatalf("a refused payout sent a transaction (nonce %d, was %d)", n, nonce)
			}
			hold := false
			e.payee.Mined = func() {
				if !hold {
					e.commit()
				}
			}
			e.payee.crash = func(p string) error {
				if p == "transfer recorded" && !c.mine {
					hold = true
				}
				if p == c.point {
					return errKilled
				}
				return nil
			}
			if _, err := e.payee.Transfer(ctx, to, 2_000_000); !errors.Is(err, errKilled) {
				t.Fatalf("the killed payout returned %v", err)
			}
			// Held back while it is being sent: the rest only may go.
			if _, err := e.restart(t).Transfer(ctx, to, 1_000_001); !errors.Is(err, wallet.ErrInsufficient) {
				t.Fatalf("a second payout beyond what the first leaves: %v", err)
			}
			for i := range 2 {
				if err := e.restart(t).Resume(ctx); err != nil {
					t.Fatalf("restart %d: %v", i+1, err)
				}
			}
			if got := e.balanceOf(t, to); got != 2_000_000 {
				t.Fatalf("the destination holds %d; want the payout once", got)
			}
			if n, _ := e.client.NonceAt(ctx, e.payeeKey.Address(), nil); n != nonce+1 {
				t.Fatalf("nonce %d; want %d: the payout's transaction once", n, nonce+1)
			}
			bal, _ := e.payeeL.Balance(ctx, e.payeeKey.Address())
			txs, _ := e.payeeL.Transactions(ctx, 10)
			payouts := 0
			for _, r := range txs {
				if r.Kind == "payout" {
					payouts++
					if r.Amount != 2_000_000 || r.GasUsed == 0 {
						t.Fatalf("the payout listed as %+v", r)
					}
				}
			}
			if bal.PaidOut != 2_000_000 || payouts != 1 {
				t.Fatalf("paid out %s in %d payouts; want 2.000000 in one", bal.PaidOut, payouts)
			}
			if p, _ := e.payeeL.PendingChainTxs(ctx, e.payee.Domain().ChainID); len(p) != 0 {
				t.Fatalf("%d transactions still pending", len(p))
			}
			// What is left may be paid out: nothing is held back any more.
			if _, err := e.restart(t).Transfer(ctx, to, 1_000_000); err != nil {
				t.Fatalf("paying out the rest: %v", err)
			}
		})
	}
}

// lostAnswer is a node whose answer to the first transaction sent is
// lost: the node takes it, and the caller sees a dropped connection.
type lostAnswer struct {
	Client
	lost bool
}

func (c *lostAnswer) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	if err := c.Client.SendTransaction(ctx, tx); err != nil || c.lost {
		return err
	}
	c.lost = true
	return &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
}

// TestSendAnswerLost: a transaction whose send ends without the node's
// answer (the node took it, the connection dropped) stays pending, not
// failed: Resume (which runs before the wallet's next transaction) finds
// it mined and records it with its gas, sending nothing new. Only the
// node's own answer (a JSON-RPC or HTTP error) counts as a refusal, which
// records a transaction failed.
func TestSendAnswerLost(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	lost := &lostAnswer{Client: e.client}
	b, err := New(ctx, lost, e.escrow, e.token, e.payerKey, e.payerL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b.Mined = e.commit
	// The approve's answer is lost.
	if _, err := b.Open(ctx, e.payeeKey.Address(), e.payerKey.Address(), deposit); err == nil || !strings.Contains(err.Error(), "not known whether the node took it") {
		t.Fatalf("open with the approve's answer lost: %v", err)
	}
	pending, err := e.payerL.PendingChainTxs(ctx, b.Domain().ChainID)
	if err != nil || len(pending) != 1 || pending[0].Kind != "approve" {
		t.Fatalf("pending after the lost answer: %+v, %v; want the approve", pending, err)
	}
	approve := pending[0]
	e.commit()
	if err := b.Resume(ctx); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if p, _ := e.payerL.PendingChainTxs(ctx, b.Domain().ChainID); len(p) != 0 {
		t.Fatalf("still pending: %+v", p)
	}
	txs, err := e.payerL.Transactions(ctx, 100)
	if err != nil || len(txs) != 1 || txs[0].Tx != approve.Hash || txs[0].Reverted || txs[0].GasUsed == 0 {
		t.Fatalf("recorded %+v, %v; want the approve %s mined with its gas", txs, err, approve.Hash.Hex())
	}
	// Resume sent nothing new: the account's nonce is just past it.
	if n, err := e.client.NonceAt(ctx, e.payerKey.Address(), nil); err != nil || n != approve.Nonce+1 {
		t.Fatalf("the payer's nonce %d, %v; want %d", n, err, approve.Nonce+1)
	}
	if _, err := b.Open(ctx, e.payeeKey.Address(), e.payerKey.Address(), deposit); err != nil {
		t.Fatalf("an open after: %v", err)
	}

	// A refusal is an answer: an open from a payer without the tokens.
	poor, _ := wallet.GenerateKey()
	if !refused(fmt.Errorf("sending: %w", rpcRefusal(t, e, poor))) {
		t.Error("a JSON-RPC error from the node is not taken as a refusal")
	}
	if refused(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}) || refused(context.DeadlineExceeded) {
		t.Error("a dropped connection or a timeout is taken as the node's refusal")
	}
}

// rpcRefusal sends a transaction the node refuses (from an account with
// no ether for gas) and returns the node's error.
func rpcRefusal(t *testing.T, e *chainEnv, k *wallet.Key) error {
	t.Helper()
	id, err := e.client.ChainID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := types.SignNewTx(k.PrivateKey(), types.LatestSignerForChainID(id), &types.DynamicFeeTx{
		ChainID: id, Gas: 21000, GasFeeCap: big.NewInt(params.GWei), GasTipCap: big.NewInt(1), To: &e.escrow})
	if err != nil {
		t.Fatal(err)
	}
	err = e.client.SendTransaction(context.Background(), tx)
	if err == nil {
		t.Fatal("the node took a transaction from an account without ether")
	}
	return err
}
