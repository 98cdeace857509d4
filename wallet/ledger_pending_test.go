package wallet

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestPendingReplacements: a settlement's replacement is recorded only
// when it matches its pending original (chain, nonce, channel, voucher);
// whichever of them is mined is recorded and the others become
// replaced; a reorg that drops it puts them all back to pending (either
// may be mined now); failing one fails them all; a note saying why a
// settlement waits shows on the wallet's pending row until it is mined.
func TestPendingReplacements(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	v := p.step(t, false)
	l := p.prov
	me := p.provider.Address()
	first, second, third := common.HexToHash("0xa1"), common.HexToHash("0xa2"), common.HexToHash("0xa3")
	base := PendingTx{ChainID: 1337, ChannelID: p.ch.ID, Cumulative: v.Cumulative, Amount: v.Cumulative, Kind: "settle", Nonce: 4, Raw: []byte{1}, SentBlock: 10}
	rec := func(h, orig common.Hash, mut func(*PendingTx)) error {
		q := base
		q.Hash, q.Original = h, orig
		if mut != nil {
			mut(&q)
		}
		return l.RecordPendingTx(ctx, q)
	}
	if err := rec(first, common.Hash{}, nil); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*PendingTx){
		"another nonce":   func(q *PendingTx) { q.Nonce = 5 },
		"another chain":   func(q *PendingTx) { q.ChainID = 1 },
		"another voucher": func(q *PendingTx) { q.Cumulative++ },
	} {
		if err := rec(third, first, mut); err == nil || !strings.Contains(err.Error(), "must match") {
			t.Errorf("a replacement with %s: %v", name, err)
		}
	}
	if err := rec(third, common.HexToHash("0xff"), nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("a replacement of an unknown original: %v", err)
	}
	if err := rec(second, first, func(q *PendingTx) { q.SentBlock = 13 }); err != nil {
		t.Fatal(err)
	}
	note := "not mined at a fee cap of 7 wei per gas"
	if err := l.NotePendingTx(ctx, first, note); err != nil {
		t.Fatal(err)
	}
	if pend, err := l.Pending(ctx, me); err != nil || len(pend) != 1 || pend[0].Waiting != note {
		t.Fatalf("pending with a note: %+v, %v", pend, err)
	}
	list, err := l.PendingTxs(ctx, 1337)
	if err != nil || len(list) != 2 || list[0].Hash != first || list[1].Hash != second || list[1].Original != first || list[0].Original != first || list[1].SentBlock != 13 {
		t.Fatalf("pending transactions %+v, %v; want the first then its replacement, both naming the first", list, err)
	}

	// The first is mined after all: it is recorded, the replacement is not.
	mined := SettlementRecord{ChannelID: p.ch.ID, Cumulative: v.Cumulative, Amount: v.Cumulative, Kind: "settle",
		TxHash: first, BlockHash: common.HexToHash("0xb1"), BlockNumber: 12, GasUsed: 50_000, GasPrice: 7}
	if err := l.ConfirmPendingTx(ctx, mined); err != nil {
		t.Fatal(err)
	}
	status := func() map[common.Hash]string {
		g, err := l.SettlementTxs(ctx, second)
		if err != nil {
			t.Fatal(err)
		}
		out := map[common.Hash]string{}
		for _, q := range g {
			out[q.Hash] = q.Status
		}
		return out
	}
	if s := status(); s[first] != "mined" || s[second] != "replaced" || len(s) != 2 {
		t.Fatalf("after the first was mined: %v", s)
	}
	if pend, _ := l.Pending(ctx, me); len(pend) != 0 {
		t.Fatalf("pending after the settlement: %+v", pend)
	}
	if g, _ := l.GasSpent(ctx); g.Txs != 1 || g.Used != 50_000 {
		t.Fatalf("gas spent %+v; want the mined transaction's only", g)
	}

	// A reorg drops it: both are pending again; now the replacement is mined.
	if err := l.DropSettlement(ctx, first); err != nil {
		t.Fatal(err)
	}
	if s := status(); s[first] != "pending" || s[second] != "pending" {
		t.Fatalf("after the reorg: %v", s)
	}
	mined.TxHash, mined.BlockHash = second, common.HexToHash("0xb2")
	if err := l.ConfirmPendingTx(ctx, mined); err != nil {
		t.Fatal(err)
	}
	if s := status(); s[first] != "replaced" || s[second] != "mined" {
		t.Fatalf("after the replacement was mined: %v", s)
	}
	if set, _ := l.Settled(ctx, p.ch.ID); set != v.Cumulative {
		t.Fatalf("settled %s; want %s once", set, v.Cumulative)
	}

	// Failing one transaction of a settlement fails all of it.
	v2 := p.step(t, false)
	base.Cumulative, base.Amount, base.Nonce = v2.Cumulative, v2.Cumulative-v.Cumulative, 5
	h1, h2 := common.HexToHash("0xc1"), common.HexToHash("0xc2")
	if err := rec(h1, common.Hash{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := rec(h2, h1, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.FailPendingTx(ctx, h2); err != nil {
		t.Fatal(err)
	}
	if list, _ := l.PendingTxs(ctx, 1337); len(list) != 0 {
		t.Fatalf("pending after the failure: %+v", list)
	}
}

// TestRecordChainTx: a transaction other than a settlement or payout is
// refused without a hash, with a kind that is not a word, or with a gas
// price beyond what the ledger keeps; recorded again (mined again after a
// reorg) it counts once, at its new receipt's gas.
func TestRecordChainTx(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	l := p.req
	ok := ChainTxRecord{Hash: common.HexToHash("0xd1"), ChainID: 1337, Kind: "open", ChannelID: p.ch.ID, Amount: 5, GasUsed: 100, GasPrice: 3}
	for name, mut := range map[string]func(*ChainTxRecord){
		"no hash":          func(r *ChainTxRecord) { r.Hash = common.Hash{} },
		"a hostile kind":   func(r *ChainTxRecord) { r.Kind = "open'); DROP TABLE chain_txs; --" },
		"an empty kind":    func(r *ChainTxRecord) { r.Kind = "" },
		"a negative sum":   func(r *ChainTxRecord) { r.Amount = -1 },
		"a huge gas price": func(r *ChainTxRecord) { r.GasPrice = MaxGasPrice + 1 },
	} {
		r := ok
		mut(&r)
		if err := l.RecordChainTx(ctx, r); err == nil {
			t.Errorf("a chain transaction with %s was recorded", name)
		}
	}
	if err := l.RecordChainTx(ctx, ok); err != nil {
		t.Fatal(err)
	}
	ok.GasUsed, ok.Reverted = 120, true
	if err := l.RecordChainTx(ctx, ok); err != nil {
		t.Fatal(err)
	}
	g, err := l.GasSpent(ctx)
	if err != nil || g.Txs != 1 || g.Used != 120 || g.Wei.Int64() != 360 {
		t.Fatalf("gas spent %+v, %v; want one transaction, 120 gas, 360 wei", g, err)
	}
	txs, err := l.Transactions(ctx, 5)
	if err != nil || len(txs) != 1 || txs[0].Kind != "open" || !txs[0].Reverted || txs[0].Amount != 5 {
		t.Fatalf("transactions %+v, %v", txs, err)
	}
}

// TestMigrationKeepsPendingTxs: a ledger written before fee bumping
// (schema 4) holding a settlement sent and not yet mined opens with it
// still pending, as its own original, so a restart resumes it.
func TestMigrationKeepsPendingTxs(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	stmts := append([]string{`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (4)`}, migrations[:4]...)
	stmts = append(stmts,
		`INSERT INTO channels (id, backend, chain_id, contract, payer, payee, signer, token, deposit, created)
			VALUES ('0x01', 'evm', 1337, '0xc', '0xa', '0xb', '0xa', '0xt', 10, 1)`,
		`INSERT INTO pending_txs (hash, chain_id, channel_id, cumulative, amount, kind, nonce, raw, status, at)
			VALUES ('`+common.HexToHash("0xe1").Hex()+`', 1337, '0x01', 5, 5, 'settle', 3, x'01', 'pending', 1)`)
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("building a schema 4 ledger: %v", err)
		}
	}
	db.Close()
	l, err := OpenLedger(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	list, err := l.PendingTxs(ctx, 1337)
	if err != nil || len(list) != 1 || list[0].Hash != common.HexToHash("0xe1") || list[0].Original != list[0].Hash || list[0].Nonce != 3 || list[0].Amount != 5 {
		t.Fatalf("pending after the migration: %+v, %v", list, err)
	}
	if g, err := l.GasSpent(ctx); err != nil || g.Txs != 0 {
		t.Fatalf("gas after the migration: %+v, %v", g, err)
	}
}
