//go:build linux

package app_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/autostart"
	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/sandbox"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// realDaemon runs node.NewDaemon on the test containerd, serving the real
// LocalAPI on a socket in a temp dir, with a real wallet (keystore and
// SQLite ledger) holding fixed figures, until the test ends.
func realDaemon(t *testing.T) (*localapi.Client, string) {
	t.Helper()
	// Display "none": the daemon senses nothing itself; always-available
	// makes the sentence the same on every machine.
	d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}})
	return localapi.NewClient(d.dir), d.dir
}

type testDaemon struct {
	*node.Daemon
	dir    string
	sb     *sandbox.Sandbox
	wallet *wallet.Wallet
}

// startDaemon runs the daemon with cfg's settings and notice.
func startDaemon(t *testing.T, cfg node.DaemonConfig) testDaemon {
	t.Helper()
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ns := "spare-test-app-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sb, err := sandbox.New(context.Background(), sandbox.Config{Socket: sock, WorkDir: filepath.Join(dir, "jobs"), Namespace: ns, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w := fixedWallet(t, dir, quiet)
	cfg.DataDir, cfg.Sandbox, cfg.Display, cfg.Version, cfg.Log, cfg.Wallet, cfg.Telemetry = dir, sb, ":none", "test", quiet, w, recordedGPU(t)
	d := node.NewDaemon(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("daemon: %v", err)
		}
		sb.Close()
		w.Close()
	})
	return testDaemon{Daemon: d, dir: dir, sb: sb, wallet: w}
}

// heldTelemetry serves one recorded reading, stamped with the time it is
// read: the daemon sees the same GPU on every machine, with or without
// an NVIDIA driver, so the screens do not depend on the host.
type heldTelemetry struct{ devices []gpu.Device }

func (h heldTelemetry) Snapshot(ctx context.Context) (gpu.Snapshot, error) {
	return gpu.Snapshot{At: time.Now(), Devices: h.devices}, ctx.Err()
}

// recordedGPU is the first reading of a recorded idle RTX 4070.
func recordedGPU(t *testing.T) heldTelemetry {
	t.Helper()
	rp, err := gpu.LoadReplay(filepath.Join("..", "gpu", "testdata", "one-gpu.jsonl"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return heldTelemetry{devices: rp.Snapshots()[0].Devices}
}

// The wallet's fixed key and figures (the golden images show them).
const (
	walletKey  = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	walletPass = "correct horse battery staple"
	payoutTo   = "0x8ba1f109551bD432803012645Ac136ddd64DBA72"
)

// fixedWallet opens a real wallet in dir with a fixed key, earnings of
// 7.35 of which 5.00 settled, and 1.00 paid out (wallettest.Fund).
func fixedWallet(t *testing.T, dir string, log *slog.Logger) *wallet.Wallet {
	t.Helper()
	light := wallet.KeystoreOptions{ScryptN: keystore.LightScryptN, ScryptP: keystore.LightScryptP}
	w, err := wallet.Open(wallet.Options{DataDir: dir, Passphrase: walletPass, Keystore: light, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := crypto.HexToECDSA(walletKey)
	if err != nil {
		t.Fatal(err)
	}
	kj, err := keystore.EncryptKey(&keystore.Key{Id: uuid.New(), Address: crypto.PubkeyToAddress(priv.PublicKey), PrivateKey: priv},
		"import", keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Keys.Import(kj, "import", walletPass); err != nil {
		t.Fatal(err)
	}
	wallettest.Fund(t, w, wallettest.Figures{Earned: 7_350_000, Settled: 5_000_000, Deposit: 10_000_000,
		PaidOut: 1_000_000, PayoutTo: payoutTo})
	return w
}

// variant pins the default theme to light or dark.
type variant struct {
	fyne.Theme
	v fyne.ThemeVariant
}

func (t variant) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.v)
}

// goldenDir is a data directory at a fixed path: the window shows it, so
// golden images need the same path on every run.
func goldenDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "spare-app-golden")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startApp(t *testing.T, cfg app.Config) *app.App {
	t.Helper()
	fy := test.NewTempApp(t)
	a := app.New(fy, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	a.Start(ctx)
	t.Cleanup(func() { cancel(); a.Stop() })
	return a
}

func waitSentence(t *testing.T, a *app.App, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		a.Inspect(func() { s = a.UI().Sentence() })
		if strings.HasPrefix(s, prefix) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sentence %q, want one starting %q", s, prefix)
	return ""
}

func menuItem(m *fyne.Menu, labels ...string) *fyne.MenuItem {
	for _, it := range m.Items {
		if it.Label == labels[0] {
			if len(labels) == 1 {
				return it
			}
			return menuItem(it.ChildMenu, labels[1:]...)
		}
	}
	return nil
}

// TestScreens drives the app from a real daemon over the real LocalAPI:
// the tray menu's commands reach the daemon, its state comes back over
// the event stream, and each screen matches its golden image in the
// light and dark themes.
func TestScreens(t *testing.T) {
	c, _ := realDaemon(t)
	a := startApp(t, app.Config{DataDir: goldenDir(t), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true},
		Login: autostart.XDG{ConfigHome: t.TempDir(), ConfigDirs: []string{t.TempDir()}}})
	got := waitSentence(t, a, "Available")
	s, err := c.Status(context.Background())
	if err != nil || s.Sentence != got {
		t.Fatalf("window shows %q, daemon says %q (%v)", got, s.Sentence, err)
	}

	// The tray shows today's earnings once the wallet's figures arrive.
	var status, today string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		a.Inspect(func() {
			status, today = a.Menu().Items[0].Label, a.Menu().Items[1].Label
		})
		if today == "Earned today: 7.350000 USDC" {
			break
		}
	}
	if status != s.Brief || today != "Earned today: 7.350000 USDC" {
		t.Errorf("tray menu: %q, %q; want the daemon's brief line %q", status, today, s.Brief)
	}

	shoot := func(name string) { t.Helper(); shootThemes(t, a, name) }
	// Each tab once what it shows from the daemon has arrived.
	shown := map[string][]string{
		"GPU":      {"Utilisation 0 %", "Utilisation, last hour"},
		"Job":      {"No job right now."},
		"Earnings": {"7.350000 USDC", "5.000000 USDC", "1.000000 USDC", "paid out to 0x8ba1…BA72", "earned for a job   +7.350000 USDC"},
		"Wallet":   {"Local ledger (IOUs)", "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", "up to 4.000000 USDC"},
		"Settings": {"always"},
	}
	for _, tab := range []string{"Status", "GPU", "Job", "Earnings", "Wallet", "Settings"} {
		a.Inspect(func() { a.UI().SelectTab(tab) })
		for _, text := range shown[tab] {
			waitMarkup(t, a, text)
		}
		shoot(strings.ToLower(tab))
	}

	// Pause ▸ Until I resume, from the tray menu, reaches the daemon.
	var pause *fyne.MenuItem
	a.Inspect(func() { pause = menuItem(a.Menu(), "Pause", "Until I resume") })
	pause.Action()
	waitSentence(t, a, "Paused until you resume")
	if s, _ := c.Status(context.Background()); s.State != localapi.StatePaused {
		t.Fatalf("daemon state %s after Pause", s.State)
	}
	a.Inspect(func() { a.UI().SelectTab("Status") })
	shoot("status_paused")

	var resume *fyne.MenuItem
	a.Inspect(func() { resume = menuItem(a.Menu(), "Resume") })
	resume.Action()
	waitSentence(t, a, "Available")
}

// TestJobScreen follows a job on the real daemon: the Job page shows it
// running, then frozen when the owner comes back; the Status page shows
// the daemon's notice (the playground's).
func TestJobScreen(t *testing.T) {
	const notice = "Playground: work starts after 1s without input"
	d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{IdleBefore: time.Second}, Notice: notice})
	ctx := context.Background()
	img, err := d.sb.Import(ctx, testenv.Workload(t, "probe"), sandbox.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := localapi.NewClient(d.dir)
	idle := func(ms int64) {
		t.Helper()
		if err := c.ReportPresence(ctx, localapi.PresenceReport{IdleMS: ms, IdleKnown: true, Source: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	idle(10 * 60 * 1000)
	a := startApp(t, app.Config{DataDir: goldenDir(t), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true}, DetailsEvery: 200 * time.Millisecond})
	waitSentence(t, a, "Available")
	waitMarkup(t, a, notice)

	st, err := c.Status(ctx)
	if err != nil || len(st.Devices) != 1 {
		t.Fatalf("status %+v, %v: want the recorded GPU", st, err)
	}
	// The job holds the recorded GPU in the governor's books (the sandbox
	// is given no device: the probe needs none).
	rj, err := d.StartJob(ctx, sandbox.JobSpec{Image: img.Digest, Args: []string{"sleep", "5m"}}, []string{st.Devices[0].UUID}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		rj.Job.Stop(ctx, 0)
		<-rj.Done
	}()
	a.Inspect(func() { a.UI().SelectTab("Job") })
	waitMarkup(t, a, "Job "+rj.Job.ID()[:12])
	waitMarkup(t, a, "Running, and earning for every second of work.")
	waitMarkup(t, a, "Kind: not given")
	idle(0) // the owner is back
	waitMarkup(t, a, "Frozen while you use the computer.")
	// The job route reads the governor's decision as it is made; the
	// status is rendered from it a moment later.
	testenv.WaitFor(t, "the daemon's status to say Frozen", 5*time.Second, func() error {
		if st, err := c.Status(ctx); err != nil || st.State != localapi.StateFrozen {
			return fmt.Errorf("daemon state %s (%v)", st.State, err)
		}
		return nil
	})
}

// TestFirstEarningsOnce: earnings the app has never announced are
// notified once, at the first view that shows them (here, made before the
// app started), and never again, in this run or the next.
func TestFirstEarningsOnce(t *testing.T) {
	c, _ := realDaemon(t)
	dir := t.TempDir()
	run := func(want *fyne.Notification) {
		t.Helper()
		fy := test.NewTempApp(t)
		test.AssertNotificationSent(t, want, func() {
			a := app.New(fy, app.Config{DataDir: dir, Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true}})
			ctx, cancel := context.WithCancel(context.Background())
			a.Start(ctx)
			defer func() { cancel(); a.Stop() }()
			// Notifications go out in the same draw as the tray's line.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				var today string
				a.Inspect(func() { today = a.Menu().Items[1].Label })
				if today == "Earned today: 7.350000 USDC" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("tray shows %q", today)
				}
			}
		})
	}
	run(fyne.NewNotification("Your first earnings", "Spare earned 7.350000 USDC today while you were away."))
	if s, err := app.LoadSettings(dir); err != nil || !s.FirstEarningsShown {
		t.Fatalf("settings %+v, %v: the first earnings are not remembered as told", s, err)
	}
	run(nil)
}

// TestPresenceReachesDaemon: the app is the session's presence sensor. A
// daemon that senses nothing itself (display "none") goes by the app's
// readings of the X server: idle, then input.
func TestPresenceReachesDaemon(t *testing.T) {
	display := testenv.PrivateDisplay(t)
	t.Setenv("DISPLAY", display)
	d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{IdleBefore: 2 * time.Second}})
	c := localapi.NewClient(d.dir)
	a := startApp(t, app.Config{DataDir: t.TempDir(), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true}, Presence: true})
	waitSentence(t, a, "Available")
	testenv.Xdotool(t, display, "mousemove", "10", "10")
	waitSentence(t, a, "Waiting: you were active")
	if st, err := c.Status(context.Background()); err != nil || st.State != localapi.StateWaiting || st.Reason != "active" {
		t.Fatalf("daemon status %+v, %v", st, err)
	}
}

// TestDaemonFails: when the daemon the app starts ends with an error (here
// a process failing as `spare node` does without containerd), the window
// shows its last words, not just that none runs.
func TestDaemonFails(t *testing.T) {
	dir := t.TempDir()
	const said = "containerd unavailable: socket /run/containerd/containerd.sock: no such file — start it (sudo systemctl start containerd)"
	a := startApp(t, app.Config{DataDir: dir, Client: localapi.NewClient(dir), Session: &app.SessionInfo{Bus: true, TrayHost: true},
		DaemonCommand: []string{"sh", "-c", "echo 'time=now level=INFO msg=starting' >&2; printf 'spare: " + said + "' >&2; exit 1"}})
	waitSentence(t, a, "Not connected to the Spare daemon")
	waitMarkup(t, a, "the Spare daemon stopped: containerd unavailable") // the label wraps the rest
}

// TestNoDaemon shows the problem in words instead of failing.
func TestNoDaemon(t *testing.T) {
	dir := goldenDir(t)
	a := startApp(t, app.Config{DataDir: dir, Client: localapi.NewClient(dir),
		Session: &app.SessionInfo{Why: "No D-Bus session bus: there is no tray icon."}})
	waitSentence(t, a, "Not connected to the Spare daemon")
	waitMarkup(t, a, "no Spare daemon running at")
	shootThemes(t, a, "nodaemon")
}

// shootThemes matches the window against NAME_light.png and NAME_dark.png.
func shootThemes(t *testing.T, a *app.App, name string) {
	t.Helper()
	for _, v := range []struct {
		name string
		v    fyne.ThemeVariant
	}{{"light", theme.VariantLight}, {"dark", theme.VariantDark}} {
		a.Inspect(func() {
			test.ApplyTheme(t, variant{theme.DefaultTheme(), v.v})
			w := a.UI().Window()
			w.Resize(fyne.NewSize(720, 520))
			test.AssertImageMatches(t, name+"_"+v.name+".png", w.Canvas().Capture())
			// Every page must fit a small laptop's screen at its smallest.
			min := w.Content().MinSize()
			if min.Width > smallScreen.Width || min.Height > smallScreen.Height {
				t.Errorf("%s (%s) needs a window of at least %.0f×%.0f, more than a %.0f×%.0f screen", name, v.name, min.Width, min.Height, smallScreen.Width, smallScreen.Height)
			}
			// Checked by eye: the page at 1280×800 and at its smallest;
			// the main tabs' are goldens too.
			for _, sz := range []struct {
				suffix string
				size   fyne.Size
			}{{"1280x800", fyne.NewSize(1280, 800)}, {"min", min}} {
				resize(w, sz.size)
				file := fmt.Sprintf("%s_%s_%s.png", name, v.name, sz.suffix)
				if sizedGoldens[name] {
					test.AssertImageMatches(t, file, w.Canvas().Capture())
				}
				saveShot(t, file, w.Canvas().Capture())
			}
			resize(w, fyne.NewSize(720, 520))
		})
	}
}

// sizedGoldens are the pages matched at 1280×800 and at their smallest
// besides 720×520 (the Earnings page's: TestEarningsEnergyScreen, with
// its history's times pinned).
var sizedGoldens = map[string]bool{"status": true, "wallet": true, "settings": true, "household": true}

// resize resizes w and lays it out again as the window's driver does on
// its next frame: a label that wraps at the new width grows, and its
// container makes room (the test canvas alone leaves it overlapping the
// next line).
func resize(w fyne.Window, size fyne.Size) {
	w.Resize(size)
	w.Content().Refresh()
}

// smallScreen is the smallest screen the window must fit, less a taskbar.
var smallScreen = fyne.NewSize(1024, 560)

// saveShot writes img as name into $SPARE_APP_SHOTS, when set: captures
// to look at (screens checked by eye at other sizes), never compared.
func saveShot(t *testing.T, name string, img image.Image) {
	t.Helper()
	dir := os.Getenv("SPARE_APP_SHOTS")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// TestOnboarding: a first run with containerd stopped says "One thing to
// fix" in plain words with a button that fixes it; the technical lines
// wait behind "Show details"; once the button's fix ran, the checks run
// again and say "Ready to earn".
func TestOnboarding(t *testing.T) {
	dir := goldenDir(t)
	var mu sync.Mutex
	started, runs := false, 0
	start := &app.FixAction{Label: "Start the container service", Run: func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		started, runs = true, runs+1
		return nil
	}}
	doctor := func(context.Context) []app.Check {
		mu.Lock()
		defer mu.Unlock()
		ctrd := app.Check{Name: "containerd", Required: true, OK: true, Detail: "containerd 2.0.0 at /run/containerd/containerd.sock"}
		if !started {
			ctrd = app.Check{Name: "containerd", Required: true, Detail: "no containerd at /run/containerd/containerd.sock",
				Fix: "sudo systemctl start containerd", Plain: "The container service (containerd) that runs jobs is not running.", Action: start}
		}
		return []app.Check{
			{Name: "data directory", OK: true, Detail: dir},
			ctrd,
			{Name: "GPU (NVML, CDI)", OK: true, Warn: true, Detail: "no NVIDIA GPU — CPU-only jobs", Fix: "install the NVIDIA driver"},
		}
	}
	a := startApp(t, app.Config{DataDir: dir, Client: localapi.NewClient(dir), Doctor: doctor, Session: &app.SessionInfo{Bus: true, TrayHost: true}})
	waitMarkup(t, a, "One thing to fix")
	waitMarkup(t, a, "The container service (containerd) that runs jobs is not running.")
	var markup string
	a.Inspect(func() { markup = test.RenderToMarkup(a.UI().Window().Canvas()) })
	if strings.Contains(markup, "/run/containerd/containerd.sock") || strings.Contains(markup, "CPU-only") {
		t.Fatalf("the technical lines show before Show details:\n%s", markup)
	}
	shootThemes(t, a, "onboarding")

	var show, fix *widget.Button
	a.Inspect(func() { show, fix = button(t, a, "Show details"), button(t, a, "Start the container service") })
	a.Inspect(func() { test.Tap(show) })
	waitMarkup(t, a, "run: sudo systemctl start containerd")
	shootThemes(t, a, "onboarding_details")

	a.Inspect(func() { test.Tap(fix) })
	waitMarkup(t, a, "Ready to earn")
	mu.Lock()
	defer mu.Unlock()
	if runs != 1 {
		t.Fatalf("the fix ran %d times, want once", runs)
	}
}

// waitMarkup waits until the window's widget tree shows text.
func waitMarkup(t *testing.T, a *app.App, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var markup string
		a.Inspect(func() { markup = test.RenderToMarkup(a.UI().Window().Canvas()) })
		if strings.Contains(markup, text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q is not shown:\n%s", text, markup)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWindowCountsDown: the owner was active 3 s ago and work starts after
// 5 min without input. The window's sentence counts down by the second,
// with nothing else changing on the daemon; the tray's line says it to the
// minute.
func TestWindowCountsDown(t *testing.T) {
	d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{IdleBefore: 5 * time.Minute}})
	c := localapi.NewClient(d.dir)
	testenv.WaitFor(t, "the daemon to take the presence report", 10*time.Second, func() error {
		return c.ReportPresence(context.Background(), localapi.PresenceReport{IdleMS: 3000, IdleKnown: true, Source: "test"})
	})
	a := startApp(t, app.Config{DataDir: t.TempDir(), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true}})
	first := waitSentence(t, a, "Waiting: you were active")
	if left := secondsLeft(first); left > 297 || left < 240 {
		t.Fatalf("sentence %q, want one counting down from 4 min 57 s", first)
	}
	second := first
	testenv.WaitFor(t, "the window's sentence to count on", 5*time.Second, func() bool {
		a.Inspect(func() { second = a.UI().Sentence() })
		return second != first
	})
	if !strings.HasPrefix(second, "Waiting: you were active") || secondsLeft(second) >= secondsLeft(first) {
		t.Fatalf("the sentence went from %q to %q", first, second)
	}
	var tray string
	a.Inspect(func() { tray = a.Menu().Items[0].Label })
	if tray != "Waiting: you were active less than a minute ago — starting in 5 min" {
		t.Errorf("tray line %q, want the sentence to the minute", tray)
	}
}

// secondsLeft reads "… — starting in 4 min 57 s" (-1: no countdown).
func secondsLeft(sentence string) int {
	_, left, ok := strings.Cut(sentence, "starting in ")
	if !ok {
		return -1
	}
	var mins, secs int
	if _, err := fmt.Sscanf(left, "%d min %d s", &mins, &secs); err != nil {
		return -1
	}
	return mins*60 + secs
}
