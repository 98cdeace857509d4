package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet/evm"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// TestChainDepositLock: `spare wallet deposit --network local` locks the
// deposit (a day by default, --lock otherwise) and says until when; a
// provider's lock check (evm.Backend.CheckLock, the one spare node runs
// before a job) then takes a job that ends within the lock and refuses
// one that ends after it. A top-up with --lock extends the lock. A lock
// beyond the escrow's MAX_LOCK, or none, is refused naming the flag,
// before anything is sent; so is --lock on the embedded ledger.
func TestChainDepositLock(t *testing.T) {
	d := newDevChain(t)
	ctx := context.Background()
	pw := wallettest.Open(t, t.TempDir())
	key, err := pw.Key()
	if err != nil {
		t.Fatal(err)
	}
	prov, err := evm.Open(ctx, d.node.Client, d.net, key, pw.Ledger, nil)
	if err != nil {
		t.Fatal(err)
	}

	deposit := func(args ...string) (map[string]string, time.Time) {
		t.Helper()
		r := spareAt(t, d.payer, append([]string{"--json", "wallet", "deposit", "--network", "local", "--amount", "1"}, args...)...)
		if r.code != 0 {
			t.Fatalf("deposit %v exited %d: %s", args, r.code, r.stderr)
		}
		var out map[string]string
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("deposit printed %q: %v", r.stdout, err)
		}
		until, err := time.Parse(time.RFC3339, out["locked_until"])
		if err != nil {
			t.Fatalf("deposit's locked_until %q: %v", out["locked_until"], err)
		}
		on, err := prov.Channel(ctx, common.HexToHash(out["channel"]))
		if err != nil {
			t.Fatal(err)
		}
		if on.UnlockAt != uint64(until.Unix()) {
			t.Fatalf("deposit says locked until %s; the escrow says %d", until, on.UnlockAt)
		}
		return out, until
	}
	near := func(what string, got time.Time, lock time.Duration) {
		t.Helper()
		if d := time.Until(got) - lock; d > time.Minute || d < -time.Minute {
			t.Errorf("%s: locked until %s, want about %s from now", what, got, lock)
		}
	}

	// The default: a day. A job ending in an hour is taken; one ending
	// after the lock is refused, naming the lock.
	out, until := deposit("--payee", key.Address().Hex())
	near("the default lock", until, defaultDepositLock)
	id := common.HexToHash(out["channel"])
	if err := prov.CheckLock(ctx, id, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("a job ending within the lock: %v", err)
	}
	if err := prov.CheckLock(ctx, id, until.Add(time.Hour)); !errors.Is(err, evm.ErrUnfunded) || !strings.Contains(err.Error(), "locked until") {
		t.Fatalf("a job ending after the lock: %v, want refused", err)
	}
	// A text deposit says it too.
	r := spareAt(t, d.payer, "wallet", "deposit", "--network", "local", "--payee", key.Address().Hex(), "--amount", "1", "--lock", "2h")
	if r.code != 0 || !strings.Contains(r.stdout, "locked_until 20") {
		t.Fatalf("deposit --lock 2h: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}

	// --lock 2h: a three-hour job is refused until a top-up extends the
	// lock to 10 days.
	out, until = deposit("--payee", key.Address().Hex(), "--lock", "2h")
	near("--lock 2h", until, 2*time.Hour)
	id = common.HexToHash(out["channel"])
	if err := prov.CheckLock(ctx, id, time.Now().Add(3*time.Hour)); !errors.Is(err, evm.ErrUnfunded) {
		t.Fatalf("a three-hour job on a two-hour lock: %v, want refused", err)
	}
	_, until = deposit("--channel", id.Hex())
	near("a top-up without --lock keeps the lock", until, 2*time.Hour)
	_, until = deposit("--channel", id.Hex(), "--lock", "240h")
	near("a top-up with --lock 240h", until, 240*time.Hour)
	if err := prov.CheckLock(ctx, id, time.Now().Add(3*time.Hour)); err != nil {
		t.Fatalf("a three-hour job after the lock was extended: %v", err)
	}

	// Out of range: refused before any transaction, naming the flag.
	for _, lock := range []string{"745h", "0s", "30s", "-1h"} {
		r := spareAt(t, d.payer, "wallet", "deposit", "--network", "local", "--payee", key.Address().Hex(), "--amount", "1", "--lock", lock)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--lock ") || !strings.Contains(r.stderr, "744h0m0s (31 days, the escrow's MAX_LOCK)") ||
			strings.Contains(r.stderr, "sent 0x") {
			t.Errorf("--lock %s: exit %d, %s", lock, r.code, r.stderr)
		}
	}
	r = spareAt(t, t.TempDir(), "wallet", "deposit", "--payee", key.Address().Hex(), "--amount", "1", "--lock", "1h")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--lock: only a deposit on a chain") {
		t.Errorf("--lock on the embedded ledger: exit %d, %s", r.code, r.stderr)
	}
}
