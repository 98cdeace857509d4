package wallettest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/wallet"
)

// Recovered is what ethers makes of one signature of an exported record.
type Recovered struct {
	Index  int            `json:"index"` // the record's line, from 0
	Kind   string         `json:"kind"`
	Role   string         `json:"role"`
	Digest common.Hash    `json:"digest"`
	Signer common.Address `json:"signer"`
	Error  string         `json:"error"`
}

// repoRoot is the module's root, from this file's place in it.
func repoRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("locating wallettest's source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// EthersRecover runs records (`spare wallet records --json` output, one
// record a line) through testdata/verify-records.js: ethers, pinned by
// scripts/ethers.sh, recomputes each digest from the domain, types and
// message and recovers each signer. Without node or the cached ethers the
// test is skipped, or fails under CI.
func EthersRecover(t testing.TB, records []byte) []Recovered {
	t.Helper()
	node := testenv.NeedCommand(t, "node", "nodejs")
	root := repoRoot(t)
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "ethers.sh"), "--cached").Output()
	mods := strings.TrimSpace(string(out))
	testenv.Need(t, err == nil && mods != "", "ethers (npm)", "scripts/ethers.sh installs the pinned version once (scripts/deps.sh test does)")
	cmd := exec.Command(node, filepath.Join(root, "wallet", "wallettest", "testdata", "verify-records.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	cmd.Stdin = bytes.NewReader(records)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("verify-records.js: %v: %s", err, stderr.String())
	}
	var got []Recovered
	sc := bufio.NewScanner(bytes.NewReader(res))
	for sc.Scan() {
		var r Recovered
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("verify-records.js printed %q: %v", sc.Text(), err)
		}
		got = append(got, r)
	}
	return got
}

// CheckWithEthers runs exported records (one a line) through ethers and checks
// that each digest is the one Spare computed and each signature recovers
// the address roles names; then it changes one value in each record and
// checks that ethers no longer recovers that address.
func CheckWithEthers(t testing.TB, jsonl []byte, roles map[string]common.Address) {
	t.Helper()
	var recs []wallet.ExportRecord
	for _, line := range bytes.Split(bytes.TrimSpace(jsonl), []byte("\n")) {
		var r wallet.ExportRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("exported record %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	got := EthersRecover(t, jsonl)
	n := 0
	for _, r := range recs {
		n += len(r.Signatures)
	}
	if len(got) != n {
		t.Fatalf("ethers checked %d signatures, want %d", len(got), n)
	}
	for _, g := range got {
		r := recs[g.Index]
		want, ok := roles[g.Role]
		if !ok || g.Error != "" || g.Signer != want || g.Digest != r.Digest {
			t.Errorf("record %d (%s, %s): ethers recovers %s (%s) from digest %s; want %s from %s",
				g.Index, g.Kind, g.Role, g.Signer.Hex(), g.Error, g.Digest.Hex(), want.Hex(), r.Digest.Hex())
		}
	}
	// Tampered: one value per record changed after signing.
	var tampered bytes.Buffer
	for _, r := range recs {
		switch r.Kind {
		case wallet.RecordAgreement:
			r.Message["pricePerGpuSecond"] = "1000000"
		case wallet.RecordReceipt:
			r.Message["gpuMs"] = "99999999"
		case wallet.RecordVoucher:
			r.Message["cumulative"] = "99999999"
		}
		if err := json.NewEncoder(&tampered).Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range EthersRecover(t, tampered.Bytes()) {
		if g.Signer == roles[g.Role] || g.Digest == recs[g.Index].Digest {
			t.Errorf("tampered record %d (%s, %s) still recovers %s", g.Index, g.Kind, g.Role, g.Signer.Hex())
		}
	}
}
