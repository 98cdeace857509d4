//go:build linux

package app_test

import (
	"context"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/gethtest"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// chainOf shows a backend to the daemon (node.WalletChain), once set.
type chainOf struct{ b atomic.Pointer[evm.Backend] }

func (c *chainOf) Network() (string, uint64, string) {
	if b := c.b.Load(); b != nil {
		return b.Network.Name, b.Network.ChainID, b.Network.Symbol
	}
	return "", 0, ""
}

func (c *chainOf) TokenBalance(ctx context.Context, a common.Address) (wallet.Amount, error) {
	if b := c.b.Load(); b != nil {
		return b.TokenBalance(ctx, a)
	}
	return 0, context.Canceled
}

func (c *chainOf) TokenPerNative() uint64 {
	if b := c.b.Load(); b != nil {
		return b.Network.TokenPerNative
	}
	return 0
}

func (c *chainOf) SettleRule(ctx context.Context) localapi.SettleRule {
	b := c.b.Load()
	if b == nil {
		return localapi.SettleRule{}
	}
	need, gas := b.SettleNeed(ctx)
	return localapi.SettleRule{Threshold: localapi.Amount(need), Base: localapi.Amount(b.Policy.Need(0)), GasFactor: b.Policy.Factor(),
		GasCost: localapi.Amount(gas), CheckSeconds: int64(evm.DefaultWatchInterval / time.Second)}
}

func (c *chainOf) WithdrawableAt(ctx context.Context, id common.Hash) (time.Time, error) {
	b := c.b.Load()
	if b == nil {
		return time.Time{}, context.Canceled
	}
	ch, err := b.Channel(ctx, id)
	return ch.WithdrawableAt(), err
}

func (c *chainOf) TxURL(tx common.Hash) string {
	if b := c.b.Load(); b != nil {
		return b.Network.TxURL(tx)
	}
	return ""
}

// TestWalletChainScreen: a daemon whose money is on a chain (geth --dev):
// the Wallet page says which chain, the wallet's token balance on it,
// what is pending settlement and when it settles, and the payout the
// wallet sent, linked to the network's explorer. SPARE_APP_SHOTS=DIR
// keeps a picture of the page for a person to look at (hashes and
// balances differ run to run, so there is no golden image).
func TestWalletChainScreen(t *testing.T) {
	node0 := gethtest.Start(t)
	chain := &chainOf{}
	d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}, Chain: chain})
	ctx := context.Background()
	key, err := d.wallet.Key()
	if err != nil {
		t.Fatal(err)
	}
	n, err := evm.Deploy(ctx, node0.Client, key, evm.DeployOptions{RPC: node0.URL, Faucet: 100_000_000,
		Explorer: "https://explorer.example/tx/{tx}"})
	if err != nil {
		t.Fatal(err)
	}
	const rate = 3_000_000_000 // tUSD units per native coin: 3000 tUSD
	n.TokenPerNative = rate
	n.SettleThreshold = 10_000_000
	b, err := evm.Open(ctx, node0.Client, n, key, d.wallet.Ledger, nil)
	if err != nil {
		t.Fatal(err)
	}
	chain.b.Store(b)
	// A real payout from the wallet, which records it (as `spare wallet
	// withdraw` does).
	tx, err := b.Transfer(ctx, common.HexToAddress(payoutTo), 1_500_000)
	if err != nil {
		t.Fatal(err)
	}

	a := startApp(t, app.Config{DataDir: goldenDir(t), Client: localapi.NewClient(d.dir), Session: &app.SessionInfo{Bus: true, TrayHost: true}})
	waitSentence(t, a, "Available")
	a.Inspect(func() { a.UI().SelectTab("Wallet") })
	for _, text := range []string{"On chain: local (chain ID 1337), in tUSD", "Balance on the chain: 98.500000 tUSD",
		"Pending settlement: 2.350000 tUSD", "settles when its unsettled earnings reach", "Paid out 1.500000 tUSD"} {
		waitMarkup(t, a, text)
	}
	// When it settles follows the daemon's policy: the network's
	// threshold (10 tUSD here), raised to 20 times a settlement's gas at
	// the node's price and the network's rate (on a dev chain whose base
	// fee has fallen, less than a token unit: 0), or a close request.
	w, err := localapi.NewClient(d.dir).Wallet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := w.Money.Settle
	if r.Base != 10_000_000 || r.GasFactor != evm.DefaultGasFactor || r.GasCost < 0 || r.CheckSeconds != 15 ||
		r.Threshold != max(r.Base, localapi.Amount(r.GasFactor)*r.GasCost) {
		t.Fatalf("the daemon's settle rule %+v: want the preset's 10 tUSD raised to %d times the gas", r, evm.DefaultGasFactor)
	}
	why := ""
	if r.Threshold > r.Base {
		why = fmt.Sprintf("; %d times a settlement's gas of %s", r.GasFactor, r.GasCost)
	}
	pend := fmt.Sprintf("settles when its unsettled earnings reach %s tUSD (now 2.350000%s), or as soon as its payer asks to close, whichever comes first",
		r.Threshold, why)
	waitLabel(t, a, func(s string) bool { return strings.Contains(s, pend) }, pend)
	want, _ := url.Parse(n.TxURL(tx.Hash))
	var link *widget.Hyperlink
	a.Inspect(func() {
		link = shown(t, a, func(h *widget.Hyperlink) bool { return h.URL != nil && h.URL.String() == want.String() }, "the payout's explorer link")
	})
	if h := tx.Hash.Hex(); link.Text != h[:6]+"…"+h[len(h)-4:] {
		t.Errorf("the payout's link reads %q", link.Text)
	}
	// The payout's gas, on its row and in the sum with the net (5.00
	// settled in the ledger backend, less the gas at the network's rate).
	if tx.GasUsed == 0 || tx.GasPrice == 0 {
		t.Fatalf("the payout's transaction carries no gas: %+v", tx)
	}
	gasTok, _ := wallet.WeiInToken(wallet.GasWei(tx.GasUsed, tx.GasPrice), rate)
	row := fmt.Sprintf(", gas %d (%s tUSD)", tx.GasUsed, gasTok)
	waitLabel(t, a, func(s string) bool {
		return strings.HasPrefix(s, "Paid out 1.500000 tUSD") && strings.HasSuffix(s, row)
	}, "the payout's row with"+row)
	sum := fmt.Sprintf("Gas spent: %d gas on 1 transaction, %s wei (%s tUSD); settled after gas: %s tUSD.",
		tx.GasUsed, wallet.GasWei(tx.GasUsed, tx.GasPrice), gasTok, wallet.Amount(5_000_000)-gasTok)
	waitLabel(t, a, func(s string) bool { return s == sum }, sum)
	a.Inspect(func() {
		w := a.UI().Window()
		w.Resize(fyne.NewSize(720, 520))
		saveShot(t, "wallet_chain.png", w.Canvas().Capture())
	})

	// The payer closes the channel with 2.35 unsettled: the page shows it
	// lost, no longer pending.
	chs, err := d.wallet.Ledger.Channels(ctx, key.Address())
	if err != nil || len(chs) != 1 {
		t.Fatalf("channels %v, %v", chs, err)
	}
	if err := d.wallet.Ledger.MarkClosed(ctx, chs[0].ID, 0); err != nil {
		t.Fatal(err)
	}
	waitLabel(t, a, func(s string) bool { return strings.HasPrefix(s, "Lost: 2.350000 tUSD ") }, "the lost figure")

	// A requester opens a real channel to this wallet, locked for two
	// days, pays a voucher and asks to close: the page says it settles
	// now, before the date the escrow lets the payer withdraw (the lock's
	// end plus the grace period, not the close request's).
	payer, err := wallet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	node0.Fund(t, payer.Address(), big.NewInt(1e18))
	// Tokens for the payer from the deployer's faucet: not a payout of
	// this wallet's earnings, so sent by a backend with no ledger.
	funder, err := evm.Open(ctx, node0.Client, n, key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := funder.Transfer(ctx, payer.Address(), 3_000_000); err != nil {
		t.Fatal(err)
	}
	pl, err := wallet.OpenLedger(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pl.Close() })
	pb, err := evm.Open(ctx, node0.Client, n, payer, pl, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := pb.OpenFor(ctx, key.Address(), payer.Address(), 3_000_000, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CheckFunding(ctx, ch.ID, payer.Address(), 1_000_000); err != nil {
		t.Fatal(err)
	}
	v, err := wallet.SignVoucher(pb.Domain(), wallet.Voucher{ChannelID: ch.ID, Cumulative: 400_000}, payer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.wallet.Ledger.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	if err := pb.RequestClose(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	on, err := b.Channel(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	by := on.WithdrawableAt()
	if lock := time.Unix(int64(on.UnlockAt), 0); by.Sub(lock) != wallet.CloseGrace || time.Until(lock) < 47*time.Hour {
		t.Fatalf("the escrow lets the payer withdraw at %s, its lock ends %s: want the lock's end, two days away, plus the grace period", by, lock)
	}
	closing := "0.400000 tUSD unsettled; its payer asked to close: settles at the daemon's next check (every 15s), before " +
		by.Local().Format("2 Jan 15:04") + ", when the payer may withdraw"
	waitLabel(t, a, func(s string) bool { return strings.Contains(s, closing) }, closing)
}

// waitLabel waits until a shown label's text satisfies ok.
func waitLabel(t *testing.T, a *app.App, ok func(string) bool, what string) {
	t.Helper()
	testenv.WaitFor(t, what, 10*time.Second, func() bool {
		found := false
		a.Inspect(func() {
			for _, o := range visible(a.UI().Window().Canvas().Content(), nil) {
				if l, is := o.(*widget.Label); is && ok(l.Text) {
					found = true
				}
			}
		})
		return found
	})
}

// TestSettingsNetworkAndIOUs: Settings chooses the network money settles
// on (from the daemon's presets; it takes effect at the next start, and
// the page says so) and whose IOUs are taken: a bad peer ID comes back
// from the daemon by its field; the choices are in force in the daemon.
func TestSettingsNetworkAndIOUs(t *testing.T) {
	d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}, Networks: []string{"local", "studio", "testnet"}})
	c := localapi.NewClient(d.dir)
	a := startApp(t, app.Config{DataDir: goldenDir(t), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true}})
	waitSentence(t, a, "Available")
	a.Inspect(func() { a.UI().SelectTab("Settings") })
	waitMarkup(t, a, "Local ledger (IOUs)")
	testenv.WaitFor(t, "the daemon's settings in the form", 10*time.Second, func() bool {
		var on bool
		a.Inspect(func() { on = !button(t, a, "Save").Disabled() })
		return on
	})
	const friend = "12D3KooWKZqpRQwiRYsUgNh3Mr91cGtkgpUjRKMUXc9BErg4kCRw"
	save := func(peers string) {
		a.Inspect(func() {
			shown(t, a, func(s *widget.Select) bool { return true }, "the network choice").SetSelected("testnet")
			check(t, a, "Take jobs paid in IOUs from strangers").SetChecked(true)
			setText(byPlaceholder(t, entries(a, false), "peer IDs"), peers)
			test.Tap(button(t, a, "Save"))
		})
	}
	save("not-a-peer")
	waitMarkup(t, a, `iou_peers: "not-a-peer" is not a peer ID`)
	save(friend)
	waitMarkup(t, a, "it is on network testnet from the Spare daemon's") // next start (the label wraps)
	s, err := c.Settings(context.Background())
	if err != nil || s.Network != "testnet" || !s.IOUsFromStrangers || len(s.IOUPeers) != 1 || s.IOUPeers[0] != friend {
		t.Fatalf("daemon's settings %+v %v", s, err)
	}
	a.Inspect(func() {
		w := a.UI().Window()
		w.Resize(fyne.NewSize(720, 1100))
		saveShot(t, "settings_network.png", w.Canvas().Capture())
	})
}
