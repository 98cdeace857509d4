//go:build linux && cgo

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/godbus/dbus/v5"

	"github.com/sparegpu/spare/internal/screentext"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
)

// The real desktop app (`spare` with no arguments, the binary TestMain
// builds) under Xvfb, on a session bus of the test's own where the test
// plays the desktop's tray host: it owns org.kde.StatusNotifierWatcher,
// waits for the app to register its StatusNotifierItem, and reads the
// item's menu back over com.canonical.dbusmenu.

// sessionBus starts a dbus-daemon for the test and returns its address.
func sessionBus(t testing.TB) string { return testenv.SessionBus(t) }

// trayItem is a StatusNotifierItem as registered: its bus name and path.
type trayItem struct {
	bus  string
	path dbus.ObjectPath
}

// watcher is the smallest org.kde.StatusNotifierWatcher a tray item
// talks to: it records each registration.
type watcher struct {
	items chan trayItem
}

// RegisterStatusNotifierItem takes a bus name or, as Fyne's tray sends,
// an object path on the caller's connection.
func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	it := trayItem{bus: string(sender), path: "/StatusNotifierItem"}
	if strings.HasPrefix(service, "/") {
		it.path = dbus.ObjectPath(service)
	} else {
		it.bus = service
	}
	select {
	case w.items <- it:
	default:
	}
	return nil
}

func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

// runWatcher connects to the bus and owns the watcher's name.
func runWatcher(t testing.TB, addr string) (*dbus.Conn, *watcher) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	w := &watcher{items: make(chan trayItem, 4)}
	if err := conn.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	if r, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning org.kde.StatusNotifierWatcher: %v %v", r, err)
	}
	return conn, w
}

// menuNode is one entry of a dbusmenu layout.
type menuNode struct {
	ID       int32
	Label    string
	Enabled  bool
	Visible  bool
	Sep      bool
	Children []menuNode
}

// items are the node's children a tray host shows, without separators.
func (n menuNode) items() []menuNode {
	var out []menuNode
	for _, c := range n.Children {
		if !c.Sep && c.Visible {
			out = append(out, c)
		}
	}
	return out
}

func (n menuNode) find(label string) (menuNode, bool) {
	for _, c := range n.Children {
		if c.Label == label && c.Visible {
			return c, true
		}
	}
	return menuNode{}, false
}

// readMenu asks the item for its menu object and reads the whole layout.
func readMenu(conn *dbus.Conn, it trayItem) (menuNode, dbus.BusObject, error) {
	v, err := conn.Object(it.bus, it.path).GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		return menuNode{}, nil, fmt.Errorf("reading the item's Menu property: %w", err)
	}
	p, ok := v.Value().(dbus.ObjectPath)
	if !ok {
		return menuNode{}, nil, fmt.Errorf("the item's Menu property is %T, want an object path", v.Value())
	}
	obj := conn.Object(it.bus, p)
	var rev uint32
	var raw struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := obj.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &raw); err != nil {
		return menuNode{}, nil, fmt.Errorf("GetLayout: %w", err)
	}
	n, err := decodeNode(raw.ID, raw.Props, raw.Children)
	return n, obj, err
}

func decodeNode(id int32, props map[string]dbus.Variant, children []dbus.Variant) (menuNode, error) {
	n := menuNode{ID: id, Enabled: true, Visible: true}
	if v, ok := props["label"]; ok {
		n.Label, _ = v.Value().(string)
	}
	if v, ok := props["enabled"]; ok {
		n.Enabled, _ = v.Value().(bool)
	}
	if v, ok := props["visible"]; ok {
		n.Visible, _ = v.Value().(bool)
	}
	if v, ok := props["type"]; ok {
		n.Sep = v.Value() == "separator"
	}
	for _, c := range children {
		f, ok := c.Value().([]any)
		if !ok || len(f) != 3 {
			return n, fmt.Errorf("menu node %d: child is %T, want (ia{sv}av)", id, c.Value())
		}
		cid, ok1 := f[0].(int32)
		cprops, ok2 := f[1].(map[string]dbus.Variant)
		kids, ok3 := f[2].([]dbus.Variant)
		if !ok1 || !ok2 || !ok3 {
			return n, fmt.Errorf("menu node %d: child fields are %T %T %T", id, f[0], f[1], f[2])
		}
		cn, err := decodeNode(cid, cprops, kids)
		if err != nil {
			return n, err
		}
		n.Children = append(n.Children, cn)
	}
	return n, nil
}

// click sends the "clicked" event a tray host sends when an entry is chosen.
// trayIcon reads the item's icon (StatusNotifierItem IconPixmap: a list
// of width, height, ARGB bytes) as a digest of its pixels.
func trayIcon(conn *dbus.Conn, it trayItem) (string, error) {
	v, err := conn.Object(it.bus, it.path).GetProperty("org.kde.StatusNotifierItem.IconPixmap")
	if err != nil {
		return "", err
	}
	var pixmaps []struct {
		W, H int32
		ARGB []byte
	}
	if err := v.Store(&pixmaps); err != nil {
		return "", fmt.Errorf("IconPixmap %s: %w", v.Signature(), err)
	}
	h := sha256.New()
	for _, p := range pixmaps {
		if int(p.W)*int(p.H)*4 != len(p.ARGB) || p.W == 0 {
			return "", fmt.Errorf("IconPixmap %dx%d with %d bytes", p.W, p.H, len(p.ARGB))
		}
		fmt.Fprintf(h, "%dx%d:", p.W, p.H)
		h.Write(p.ARGB)
	}
	if len(pixmaps) == 0 {
		return "", errors.New("no IconPixmap")
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func click(obj dbus.BusObject, id int32) error {
	return obj.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), uint32(time.Now().Unix())).Err
}

// desktopApp is `spare` with no arguments, running.
type desktopApp struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// appEnv is the environment the app runs in: the test's display, the
// given session bus ("" for none), a home of its own, and a fixed scale
// so that text has the pixels the test renders.
func appEnv(t testing.TB, bus, display string) []string {
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "DBUS_SESSION_BUS_ADDRESS" || k == "DISPLAY" || k == "HOME" || strings.HasPrefix(k, "XDG_") || strings.HasPrefix(k, "FYNE_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"FYNE_SCALE=1", "FYNE_DISABLE_DPI_DETECTION=1")
	if bus != "" {
		env = append(env, "DBUS_SESSION_BUS_ADDRESS="+bus)
	}
	return env
}

// startDesktopApp runs the app on a data directory whose onboarding was
// done, against the test containerd; the app starts its own daemon. At
// the end of the test the app is stopped (and with it that daemon).
func startDesktopApp(t testing.TB, data, containerd string, env []string) *desktopApp {
	t.Helper()
	if err := os.WriteFile(filepath.Join(data, "app-settings.json"), []byte(`{"onboarded": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return startGUI(t, data, env, "--data", data, "--containerd", containerd)
}

// startGUI runs spare with args under env (a display, a session bus),
// logging to a file it prints when the test fails; at the end of the test
// it is stopped, and any daemon left on data killed.
func startGUI(t testing.TB, data string, env []string, args ...string) *desktopApp {
	t.Helper()
	a := &desktopApp{log: filepath.Join(t.TempDir(), "app.log"), done: make(chan struct{})}
	logf, err := os.Create(a.log)
	if err != nil {
		t.Fatal(err)
	}
	a.cmd = exec.Command(spareBin, args...)
	a.cmd.Env = env
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // owned by a: ends when the app exits
		a.err = a.cmd.Wait()
		logf.Close()
		close(a.done)
	}()
	t.Cleanup(func() {
		a.stop(t)
		killDaemonsOf(t, data)
		if t.Failed() {
			b, _ := os.ReadFile(a.log)
			t.Logf("app log:\n%s", b)
		}
	})
	return a
}

// stop asks the app to end (SIGTERM, as a session logout does) and waits.
func (a *desktopApp) stop(t testing.TB) {
	t.Helper()
	select {
	case <-a.done:
		return
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		t.Errorf("the app did not end within 30 s of SIGTERM; killing it")
		_ = a.cmd.Process.Kill()
		<-a.done
	}
}

func (a *desktopApp) exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// killDaemonsOf ends any `spare node` still running on data that the
// test did not start itself (a failed test's leftovers), by process ID.
func killDaemonsOf(t testing.TB, data string) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) < 4 || args[0] != spareBin || args[1] != "node" || args[3] != data {
			continue
		}
		dir := filepath.Dir(p)
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil || parentPID(dir) == os.Getpid() {
			continue
		}
		t.Errorf("a daemon (pid %d) outlived the app that started it; killing it", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// parentPID reads the parent's process ID from /proc/PID/stat.
func parentPID(procDir string) int {
	b, err := os.ReadFile(filepath.Join(procDir, "stat"))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 { // the name may hold spaces
		if f := strings.Fields(s[i+1:]); len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			return ppid
		}
	}
	return 0
}

// shownSentence checks that the window draws s (see screentext.FindSentence).
func shownSentence(t testing.TB, display, s string) error {
	t.Helper()
	img, err := windowShot(display, "Spare")
	if err != nil {
		return err
	}
	ok, f := screentext.FindSentence(t, img, s)
	if !ok {
		return fmt.Errorf("the window does not show %q (closest match: %.1f%% of its pixels differ)", s, 100*f)
	}
	t.Logf("the %dx%d window shows %q (%.2f%% of its pixels differ)", img.Bounds().Dx(), img.Bounds().Dy(), s, 100*f)
	return nil
}

// TestDesktopAppTray runs the real app with a tray host, reads its menu
// over D-Bus, finds the status sentence on the screen, and chooses menu
// entries as a tray host would: each reaches the daemon over the LocalAPI.
func TestDesktopAppTray(t *testing.T) {
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	display := testenv.PrivateDisplay(t)
	test.NewTempApp(t) // the software painter the expected text is drawn with
	bus := sessionBus(t)
	conn, w := runWatcher(t, bus)
	notes := runNotifier(t, bus)
	data := t.TempDir() // a first run: no wallet, no settings but onboarding done
	started := time.Now()
	a := startDesktopApp(t, data, sock, appEnv(t, bus, display))

	var item trayItem
	select {
	case item = <-w.items:
		t.Logf("tray item %s%s registered after %v", item.bus, item.path, time.Since(started).Round(time.Millisecond))
	case <-a.done:
		t.Fatalf("the app exited before registering a tray item: %v", a.err)
	case <-time.After(30 * time.Second):
		t.Fatal("no StatusNotifierItem registered within 30 s")
	}
	c := localapi.NewClient(data)
	ctx := context.Background()

	// The menu: the daemon's sentence, today's earnings, Pause ▸ (three
	// choices), Resume, Open Spare, Quit.
	var menu menuNode
	var st localapi.Status
	testenv.WaitFor(t, "the tray's status line is the daemon's brief sentence", 60*time.Second, func() error {
		var err error
		if st, err = c.Status(ctx); err != nil {
			return err
		}
		if menu, _, err = readMenu(conn, item); err != nil {
			return err
		}
		if it := menu.items(); len(it) == 0 || it[0].Label != st.Brief {
			return fmt.Errorf("menu %+v, daemon says %q", menu.items(), st.Brief)
		}
		return nil
	})
	var labels []string
	for _, it := range menu.items() {
		labels = append(labels, it.Label)
	}
	want := []string{st.Brief, "Earned today: ", "Pause", "Resume", "Open Spare", "Quit"}
	if len(labels) != len(want) {
		t.Fatalf("menu entries %q, want %q", labels, want)
	}
	for i, l := range labels {
		if !strings.HasPrefix(l, want[i]) {
			t.Errorf("menu entry %d is %q, want %q", i, l, want[i])
		}
	}
	if today := labels[1]; !strings.HasSuffix(today, " USDC") || len(today) <= len("Earned today:  USDC") {
		t.Errorf("earnings line %q", today)
	}
	items := menu.items()
	if items[0].Enabled || items[1].Enabled {
		t.Errorf("the status and earnings lines are choosable: %+v", items[:2])
	}
	if items[3].Enabled {
		t.Errorf("Resume is enabled while the daemon is %s", st.State)
	}
	var sub []string
	for _, it := range items[2].items() {
		sub = append(sub, it.Label)
	}
	if strings.Join(sub, "|") != "For 1 hour|Until tomorrow|Until I resume" {
		t.Errorf("Pause ▸ %q", sub)
	}
	t.Logf("tray menu: %q, Pause ▸ %q", labels, sub)

	// The window draws the same sentence; a sentence it does not show is
	// not found (the check can fail).
	testenv.WaitFor(t, "the window shows the status sentence", 20*time.Second, func() error {
		s, err := c.Status(ctx)
		if err != nil {
			return err
		}
		return shownSentence(t, display, s.Sentence)
	})
	if err := shownSentence(t, display, "Paused until you resume"); err == nil {
		t.Fatal("the screen check finds a sentence the window does not show")
	}

	// Entries are chosen as a tray host does: read the menu, click an
	// entry by its ID. The app rebuilds the menu when a line changes (the
	// status sentence counts seconds), which renumbers the entries, and a
	// click on an old ID is ignored; so a click is repeated, on a fresh
	// read, until its effect is seen.
	choose := func(effect string, done func() error, path ...string) {
		t.Helper()
		testenv.WaitFor(t, "choosing "+strings.Join(path, " ▸ ")+": "+effect, 30*time.Second, func() error {
			if done() == nil { // the last click took effect after all
				return nil
			}
			m, obj, err := readMenu(conn, item)
			if err != nil {
				return err
			}
			for _, p := range path {
				var ok bool
				if m, ok = m.find(p); !ok {
					return fmt.Errorf("no entry %q", p)
				}
			}
			if err := click(obj, m.ID); err != nil {
				return err
			}
			deadline := time.Now().Add(3 * time.Second)
			for {
				err := done()
				if err == nil || time.Now().After(deadline) {
					return err
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	state := func(want localapi.State) func() error {
		return func() error {
			s, err := c.Status(ctx)
			if err == nil && s.State != want {
				err = fmt.Errorf("state %s, want %s", s.State, want)
			}
			return err
		}
	}

	// The icon follows the state: one for waiting, another for paused.
	waiting, err := trayIcon(conn, item)
	if err != nil {
		t.Fatal(err)
	}

	// Pause ▸ Until I resume, clicked over D-Bus, pauses the daemon.
	choose("the daemon pauses", state(localapi.StatePaused), "Pause", "Until I resume")
	testenv.WaitFor(t, "the tray icon shows the pause", 10*time.Second, func() error {
		icon, err := trayIcon(conn, item)
		if err == nil && icon == waiting {
			err = errors.New("the icon is still the waiting one")
		}
		return err
	})
	testenv.WaitFor(t, "the tray and window show the pause", 10*time.Second, func() error {
		m, _, err := readMenu(conn, item)
		if err != nil {
			return err
		}
		it := m.items() // read while the app rebuilds the menu, it may be short
		if len(it) < 4 || !strings.HasPrefix(it[0].Label, "Paused until you resume") || !it[3].Enabled || it[2].Enabled {
			return fmt.Errorf("menu %+v", it)
		}
		return shownSentence(t, display, "Paused until you resume")
	})

	// Resume brings the daemon back.
	choose("the daemon resumes", func() error {
		s, err := c.Status(ctx)
		if err == nil && s.State == localapi.StatePaused {
			err = errors.New("still paused")
		}
		return err
	}, "Resume")
	testenv.WaitFor(t, "the tray icon is the waiting one again", 10*time.Second, func() error {
		icon, err := trayIcon(conn, item)
		if err == nil && icon != waiting {
			err = errors.New("the icon is not the waiting one")
		}
		return err
	})

	// The window is a process of its own, the tray process's child, and
	// it alone maps the GL driver it draws with.
	win := waitWindowProcess(t, a)
	if gl, err := glMappings(win); err != nil || len(gl) == 0 {
		t.Fatalf("the window process maps no GL driver (%v): the check below could not fail", err)
	}
	if gl, err := glMappings(a.cmd.Process.Pid); err != nil || len(gl) > 0 {
		t.Errorf("the tray process maps GL driver files %q (%v)", gl, err)
	}

	// The window's close button, with a tray: the window and its process
	// go, the tray process and its daemon stay, with no GL driver
	// resident, and Open Spare brings the window back.
	if err := closeWindow(display, "Spare"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the window closes to the tray", 10*time.Second, func() error {
		if _, err := windowShot(display, "Spare"); err == nil {
			return errors.New("the window is still shown")
		}
		if pid := windowProcess(a.cmd.Process.Pid); pid != 0 {
			return fmt.Errorf("the window process %d still runs", pid)
		}
		return nil
	})
	if a.exited() {
		t.Fatalf("closing the window ended the app: %v", a.err)
	}
	if _, err := c.Status(ctx); err != nil {
		t.Fatalf("the daemon stopped with the window: %v", err)
	}
	if gl, err := glMappings(a.cmd.Process.Pid); err != nil || len(gl) > 0 {
		t.Errorf("closed to the tray, the app maps GL driver files %q (%v)", gl, err)
	}
	// The menu still answers: a pause and a resume reach the daemon.
	choose("the daemon pauses from the tray alone", func() error {
		s, err := c.Status(ctx)
		if err == nil && s.State != localapi.StatePaused {
			err = fmt.Errorf("state %s", s.State)
		}
		return err
	}, "Pause", "Until I resume")
	choose("the daemon resumes from the tray alone", func() error {
		s, err := c.Status(ctx)
		if err == nil && s.State == localapi.StatePaused {
			err = fmt.Errorf("state %s", s.State)
		}
		return err
	}, "Resume")
	// The daemon the app started stops (killed, or it crashed): the tray
	// process tells the owner with a notification and starts another.
	gone := childDaemon(a.cmd.Process.Pid)
	if gone == 0 {
		t.Fatal("the app started no daemon of its own")
	}
	if err := syscall.Kill(gone, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-notes.got:
		if n.title != "Spare stopped earning" || n.app != "Spare" {
			t.Errorf("notification %+v, want Spare's \"Spare stopped earning\"", n)
		}
		t.Logf("notified: %q: %q", n.title, n.body)
	case <-time.After(30 * time.Second):
		t.Fatal("no notification within 30 s of the daemon's end")
	}
	testenv.WaitFor(t, "the tray starts another daemon", 60*time.Second, func() error {
		if pid := childDaemon(a.cmd.Process.Pid); pid == 0 || pid == gone {
			return errors.New("no new daemon")
		}
		_, err := c.Status(ctx)
		return err
	})
	choose("the window shows again", func() error {
		_, err := windowShot(display, "Spare")
		return err
	}, "Open Spare")
	// Open Spare again while the window is open raises it: no second window.
	first := windowProcess(a.cmd.Process.Pid)
	m, obj, err := readMenu(conn, item)
	if err != nil {
		t.Fatal(err)
	}
	open, _ := m.find("Open Spare")
	if err := click(obj, open.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // a second process, if one were started, would be a child by now
	if again := windowProcess(a.cmd.Process.Pid); again != first || countWindowProcesses(a.cmd.Process.Pid) != 1 {
		t.Errorf("Open Spare with the window open: window processes %d, first %d now %d", countWindowProcesses(a.cmd.Process.Pid), first, again)
	}

	// Starting Spare again (its menu entry, a second autostart) asks the
	// running app to open its window and ends: no second tray icon, no
	// second window.
	if err := closeWindow(display, "Spare"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the window closes to the tray again", 10*time.Second, func() error {
		if pid := windowProcess(a.cmd.Process.Pid); pid != 0 {
			return fmt.Errorf("the window process %d still runs", pid)
		}
		return nil
	})
	sctx, scancel := context.WithTimeout(ctx, time.Minute)
	defer scancel()
	second := exec.CommandContext(sctx, spareBin, a.cmd.Args[1:]...)
	second.Env = a.cmd.Env
	if out, err := second.CombinedOutput(); err != nil || !strings.Contains(string(out), "Spare already runs") {
		t.Fatalf("spare started again: %v: %s", err, out)
	}
	testenv.WaitFor(t, "the running app opens its window for the second start", 30*time.Second, func() error {
		_, err := windowShot(display, "Spare")
		return err
	})
	if n := countWindowProcesses(a.cmd.Process.Pid); n != 1 || a.exited() {
		t.Errorf("after a second start: %d window processes, the app exited %v", n, a.exited())
	}
	select {
	case it := <-w.items:
		t.Errorf("a second tray item registered: %s%s", it.bus, it.path)
	default:
	}

	// Quit ends the app and the daemon it started.
	choose("the app ends", func() error {
		if !a.exited() {
			return errors.New("the app still runs")
		}
		return nil
	}, "Quit")
	if a.err != nil {
		t.Errorf("the app exited with %v", a.err)
	}
	if _, err := c.Status(ctx); !errors.Is(err, localapi.ErrNoDaemon) {
		t.Errorf("after Quit the daemon the app started still answers: %v", err)
	}
	// The app reads the wallet while the daemon creates it; one key results.
	if keys, _ := filepath.Glob(filepath.Join(data, "wallet", "keystore", "UTC--*")); len(keys) != 1 {
		t.Errorf("the wallet holds %d keys after the first run, want 1: %q", len(keys), keys)
	}
}

// TestDesktopAppWithoutTray runs the real app where the desktop offers no
// tray: no session bus at all, and a bus with no StatusNotifierWatcher.
// It must keep running, say so in the window, and end cleanly. No daemon
// can start here (its containerd socket does not exist), so the window
// shows that too.
func TestDesktopAppWithoutTray(t *testing.T) {
	display := testenv.PrivateDisplay(t)
	test.NewTempApp(t)
	for _, tc := range []struct {
		name string
		bus  func(testing.TB) string
	}{
		{"no session bus", func(testing.TB) string { return "" }},
		{"no tray host", sessionBus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			launched := autolaunchedBuses(t)
			a := startDesktopApp(t, data, filepath.Join(data, "no-containerd.sock"), appEnv(t, tc.bus(t), display))
			testenv.WaitFor(t, "the window shows the problem", 30*time.Second, func() error {
				if a.exited() {
					return fmt.Errorf("the app exited: %v", a.err)
				}
				return shownSentence(t, display, "Not connected to the Spare daemon")
			})
			time.Sleep(2 * time.Second) // a crash in the tray set-up would come now
			if a.exited() {
				t.Fatalf("the app exited: %v", a.err)
			}
			a.stop(t)
			if a.err != nil {
				t.Errorf("the app ended with %v after SIGTERM", a.err)
			}
			killDaemonsOf(t, data)
			if left := autolaunchedBuses(t) - launched; left > 0 {
				t.Errorf("%d D-Bus session bus(es) launched by the app outlived it (dbus-launch)", left)
			}
		})
	}
}

// autolaunchedBuses counts the session buses dbus-launch has started
// (dbus-daemon --fork --print-pid … --session); they outlive whoever
// asked for one.
func autolaunchedBuses(t *testing.T) int {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // ended meanwhile
		}
		args := strings.Split(string(b), "\x00")
		if filepath.Base(args[0]) == "dbus-daemon" && slices.Contains(args, "--print-pid") && slices.Contains(args, "--session") {
			n++
		}
	}
	return n
}

// TestDesktopAppEarlySIGTERM: a session that ends while the app is still
// starting (SIGTERM at once, or a little later) ends it cleanly: exit 0,
// no panic, no daemon left behind.
func TestDesktopAppEarlySIGTERM(t *testing.T) {
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	display := testenv.PrivateDisplay(t)
	bus := sessionBus(t)
	runWatcher(t, bus)
	for _, after := range []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond} {
		data := t.TempDir()
		a := startDesktopApp(t, data, sock, appEnv(t, bus, display))
		time.Sleep(after)
		if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-a.done:
		case <-time.After(30 * time.Second):
			_ = a.cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, into the log printed below
			<-a.done
			t.Fatalf("SIGTERM %v after start: the app did not end within 30 s", after)
		}
		// Before the process has set up its handlers, SIGTERM's default
		// action ends it: as clean, since nothing has started yet.
		var ee *exec.ExitError
		killed := errors.As(a.err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGTERM
		b, _ := os.ReadFile(a.log)
		if (a.err != nil && !killed) || strings.Contains(string(b), "panic:") {
			t.Fatalf("SIGTERM %v after start: exit %v\n%s", after, a.err, b)
		}
		t.Logf("SIGTERM %v after start: %v", after, a.err)
	}
}
