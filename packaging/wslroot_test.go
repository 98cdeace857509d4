package packaging

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet"
)

// wslEpoch is the SOURCE_DATE_EPOCH the test builds the image with:
// every file in it must carry this time.
const wslEpoch = 1700000000

// wslDistro and wslData are the distribution's name and the daemon's
// data directory in it, as the Windows app uses them
// (cmd/spare/wsl.go, cmd/spare/app_host_windows.go).
const (
	wslDistro = "Spare"
	wslData   = "/var/lib/spare"
)

// TestWSLRootBoots builds the WSL distribution's image from the .deb
// (packaging/windows/build-rootfs.sh), checks what wsl --import will
// find in it, then boots it here as WSL would, minus Windows: the image
// extracted into a directory, a mount and PID namespace of its own with
// /proc, /sys, /dev, /run and /tmp as WSL provides them, chroot. Inside,
// the image's own containerd (the command of its enabled
// containerd.service) and the daemon as the Windows app starts it. A
// requester on this machine pays it for a reference job (the probe
// reading an input back), and the app's LocalAPI client reaches the
// daemon through the bridge, with a stand-in for wsl.exe that chroots
// into the image as the distribution's default user: status, pause,
// resume.
func TestWSLRootBoots(t *testing.T) {
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "mmdebstrap", "mmdebstrap")
	unshare := testenv.NeedCommand(t, "unshare", "util-linux")
	probe := testenv.Workload(t, "probe")
	pk := buildPackages(t)

	image := filepath.Join(t.TempDir(), "spare-wsl.tar.gz")
	start := time.Now()
	cmd := exec.Command("./windows/build-rootfs.sh", pk.deb, image)
	cmd.Env = append(os.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", wslEpoch))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build-rootfs.sh: %v\n%s", err, tail(out, 4000))
	}
	fi, err := os.Stat(image)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the image: %.1f MiB in %v", float64(fi.Size())/(1<<20), time.Since(start).Round(time.Second))
	conf := checkWSLImage(t, image)

	// The image, extracted as wsl --import does, in directories a job's
	// user namespace may traverse (runc mounts its root from below).
	dir, err := os.MkdirTemp("", "spare-wslroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-xpzf", image, "-C", root, "--numeric-owner").CombinedOutput(); err != nil {
		t.Fatalf("extracting the image: %v\n%s", err, out)
	}

	containerd := unitExecStart(t, root, "containerd.service")
	port := freePort(t)
	// The daemon as the app starts it (wslDaemonArgv), on loopback only,
	// always available (no presence here), advertising every second, and
	// keeping back 1 GiB of disk rather than a tenth of this shared
	// machine's (which its free space may be below), and taking the test
	// requester's IOUs (a stranger's, on the public network, are refused).
	node := []string{"/usr/bin/spare", "node", "--data", wslData, "--containerd", "/run/containerd/containerd.sock",
		"--no-mdns", "--always-available", "--listen", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port),
		"--interval", "1s", "--price", "0.0001", "--reserve-disk", "1G", "--ious-from-strangers"}
	boot := bootWSLRoot(t, unshare, root, containerd, node)

	c := localapi.NewBridgeClient([]string{wslStandIn(t, root, conf["user.default"]), "-d", wslDistro, "--",
		"spare", "bridge", "--data", wslData}, os.Stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var st localapi.Status
	testenv.WaitFor(t, "the daemon in the image, through the bridge", 60*time.Second, func() error {
		select {
		case err := <-boot.exited:
			boot.exited <- err
			t.Fatalf("the booted image ended: %v\n%s", err, boot.logs())
		default:
		}
		s, err := c.Status(ctx)
		if err != nil {
			return err
		}
		if s.State != localapi.StateAvailable || s.PeerID == "" {
			return fmt.Errorf("state %s, peer %q", s.State, s.PeerID)
		}
		st = s
		return nil
	})
	defer func() {
		if t.Failed() {
			t.Logf("%s", boot.logs())
		}
	}()

	// A requester on this machine pays the daemon in the image for the
	// probe reading its input back: containerd, runc and the sandbox
	// all come from the image.
	in := filepath.Join(t.TempDir(), "note.txt")
	const note = "read back inside Spare's WSL distribution"
	if err := os.WriteFile(in, []byte(note), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := exec.CommandContext(ctx, pk.bin, "--data", t.TempDir(), "submit", "--no-mdns",
		"--bootstrap", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", port, st.PeerID),
		"--image", probe, "--input", in, "--max-price", "0.01", "--", "read", "/input/note.txt")
	sub.Env = append(os.Environ(), "SPARE_P2P_PUBLIC_BOOTSTRAP=")
	var subOut, subErr bytes.Buffer
	sub.Stdout, sub.Stderr = &subOut, &subErr
	if err := sub.Run(); err != nil || !strings.Contains(subOut.String(), note) {
		t.Fatalf("the reference job on the image's daemon: %v; stdout %q\nstderr %s", err, subOut.String(), tail(subErr.Bytes(), 3000))
	}

	// The app's controls, through the bridge.
	s, err := c.Pause(ctx, localapi.PauseRequest{})
	if err != nil || s.State != localapi.StatePaused {
		t.Fatalf("pause through the bridge: %v, state %s", err, s.State)
	}
	if s, err = c.Status(ctx); err != nil || s.State != localapi.StatePaused || s.PeerID != st.PeerID {
		t.Fatalf("status after pause: %v, state %s, peer %s", err, s.State, s.PeerID)
	}
	if s, err = c.Resume(ctx); err != nil || s.State == localapi.StatePaused {
		t.Fatalf("resume through the bridge: %v, state %s", err, s.State)
	}
	if earned, err := wallet.ParseAmount(s.EarnedToday); err != nil || earned <= 0 {
		t.Errorf("the daemon earned %q (%v) for the reference job, want more than nothing", s.EarnedToday, err)
	}
	boot.stop(t)
}

// checkWSLImage checks the image as wsl --import takes it: a gzipped tar
// whose every entry has the build's SOURCE_DATE_EPOCH, with containerd,
// runc and spare, /etc/wsl.conf booting systemd (which starts the
// enabled containerd.service; the app, not systemd, runs the daemon),
// and none of the build's leftovers. It returns wsl.conf's settings as
// "section.key".
func checkWSLImage(t *testing.T, image string) map[string]string {
	t.Helper()
	f, err := os.Open(image)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("the image is not gzip: %v", err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("the gzip header records a time (%v) or a name (%q): the image would differ between builds", zr.ModTime, zr.Name)
	}
	tr := tar.NewReader(zr)
	files := map[string]*tar.Header{}
	var wslConf []byte
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading the image: %v", err)
		}
		n++
		name := "/" + strings.TrimPrefix(strings.TrimPrefix(h.Name, "."), "/")
		name = strings.TrimSuffix(name, "/")
		files[name] = h
		if h.ModTime.Unix() != wslEpoch {
			t.Errorf("%s has time %v, want SOURCE_DATE_EPOCH %d", name, h.ModTime, wslEpoch)
		}
		if name == "/etc/wsl.conf" {
			if wslConf, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, want := range []string{"/usr/bin/spare", "/usr/bin/containerd", "/usr/lib/systemd/systemd", "/usr/sbin/init", "/usr/sbin/runc", "/usr/bin/containerd-shim-runc-v2",
		"/etc/wsl.conf", "/etc/machine-id", "/usr/share/doc/spare/copyright", "/usr/share/doc/spare/wsl-packages.txt",
		"/etc/systemd/system/multi-user.target.wants/containerd.service", wslData} {
		if files[want] == nil {
			t.Errorf("the image lacks %s", want)
		}
	}
	if h := files["/etc/machine-id"]; h != nil && h.Size != 0 {
		t.Errorf("/etc/machine-id is the build machine's (%d bytes); want it empty, for systemd to make one at first boot", h.Size)
	}
	for name := range files {
		for _, leftover := range []string{"/var/lib/apt/lists/", "/var/cache/apt/archives/", "/var/log/apt/", "/usr/lib/x86_64-linux-gnu/dri/"} {
			if strings.HasPrefix(name, leftover) && !strings.HasSuffix(name, "/partial") && name+"/" != leftover && filepath.Base(name) != "lock" {
				t.Errorf("the image keeps %s", name)
			}
		}
		if strings.HasPrefix(name, "/etc/systemd/system/") && strings.HasSuffix(name, ".wants/spare-node.service") {
			t.Errorf("systemd would start the daemon (%s) beside the one the app starts", name)
		}
		if name == "/etc/resolv.conf" || name == "/etc/hostname" {
			t.Errorf("the image carries the build machine's %s (WSL writes it)", name)
		}
	}
	conf := parseINI(wslConf)
	for k, v := range map[string]string{"boot.systemd": "true", "interop.enabled": "false", "interop.appendWindowsPath": "false"} {
		if conf[k] != v {
			t.Errorf("wsl.conf sets %s=%q, want %q", k, conf[k], v)
		}
	}
	if conf["user.default"] == "" {
		t.Errorf("wsl.conf names no default user")
	}
	t.Logf("the image holds %d entries", n)
	return conf
}

// parseINI reads wsl.conf's INI form into "section.key" = value.
func parseINI(b []byte) map[string]string {
	m := map[string]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			section = strings.TrimSpace(l[1 : len(l)-1])
		default:
			if k, v, ok := strings.Cut(l, "="); ok {
				m[section+"."+strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	}
	return m
}

// unitExecStart is the command of a systemd unit the image enables.
func unitExecStart(t *testing.T, root, unit string) []string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/multi-user.target.wants", unit)); err != nil {
		t.Fatalf("the image does not enable %s: %v", unit, err)
	}
	b, err := os.ReadFile(filepath.Join(root, "usr/lib/systemd/system", unit))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "ExecStart="); ok {
			return strings.Fields(v)
		}
	}
	t.Fatalf("%s has no ExecStart", unit)
	return nil
}

// wslStandIn writes a script that stands in for wsl.exe: `-d Spare --
// CMD…` runs CMD inside the extracted image as the distribution's
// default user (by the IDs in the image's own account files).
func wslStandIn(t *testing.T, root, user string) string {
	t.Helper()
	uid, gid := imageUser(t, root, user)
	script := filepath.Join(t.TempDir(), "wsl.exe")
	body := fmt.Sprintf("#!/bin/sh\n# Stands in for wsl.exe: -d %[1]s -- CMD... runs CMD in the image as %[2]s.\n"+
		"[ \"$1\" = -d ] && [ \"$2\" = %[1]s ] && [ \"$3\" = -- ] || { echo \"wsl stand-in: want -d %[1]s -- CMD\" >&2; exit 1; }\n"+
		"shift 3\nexec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root chroot --userspec=%[3]d:%[4]d %[5]s \"$@\"\n",
		wslDistro, user, uid, gid, root)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// imageUser finds a user's IDs in the image's /etc/passwd.
func imageUser(t *testing.T, root, user string) (uid, gid int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) >= 4 && f[0] == user {
			uid, err1 := strconv.Atoi(f[2])
			gid, err2 := strconv.Atoi(f[3])
			if err := errors.Join(err1, err2); err != nil {
				t.Fatalf("the image's passwd line for %s: %v", user, err)
			}
			return uid, gid
		}
	}
	t.Fatalf("wsl.conf's default user %q is not in the image's /etc/passwd", user)
	return 0, 0
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
