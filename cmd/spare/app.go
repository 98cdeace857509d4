//go:build cgo

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"time"

	fyneapp "fyne.io/fyne/v2/app"
	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/doctor"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet"
)

// appID is the desktop app's identity (preferences, notifications).
const appID = "io.sparegpu.spare"

// runApp opens the desktop app: `spare` with no arguments.
func runApp(cmd *cobra.Command, g *globals) error {
	start := time.Now()
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return appUnavailable()
	}
	dir, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	settings, err := app.LoadSettings(dir)
	if err != nil {
		g.log.Warn("reading app settings", "err", err)
	}
	fy := fyneapp.NewWithID(appID)
	fy.SetIcon(app.AppIcon())
	a := app.New(fy, app.Config{
		DataDir:       dir,
		Client:        localapi.NewClient(dir),
		Wallet:        &walletFigures{dataDir: dir, log: g.log},
		Doctor:        doctorChecks(g.containerd, dir),
		DaemonCommand: daemonArgv(exe, dir, g.containerd, settings),
		Presence:      true,
		Log:           g.log,
		OnFirstWindow: func() { g.log.Info("first window shown", "after", time.Since(start)) },
	})
	return a.Run(cmd.Context())
}

// daemonArgv is the `spare node` the app starts when none runs, with the
// settings a daemon takes as flags.
func daemonArgv(exe, dir, containerd string, s app.Settings) []string {
	argv := []string{exe, "node", "--data", dir, "--containerd", containerd,
		"--idle", strconv.Itoa(s.IdleMinutes) + "m", "--max-temp", strconv.Itoa(s.MaxTempC)}
	if s.RunOnBattery {
		argv = append(argv, "--work-on-battery")
	}
	return argv
}

func doctorChecks(socket, dir string) func(context.Context) []app.Check {
	return func(ctx context.Context) []app.Check {
		checks := allChecks(socket, dir)
		var out []app.Check
		for _, r := range doctor.Run(ctx, checks) {
			out = append(out, app.Check{Name: r.Name, OK: r.Status != doctor.Fail, Warn: r.Status == doctor.Warn,
				Detail: r.Detail, Fix: r.Fix, Required: r.Required})
		}
		return out
	}
}

// walletFigures reads the wallet for the app.
//
// TEMPORARY: the LocalAPI serves no wallet figures yet, so the app reads
// the ledger in the data directory directly (SQLite in WAL mode allows a
// reader beside the daemon). Replace with the LocalAPI's GET /v1/wallet.
type walletFigures struct {
	dataDir string
	log     *slog.Logger
}

var _ app.WalletSource = (*walletFigures)(nil)

func (w *walletFigures) Money(ctx context.Context) (app.Money, error) {
	wl, err := wallet.Open(wallet.Options{DataDir: w.dataDir, Keystore: walletKeystore, Log: w.log})
	if err != nil {
		return app.Money{}, err
	}
	defer wl.Close()
	addr, err := wl.Address() // creates the key on first use, as `spare wallet address` does
	if err != nil {
		return app.Money{}, err
	}
	b, err := wl.Ledger.Balance(ctx, addr)
	if err != nil {
		return app.Money{}, err
	}
	now := time.Now()
	days, err := wl.Ledger.History(ctx, addr, wallet.ByDay, now.AddDate(0, 0, -30))
	if err != nil {
		return app.Money{}, err
	}
	hours, err := wl.Ledger.History(ctx, addr, wallet.ByHour, now.Add(-23*time.Hour).Truncate(time.Hour))
	if err != nil {
		return app.Money{}, err
	}
	return moneyFrom(addr.Hex(), b, days, hours, now), nil
}

// moneyFrom sums the ledger's rows into the app's figures.
func moneyFrom(addr string, b wallet.Balance, days, hours []wallet.HistoryRow, now time.Time) app.Money {
	var today, week, month wallet.Amount
	dayStart := now.UTC().Truncate(24 * time.Hour)
	for _, r := range days {
		month += r.Earned
		if !r.Start.Before(dayStart.AddDate(0, 0, -6)) {
			week += r.Earned
		}
		if !r.Start.Before(dayStart) {
			today += r.Earned
		}
	}
	m := app.Money{Address: addr, Today: today.String(), Week: week.String(), Month: month.String(),
		Earned: b.Earned.String(), Settled: b.Settled.String(), PaidOut: b.PaidOut.String(), Hours: make([]int64, 24)}
	first := now.Add(-23 * time.Hour).Truncate(time.Hour)
	for _, r := range hours {
		if i := int(r.Start.Sub(first) / time.Hour); i >= 0 && i < 24 {
			m.Hours[i] += int64(r.Earned)
		}
	}
	return m
}

// appUnavailable explains why `spare` with no arguments cannot open a window.
func appUnavailable() error {
	return fmt.Errorf("no display: the desktop app needs an X11 or Wayland session (run a verb instead, e.g. `spare status`)")
}
