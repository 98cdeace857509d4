package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet"
)

func init() {
	walletKeystore = wallet.KeystoreOptions{ScryptN: keystore.LightScryptN, ScryptP: keystore.LightScryptP}
}

// spareInProcess runs the CLI in-process and returns stdout and the exit code.
func spareInProcess(t *testing.T, args ...string) (string, int) {
	t.Helper()
	g := &globals{}
	root := newRootCmd(g)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := exitOK
	if err != nil {
		code = exitFailure
		var ue usageError
		if errors.As(err, &ue) {
			code = exitUsage
		}
		t.Logf("spare %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), code
}

func TestWalletCLI(t *testing.T) {
	dir := t.TempDir()
	out, code := spareInProcess(t, "wallet", "address", "--data", dir, "--json")
	var addr struct{ Address string }
	if code != 0 || json.Unmarshal([]byte(out), &addr) != nil || len(addr.Address) != 42 {
		t.Fatalf("address: %q, exit %d", out, code)
	}
	fi, err := os.Stat(filepath.Join(dir, "wallet", "passphrase"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated passphrase file: %v", err)
	}
	again, _ := spareInProcess(t, "wallet", "address", "--data", dir)
	if strings.TrimSpace(again) != addr.Address {
		t.Fatalf("address changed: %q vs %q", again, addr.Address)
	}

	payee := "0x00000000000000000000000000000000000000aa"
	out, code = spareInProcess(t, "wallet", "deposit", "--data", dir, "--payee", payee, "--amount", "2.5", "--json")
	var dep map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &dep) != nil || dep["deposit"] != "2.500000" {
		t.Fatalf("deposit: %q, exit %d", out, code)
	}
	if _, code := spareInProcess(t, "wallet", "deposit", "--data", dir, "--channel", dep["channel"], "--amount", "0.5"); code != 0 {
		t.Fatalf("top-up exit %d", code)
	}

	out, code = spareInProcess(t, "wallet", "balance", "--data", dir, "--json")
	var bal map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &bal) != nil {
		t.Fatalf("balance: %q, exit %d", out, code)
	}
	for _, k := range []string{"address", "unit", "earned", "settled", "paid_out", "pending", "lost", "spent", "deposited", "gas_txs", "gas_used", "gas_wei"} {
		if _, ok := bal[k]; !ok {
			t.Fatalf("balance --json lacks %q: %s", k, out)
		}
	}
	if bal["deposited"] != "3.000000" || bal["earned"] != "0.000000" || bal["address"] != addr.Address || bal["gas_wei"] != "0" || bal["gas_txs"] != "0" {
		t.Fatalf("balance %v", bal)
	}
	if out, code := spareInProcess(t, "wallet", "balance", "--data", dir); code != 0 || !strings.Contains(out, "3.000000") ||
		!strings.Contains(out, "gas spent (0 txs, 0 gas)") || !strings.Contains(out, "0 wei") || !strings.Contains(out, "lost") {
		t.Fatalf("balance text: %q", out)
	}

	// A voucher spent from this wallet shows in history, one JSON object per line.
	ctx := context.Background()
	w, err := wallet.Open(wallet.Options{DataDir: dir, Keystore: walletKeystore})
	if err != nil {
		t.Fatal(err)
	}
	k, err := w.Key()
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := w.Ledger.Channel(ctx, common.HexToHash(dep["channel"]))
	for _, cum := range []wallet.Amount{100_000, 250_000} {
		v, _ := wallet.SignVoucher(ch.Domain, wallet.Voucher{ChannelID: ch.ID, Cumulative: cum}, k)
		if _, err := w.Ledger.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	out, code = spareInProcess(t, "wallet", "history", "--data", dir, "--json", "--by", "hour")
	sc := bufio.NewScanner(strings.NewReader(out))
	lines := 0
	for sc.Scan() {
		var row map[string]string
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("history line %q: %v", sc.Text(), err)
		}
		if row["spent"] != "0.250000" || row["start"] == "" {
			t.Fatalf("history row %v", row)
		}
		lines++
	}
	if code != 0 || lines != 1 {
		t.Fatalf("history: %d lines, exit %d: %q", lines, code, out)
	}

	// Export, then import into another data directory: same address.
	key := filepath.Join(t.TempDir(), "key.json")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("moving day\n"), 0o600)
	if _, code := spareInProcess(t, "wallet", "export", "--data", dir, "--out", key, "--new-passphrase-file", pwFile); code != 0 {
		t.Fatalf("export exit %d", code)
	}
	other := t.TempDir()
	out, code = spareInProcess(t, "wallet", "import", key, "--data", other, "--key-passphrase-file", pwFile, "--json")
	if code != 0 || !strings.Contains(out, addr.Address) {
		t.Fatalf("import: %q exit %d", out, code)
	}
	if out, _ := spareInProcess(t, "wallet", "address", "--data", other); strings.TrimSpace(out) != addr.Address {
		t.Fatalf("imported wallet has address %q", out)
	}
	if _, code := spareInProcess(t, "wallet", "import", key, "--data", other, "--key-passphrase-file", pwFile); code != exitFailure {
		t.Fatalf("second import exit %d, want %d (key exists)", code, exitFailure)
	}

	// Closing the channel: request, then refused inside the grace period.
	if out, code := spareInProcess(t, "wallet", "withdraw", "--data", dir, "--channel", dep["channel"], "--json"); code != 0 || !strings.Contains(out, "closing") {
		t.Fatalf("withdraw (request close): %q exit %d", out, code)
	}
	if _, code := spareInProcess(t, "wallet", "withdraw", "--data", dir, "--channel", dep["channel"]); code != exitFailure {
		t.Fatalf("withdraw within grace: exit %d", code)
	}
	if _, code := spareInProcess(t, "wallet", "withdraw", "--data", dir, "--amount", "1", "--to", "0x00000000000000000000000000000000000000aa"); code != exitFailure {
		t.Fatalf("payout with nothing settled: exit %d", code)
	}
	// A payout goes only to an address that can receive it.
	for _, to := range []string{"bank", "0x0000000000000000000000000000000000000000", "0x52908400098527886e0F7030069857D2E4169EE7"} {
		if _, code := spareInProcess(t, "wallet", "withdraw", "--data", dir, "--amount", "1", "--to", to); code != exitUsage {
			t.Fatalf("payout to %q: exit %d, want %d", to, code, exitUsage)
		}
	}
}

func TestWalletCLIUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"wallet", "deposit", "--payee", "0x00000000000000000000000000000000000000aa", "--amount", "1.0000001"},
		{"wallet", "deposit", "--payee", "0x00000000000000000000000000000000000000aa", "--amount", "-1"},
		{"wallet", "deposit", "--payee", "nobody", "--amount", "1"},
		{"wallet", "deposit", "--amount", "1"},
		{"wallet", "history", "--by", "week"},
		{"wallet", "withdraw"},
		{"wallet", "withdraw", "--channel", "0x12"},
		{"wallet", "import", "file.json"},
		{"wallet", "balance", "--bogus"},
	} {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			if _, code := spareInProcess(t, append(args, "--data", dir)...); code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "owners")); !os.IsNotExist(err) {
		t.Errorf("an unknown --owner left an owners file: %v", err)
	}
}

func TestNodeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"node", "--price", "0"},
		{"node", "--interval", "1500ms"},
		{"node", "--reserve-memory", "lots"},
		{"node", "--reserve-memory", "-1G"},
		{"node", "--reserve-cpus", "two"},
		{"node", "--reserve-cpus", "0"},
		{"node", "--reserve-disk", "much"},
		{"node", "--cache-disk", "much"},
		{"node", "--cache-disk", "0"},
		{"node", "--owner", "no-such-user-here"},
	} {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			if _, code := spareInProcess(t, append(args, "--data", dir)...); code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
		})
	}
}
