//go:build linux

package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/ethereum/go-ethereum/accounts/keystore"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/autostart"
	"github.com/sparegpu/spare/internal/testenv"
)

// visible lists the widgets shown in the window, in drawing order.
func visible(o fyne.CanvasObject, out []fyne.CanvasObject) []fyne.CanvasObject {
	if o == nil || !o.Visible() {
		return out
	}
	out = append(out, o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, child := range c.Objects {
			out = visible(child, out)
		}
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(c).Objects() {
			out = visible(child, out)
		}
	}
	return out
}

// entries and button find the shown entries (password ones or not) and a
// button by its text. Call inside Inspect.
func entries(a *app.App, password bool) []*widget.Entry {
	var out []*widget.Entry
	for _, o := range visible(a.UI().Window().Canvas().Content(), nil) {
		if e, ok := o.(*widget.Entry); ok && e.Password == password {
			out = append(out, e)
		}
	}
	return out
}

func button(t *testing.T, a *app.App, text string) *widget.Button {
	t.Helper()
	return shown(t, a, func(b *widget.Button) bool { return b.Text == text }, "button "+text)
}

// shown finds the shown widget of type W that match accepts. Call inside
// Inspect.
func shown[W fyne.CanvasObject](t *testing.T, a *app.App, match func(W) bool, what string) W {
	t.Helper()
	for _, o := range visible(a.UI().Window().Canvas().Content(), nil) {
		if w, ok := o.(W); ok && match(w) {
			return w
		}
	}
	t.Fatalf("no %s shown", what)
	var none W
	return none
}

func byPlaceholder(t *testing.T, es []*widget.Entry, prefix string) *widget.Entry {
	t.Helper()
	for _, e := range es {
		if strings.HasPrefix(e.PlaceHolder, prefix) {
			return e
		}
	}
	t.Fatalf("no entry with a placeholder starting %q", prefix)
	return nil
}

func setText(e *widget.Entry, s string) {
	e.SetText("")
	test.Type(e, s)
}

// TestWalletScreen withdraws and exports through the Wallet page: the
// daemon's answers (a wrong passphrase, then the payout) are shown, the
// figures follow over the event stream, and the export is a 0600 file.
func TestWalletScreen(t *testing.T) {
	c, _ := realDaemon(t)
	a := startApp(t, app.Config{DataDir: goldenDir(t), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true}})
	waitSentence(t, a, "Available")
	a.Inspect(func() { a.UI().SelectTab("Wallet") })
	waitMarkup(t, a, "up to 4.000000 USDC")
	var copied string
	a.Inspect(func() {
		test.Tap(button(t, a, "Copy address"))
		copied = fyne.CurrentApp().Clipboard().Content()
	})
	if copied != "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23" {
		t.Errorf("Copy address put %q on the clipboard", copied)
	}

	withdraw := func(pass string) {
		a.Inspect(func() {
			es, pw := entries(a, false), entries(a, true)
			setText(byPlaceholder(t, es, "0x…"), strings.ToLower(payoutTo))
			setText(byPlaceholder(t, es, "up to"), "1.5")
			setText(pw[0], pass)
			test.Tap(button(t, a, "Withdraw"))
		})
	}
	withdraw("not it")
	waitMarkup(t, a, "passphrase: it does not unlock the wallet key")
	withdraw(walletPass)
	waitMarkup(t, a, "Paid out 1.500000 USDC to "+payoutTo+". 2.500000 USDC left to")
	waitMarkup(t, a, "up to 2.500000 USDC") // the figures, re-read on the wallet event
	if w, err := c.Wallet(context.Background()); err != nil || w.PaidOut != 2_500_000 {
		t.Fatalf("daemon's wallet after the payout: %+v %v", w, err)
	}
	a.Inspect(func() {
		if pw := entries(a, true); pw[0].Text != "" {
			t.Errorf("the passphrase stays in the form after sending")
		}
	})

	out := filepath.Join(t.TempDir(), "spare-wallet.json")
	a.Inspect(func() {
		setText(byPlaceholder(t, entries(a, false), "file to write"), out)
		setText(entries(a, true)[1], walletPass)
		test.Tap(button(t, a, "Export keystore"))
	})
	waitMarkup(t, a, "Wrote the key of 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("exported file %v %v", fi, err)
	}
	b, _ := os.ReadFile(out)
	if k, err := keystore.DecryptKey(b, walletPass); err != nil || k.Address.Hex() != "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23" {
		t.Fatalf("the export does not open with the wallet's passphrase: %v", err)
	}
}

// TestSettingsScreen saves settings through the form: a bad field comes
// back from the daemon by name; a good change is in force in the daemon.
// Start at login shows and switches what the system does: here an XDG
// autostart set-up with the packages' system-wide entry installed.
func TestSettingsScreen(t *testing.T) {
	c, dir := realDaemon(t)
	login := autostart.XDG{ConfigHome: t.TempDir(), ConfigDirs: []string{t.TempDir()}}
	pkg, err := os.ReadFile("../packaging/linux/spare-autostart.desktop")
	if err != nil {
		t.Fatal(err)
	}
	sys := filepath.Join(login.ConfigDirs[0], "autostart", "spare.desktop")
	if err := os.MkdirAll(filepath.Dir(sys), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sys, pkg, 0o644); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, app.Config{DataDir: goldenDir(t), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true}, Login: login})
	waitSentence(t, a, "Available")
	a.Inspect(func() { a.UI().SelectTab("Settings") })
	waitMarkup(t, a, "always")
	// Save is enabled once the daemon's settings fill the form; typing
	// before that is overwritten when they arrive (late on a busy machine).
	testenv.WaitFor(t, "the daemon's settings in the form", 10*time.Second, func() bool {
		var on bool
		a.Inspect(func() { on = !button(t, a, "Save").Disabled() })
		return on
	})
	var checked bool
	a.Inspect(func() { checked = check(t, a, "Open Spare when I log in").Checked })
	if !checked {
		t.Fatal("the installed autostart entry is not shown as start at login")
	}

	save := func(schedule string) {
		a.Inspect(func() {
			setText(byPlaceholder(t, entries(a, false), "always, or"), schedule)
			setText(entries(a, false)[0], "12") // idle minutes
			test.Tap(button(t, a, "Save"))
		})
	}
	save("evenings")
	waitMarkup(t, a, `schedule: "evenings" is neither`)
	save("22:00-07:00")
	waitMarkup(t, a, "Saved. Spare works by these rules from now on.")
	s, err := c.Settings(context.Background())
	if err != nil || s.IdleMinutes != 12 || s.Schedule != "22:00-07:00" {
		t.Fatalf("daemon's settings %+v %v", s, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "settings.json")); err != nil {
		t.Fatalf("not saved in the daemon's data dir: %v", err)
	}

	for _, on := range []bool{false, true} {
		a.Inspect(func() {
			check(t, a, "Open Spare when I log in").SetChecked(on)
			test.Tap(button(t, a, "Save"))
		})
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got, err := login.Enabled()
			if err == nil && got == on {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("start at login set to %v; the system says %v (%v)", on, got, err)
			}
		}
	}
}

func check(t *testing.T, a *app.App, text string) *widget.Check {
	t.Helper()
	return shown(t, a, func(c *widget.Check) bool { return c.Text == text }, "check box "+text)
}
