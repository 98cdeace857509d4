package evm

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"log/slog"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"

	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/contracts"
)

type chainEnv struct {
	sim            *simulated.Backend
	client         simulated.Client
	escrow         common.Address
	token          common.Address
	tok            *contracts.TestToken
	esc            *contracts.SpareEscrow
	payerKey       *wallet.Key
	payeeKey       *wallet.Key
	payer, payee   *Backend
	payerL, payeeL *wallet.Ledger
}

const deposit = wallet.Amount(10_000_000) // 10.000000

func newChain(t *testing.T, opts ...func(*node.Config, *ethconfig.Config)) *chainEnv {
	t.Helper()
	ctx := context.Background()
	e := &chainEnv{}
	e.payerKey, _ = wallet.GenerateKey()
	e.payeeKey, _ = wallet.GenerateKey()
	funds := new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether))
	e.sim = simulated.NewBackend(types.GenesisAlloc{
		e.payerKey.Address(): {Balance: funds},
		e.payeeKey.Address(): {Balance: funds},
	}, opts...)
	t.Cleanup(func() { e.sim.Close() })
	e.client = e.sim.Client()
	o := e.txOpts(t, e.payerKey.PrivateKey())
	var err error
	// Nonces are given: the pool may not have caught up with its own last
	// transaction, or with the block, and hand out a stale pending nonce
	// ("replacement transaction underpriced").
	o.Nonce = big.NewInt(0)
	e.token, _, e.tok, err = contracts.DeployTestToken(o, e.client)
	if err != nil {
		t.Fatal(err)
	}
	o.Nonce = big.NewInt(1)
	e.escrow, _, e.esc, err = contracts.DeploySpareEscrow(o, e.client)
	if err != nil {
		t.Fatal(err)
	}
	e.commit()
	o.Nonce = big.NewInt(2)
	if _, err := e.tok.Mint(o, e.payerKey.Address(), big.NewInt(int64(100*deposit))); err != nil {
		t.Fatal(err)
	}
	e.commit()
	for _, side := range []struct {
		k *wallet.Key
		b **Backend
		l **wallet.Ledger
	}{{e.payerKey, &e.payer, &e.payerL}, {e.payeeKey, &e.payee, &e.payeeL}} {
		l, err := wallet.OpenLedger(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		b, err := New(ctx, e.client, e.escrow, e.token, side.k, l, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		b.Mined = e.commit
		*side.b, *side.l = b, l
	}
	return e
}

// commit mines the pool's transactions into a block and waits until the
// pool has let go of them. The pool learns of a new block on its own
// goroutine; until it has, it still lists the mined transactions (the
// simulated chain then refuses AdjustTime) and may hand out a stale nonce.
func (e *chainEnv) commit() {
	e.sim.Commit()
	// The simulated client hides its RPC client behind an embedded field.
	rpc := reflect.ValueOf(e.client).FieldByName("Client").Interface().(*ethclient.Client).Client()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		var st struct{ Pending, Queued hexutil.Uint }
		if err := rpc.Call(&st, "txpool_status"); err != nil || st.Pending+st.Queued == 0 {
			return
		}
	}
}

func (e *chainEnv) txOpts(t *testing.T, k *ecdsa.PrivateKey) *bind.TransactOpts {
	o, err := bind.NewKeyedTransactorWithChainID(k, big.NewInt(1337))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// open makes a channel from payer to payee and tells the payee's ledger.
func (e *chainEnv) open(t *testing.T) wallet.ChannelInfo {
	t.Helper()
	ch, err := e.payer.Open(context.Background(), e.payeeKey.Address(), e.payerKey.Address(), deposit)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.payeeL.AddChannel(context.Background(), BackendName, ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

func (e *chainEnv) voucher(t *testing.T, d wallet.Domain, id common.Hash, cum wallet.Amount, k *wallet.Key) wallet.SignedVoucher {
	v, err := wallet.SignVoucher(d, wallet.Voucher{ChannelID: id, Cumulative: cum}, k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *chainEnv) balanceOf(t *testing.T, a common.Address) int64 {
	b, err := e.tok.BalanceOf(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	return b.Int64()
}

// revert returns the name of the contract's custom error in err.
func revert(err error) string {
	if err == nil {
		return ""
	}
	var de interface{ ErrorData() interface{} }
	if errors.As(err, &de) {
		if s, ok := de.ErrorData().(string); ok {
			data, _ := hexutil.Decode(s)
			parsed, _ := contracts.SpareEscrowMetaData.GetAbi()
			for name, e := range parsed.Errors {
				if len(data) >= 4 && string(e.ID[:4]) == string(data[:4]) {
					return name
				}
			}
		}
	}
	return "unknown: " + err.Error()
}

// raw sends a contract call straight from key, bypassing the Go checks,
// so the contract itself must refuse it.
func (e *chainEnv) raw(t *testing.T, k *wallet.Key, call func(*bind.TransactOpts) (*types.Transaction, error)) string {
	t.Helper()
	_, err := call(e.txOpts(t, k.PrivateKey()))
	e.commit()
	return revert(err)
}

func TestEscrowDigestMatchesWallet(t *testing.T) {
	e := newChain(t)
	id := common.Hash{7}
	got, err := e.esc.VoucherDigest(nil, id, big.NewInt(123456))
	if err != nil {
		t.Fatal(err)
	}
	v := wallet.SignedVoucher{Domain: e.payer.Domain(), Voucher: wallet.Voucher{ChannelID: id, Cumulative: 123456}}
	if common.Hash(got) != v.Digest() {
		t.Fatalf("contract digest %x, wallet digest %x", got, v.Digest())
	}
	salt := common.Hash{9}
	cid, _ := e.esc.ChannelId(nil, e.payerKey.Address(), e.payeeKey.Address(), salt)
	if common.Hash(cid) != wallet.ChannelID(e.payer.Domain(), e.payerKey.Address(), e.payeeKey.Address(), salt) {
		t.Fatal("channel ID derivation differs")
	}
}

func TestEscrowRules(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	d := e.payer.Domain()
	v1 := e.voucher(t, d, ch.ID, 1_000_000, e.payerKey)
	amt, err := e.payee.Settle(ctx, &v1)
	if err != nil || amt != 1_000_000 || e.balanceOf(t, e.payeeKey.Address()) != 1_000_000 {
		t.Fatalf("settle: %s, %v, payee holds %d", amt, err, e.balanceOf(t, e.payeeKey.Address()))
	}
	// The settlement's gas is recorded (it is in /metrics and the wallet).
	if c, err := e.payeeL.Counts(ctx, e.payeeKey.Address()); err != nil || c.SettlementTxs != 1 || c.SettlementGas == 0 {
		t.Fatalf("the payee's ledger counts %+v, %v; want one settlement with its gas", c, err)
	}
	other, _ := wallet.GenerateKey()
	highS := func(v wallet.SignedVoucher) []byte {
		s := append([]byte(nil), v.Sig...)
		n := crypto.S256().Params().N
		sv := new(big.Int).SetBytes(s[32:64])
		new(big.Int).Sub(n, sv).FillBytes(s[32:64])
		s[64] ^= 1
		return s
	}
	v2 := e.voucher(t, d, ch.ID, 2_000_000, e.payerKey)
	cases := []struct {
		name    string
		v       wallet.SignedVoucher
		sig     []byte // when set, sent instead of v.Sig
		goErr   error
		onChain string
		from    *wallet.Key
	}{
		{"replayed voucher", v1, nil, wallet.ErrReplay, "NotIncreasing", e.payeeKey},
		{"above deposit", e.voucher(t, d, ch.ID, deposit+1, e.payerKey), nil, wallet.ErrAboveDeposit, "AboveDeposit", e.payeeKey},
		{"wrong signer", e.voucher(t, d, ch.ID, 2_000_000, other), nil, wallet.ErrWrongSigner, "BadSignature", e.payeeKey},
		{"another contract", e.voucher(t, wallet.Domain{ChainID: d.ChainID, Contract: common.Address{1}}, ch.ID, 2_000_000, e.payerKey), nil, wallet.ErrWrongContract, "BadSignature", e.payeeKey},
		{"another chain", e.voucher(t, wallet.Domain{ChainID: 1, Contract: d.Contract}, ch.ID, 2_000_000, e.payerKey), nil, wallet.ErrWrongChain, "BadSignature", e.payeeKey},
		{"high s", v2, highS(v2), wallet.ErrSigHighS, "HighS", e.payeeKey},
		{"wrong length", v2, v2.Sig[:64], wallet.ErrSigLength, "BadSignature", e.payeeKey},
		{"payer settles", v2, nil, wallet.ErrNotPayee, "NotPayee", e.payerKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.v
			if c.sig != nil {
				v.Sig = c.sig
			}
			b := e.payee
			if c.from == e.payerKey {
				b = e.payer
			}
			if _, err := b.Settle(ctx, &v); !errors.Is(err, c.goErr) {
				t.Fatalf("backend: got %v, want %v", err, c.goErr)
			}
			if got := e.raw(t, c.from, func(o *bind.TransactOpts) (*types.Transaction, error) {
				return e.esc.Settle(o, ch.ID, v.Cumulative.Big(), v.Sig)
			}); got != c.onChain {
				t.Fatalf("contract: reverted with %q, want %q", got, c.onChain)
			}
		})
	}
	t.Run("payer closes", func(t *testing.T) {
		if got := e.raw(t, e.payerKey, func(o *bind.TransactOpts) (*types.Transaction, error) {
			return e.esc.Close(o, ch.ID, v2.Cumulative.Big(), v2.Sig)
		}); got != "NotPayee" {
			t.Fatalf("reverted with %q", got)
		}
	})
	t.Run("payee requests close", func(t *testing.T) {
		if got := e.raw(t, e.payeeKey, func(o *bind.TransactOpts) (*types.Transaction, error) { return e.esc.RequestClose(o, ch.ID) }); got != "NotPayer" {
			t.Fatalf("reverted with %q", got)
		}
	})

	// Grace period: withdraw refused before it ends, payee may still settle.
	if got := e.raw(t, e.payerKey, func(o *bind.TransactOpts) (*types.Transaction, error) { return e.esc.Withdraw(o, ch.ID) }); got != "NoCloseRequest" {
		t.Fatalf("withdraw without request: %q", got)
	}
	if err := e.payer.RequestClose(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AdjustTime(23 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := e.raw(t, e.payerKey, func(o *bind.TransactOpts) (*types.Transaction, error) { return e.esc.Withdraw(o, ch.ID) }); got != "GracePeriod" {
		t.Fatalf("withdraw in grace: %q", got)
	}
	if amt, err := e.payee.Settle(ctx, &v2); err != nil || amt != 1_000_000 {
		t.Fatalf("settle during grace: %s, %v", amt, err)
	}
	if err := e.sim.AdjustTime(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	before := e.balanceOf(t, e.payerKey.Address())
	if err := e.payer.Withdraw(ctx, ch.ID); err != nil {
		t.Fatalf("withdraw after grace: %v", err)
	}
	if got := e.balanceOf(t, e.payerKey.Address()) - before; got != int64(deposit-v2.Cumulative) {
		t.Fatalf("refund %d, want deposit − settled = %d", got, deposit-v2.Cumulative)
	}
	v3 := e.voucher(t, d, ch.ID, 3_000_000, e.payerKey)
	for name, call := range map[string]func(o *bind.TransactOpts) (*types.Transaction, error){
		"settle": func(o *bind.TransactOpts) (*types.Transaction, error) {
			return e.esc.Settle(o, ch.ID, v3.Cumulative.Big(), v3.Sig)
		},
		"close": func(o *bind.TransactOpts) (*types.Transaction, error) {
			return e.esc.Close(o, ch.ID, v3.Cumulative.Big(), v3.Sig)
		},
		"topUp":        func(o *bind.TransactOpts) (*types.Transaction, error) { return e.esc.TopUp(o, ch.ID, big.NewInt(1), 0) },
		"requestClose": func(o *bind.TransactOpts) (*types.Transaction, error) { return e.esc.RequestClose(o, ch.ID) },
		"withdraw":     func(o *bind.TransactOpts) (*types.Transaction, error) { return e.esc.Withdraw(o, ch.ID) },
	} {
		from := e.payerKey
		if name == "settle" || name == "close" {
			from = e.payeeKey
		}
		if got := e.raw(t, from, call); got != "ChannelClosed" {
			t.Fatalf("%s after close: reverted with %q", name, got)
		}
	}
	if _, err := e.payee.Settle(ctx, &v3); !errors.Is(err, wallet.ErrChannelClosed) {
		t.Fatalf("backend settle after close: %v", err)
	}
}

func TestEscrowTopUpCancelsCloseAndPayeeCloses(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	if err := e.payer.RequestClose(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.payer.TopUp(ctx, ch.ID, 1_000_000); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AdjustTime(25 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := e.raw(t, e.payerKey, func(o *bind.TransactOpts) (*types.Transaction, error) { return e.esc.Withdraw(o, ch.ID) }); got != "NoCloseRequest" {
		t.Fatalf("withdraw after top-up: %q", got)
	}
	v := e.voucher(t, e.payer.Domain(), ch.ID, deposit+1_000_000, e.payerKey) // the whole, topped-up deposit
	before := e.balanceOf(t, e.payerKey.Address())
	amt, err := e.payee.Close(ctx, &v)
	if err != nil || amt != deposit+1_000_000 {
		t.Fatalf("close: %s, %v", amt, err)
	}
	if e.balanceOf(t, e.payeeKey.Address()) != int64(deposit+1_000_000) || e.balanceOf(t, e.payerKey.Address()) != before {
		t.Fatal("close moved the wrong amounts")
	}
	if rec, _ := e.payeeL.Channel(ctx, ch.ID); rec.State != "closed" {
		t.Fatalf("the payee's ledger holds the closed channel as %s", rec.State)
	}
}

// TestAutoSettleOnCloseRequest: the watcher leaves a voucher below the
// settle threshold alone (a receipt's worth is not worth the gas) until
// the payer asks to close, then settles it; a voucher that reaches the
// threshold is settled without a close request.
func TestAutoSettleOnCloseRequest(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	w := &Watcher{Backend: e.payee}
	small := e.voucher(t, e.payer.Domain(), ch.ID, DefaultSettleThreshold-1, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &small, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	if got, err := w.Poll(ctx); err != nil || len(got) != 0 {
		t.Fatalf("poll below the threshold, no close request, settled %v, %v", got, err)
	}
	large := e.voucher(t, e.payer.Domain(), ch.ID, 2*DefaultSettleThreshold, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &large, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	if got, err := w.Poll(ctx); err != nil || len(got) != 1 {
		t.Fatalf("poll at twice the threshold: %v, %v", got, err)
	}
	v := e.voucher(t, e.payer.Domain(), ch.ID, 2*DefaultSettleThreshold+1_000, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	if got, err := w.Poll(ctx); err != nil || len(got) != 0 {
		t.Fatalf("poll with 0.001 unsettled, no close request, settled %v, %v", got, err)
	}
	if err := e.payer.RequestClose(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	got, err := w.Poll(ctx)
	if err != nil || len(got) != 1 || got[0] != ch.ID {
		t.Fatalf("auto-settle: %v, %v", got, err)
	}
	if s, _ := e.payee.Settled(ctx, ch.ID); s != v.Cumulative {
		t.Fatalf("settled on chain %s, want %s", s, v.Cumulative)
	}
	if got, err := w.Poll(ctx); err != nil || len(got) != 0 {
		t.Fatalf("second poll settled again: %v, %v", got, err)
	}
}

// TestWatcherSettlesVouchersFromTheGracePeriod: a voucher that arrives
// after the automatic settlement of a close request, inside the grace
// period, is settled too (it used to be settled once per close request,
// and the payer's withdraw refunded the rest).
func TestWatcherSettlesVouchersFromTheGracePeriod(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	w := &Watcher{Backend: e.payee}
	for i, cum := range []wallet.Amount{4_000_000, 6_500_000} {
		v := e.voucher(t, e.payer.Domain(), ch.ID, cum, e.payerKey)
		if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := e.payer.RequestClose(ctx, ch.ID); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := w.Poll(ctx); err != nil || len(got) != 1 {
			t.Fatalf("poll after voucher %s: %v, %v", cum, got, err)
		}
		if s, _ := e.payee.Settled(ctx, ch.ID); s != cum {
			t.Fatalf("settled on chain %s, want %s", s, cum)
		}
	}
	if got, err := w.Poll(ctx); err != nil || len(got) != 0 {
		t.Fatalf("a poll with nothing new settled %v, %v", got, err)
	}
	if got := e.balanceOf(t, e.payeeKey.Address()); got != 6_500_000 {
		t.Fatalf("payee holds %d, want 6500000", got)
	}
}

func TestWatcherServeStopsWithContext(t *testing.T) {
	e := newChain(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Watcher{Backend: e.payee, Interval: time.Millisecond}).Serve(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v on cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop when its context ended")
	}
}

// TestReorgRemintsSettlement: a reorg that puts the settlement in another
// block leaves it settled; only the block is updated.
func TestReorgRemintsSettlement(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	v := e.voucher(t, e.payer.Domain(), ch.ID, 2_000_000, e.payerKey)
	parent, _ := e.client.HeaderByNumber(ctx, nil)
	if _, err := e.payee.Settle(ctx, &v); err != nil {
		t.Fatal(err)
	}
	before, _ := e.payeeL.OnChainSettlements(ctx)
	if err := e.sim.Fork(parent.Hash()); err != nil {
		t.Fatal(err)
	}
	// The pool re-injects the dropped transaction when it sees the new
	// head; seal blocks until the fork, longer now, includes it.
	var rc *types.Receipt
	for i := 0; i < 50; i++ {
		e.sim.Commit()
		if r, err := e.client.TransactionReceipt(ctx, before[0].TxHash); err == nil && r.BlockHash != before[0].BlockHash {
			rc = r
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rc == nil {
		t.Fatal("the settlement was not re-mined on the fork")
	}
	if dropped, err := e.payee.Reconcile(ctx); err != nil || dropped != 0 {
		t.Fatalf("reconcile dropped %d, %v", dropped, err)
	}
	after, _ := e.payeeL.OnChainSettlements(ctx)
	b, _ := e.payeeL.Balance(ctx, e.payeeKey.Address())
	if len(after) != 1 || after[0].BlockHash != rc.BlockHash || b.Settled != v.Cumulative {
		t.Fatalf("after re-mining: %+v, balance %+v", after, b)
	}
}

func TestReorgDropsSettlement(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	v := e.voucher(t, e.payer.Domain(), ch.ID, 3_000_000, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	parent, err := e.client.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.payee.Settle(ctx, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := e.payeeL.Balance(ctx, e.payeeKey.Address())
	if b.Settled != v.Cumulative || b.Pending != 0 {
		t.Fatalf("after settle: %+v", b)
	}
	recs, _ := e.payeeL.OnChainSettlements(ctx)
	settleTx, _, err := e.client.TransactionByHash(ctx, recs[0].TxHash)
	if err != nil {
		t.Fatal(err)
	}
	// Reorg: a longer side chain from before the settlement, on which the
	// payee's nonce is taken by another transaction, so the settlement
	// can never come back.
	if err := e.sim.Fork(parent.Hash()); err != nil {
		t.Fatal(err)
	}
	tip := new(big.Int).Mul(settleTx.GasTipCap(), big.NewInt(10))
	cap := new(big.Int).Mul(settleTx.GasFeeCap(), big.NewInt(10))
	to := e.payeeKey.Address()
	replace, err := types.SignNewTx(e.payeeKey.PrivateKey(), types.LatestSignerForChainID(big.NewInt(1337)), &types.DynamicFeeTx{
		ChainID: big.NewInt(1337), Nonce: settleTx.Nonce(), GasTipCap: tip, GasFeeCap: cap, Gas: 21000, To: &to,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The pool learns of the new head asynchronously: until it has, it
	// refuses the old nonce. Poll with a deadline; there is no hook.
	for deadline := time.Now().Add(10 * time.Second); ; {
		err := e.client.SendTransaction(ctx, replace)
		if err == nil || strings.Contains(err.Error(), "already known") {
			break
		}
		if !strings.Contains(err.Error(), "nonce too low") || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.sim.Commit()
	e.sim.Commit()
	e.sim.Commit()
	dropped, err := e.payee.Reconcile(ctx)
	if err != nil || dropped != 1 {
		t.Fatalf("reconcile dropped %d, %v", dropped, err)
	}
	b, _ = e.payeeL.Balance(ctx, e.payeeKey.Address())
	if b.Settled != 0 || b.Pending != v.Cumulative || b.Earned != v.Cumulative {
		t.Fatalf("after reorg: %+v; want the voucher pending again", b)
	}
	if s, _ := e.payee.Settled(ctx, ch.ID); s != 0 {
		t.Fatalf("chain still shows %s settled", s)
	}
	// Settling again restores it.
	if _, err := e.payee.Settle(ctx, &v); err != nil {
		t.Fatal(err)
	}
	b, _ = e.payeeL.Balance(ctx, e.payeeKey.Address())
	if b.Settled != v.Cumulative {
		t.Fatalf("after settling again: %+v", b)
	}
}

// withoutBogota runs the chain on the forks mainnet and L2s run today
// (through Osaka), leaving out the dev chain's not-yet-scheduled Bogota
// repricing, so the gas figures match what a deployment pays.
func withoutBogota(_ *node.Config, e *ethconfig.Config) {
	cfg := *e.Genesis.Config
	cfg.BogotaTime = nil
	e.Genesis.Config = &cfg
}

// TestGasUsed reports (and bounds) the gas used by settle and close, on
// today's forks and on the dev chain's full fork set.
func TestGasUsed(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  []func(*node.Config, *ethconfig.Config)
		limit uint64
	}{{"osaka", []func(*node.Config, *ethconfig.Config){withoutBogota}, 120_000}, {"dev-all-forks", nil, 400_000}} {
		t.Run(c.name, func(t *testing.T) {
			settle, closeGas := gasUsed(t, newChain(t, c.opts...))
			t.Logf("gas used (%s): settle %d, close (settle + refund) %d", c.name, settle, closeGas)
			if settle > c.limit || closeGas > c.limit {
				t.Fatalf("gas regressed: settle %d, close %d (limit %d)", settle, closeGas, c.limit)
			}
		})
	}
}

func gasUsed(t *testing.T, e *chainEnv) (settle, closeGas uint64) {
	ctx := context.Background()
	ch := e.open(t)
	gas := func(kind string, call func(*bind.TransactOpts) (*types.Transaction, error)) uint64 {
		tx, err := call(e.txOpts(t, e.payeeKey.PrivateKey()))
		if err != nil {
			t.Fatal(err)
		}
		e.commit()
		rc, err := bind.WaitMined(ctx, e.client, tx)
		if err != nil || rc.Status != 1 {
			t.Fatalf("%s failed: %v", kind, err)
		}
		return rc.GasUsed
	}
	v1 := e.voucher(t, e.payer.Domain(), ch.ID, 1_000_000, e.payerKey)
	v2 := e.voucher(t, e.payer.Domain(), ch.ID, 2_000_000, e.payerKey)
	settle = gas("settle", func(o *bind.TransactOpts) (*types.Transaction, error) {
		return e.esc.Settle(o, ch.ID, v1.Cumulative.Big(), v1.Sig)
	})
	closeGas = gas("close", func(o *bind.TransactOpts) (*types.Transaction, error) {
		return e.esc.Close(o, ch.ID, v2.Cumulative.Big(), v2.Sig)
	})
	return settle, closeGas
}
