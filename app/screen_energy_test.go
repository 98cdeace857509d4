//go:build linux

package app_test

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/autostart"
	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// pinnedHistory is the real daemon's client with the wallet history's
// times pinned (the history lines show them) and its order with them
// (the lines were made within a second or two): the image is the same on
// every run. Everything else is the daemon's.
type pinnedHistory struct{ *localapi.Client }

func (p pinnedHistory) Wallet(ctx context.Context) (localapi.Wallet, error) {
	w, err := p.Client.Wallet(ctx)
	slices.SortFunc(w.History, func(a, b localapi.Activity) int { return cmp.Compare(b.Amount, a.Amount) })
	for i := range w.History {
		w.History[i].At = time.Date(2026, 12, 7, 18, 40-5*i, 0, 0, time.Local)
	}
	return w, err
}

// TestEarningsEnergyScreen: two paid jobs beside the fixed wallet's, their
// energy in the daemon's energy log as jobs leave it (one measured, one
// estimated from rated power), at the owner's 0.32 EUR a kWh and a token
// worth 0.92 EUR. The Earnings page's history, scrolled into view, gives
// each job its Wh (marked when estimated), electricity cost and net, and
// matches earnings_jobs_light/dark.png.
func TestEarningsEnergyScreen(t *testing.T) {
	d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}})
	big := wallettest.PaidJob(t, d.wallet, common.Hash{0xa}, 2_000_000)
	small := wallettest.PaidJob(t, d.wallet, common.Hash{0xb}, 50_000)
	// DATA/energy.jsonl as the daemon keeps it when those runs end: the
	// meter counted 1.24 kWh (NVML) and 152 Wh (rated power).
	var log []byte
	for _, r := range []struct {
		job, wallet string
		mj          int64
		est         bool
	}{{"job-a", big.Hex(), 1_240_000 * 3600, false}, {"job-b", small.Hex(), 152_000 * 3600, true}} {
		b, err := json.Marshal(map[string]any{"job": r.job, "ended": time.Now().UTC(), "mj": r.mj, "estimated": r.est, "wallet": r.wallet})
		if err != nil {
			t.Fatal(err)
		}
		log = append(append(log, b...), '\n')
	}
	if err := os.WriteFile(filepath.Join(d.dir, node.EnergyLogName), log, 0o600); err != nil {
		t.Fatal(err)
	}
	c := localapi.NewClient(d.dir)
	ctx := context.Background()
	var s localapi.Settings
	testenv.WaitFor(t, "the daemon's settings", 10*time.Second, func() bool {
		var err error
		s, err = c.Settings(ctx)
		return err == nil
	})
	s.ElectricityPrice, s.Currency, s.TokenRate = "0.32", "EUR", "0.92"
	if _, err := c.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}

	a := startApp(t, app.Config{DataDir: t.TempDir(), Client: pinnedHistory{c}, Session: &app.SessionInfo{Bus: true, TrayHost: true},
		Login: autostart.XDG{ConfigHome: t.TempDir(), ConfigDirs: []string{t.TempDir()}}})
	waitSentence(t, a, "Available")
	a.Inspect(func() { a.UI().SelectTab("Earnings") })
	// 1.24 kWh × 0.32 EUR = 0.3968 EUR = 0.431304… tokens, rounded up
	// (a cost); 152 Wh: 0.04864 EUR = 0.052869… tokens.
	waitMarkup(t, a, "1.24 kWh, electricity 0.40 EUR, net +1.568695 USDC")
	waitMarkup(t, a, "152.0 Wh, electricity 0.05 EUR, net -0.002870 USDC (estimated)")
	shootScrolled(t, a, "earnings_jobs")
}

// shootScrolled matches the window, its page scrolled to the end,
// against NAME_light.png and NAME_dark.png, and at 1280×800 and at its
// smallest against NAME_THEME_1280x800.png and NAME_THEME_min.png.
func shootScrolled(t *testing.T, a *app.App, name string) {
	t.Helper()
	for _, v := range []struct {
		name string
		v    fyne.ThemeVariant
	}{{"light", theme.VariantLight}, {"dark", theme.VariantDark}} {
		a.Inspect(func() {
			test.ApplyTheme(t, variant{theme.DefaultTheme(), v.v})
			w := a.UI().Window()
			scroll := shown(t, a, func(*container.Scroll) bool { return true }, "a scrolled page")
			for _, sz := range []struct {
				file string
				size fyne.Size
			}{{"", fyne.NewSize(720, 520)}, {"1280x800", fyne.NewSize(1280, 800)}, {"min", w.Content().MinSize()}} {
				resize(w, sz.size)
				scroll.ScrollToBottom()
				file := name + "_" + v.name + ".png"
				if sz.file != "" {
					file = name + "_" + v.name + "_" + sz.file + ".png"
				}
				test.AssertImageMatches(t, file, w.Canvas().Capture())
				saveShot(t, file, w.Canvas().Capture())
			}
			resize(w, fyne.NewSize(720, 520))
		})
	}
}
