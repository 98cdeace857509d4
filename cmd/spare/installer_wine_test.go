//go:build linux && cgo

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparegpu/spare/internal/testenv"
)

// TestInstallerUnderWine builds the NSIS installer around spare.exe and a
// distribution image, installs it silently under Wine and uninstalls it:
// the files, the Run key and the uninstall entry come and go, and the
// uninstaller copies the wallet out before it unregisters the
// distribution. wsl.exe is a stand-in (packaging/windows/wine) that
// records what it is asked.
func TestInstallerUnderWine(t *testing.T) {
	testenv.NeedCommand(t, "makensis", "nsis")
	exe := windowsApp(t)
	display := testenv.PrivateDisplay(t)
	env := winePrefix(t, display)
	prefix := envValue(env, "WINEPREFIX")
	wine := wineBin(t, "wine64")
	cc := testenv.NeedCommand(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
	sys32 := filepath.Join(prefix, "drive_c", "windows", "system32")
	if b, err := exec.Command(cc, "-municode", "-O2", "-o", filepath.Join(sys32, "wsl.exe"),
		filepath.Join("..", "..", "packaging", "windows", "wine", "wsl-standin.c")).CombinedOutput(); err != nil {
		t.Fatalf("building the wsl.exe stand-in: %v\n%s", err, b)
	}

	dir := t.TempDir()
	image := filepath.Join(dir, "spare-wsl.tar") // the real image comes with the distribution build
	if err := os.WriteFile(image, []byte("a stand-in for the distribution image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := filepath.Join(dir, "spare-setup.exe")
	build := exec.Command(filepath.Join("..", "..", "packaging", "windows", "build-installer.sh"), exe, setup, image)
	build.Env = append(os.Environ(), "VERSION=1.2.3")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build-installer.sh: %v\n%s", err, b)
	}
	if fi, err := os.Stat(setup); err == nil {
		t.Logf("installer: %d bytes (spare.exe inside)", fi.Size())
	}

	wineRun(t, env, wine, setup, "/S")
	users, _ := filepath.Glob(filepath.Join(prefix, "drive_c", "users", "*", "AppData", "Local", "Programs", "Spare"))
	if len(users) != 1 {
		t.Fatalf("no install directory under %s/drive_c/users/*/AppData/Local/Programs/Spare", prefix)
	}
	inst := users[0]
	for _, f := range []string{"spare.exe", "uninstall.exe", "LICENSE.txt", "NOTICES.txt", filepath.Join("distro", "spare-wsl.tar")} {
		if _, err := os.Stat(filepath.Join(inst, f)); err != nil {
			t.Errorf("installed files: %v", err)
		}
	}
	run := `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`
	uninst := `HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Spare`
	if v := regQuery(t, env, wine, run, "Spare"); !strings.Contains(v, `Programs\Spare\spare.exe"`) {
		t.Errorf("Run value Spare = %q, want the installed spare.exe", v)
	}
	if v := regQuery(t, env, wine, uninst, "DisplayVersion"); v != "1.2.3" {
		t.Errorf("uninstall entry's DisplayVersion = %q, want 1.2.3", v)
	}
	if v := regQuery(t, env, wine, uninst, "QuietUninstallString"); !strings.HasSuffix(v, `uninstall.exe" /S`) {
		t.Errorf("QuietUninstallString = %q", v)
	}

	// NSIS's uninstaller copies itself to a temporary file and runs from
	// there; _?= keeps it in place so that its end is the uninstall's end.
	wineRun(t, env, wine, filepath.Join(inst, "uninstall.exe"), "/S", "_?="+winPath(inst))
	for _, f := range []string{"spare.exe", filepath.Join("distro", "spare-wsl.tar")} {
		if _, err := os.Stat(filepath.Join(inst, f)); err == nil {
			t.Errorf("%s is still there after uninstall", f)
		}
	}
	if v := regQuery(t, env, wine, run, "Spare"); v != "" {
		t.Errorf("the Run value is still there after uninstall: %q", v)
	}
	if v := regQuery(t, env, wine, uninst, "DisplayName"); v != "" {
		t.Errorf("the uninstall entry is still there: %q", v)
	}
	calls, err := os.ReadFile(filepath.Join(prefix, "drive_c", "wsl-calls.txt"))
	if err != nil {
		t.Fatalf("wsl.exe was never run: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
	copyAt, unregAt := -1, -1
	for i, l := range lines {
		if strings.Contains(l, "-d Spare --") && strings.Contains(l, "/var/lib/spare/wallet") && strings.Contains(l, `AppData\Local\Spare\wallet`) {
			copyAt = i
		}
		if strings.Contains(l, "--unregister Spare") {
			unregAt = i
		}
	}
	if copyAt < 0 || unregAt < copyAt {
		t.Errorf("the uninstaller must copy the wallet out, then unregister the distribution; wsl.exe was run as:\n%s", calls)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(inst)), "Spare", "wallet")); err != nil {
		t.Errorf("the wallet folder the uninstaller names is gone: %v", err)
	}
}

// wineRun runs a Windows program under Wine and fails the test unless it
// exits 0.
func wineRun(t *testing.T, env []string, wine string, args ...string) {
	t.Helper()
	cmd := exec.Command(wine, args...)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wine %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// regQuery reads a string value with Wine's reg.exe; "" when absent.
func regQuery(t *testing.T, env []string, wine, key, value string) string {
	t.Helper()
	cmd := exec.Command(wine, "reg", "query", key, "/v", value)
	cmd.Env = env
	b, err := cmd.Output()
	if err != nil {
		return "" // reg exits 1 when the key or value is absent
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == value && strings.HasPrefix(f[1], "REG_") {
			_, v, _ := strings.Cut(l, f[1])
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// winPath is a prefix path as Wine's programs see it (drive_c is C:).
func winPath(p string) string {
	_, rest, _ := strings.Cut(p, "drive_c")
	return "C:" + strings.ReplaceAll(rest, "/", `\`)
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}
