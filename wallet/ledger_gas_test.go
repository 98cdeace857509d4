package wallet

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestLedgerGasSpent: settlements and payouts recorded with their gas sum
// into GasSpent (units and wei), each listed transaction carries its own;
// a settlement a reorg dropped and a ledger-backend settlement (no
// transaction) count no gas, and a settlement confirmed again counts
// at its new receipt's gas. The wei convert into the token at the
// network's rate, rounded up.
func TestLedgerGasSpent(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	me := p.provider.Address()
	v1 := p.step(t, false)
	v2 := p.step(t, false)
	l := p.prov

	g, err := l.GasSpent(ctx)
	if err != nil || g.Txs != 0 || g.Used != 0 || g.Wei.Sign() != 0 {
		t.Fatalf("empty ledger: %+v, %v", g, err)
	}
	tx1, tx2, tx3 := common.HexToHash("0x01"), common.HexToHash("0x02"), common.HexToHash("0x03")
	// Prices of 30 gwei and 2.5 gwei: 61_234 × 30e9 + 48_000 × 2.5e9.
	if err := l.RecordSettlement(ctx, SettlementRecord{ChannelID: p.ch.ID, Cumulative: v1.Cumulative, Amount: v1.Cumulative, Kind: "settle",
		TxHash: tx1, BlockHash: common.HexToHash("0xb1"), BlockNumber: 7, GasUsed: 61_234, GasPrice: 30_000_000_000}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordSettlement(ctx, SettlementRecord{ChannelID: p.ch.ID, Cumulative: v2.Cumulative, Amount: v2.Cumulative - v1.Cumulative,
		Kind: "settle", TxHash: tx2, BlockHash: common.HexToHash("0xb2"), BlockNumber: 9, GasUsed: 50_000, GasPrice: 1}); err != nil {
		t.Fatal(err)
	}
	// Dropped by a reorg: its gas is not spent until it is mined again.
	if err := l.DropSettlement(ctx, tx2); err != nil {
		t.Fatal(err)
	}
	// A ledger-backend settlement: no transaction, no gas.
	if err := l.RecordSettlement(ctx, SettlementRecord{ChannelID: p.ch.ID, Cumulative: v1.Cumulative, Amount: 0, Kind: "settle"}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordChainPayout(ctx, me, 1, "0xdest", ChainTx{Hash: tx3, GasUsed: 48_000, GasPrice: 2_500_000_000}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordPayout(ctx, me, 1, "bank", "ref"); err != nil { // not on a chain
		t.Fatal(err)
	}
	wantWei := new(big.Int).Add(GasWei(61_234, 30_000_000_000), GasWei(48_000, 2_500_000_000))
	g, err = l.GasSpent(ctx)
	if err != nil || g.Txs != 2 || g.Used != 61_234+48_000 || g.Wei.Cmp(wantWei) != 0 || g.Unpriced != 0 {
		t.Fatalf("gas spent %+v (wei %s), %v; want 2 txs, %d gas, %s wei", g, g.Wei, err, 61_234+48_000, wantWei)
	}
	if wantWei.String() != "1957020000000000" {
		t.Fatalf("wei %s: the sum is wrong", wantWei)
	}

	// Mined again in another block at another price: counted once, at it.
	if err := l.RecordPendingTx(ctx, PendingTx{Hash: tx2, ChainID: 1337, ChannelID: p.ch.ID, Cumulative: v2.Cumulative,
		Amount: v2.Cumulative - v1.Cumulative, Kind: "settle", Nonce: 1, Raw: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if err := l.ConfirmPendingTx(ctx, SettlementRecord{ChannelID: p.ch.ID, Cumulative: v2.Cumulative, Amount: v2.Cumulative - v1.Cumulative,
		Kind: "settle", TxHash: tx2, BlockHash: common.HexToHash("0xb3"), BlockNumber: 10, GasUsed: 50_001, GasPrice: 3}); err != nil {
		t.Fatal(err)
	}
	wantWei.Add(wantWei, big.NewInt(150_003))
	g, err = l.GasSpent(ctx)
	if err != nil || g.Txs != 3 || g.Used != 61_234+48_000+50_001 || g.Wei.Cmp(wantWei) != 0 {
		t.Fatalf("after the re-mined settlement: %+v (wei %s), %v; want %s wei", g, g.Wei, err, wantWei)
	}

	txs, err := l.Transactions(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	gasOf := map[common.Hash][2]uint64{}
	for _, r := range txs {
		gasOf[r.Tx] = [2]uint64{r.GasUsed, r.GasPrice}
	}
	for h, want := range map[common.Hash][2]uint64{tx1: {61_234, 30_000_000_000}, tx2: {50_001, 3}, tx3: {48_000, 2_500_000_000}} {
		if gasOf[h] != want {
			t.Errorf("transaction %s: gas %v; want %v", h.Hex()[:6], gasOf[h], want)
		}
	}
	if len(txs) != 3 {
		t.Errorf("%d transactions listed; want 3 (the ledger ones carry none)", len(txs))
	}

	// The balance's figures are untouched by gas: earned and settled are
	// the vouchers'.
	b, err := l.Balance(ctx, me)
	if err != nil || b.Settled != v2.Cumulative || b.Earned != v2.Cumulative || b.Lost != 0 {
		t.Fatalf("balance %+v, %v", b, err)
	}

	// A gas price beyond what the ledger keeps is refused by name.
	err = l.RecordChainPayout(ctx, me, 1, "0xdest", ChainTx{Hash: common.HexToHash("0x04"), GasUsed: 1, GasPrice: MaxGasPrice + 1})
	if err == nil || errors.Is(err, ErrInsufficient) {
		t.Fatalf("gas price above the limit: %v", err)
	}
}

// TestWeiInToken: 1e18 wei is tokenPerNative units; a part of a unit
// rounds up; no rate, no figure.
func TestWeiInToken(t *testing.T) {
	for _, c := range []struct {
		wei  string
		rate uint64
		want Amount
		ok   bool
	}{
		{"1000000000000000000", 3_000_000_000, 3_000_000_000, true}, // 1 ETH at 3000.000000
		{"1957020000000000", 3_000_000_000, 5_871_060, true},        // 0.00195702 ETH
		{"1", 3_000_000_000, 1, true},                               // a sliver costs one unit
		{"0", 3_000_000_000, 0, true},
		{"1000", 0, 0, false},
	} {
		wei, _ := new(big.Int).SetString(c.wei, 10)
		got, ok := WeiInToken(wei, c.rate)
		if got != c.want || ok != c.ok {
			t.Errorf("WeiInToken(%s, %d) = %d, %v; want %d, %v", c.wei, c.rate, got, ok, c.want, c.ok)
		}
	}
}

// TestUnfinalSettlements: a watcher re-checks against reorgs only the
// settlements that could still move: mined at or above the window's
// bottom, on its own chain's channels, and not on a channel the ledger
// holds closed (a development chain started afresh under a kept data dir
// must not be sent the old chain's transactions again).
func TestUnfinalSettlements(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	l := p.prov
	other, closed := p.ch, p.ch
	other.ID, other.Domain.ChainID = common.HexToHash("0xc2"), p.ch.Domain.ChainID+1
	closed.ID = common.HexToHash("0xc3")
	for _, ch := range []ChannelInfo{other, closed} {
		if err := l.AddChannel(ctx, "evm", ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.MarkClosed(ctx, closed.ID, 0); err != nil {
		t.Fatal(err)
	}
	for i, s := range []struct {
		ch    common.Hash
		block uint64
	}{{p.ch.ID, 99}, {p.ch.ID, 100}, {p.ch.ID, 140}, {other.ID, 120}, {closed.ID, 130}} {
		if err := l.RecordSettlement(ctx, SettlementRecord{ChannelID: s.ch, Cumulative: Amount(10 * (i + 1)), Amount: 10, Kind: "settle",
			TxHash: common.BigToHash(big.NewInt(int64(i + 1))), BlockHash: common.HexToHash("0xb1"), BlockNumber: s.block}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := l.UnfinalSettlements(ctx, p.ch.Domain, 100)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []uint64
	for _, s := range got {
		blocks = append(blocks, s.BlockNumber)
	}
	if len(blocks) != 2 || blocks[0] != 100 || blocks[1] != 140 {
		t.Fatalf("unfinal settlements at blocks %v, want [100 140]", blocks)
	}
	if all, _ := l.OnChainSettlements(ctx); len(all) != 5 {
		t.Fatalf("all on-chain settlements: %d, want 5", len(all))
	}
}

// TestChainTxLifecycle: a transaction recorded before it is sent is
// pending (no gas, not listed) until recorded mined; a reorg puts it back
// to pending when its signed form is kept, or marks one recorded without
// it dropped (listed, no gas); one whose nonce went elsewhere is failed.
// A pending record without its signed form, or with a bad kind, is refused.
func TestChainTxLifecycle(t *testing.T) {
	l := newPair(t).prov
	ctx := context.Background()
	h1, h2, h3 := common.HexToHash("0x11"), common.HexToHash("0x12"), common.HexToHash("0x13")
	for _, bad := range []ChainTxRecord{
		{Hash: h1, ChainID: 1337, Kind: "open"},                                 // no raw
		{Hash: h1, ChainID: 1337, Kind: "open; DROP", Raw: []byte{1}},           // kind
		{Hash: h1, ChainID: 1337, Kind: "open", Raw: []byte{1}, Nonce: 1 << 63}, // nonce
		{Hash: common.Hash{}, ChainID: 1337, Kind: "open", Raw: []byte{1}},      // hash
		{Hash: h1, ChainID: 1337, Kind: "topUp", Raw: []byte{1}, Amount: -1},    // amount
	} {
		if err := l.RecordSendingChainTx(ctx, bad); err == nil {
			t.Fatalf("recorded %+v", bad)
		}
	}
	if err := l.RecordSendingChainTx(ctx, ChainTxRecord{Hash: h1, ChainID: 1337, Kind: "open", Amount: 5, Nonce: 4, Raw: []byte{0xaa}, SentBlock: 9}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordSendingChainTx(ctx, ChainTxRecord{Hash: h2, ChainID: 1337, Kind: "approve", Nonce: 3, Raw: []byte{0xbb}}); err != nil {
		t.Fatal(err)
	}
	p, err := l.PendingChainTxs(ctx, 1337)
	if err != nil || len(p) != 2 || p[0].Hash != h2 || p[1].Hash != h1 || p[1].Nonce != 4 || p[1].SentBlock != 9 || string(p[1].Raw) != "\xaa" || p[1].Amount != 5 {
		t.Fatalf("pending in nonce order: %+v, %v", p, err)
	}
	if other, _ := l.PendingChainTxs(ctx, 1); len(other) != 0 {
		t.Fatalf("another chain's pending: %+v", other)
	}
	if g, _ := l.GasSpent(ctx); g.Txs != 0 {
		t.Fatalf("pending transactions count as gas spent: %+v", g)
	}
	if txs, _ := l.Transactions(ctx, 10); len(txs) != 0 {
		t.Fatalf("pending transactions listed: %+v", txs)
	}
	mined := ChainTxRecord{Hash: h1, ChainID: 1337, Kind: "open", Amount: 5, BlockHash: common.HexToHash("0xb1"), BlockNumber: 20, GasUsed: 100, GasPrice: 2}
	if err := l.RecordChainTx(ctx, mined); err != nil {
		t.Fatal(err)
	}
	if err := l.FailChainTx(ctx, h2); err != nil {
		t.Fatal(err)
	}
	if g, _ := l.GasSpent(ctx); g.Txs != 1 || g.Used != 100 {
		t.Fatalf("gas spent after one mined, one failed: %+v", g)
	}
	if u, _ := l.UnfinalChainTxs(ctx, 1337, 21); len(u) != 0 {
		t.Fatalf("mined below the window listed: %+v", u)
	}
	if u, _ := l.UnfinalChainTxs(ctx, 1337, 20); len(u) != 1 || u[0].Hash != h1 || u[0].Status != "mined" || u[0].BlockHash != mined.BlockHash {
		t.Fatalf("unfinal: %+v", u)
	}
	if err := l.ReorgedChainTx(ctx, h1); err != nil {
		t.Fatal(err)
	}
	if p, _ := l.PendingChainTxs(ctx, 1337); len(p) != 1 || p[0].Hash != h1 || p[0].GasUsed != 0 || p[0].BlockNumber != 0 {
		t.Fatalf("after the reorg: %+v; want the open pending again, costing nothing", p)
	}
	// Recorded mined without its signed form (before it was kept): a
	// reorg marks it dropped.
	if err := l.RecordChainTx(ctx, ChainTxRecord{Hash: h3, ChainID: 1337, Kind: "withdraw", BlockNumber: 30, GasUsed: 7, GasPrice: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.ReorgedChainTx(ctx, h3); err != nil {
		t.Fatal(err)
	}
	txs, _ := l.Transactions(ctx, 10)
	if len(txs) != 1 || txs[0].Tx != h3 || !txs[0].Dropped || txs[0].GasUsed != 0 {
		t.Fatalf("listed: %+v; want the withdraw, dropped, no gas", txs)
	}
	if g, _ := l.GasSpent(ctx); g.Txs != 0 {
		t.Fatalf("gas spent: %+v; want none", g)
	}
}
