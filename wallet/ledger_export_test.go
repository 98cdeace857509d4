package wallet

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestTypedFieldsMatchTypeStrings: the export's types are the ones the
// digests hash, member for member.
func TestTypedFieldsMatchTypeStrings(t *testing.T) {
	for name, want := range map[string]string{"Agreement": agreementType, "UsageReceipt": receiptType, "Voucher": voucherType} {
		var parts []string
		for _, f := range typedFields[name] {
			parts = append(parts, f.Type+" "+f.Name)
		}
		if got := name + "(" + strings.Join(parts, ",") + ")"; got != want {
			t.Errorf("export types for %s:\n got %s\nwant %s", name, got, want)
		}
	}
}

func records(t *testing.T, l *Ledger) []ExportRecord {
	t.Helper()
	var out []ExportRecord
	if err := l.Records(context.Background(), func(r ExportRecord) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLedgerRecordsCarryTheirDomain: every record says the domain it was
// signed under and recovers to its signer; a ledger written before the
// domain columns existed (schema 1) is migrated to the same records.
func TestLedgerRecordsCarryTheirDomain(t *testing.T) {
	p := newPair(t)
	for i := 0; i < 2; i++ {
		p.step(t, i == 1)
	}
	got := records(t, p.prov)
	var kinds []string
	for _, r := range got {
		kinds = append(kinds, r.Kind)
		if r.Domain != (ExportDomain{Name: "Spare", Version: "1", ChainID: "31337", VerifyingContract: p.domain.Contract}) {
			t.Errorf("%s domain %+v, want the channel's %+v", r.Kind, r.Domain, p.domain)
		}
		for _, s := range r.Signatures {
			want := p.provider.Address()
			if s.Role == "requester" || s.Role == "signer" {
				want = p.requester.Address()
			}
			if s.Error != "" || s.Signer != want {
				t.Errorf("%s %s signature recovers %s (%s), want %s", r.Kind, s.Role, s.Signer.Hex(), s.Error, want.Hex())
			}
		}
	}
	if strings.Join(kinds, " ") != "agreement receipt receipt voucher voucher" {
		t.Fatalf("records %v", kinds)
	}

	// Schema 1: the same rows without the domain columns.
	ctx := context.Background()
	old := t.TempDir()
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(ON)")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(old, LedgerFile)+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	stmts := []string{migrations[0], `CREATE TABLE schema_version (version INTEGER NOT NULL)`, `INSERT INTO schema_version VALUES (1)`,
		`ATTACH DATABASE '` + ledgerPath(t, p.prov) + `' AS src`,
		`INSERT INTO channels SELECT * FROM src.channels`,
		`INSERT INTO agreements SELECT id, channel_id, job_hash, body, created FROM src.agreements`,
		`INSERT INTO receipts SELECT agreement_id, seq, hash, prev_hash, start, end, gpu_ms, cpu_ms, total_gpu_ms, total_cpu_ms, cumulative, final, sig, recorded_at FROM src.receipts`,
		`INSERT INTO vouchers SELECT channel_id, cumulative, delta, agreement_id, sig, recorded_at FROM src.vouchers`,
		`DETACH DATABASE src`}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%.60s: %v", s, err)
		}
	}
	db.Close()
	migrated := openLedger(t, old)
	if v, _ := migrated.SchemaVersion(ctx); v != len(migrations) {
		t.Fatalf("migrated to %d", v)
	}
	if again := records(t, migrated); !reflect.DeepEqual(again, got) {
		t.Fatalf("after migration:\n%+v\nwant\n%+v", again, got)
	}
}

// TestLedgerBackendRecordsSayChainZero: the ledger backend's records name
// chain 0 and the zero contract explicitly.
func TestLedgerBackendRecordsSayChainZero(t *testing.T) {
	f := newFixture(t)
	l := openLedger(t, t.TempDir())
	ctx := context.Background()
	var zero Domain
	ch := f.ch
	ch.Domain = zero
	if err := l.AddChannel(ctx, LedgerBackend, ch); err != nil {
		t.Fatal(err)
	}
	v, err := SignVoucher(zero, Voucher{ChannelID: ch.ID, Cumulative: 5}, f.requester)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	var chain int64
	var contract string
	if err := l.db.QueryRowContext(ctx, `SELECT chain_id, contract FROM vouchers`).Scan(&chain, &contract); err != nil {
		t.Fatal(err)
	}
	if chain != 0 || contract != "0x0000000000000000000000000000000000000000" {
		t.Fatalf("stored domain %d %q, want 0 and the zero address written out", chain, contract)
	}
	rs := records(t, l)
	if len(rs) != 1 || rs[0].Domain.ChainID != "0" || rs[0].Domain.VerifyingContract != (common.Address{}) || rs[0].AgreementID != nil {
		t.Fatalf("records %+v", rs)
	}
}

func ledgerPath(t *testing.T, l *Ledger) string {
	t.Helper()
	var file string
	if err := l.db.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		t.Fatal(err)
	}
	return file
}
