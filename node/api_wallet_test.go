//go:build linux

package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// apiDaemon runs a daemon with a real wallet (SQLite ledger and keystore
// in a temp dir) serving the real LocalAPI socket, without a sandbox: the
// routes tested here start no job.
func apiDaemon(t *testing.T, dir string, cfg DaemonConfig) (*Daemon, *localapi.Client) {
	d, c, _ := stoppableDaemon(t, dir, cfg)
	return d, c
}

// stoppableDaemon is apiDaemon with a stop function (also run at cleanup).
func stoppableDaemon(t *testing.T, dir string, cfg DaemonConfig) (*Daemon, *localapi.Client, func()) {
	t.Helper()
	cfg.DataDir, cfg.Display, cfg.Version, cfg.Log = dir, ":none", "test", quietLogger()
	d := NewDaemon(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	c := localapi.NewClient(dir)
	testenv.WaitFor(t, "the LocalAPI", 10*time.Second, func() bool { _, err := c.Status(context.Background()); return err == nil })
	return d, c, stop
}

func apiError(t *testing.T, err error) *localapi.Error {
	t.Helper()
	var e *localapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a LocalAPI error, got %v", err)
	}
	return e
}

func TestWalletAPI(t *testing.T) {
	dir := t.TempDir()
	w := wallettest.Open(t, dir)
	wallettest.Fund(t, w, wallettest.Figures{Earned: 5_000_000, Settled: 3_000_000})
	_, c := apiDaemon(t, dir, DaemonConfig{Wallet: w})
	ctx := context.Background()

	fig, err := c.Wallet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	me, _ := w.Address()
	if fig.Address != me.Hex() || fig.Unit != wallet.Unit || fig.Earned != 5_000_000 || fig.Settled != 3_000_000 ||
		fig.Pending != 2_000_000 || fig.Available != 3_000_000 || fig.PaidOut != 0 {
		t.Fatalf("figures %+v", fig)
	}
	if fig.Today != 5_000_000 || fig.Week != 5_000_000 || fig.Month != 5_000_000 || len(fig.Days) != 30 || len(fig.Hours) != 24 {
		t.Fatalf("today %s, week %s, month %s, %d days, %d hours", fig.Today, fig.Week, fig.Month, len(fig.Days), len(fig.Hours))
	}
	if fig.Hours[23].Earned != 5_000_000 || !fig.Hours[23].Start.Equal(time.Now().UTC().Truncate(time.Hour)) || fig.Days[29].Earned != 5_000_000 {
		t.Fatalf("this hour %+v, today %+v", fig.Hours[23], fig.Days[29])
	}
	if len(fig.History) != 1 || fig.History[0].Kind != localapi.ActivityJob || fig.History[0].Amount != 5_000_000 {
		t.Fatalf("history %+v", fig.History)
	}

	events := make(chan localapi.Status, 64)
	ectx, ecancel := context.WithCancel(ctx)
	defer ecancel()
	go func() { _ = c.Events(ectx, func(s localapi.Status) { events <- s }) }()
	<-events // the current status comes first

	dest := "0x8ba1f109551bD432803012645Ac136ddd64DBA72"
	bad := []struct {
		name      string
		req       localapi.WithdrawRequest
		code      localapi.Code
		field, in string
	}{
		{"no address", localapi.WithdrawRequest{Amount: "1", Passphrase: "test"}, localapi.CodeInvalid, "to", "required"},
		{"not hex", localapi.WithdrawRequest{To: "0xnothex", Amount: "1", Passphrase: "test"}, localapi.CodeInvalid, "to", "40 hex digits"},
		{"short", localapi.WithdrawRequest{To: dest[:41], Amount: "1", Passphrase: "test"}, localapi.CodeInvalid, "to", "40 hex digits"},
		{"checksum", localapi.WithdrawRequest{To: strings.Replace(dest, "bD4", "bd4", 1), Amount: "1", Passphrase: "test"}, localapi.CodeInvalid, "to", "checksum"},
		{"zero", localapi.WithdrawRequest{To: "0x0000000000000000000000000000000000000000", Amount: "1", Passphrase: "test"}, localapi.CodeInvalid, "to", "zero address"},
		{"own", localapi.WithdrawRequest{To: me.Hex(), Amount: "1", Passphrase: "test"}, localapi.CodeInvalid, "to", "own address"},
		{"amount", localapi.WithdrawRequest{To: dest, Amount: "1.0000001", Passphrase: "test"}, localapi.CodeInvalid, "amount", "6 decimals"},
		{"negative", localapi.WithdrawRequest{To: dest, Amount: "-1", Passphrase: "test"}, localapi.CodeInvalid, "amount", "above 0"},
		{"no passphrase", localapi.WithdrawRequest{To: dest, Amount: "1"}, localapi.CodeInvalid, "passphrase", "required"},
		{"wrong passphrase", localapi.WithdrawRequest{To: dest, Amount: "1", Passphrase: "guess"}, localapi.CodeBadPass, "passphrase", "does not unlock"},
		{"more than settled", localapi.WithdrawRequest{To: dest, Amount: "3.5", Passphrase: "test"}, localapi.CodeInsufficient, "amount", "insufficient"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Withdraw(ctx, tc.req)
			e := apiError(t, err)
			if e.Code != tc.code || e.Field != tc.field || !strings.Contains(e.Message, tc.in) {
				t.Fatalf("got %+v, want code %s field %s with %q", e, tc.code, tc.field, tc.in)
			}
			if strings.Contains(e.Message, tc.req.Passphrase) && tc.req.Passphrase != "" {
				t.Fatalf("the error repeats the passphrase: %s", e.Message)
			}
		})
	}

	// A lower-case address (no checksum) is accepted and paid to its
	// checksummed form.
	res, err := c.Withdraw(ctx, localapi.WithdrawRequest{To: strings.ToLower(dest), Amount: "1.25", Passphrase: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if res.To != dest || res.Amount != 1_250_000 || res.Available != 1_750_000 {
		t.Fatalf("withdraw: %+v", res)
	}
	waitEvent(t, events, localapi.EventWallet)
	fig, err = c.Wallet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fig.PaidOut != 1_250_000 || fig.Available != 1_750_000 || fig.Earned != 5_000_000 {
		t.Fatalf("after withdrawal: %+v", fig)
	}
	if len(fig.History) != 2 || fig.History[0].Kind != localapi.ActivityPayout || fig.History[0].To != dest || fig.History[0].Amount != 1_250_000 {
		t.Fatalf("history after withdrawal: %+v", fig.History)
	}
	// The ledger file holds it (durable before acknowledged).
	if b, err := w.Ledger.Balance(ctx, me); err != nil || b.PaidOut != 1_250_000 {
		t.Fatalf("ledger: %+v, %v", b, err)
	}
}

func waitEvent(t *testing.T, events <-chan localapi.Status, event localapi.Event) localapi.Status {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-events:
			if s.Event == event {
				return s
			}
		case <-deadline:
			t.Fatalf("no %q event", event)
		}
	}
}

func TestWalletExportAPI(t *testing.T) {
	dir := t.TempDir()
	w := wallettest.Open(t, dir)
	me, err := w.Address()
	if err != nil {
		t.Fatal(err)
	}
	_, c := apiDaemon(t, dir, DaemonConfig{Wallet: w})
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "key.json")

	_, err = c.ExportKeystore(ctx, localapi.ExportRequest{Passphrase: "wrong"}, out)
	if e := apiError(t, err); e.Code != localapi.CodeBadPass || e.Field != "passphrase" {
		t.Fatalf("wrong passphrase: %+v", e)
	}
	_, err = c.ExportKeystore(ctx, localapi.ExportRequest{Passphrase: "test", NewPassphrase: "short"}, out)
	if e := apiError(t, err); e.Field != "new_passphrase" {
		t.Fatalf("short new passphrase: %+v", e)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused export left a file: %v", err)
	}

	res, err := c.ExportKeystore(ctx, localapi.ExportRequest{Passphrase: "test", NewPassphrase: "elsewhere-123"}, out)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("exported file: %v, %v", fi, err)
	}
	b, _ := os.ReadFile(out)
	k, err := keystore.DecryptKey(b, "elsewhere-123")
	if err != nil || k.Address != me || res.Address != me.Hex() {
		t.Fatalf("the exported file does not open under the new passphrase to %s: %v", me.Hex(), err)
	}
	// An existing file is never replaced.
	if _, err := c.ExportKeystore(ctx, localapi.ExportRequest{Passphrase: "test"}, out); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("export over an existing file: %v", err)
	}
}

func TestWalletAPIWithoutWallet(t *testing.T) {
	_, c := apiDaemon(t, t.TempDir(), DaemonConfig{})
	_, err := c.Wallet(context.Background())
	if e := apiError(t, err); e.Code != localapi.CodeNoWallet {
		t.Fatalf("%+v", e)
	}
}

// TestPassphraseGuessing plays a local caller guessing the wallet
// passphrase through the socket: after the free failures each guess is
// refused unread until a growing wait has passed, a restarted daemon
// keeps refusing, and the owner's right passphrase after the wait works
// and clears the count.
func TestPassphraseGuessing(t *testing.T) {
	dir := t.TempDir()
	w := wallettest.Open(t, dir)
	ctx := context.Background()
	out := func() string { return filepath.Join(t.TempDir(), "key.json") }
	long := PassSchedule{Free: 3, Base: time.Hour, Max: time.Hour}
	_, c, stop := stoppableDaemon(t, dir, DaemonConfig{Wallet: w, PassSchedule: long})

	for i := range 3 {
		_, err := c.ExportKeystore(ctx, localapi.ExportRequest{Passphrase: "guess"}, out())
		e := apiError(t, err)
		if e.Code != localapi.CodeBadPass {
			t.Fatalf("guess %d: code %q (%s), want %q", i+1, e.Code, e.Message, localapi.CodeBadPass)
		}
		if last := i == 2; last == e.RetryAt.IsZero() {
			t.Fatalf("guess %d: retry_at %v (only the last free guess announces a wait)", i+1, e.RetryAt)
		}
	}
	refused := func(c *localapi.Client, pass string) time.Time {
		t.Helper()
		_, err := c.ExportKeystore(ctx, localapi.ExportRequest{Passphrase: pass}, out())
		e := apiError(t, err)
		if e.Code != localapi.CodeTooManyTries || e.RetryAt.IsZero() || !strings.Contains(e.Message, "try again after") {
			t.Fatalf("after the free guesses: %q %q retry_at %v, want %q with when to try again", e.Code, e.Message, e.RetryAt, localapi.CodeTooManyTries)
		}
		return e.RetryAt
	}
	until := refused(c, "guess")
	if d := time.Until(until); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("retry in %s, want the schedule's hour", d)
	}
	// The right passphrase is refused too while the wait lasts, and so is
	// a withdrawal: the routes share the count.
	refused(c, wallettest.Passphrase)
	_, err := c.Withdraw(ctx, localapi.WithdrawRequest{To: "0x8ba1f109551bD432803012645Ac136ddd64DBA72", Amount: "1", Passphrase: "guess"})
	if e := apiError(t, err); e.Code != localapi.CodeTooManyTries {
		t.Fatalf("withdraw during the wait: %q %s", e.Code, e.Message)
	}
	fi, err := os.Stat(filepath.Join(dir, passTriesFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("record of wrong passphrases: %v, mode %v; want 0600", err, fi.Mode())
	}

	// A restart does not wipe the count.
	stop()
	_, c, stop = stoppableDaemon(t, dir, DaemonConfig{Wallet: w, PassSchedule: long})
	if again := refused(c, wallettest.Passphrase); !again.Equal(until) {
		t.Fatalf("after a restart retry_at %v, want the same %v", again, until)
	}
	stop()

	// Restarted with a short schedule: three failures mean a wait of
	// 300 ms from the last one; one more guess doubles it.
	_, c, _ = stoppableDaemon(t, dir, DaemonConfig{Wallet: w, PassSchedule: PassSchedule{Free: 3, Base: 300 * time.Millisecond, Max: time.Second}})
	testenv.WaitFor(t, "the first short wait to pass", 5*time.Second, func() bool {
		_, err := c.ExportKeystore(ctx, localapi.ExportRequest{Passphrase: "guess"}, out())
		var e *localapi.Error
		return errors.As(err, &e) && e.Code == localapi.CodeBadPass
	})
	until = refused(c, wallettest.Passphrase)
	if d := time.Until(until); d > 600*time.Millisecond {
		t.Fatalf("retry in %s, want at most 600 ms", d)
	}
	<-time.After(time.Until(until))
	if _, err := c.ExportKeystore(ctx, localapi.ExportRequest{Passphrase: wallettest.Passphrase}, out()); err != nil {
		t.Fatalf("the right passphrase after the wait: %v", err)
	}
	// The count starts over: the next wrong guess is free again.
	_, err = c.ExportKeystore(ctx, localapi.ExportRequest{Passphrase: "guess"}, out())
	if e := apiError(t, err); e.Code != localapi.CodeBadPass || !e.RetryAt.IsZero() {
		t.Fatalf("a guess after the reset: %q retry_at %v", e.Code, e.RetryAt)
	}
}
