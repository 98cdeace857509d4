//go:build linux

package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/autostart"
	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/node"
)

// A member of the spare group in TestSettingsReadOnlyForMember: no
// /etc/passwd entry, known to the kernel by number.
const (
	spareGroupID = 4240
	memberID     = 4241
)

// TestSettingsReadOnlyForMember: the app of a spare group member who is
// not an owner shows the owner's rules read-only with the daemon's
// sentence (who may change them, how to become an owner), not an error;
// start at login, the member's own, still saves. The member's requests
// reach the real daemon from a process running as the member's uid (a
// byte-for-byte relay, memberRelay), so SO_PEERCRED names the member.
func TestSettingsReadOnlyForMember(t *testing.T) {
	d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}})
	sock := localapi.SocketPath(d.dir)
	testenv.WaitFor(t, "the LocalAPI", 10*time.Second, func() error { _, err := localapi.NewClient(d.dir).Status(context.Background()); return err })
	for _, p := range []string{filepath.Dir(d.dir), d.dir} { // as packaged: the group traverses to the socket
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(sock, -1, spareGroupID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o660); err != nil {
		t.Fatal(err)
	}
	relayDir := startMemberRelay(t, sock)
	before, err := localapi.NewClient(d.dir).Settings(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	login := autostart.XDG{ConfigHome: t.TempDir(), ConfigDirs: []string{t.TempDir()}}
	a := startApp(t, app.Config{DataDir: goldenDir(t), Client: localapi.NewClient(relayDir), Session: &app.SessionInfo{Bus: true, TrayHost: true}, Login: login})
	waitSentence(t, a, "Available")
	a.Inspect(func() { a.UI().SelectTab("Settings") })
	note := func(prefix string) bool {
		found := false
		a.Inspect(func() {
			for _, o := range visible(a.UI().Window().Canvas().Content(), nil) {
				if l, ok := o.(*widget.Label); ok && strings.HasPrefix(l.Text, prefix) {
					found = true
				}
			}
		})
		return found
	}
	testenv.WaitFor(t, "the read-only sentence", 10*time.Second, func() bool {
		return note("Changing the settings needs an owner of this Spare: root, ")
	})
	a.Inspect(func() {
		for _, e := range entries(a, false) {
			if !e.Disabled() {
				t.Errorf("entry %q is editable for a member", e.Text)
			}
		}
		if check(t, a, "Work while on battery").Disabled() == false {
			t.Error("the battery rule is editable for a member")
		}
		if button(t, a, "Save").Disabled() || check(t, a, "Open Spare when I log in").Disabled() {
			t.Error("start at login cannot be saved by a member")
		}
		check(t, a, "Open Spare when I log in").SetChecked(true)
		test.Tap(button(t, a, "Save"))
	})
	testenv.WaitFor(t, "start at login saved", 10*time.Second, func() bool {
		return note("Saved start at login. The work rules stay as the owner set them.")
	})
	if on, err := login.Enabled(); err != nil || !on {
		t.Fatalf("start at login: %v %v", on, err)
	}
	after, err := localapi.NewClient(d.dir).Settings(context.Background())
	if err != nil || fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("the daemon's settings changed: %+v (%v), were %+v", after, err, before)
	}
}

// startMemberRelay runs memberRelay as the member (in the spare group)
// until the test ends, and returns a directory whose spare.sock leads to
// the daemon at sock as the member.
func startMemberRelay(t *testing.T, sock string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chown(dir, memberID, memberID); err != nil {
		t.Fatal(err)
	}
	// The test binary lies in a directory only root may enter: it is
	// handed over open and started through /proc/self/fd.
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	cmd := &exec.Cmd{Path: "/proc/self/fd/3", Args: []string{"app.test", "-test.run=^$"}, ExtraFiles: []*os.File{exe},
		Env:         []string{"SPARE_HELPER_RELAY_TO=" + sock, "SPARE_HELPER_RELAY_AT=" + localapi.SocketPath(dir)},
		SysProcAttr: &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: memberID, Gid: memberID, Groups: []uint32{spareGroupID}}}}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("relay: %q %v", line, err)
	}
	return dir
}

// memberRelay listens at `at` and relays each connection to the socket
// `to`, which it opens as its own user.
func memberRelay(to, at string) {
	ln, err := net.Listen("unix", at)
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(1)
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("unix", to)
			if err != nil {
				return
			}
			defer up.Close()
			go func() { _, _ = io.Copy(up, c); up.(*net.UnixConn).CloseWrite() }()
			_, _ = io.Copy(c, up)
		}()
	}
}

func TestMain(m *testing.M) {
	if to := os.Getenv("SPARE_HELPER_RELAY_TO"); to != "" {
		memberRelay(to, os.Getenv("SPARE_HELPER_RELAY_AT"))
	}
	if dir := os.Getenv("SPARE_HELPER_SETTINGS_TRAY"); dir != "" {
		os.Exit(app.SettingsTray(dir))
	}
	if dir := os.Getenv("SPARE_HELPER_SETTINGS_DIR"); dir != "" {
		os.Exit(app.SettingsWriter(dir, os.Getenv("SPARE_HELPER_SETTINGS_NAME")))
	}
	os.Exit(m.Run())
}
