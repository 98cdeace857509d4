package packaging

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparegpu/spare/config"
	"github.com/sparegpu/spare/internal/testenv"
)

// aptInstall installs what args name (package names or a .deb's path in
// root) with apt-get inside root, with no recommended packages; leading
// NAME=VALUE arguments are set in apt-get's environment (and so the
// maintainer scripts'). apt's
// downloads are kept between runs under $XDG_CACHE_HOME/spare/packaging
// so that later runs install offline; when the cached root's package
// lists have gone stale (a point release removed a version) the lists
// are fetched again.
func aptInstall(t *testing.T, root string, args ...string) string {
	t.Helper()
	cache, err := config.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	archives := filepath.Join(cache, "packaging", "apt-archives")
	inRoot := filepath.Join(root, "var/cache/apt/archives")
	if err := os.MkdirAll(archives, 0o755); err != nil {
		t.Fatal(err)
	}
	copyDebs(t, archives, inRoot)
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		_ = os.WriteFile(filepath.Join(root, "etc/resolv.conf"), b, 0o644)
	}
	mountProc(t, root)
	install := []string{"env"}
	for len(args) > 0 && strings.Contains(args[0], "=") {
		install, args = append(install, args[0]), args[1:]
	}
	install = append(install, "apt-get", "install", "-y", "-q", "--no-install-recommends")
	install = append(install, args...)
	out, err := chroot(t, root, install...)
	if err != nil && strings.Contains(out, "404") {
		mustChroot(t, root, "apt-get", "update", "-q")
		out, err = chroot(t, root, install...)
	}
	if err != nil {
		t.Fatalf("apt-get install %s (needs deb.debian.org unless cached): %v\n%s", strings.Join(args, " "), err, tail([]byte(out), 4000))
	}
	copyDebs(t, inRoot, archives)
	return out
}

// copyDebs copies the Debian packages in from that to lacks.
func copyDebs(t *testing.T, from, to string) {
	t.Helper()
	debs, _ := filepath.Glob(filepath.Join(from, "*.deb"))
	for _, d := range debs {
		dst := filepath.Join(to, filepath.Base(d))
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+".partial", b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(dst+".partial", dst); err != nil {
			t.Fatal(err)
		}
	}
}

// mountProc mounts /proc in root once (maintainer scripts of systemd and
// others read it) and unmounts it when the test ends.
func mountProc(t *testing.T, root string) {
	t.Helper()
	proc := filepath.Join(root, "proc")
	if _, err := os.Stat(filepath.Join(proc, "self")); err == nil {
		return
	}
	if err := syscall.Mount("proc", proc, "proc", 0, ""); err != nil {
		t.Fatalf("mounting /proc in the root: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(proc, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", proc, err)
		}
	})
}

// checkLicenses checks what `spare version --licenses` printed: Spare's
// licence and the libraries' own, go-ethereum's LGPL among them.
func checkLicenses(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{"Apache License", "Version 2.0", "github.com/ethereum/go-ethereum",
		"GNU LESSER GENERAL PUBLIC LICENSE", "fyne.io/fyne/v2", "github.com/libp2p/go-libp2p", "Licence: MPL-2.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("spare version --licenses lacks %q", want)
		}
	}
	if n := strings.Count(out, "\nLicence: "); n < 100 {
		t.Errorf("spare version --licenses lists %d libraries, want the hundred and more spare links", n)
	}
}

// appOpensWindow runs the desktop app installed in root on an Xvfb of
// the test's own (the chroot reaches the X server through its abstract
// socket) and waits for its window: the libraries the .deb's
// dependencies brought (libGL, libX11, GLFW's X extensions, Mesa) are
// enough to draw it.
func appOpensWindow(t *testing.T, root string) {
	display := testenv.PrivateDisplay(t)
	xdotool := testenv.NeedCommand(t, "xdotool", "xdotool")
	cmd := exec.Command("chroot", root, "spare", "--data", "/tmp/appdata", "--log-level", "info")
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8", "DISPLAY=" + display}
	log, err := os.Create(filepath.Join(t.TempDir(), "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // our own child, by its PID
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("the app's log:\n%s", tail(b, 4000))
		}
	}()
	testenv.WaitFor(t, "the app's window on "+display, 90*time.Second, func() bool {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the app exited before its window showed: %v", err)
		default:
		}
		c := exec.Command(xdotool, "search", "--onlyvisible", "--name", "^Spare$")
		c.Env = append(os.Environ(), "DISPLAY="+display)
		out, err := c.Output()
		return err == nil && len(strings.TrimSpace(string(out))) > 0
	})
}

// addUser writes a user with the given uid (and a group of its own) into
// root's account files: a bare root has no adduser yet.
func addUser(t *testing.T, root, name string, uid int) {
	t.Helper()
	for file, line := range map[string]string{
		"etc/passwd": fmt.Sprintf("%s:x:%d:%d::/home/%s:/bin/sh\n", name, uid, uid, name),
		"etc/group":  fmt.Sprintf("%s:x:%d:\n", name, uid),
		"etc/shadow": name + ":*:19000:0:99999:7:::\n",
	} {
		f, err := os.OpenFile(filepath.Join(root, file), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString(line)
		if err := errors.Join(err, f.Close()); err != nil {
			t.Fatal(err)
		}
	}
}
