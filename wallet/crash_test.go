package wallet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

const crashChildEnv = "SPARE_WALLET_CRASH_CHILD"

// TestCrashSafety runs a provider and a requester recording receipts and
// vouchers in a loop in a child process, SIGKILLs it at an arbitrary
// instant, reopens both ledgers and checks that every voucher the child
// acknowledged is on disk and that money is conserved: once the requester
// re-sends its best voucher (as the protocol does after a reconnect), what
// the requester spent equals what the provider earned.
func TestCrashSafety(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	for round := 0; round < 3; round++ {
		acked := runAndKill(t, dir, 20+round*15)
		f := fixedFixture(t)
		p := &pair{fixture: f, prov: openLedger(t, filepath.Join(dir, "provider")), req: openLedger(t, filepath.Join(dir, "requester"))}
		ctx := context.Background()
		for _, cum := range acked {
			var n int
			p.prov.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM vouchers WHERE channel_id = ? AND cumulative = ?`, f.ch.ID.Hex(), cum).Scan(&n)
			if n != 1 {
				t.Fatalf("round %d: acknowledged voucher %d missing after SIGKILL", round, cum)
			}
		}
		best, err := p.req.BestVoucher(ctx, f.ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.prov.RecordVoucher(ctx, &best, f.ag.ID(f.domain)); err != nil && !errors.Is(err, ErrReplay) {
			t.Fatalf("re-sent best voucher: %v", err)
		}
		pb, _ := p.prov.Balance(ctx, f.provider.Address())
		rb, _ := p.req.Balance(ctx, f.requester.Address())
		if pb.Earned != rb.Spent || pb.Earned < Amount(acked[len(acked)-1]) {
			t.Fatalf("round %d: provider earned %s, requester spent %s, last ack %d", round, pb.Earned, rb.Spent, acked[len(acked)-1])
		}
		// Receipts chain and agree with the money: every voucher the
		// requester signed is covered by a receipt it checked.
		rst, _ := p.req.ReceiptState(ctx, f.ag.ID(f.domain))
		if rst.Cumulative < rb.Spent {
			t.Fatalf("requester paid %s for receipts worth %s", rb.Spent, rst.Cumulative)
		}
		p.prov.Close()
		p.req.Close()
		t.Logf("round %d: %d vouchers acknowledged, earned = spent = %s", round, len(acked), pb.Earned)
	}
}

// runAndKill starts the child, waits for at least n acknowledgements,
// kills it with SIGKILL and returns every acknowledged cumulative amount.
func runAndKill(t *testing.T, dir string, n int) []int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []int64
	sc := bufio.NewScanner(out)
	killed := false
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "ACK ") {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimPrefix(line, "ACK "), 10, 64)
		if err != nil {
			t.Fatalf("child printed %q", line)
		}
		acked = append(acked, v)
		if len(acked) >= n && !killed {
			cmd.Process.Kill() // SIGKILL on Unix: no chance to clean up
			killed = true      // keep reading: lines already written were acknowledged
		}
	}
	err = cmd.Wait()
	if !killed || err == nil {
		t.Fatalf("child ended on its own (%v) after %d acks", err, len(acked))
	}
	return acked
}

// crashChild records receipts and vouchers until it is killed, printing
// "ACK <cumulative>" after the provider's ledger has committed each voucher.
func crashChild(t *testing.T, dir string) {
	f := fixedFixture(t)
	ctx := context.Background()
	p := &pair{fixture: f}
	var err error
	if p.prov, err = OpenLedger(filepath.Join(dir, "provider"), nil); err != nil {
		t.Fatal(err)
	}
	if p.req, err = OpenLedger(filepath.Join(dir, "requester"), nil); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Ledger{p.prov, p.req} {
		if err := l.AddChannel(ctx, LedgerBackend, f.ch); err != nil {
			t.Fatal(err)
		}
		if err := l.RecordAgreement(ctx, &f.ag); err != nil {
			t.Fatal(err)
		}
	}
	id := f.ag.ID(f.domain)
	// A previous round may have died between the requester's and the
	// provider's records: catch the provider up first, as a reconnect would.
	if st, _ := p.req.ReceiptState(ctx, id); st.LastSeq > 0 {
		if best, err := p.req.BestVoucher(ctx, f.ch.ID); err == nil {
			p.prov.RecordVoucher(ctx, &best, id)
		}
	}
	w := bufio.NewWriter(os.Stdout)
	for {
		pst, err := p.prov.ReceiptState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		rst, _ := p.req.ReceiptState(ctx, id)
		var r SignedReceipt
		if pst.LastSeq > rst.LastSeq { // resend the receipt the requester missed
			r = resendLast(t, p, id)
		} else {
			r = f.receipt(t, pst, false)
			if _, err := p.prov.RecordReceipt(ctx, &r, f.now()); err != nil {
				t.Fatal(err)
			}
		}
		next, err := p.req.RecordReceipt(ctx, &r, f.now())
		if err != nil {
			t.Fatal(err)
		}
		v := f.voucher(t, next.Cumulative)
		if _, err := p.req.RecordVoucher(ctx, &v, id); err != nil {
			t.Fatal(err)
		}
		if _, err := p.prov.RecordVoucher(ctx, &v, id); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "ACK %d\n", v.Cumulative)
		w.Flush()
	}
}

// resendLast reads the provider's latest signed receipt back from its ledger.
func resendLast(t *testing.T, p *pair, id common.Hash) SignedReceipt {
	st, err := p.prov.ReceiptState(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.prov.Receipt(context.Background(), id, st.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
