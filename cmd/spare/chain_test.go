package main

import (
	"context"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/gethtest"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/settings"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/contracts"
	"github.com/sparegpu/spare/wallet/evm"
)

// devChain is a geth --dev node with Spare's contracts deployed by
// `spare chain deploy` from the payer's wallet (given gas and 100 test
// tokens), and the preset it wrote.
type devChain struct {
	node  *gethtest.Node
	payer string // data directory that deployed and holds the tokens
	file  []byte // DATA/networks.json as deploy wrote it
	net   evm.Network
	tok   *contracts.TestToken
}

func newDevChain(t *testing.T) *devChain {
	t.Helper()
	return newDevChainOn(t, gethtest.Start(t))
}

// newDevChainOn is newDevChain on node (anvil, for a test that moves the
// chain's clock).
func newDevChainOn(t *testing.T, node *gethtest.Node) *devChain {
	t.Helper()
	testenv.NeedRoot(t)
	d := &devChain{node: node, payer: t.TempDir()}
	r := spareAt(t, d.payer, "--json", "chain", "deploy", "--rpc", d.node.URL, "--faucet", "100")
	if r.code != 0 {
		t.Fatalf("chain deploy exited %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"deploy token: sent 0x", "deploy escrow: sent 0x", "deploy escrow: 1/1 confirmations", "faucet: sent"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("chain deploy's progress lacks %q:\n%s", want, r.stderr)
		}
	}
	var err error
	if d.file, err = os.ReadFile(filepath.Join(d.payer, evm.NetworksFile)); err != nil {
		t.Fatal(err)
	}
	all, err := evm.LoadNetworks(d.payer)
	if err != nil || len(all) != 1 {
		t.Fatalf("the preset deploy wrote: %v, %v", all, err)
	}
	d.net = all[evm.LocalNetwork]
	if d.tok, err = contracts.NewTestToken(d.net.Token, d.node.Client); err != nil {
		t.Fatal(err)
	}
	return d
}

// dataDir is a fresh data directory holding the chain's preset.
func (d *devChain) dataDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, evm.NetworksFile), d.file, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (d *devChain) tokens(t *testing.T, a common.Address) wallet.Amount {
	t.Helper()
	b, err := d.tok.BalanceOf(&bind.CallOpts{}, a)
	if err != nil {
		t.Fatal(err)
	}
	return wallet.Amount(b.Int64())
}

func walletAddress(t *testing.T, data string) common.Address {
	t.Helper()
	r := spareAt(t, data, "wallet", "address")
	if r.code != 0 {
		t.Fatalf("wallet address exited %d: %s", r.code, r.stderr)
	}
	return common.HexToAddress(strings.TrimSpace(r.stdout))
}

// TestChainPaidJobSettles: two daemons' worth of Spare on loopback with
// money on a real Ethereum node. The requester's `spare submit
// --no-daemon`, with no --network but the local network chosen in its
// Settings, deposits into the escrow; the provider reads the channel
// on-chain, runs the job, and settles when it ends: its token balance
// rises by exactly the metered cost and the channel's settled amount is
// the same. A requester paying in IOUs (no network in its Settings, or
// --network ledger over them) is refused before anything runs.
func TestChainPaidJobSettles(t *testing.T) {
	d := newDevChain(t)
	boot, _ := startNetwork(t, 0)
	provData := d.dataDir(t)
	prov := walletAddress(t, provData)
	if doc := spareAt(t, provData, "doctor", "--network", "local"); !strings.Contains(doc.stdout, "FAIL  chain gas") ||
		!strings.Contains(doc.stdout, "fix: send at least") || !strings.Contains(doc.stdout, prov.Hex()) {
		t.Errorf("doctor on a wallet without gas:\n%s", doc.stdout)
	}
	d.node.Fund(t, prov, big.NewInt(1e18)) // gas for settlements
	doc := spareAt(t, provData, "--json", "doctor", "--network", "local")
	var dr struct {
		Checks []struct{ Name, Status string }
	}
	if err := json.Unmarshal([]byte(doc.stdout), &dr); err != nil {
		t.Fatalf("doctor --json: %v: %s", err, doc.stdout)
	}
	seen := 0
	for _, c := range dr.Checks {
		if strings.HasPrefix(c.Name, "chain ") {
			seen++
			if c.Status != "ok" {
				t.Errorf("doctor: %s is %s on a funded wallet and the right preset", c.Name, c.Status)
			}
		}
	}
	if seen != 4 {
		t.Errorf("doctor ran %d chain checks, want 4: %s", seen, doc.stdout)
	}
	nd := &spareNode{data: provData, args: []string{"--data", provData, "--containerd", testenv.ContainerdSocket(t), "node",
		"--always-available", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0", "--bootstrap", boot, "--interval", "1s",
		"--price", "0.0001", "--network", "local"}}
	nd.start(t)

	before := d.tokens(t, prov)
	probe := testenv.Workload(t, "probe")
	chooseNetwork(t, d.payer, evm.LocalNetwork) // as the Settings page saves it
	r := spareAt(t, d.payer, "submit", "--no-daemon", "--bootstrap", boot, "--no-mdns",
		"--image", probe, "--json", "--max-price", "0.01", "--timeout", "1m", "--", "sleep", "3s")
	if r.code != 0 {
		t.Fatalf("submit on chain exited %d: %s", r.code, r.stderr)
	}
	var res market.SubmitResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Units == 0 {
		t.Fatalf("submit printed %q (%v): want a positive cost", r.stdout, err)
	}
	for _, want := range []string{"approve: sent 0x", "open: sent 0x", "open: 1/1 confirmations"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("submit's progress lacks %q:\n%s", want, r.stderr)
		}
	}
	cost := wallet.Amount(res.Units)
	testenv.WaitFor(t, "the provider's settlement", 60*time.Second, func() bool { return d.tokens(t, prov)-before == cost })
	t.Logf("a %s job settled on chain: provider +%s %s", cost, cost, d.net.Symbol)
	// The wallet records the settlement once its confirmations are in,
	// which may be a block after the tokens show.
	testenv.WaitFor(t, "the provider's wallet to record the settlement", 60*time.Second, func() bool {
		return chainBalance(t, provData).Settled == cost.String()
	})
	if b := chainBalance(t, provData); b.Settled != cost.String() || b.OnChain != cost.String() || b.Earned != cost.String() {
		t.Errorf("the provider's wallet says earned %s, settled %s, on chain %s; the chain says %s", b.Earned, b.Settled, b.OnChain, cost)
	}
	// The settlement's gas is recorded and shown: in wei always, and in
	// the token with the net when the preset gives a rate.
	if b := chainBalance(t, provData); !positiveInt(b.GasTxs) || !positiveInt(b.GasUsed) || !positiveInt(b.GasWei) {
		t.Errorf("the provider's wallet shows gas %q txs, %q gas, %q wei after settling on chain; want some", b.GasTxs, b.GasUsed, b.GasWei)
	} else if d.net.TokenPerNative == 0 && (b.GasToken != "" || b.Net != "") {
		t.Errorf("gas in the token %q and net %q without a token_per_native rate", b.GasToken, b.Net)
	} else {
		t.Logf("the provider's settlement used %s gas costing %s wei (%s txs)", b.GasUsed, b.GasWei, b.GasTxs)
	}

	// A requester on the embedded ledger names a channel the chain does
	// not hold: refused before anything runs.
	iou := t.TempDir()
	r = spareAt(t, iou, "submit", "--no-daemon", "--bootstrap", boot, "--no-mdns", "--discovery", "5s",
		"--image", probe, "--", "exit", "0")
	if r.code != exitNoProvider || !strings.Contains(r.stderr, "does not exist on chain") {
		t.Fatalf("an IOU requester against a provider on chain: exit %d, %s", r.code, r.stderr)
	}
	// --network ledger wins over the network chosen in Settings.
	r = spareAt(t, d.payer, "submit", "--no-daemon", "--network", "ledger", "--bootstrap", boot, "--no-mdns", "--discovery", "5s",
		"--image", probe, "--", "exit", "0")
	if r.code != exitNoProvider || !strings.Contains(r.stderr, "does not exist on chain") || strings.Contains(r.stderr, "open: sent") {
		t.Fatalf("--network ledger over Settings' chain: exit %d, %s", r.code, r.stderr)
	}
}

// chooseNetwork saves name as the network money settles on in data's
// settings, as the app's Settings page does.
func chooseNetwork(t *testing.T, data, name string) {
	t.Helper()
	s := settings.FromGovernor(governor.Settings{})
	s.Network = name
	if err := settings.Save(data, s); err != nil {
		t.Fatal(err)
	}
}

// TestChainPresetMismatch: a preset whose chain ID or escrow address is
// wrong stops `spare node` at start with an error naming the field, and
// nothing falls back to the ledger.
func TestChainPresetMismatch(t *testing.T) {
	d := newDevChain(t)
	for _, tc := range []struct{ name, edit, want string }{
		{"chain id", `"chain_id": 31337`, `network "local": chain_id: the node's chain is 1337, the preset says 31337`},
		{"escrow", `"escrow": "0x000000000000000000000000000000000000dEaD"`, `network "local": escrow: no contract at 0x000000000000000000000000000000000000dEaD`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			field := strings.SplitN(tc.edit, ":", 2)[0]
			var raw map[string]map[string]any
			if err := json.Unmarshal(d.file, &raw); err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal([]byte(strings.SplitN(tc.edit, ": ", 2)[1]), &v); err != nil {
				t.Fatal(err)
			}
			raw["local"][strings.Trim(field, `"`)] = v
			b, _ := json.Marshal(raw)
			if err := os.WriteFile(filepath.Join(data, evm.NetworksFile), b, 0o600); err != nil {
				t.Fatal(err)
			}
			r := spareAt(t, data, "node", "--always-available", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0", "--network", "local")
			if r.code != exitFailure || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("node with a wrong %s: exit %d, stderr %s\nwant %q", tc.name, r.code, r.stderr, tc.want)
			}
		})
	}
	if r := spareAt(t, t.TempDir(), "wallet", "balance", "--network", "nowhere"); r.code != exitFailure || !strings.Contains(r.stderr, `no network "nowhere"`) {
		t.Fatalf("an unknown network: exit %d, %s", r.code, r.stderr)
	}
}

// TestChainWalletDeposit: `spare wallet deposit --network local` approves
// and deposits, showing each transaction and its confirmations, and the
// ledger records the deposit; withdrawing asks to close, and withdrawing
// again inside the grace period says until when, in words.
func TestChainWalletDeposit(t *testing.T) {
	d := newDevChain(t)
	payee := common.HexToAddress("0x00000000000000000000000000000000000000b0")
	before := d.tokens(t, walletAddress(t, d.payer))
	r := spareAt(t, d.payer, "--json", "wallet", "deposit", "--network", "local", "--payee", payee.Hex(), "--amount", "5")
	if r.code != 0 {
		t.Fatalf("deposit exited %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"approve: sent 0x", "approve: 1/1 confirmations", "open: sent 0x", "open: 1/1 confirmations"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("deposit's progress lacks %q:\n%s", want, r.stderr)
		}
	}
	var out map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out["deposit"] != "5.000000" || out["network"] != "local" {
		t.Fatalf("deposit printed %q: %v", r.stdout, err)
	}
	if got := before - d.tokens(t, walletAddress(t, d.payer)); got != 5_000_000 {
		t.Fatalf("the wallet's tokens fell by %s, want 5.000000", got)
	}
	r = spareAt(t, d.payer, "--json", "wallet", "balance")
	var bal balanceJSON
	if err := json.Unmarshal([]byte(r.stdout), &bal); err != nil || bal.Deposited != "5.000000" {
		t.Fatalf("the ledger's deposited figure: %q (%v)", r.stdout, err)
	}
	r = spareAt(t, d.payer, "--json", "wallet", "withdraw", "--network", "local", "--channel", out["channel"])
	if r.code != 0 || !strings.Contains(r.stdout, `"state":"closing"`) {
		t.Fatalf("request close: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	r = spareAt(t, d.payer, "wallet", "withdraw", "--network", "local", "--channel", out["channel"])
	if r.code != exitFailure || !strings.Contains(r.stderr, "grace period runs until") || strings.Contains(r.stderr, "custom error") {
		t.Fatalf("withdraw inside the grace period: exit %d, %s", r.code, r.stderr)
	}
}

// TestChainWithdrawAfterGrace: on a real node whose clock moves (anvil:
// geth --dev's cannot, and the grace period is 24 hours), a requester's
// deposit, locked for a day, is refused back while the grace period runs
// (the CLI says until when), and after the lock and the grace period
// `spare wallet withdraw` refunds all of it: the wallet's tokens are what
// they were before the deposit, and the ledger holds the channel closed.
func TestChainWithdrawAfterGrace(t *testing.T) {
	d := newDevChainOn(t, gethtest.StartAnvil(t))
	payee := common.HexToAddress("0x00000000000000000000000000000000000000b0")
	me := walletAddress(t, d.payer)
	before := d.tokens(t, me)
	r := spareAt(t, d.payer, "--json", "wallet", "deposit", "--network", "local", "--payee", payee.Hex(), "--amount", "5", "--lock", "24h")
	if r.code != 0 {
		t.Fatalf("deposit exited %d: %s", r.code, r.stderr)
	}
	var out map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out["channel"] == "" {
		t.Fatalf("deposit printed %q: %v", r.stdout, err)
	}
	r = spareAt(t, d.payer, "--json", "wallet", "withdraw", "--network", "local", "--channel", out["channel"])
	if r.code != 0 || !strings.Contains(r.stdout, `"state":"closing"`) {
		t.Fatalf("request close: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	// A day on: the lock has ended, the grace period (from the lock's
	// end) has not.
	d.node.IncreaseTime(t, 24*time.Hour+time.Minute)
	r = spareAt(t, d.payer, "wallet", "withdraw", "--network", "local", "--channel", out["channel"])
	if r.code != exitFailure || !strings.Contains(r.stderr, "grace period runs until") {
		t.Fatalf("withdraw inside the grace period: exit %d, %s", r.code, r.stderr)
	}
	if got := d.tokens(t, me); got != before-5_000_000 {
		t.Fatalf("the wallet holds %s after a refused withdraw; want %s", got, before-5_000_000)
	}
	d.node.IncreaseTime(t, wallet.CloseGrace)
	r = spareAt(t, d.payer, "--json", "wallet", "withdraw", "--network", "local", "--channel", out["channel"])
	if r.code != 0 || !strings.Contains(r.stdout, `"state":"closed"`) || !strings.Contains(r.stdout, `"refund":"5.000000"`) {
		t.Fatalf("withdraw after the grace period: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	if got := d.tokens(t, me); got != before {
		t.Fatalf("the wallet holds %s after the withdraw; want all %s back", got, before)
	}
	l, err := wallet.OpenLedger(d.payer, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ch, err := l.Channel(context.Background(), common.HexToHash(out["channel"]))
	if err != nil || ch.State != "closed" || ch.Refunded != 5_000_000 {
		t.Fatalf("the ledger's channel after the withdraw: %+v, %v", ch, err)
	}
}

func chainBalance(t *testing.T, data string) balanceJSON {
	t.Helper()
	r := spareAt(t, data, "--json", "wallet", "balance", "--network", "local")
	var b balanceJSON
	if err := json.Unmarshal([]byte(r.stdout), &b); r.code != 0 || err != nil {
		t.Fatalf("wallet balance --network local exited %d (%v): %s", r.code, err, r.stderr)
	}
	return b
}

// TestChainProviderKilledSettlesOnce: the provider is killed with SIGKILL
// while a job runs, between its vouchers and their settlement; restarted,
// it settles the best voucher it holds, exactly once (a second restart
// sends nothing more). wallet/evm.TestSettleKilledAtEachPoint kills a
// settlement between its recording, its sending and its receipt.
func TestChainProviderKilledSettlesOnce(t *testing.T) {
	d := newDevChain(t)
	boot, _ := startNetwork(t, 0)
	provData := d.dataDir(t)
	prov := walletAddress(t, provData)
	d.node.Fund(t, prov, big.NewInt(1e18))
	nd := &spareNode{data: provData, args: []string{"--data", provData, "--containerd", testenv.ContainerdSocket(t), "node",
		"--always-available", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0", "--bootstrap", boot, "--interval", "1s",
		"--price", "0.0001", "--network", "local"}}
	nd.start(t)
	sub := exec.Command(spareBin, "--data", d.payer, "--containerd", testenv.ContainerdSocket(t), "submit", "--no-daemon",
		"--network", "local", "--bootstrap", boot, "--no-mdns", "--image", testenv.Workload(t, "probe"),
		"--max-price", "0.01", "--timeout", "2m", "--", "sleep", "2m")
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Process.Kill(); _ = sub.Wait() })
	testenv.WaitFor(t, "vouchers for the running job", 90*time.Second, func() bool { return earned(t, provData) >= 300 })
	if err := nd.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = nd.cmd.Wait()
	// On the development preset (settle threshold 1 unit) the watcher may
	// have settled part mid-job (it polls every 15 s); the kill leaves the
	// vouchers received since unsettled, as the wallet shows.
	if b := chainBalance(t, provData); b.OnChain == b.Earned {
		t.Logf("the watcher had settled all %s earned just before the kill; the restarts must send nothing", b.Earned)
	} else {
		t.Logf("killed holding %s on chain of %s earned", b.OnChain, b.Earned)
	}
	_ = sub.Process.Kill()
	for i := range 2 {
		nd.start(t)
		held := chainBalance(t, provData)
		testenv.WaitFor(t, "the settlement after the restart", 60*time.Second, func() bool {
			return d.tokens(t, prov).String() == held.Earned
		})
		if i == 1 {
			break
		}
		if err := nd.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		_ = nd.cmd.Wait()
	}
	if b := chainBalance(t, provData); b.Settled != b.Earned || b.OnChain != b.Earned {
		t.Fatalf("after two restarts: earned %s, settled %s, on chain %s", b.Earned, b.Settled, b.OnChain)
	}
}

// positiveInt says s is a decimal integer above zero.
func positiveInt(s string) bool {
	n, ok := new(big.Int).SetString(s, 10)
	return ok && n.Sign() > 0
}
