package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/presence/logindtest"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// Users of TestAccessLevels. None has an entry in /etc/passwd: the kernel
// knows users by number, and so does SO_PEERCRED.
const (
	spareGroup = 4240 // stands for the "spare" group the socket is opened to
	member     = 4241 // in the group, nothing more
	listed     = 4242 // in the group and in DATA/owners
	seated     = 4243 // in the group and at the screen (logind's active session)
	outsider   = 4244 // not in the group
)

// answer is what a helper process got from the LocalAPI.
type answer struct {
	status int
	code   localapi.Code
	body   string
}

// asUser makes one LocalAPI request from a process running as uid (in
// the spare group when grouped): this test binary, started again with
// those credentials (SysProcAttr.Credential), runs localAPIHelper. The
// binary is handed over as an open file and executed through
// /proc/self/fd: the build directory it lies in is root's alone.
func asUser(t *testing.T, dir string, uid int, grouped bool, method, path, body string) answer {
	t.Helper()
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}
	if grouped {
		cred.Groups = []uint32{spareGroup}
	}
	cmd := &exec.Cmd{Path: "/proc/self/fd/3", Args: []string{"node.test", "-test.run=^$"}, ExtraFiles: []*os.File{exe},
		Env:         []string{"SPARE_HELPER_LOCALAPI=" + localapi.SocketPath(dir), "SPARE_HELPER_REQUEST=" + method + " " + path, "SPARE_HELPER_BODY=" + body},
		SysProcAttr: &syscall.SysProcAttr{Credential: cred}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as uid %d: %v\n%s", uid, err, out)
	}
	first, rest, _ := strings.Cut(string(out), "\n")
	a := answer{body: rest}
	if a.status, err = strconv.Atoi(first); err != nil {
		a.body = string(out) // the helper could not reach the daemon
		return a
	}
	var e localapi.Error
	if json.Unmarshal([]byte(rest), &e) == nil {
		a.code = e.Code
	}
	return a
}

// localAPIHelper is asUser's process: it sends one request and prints the
// status code and the body ("dial: ERROR" when the socket refuses it).
func localAPIHelper(sock string) {
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	method, path, _ := strings.Cut(os.Getenv("SPARE_HELPER_REQUEST"), " ")
	req, _ := http.NewRequest(method, "http://spare"+path, strings.NewReader(os.Getenv("SPARE_HELPER_BODY")))
	resp, err := hc.Do(req)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(0)
	}
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d\n%s", resp.StatusCode, b)
	os.Exit(0)
}

func TestMain(m *testing.M) {
	if sock := os.Getenv("SPARE_HELPER_LOCALAPI"); sock != "" {
		localAPIHelper(sock)
	}
	os.Exit(m.Run())
}

// accessDaemon runs a daemon with a wallet whose socket the spare group
// (spareGroup) may use, as the packages set it up: the data directory
// traversable, the socket 0660 root:spare. logind is asked on the private
// bus at bus (DBUS_SYSTEM_BUS_ADDRESS).
func accessDaemon(t *testing.T, bus string) (string, *localapi.Client) {
	t.Helper()
	testenv.NeedRoot(t)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", bus)
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(ownersPath(dir), []byte("# the owner recorded at install\n"+strconv.Itoa(listed)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, c := apiDaemon(t, dir, DaemonConfig{Wallet: wallettest.Open(t, dir), Settings: governor.Settings{}})
	sock := localapi.SocketPath(dir)
	if err := os.Chown(sock, -1, spareGroup); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o660); err != nil {
		t.Fatal(err)
	}
	return dir, c
}

const idleForAYear = `{"idle_ms": 31536000000, "idle_known": true}`

// TestAccessLevels plays the other users of a shared machine against a
// real daemon over its socket, each a process of its own with its own
// user ID (SO_PEERCRED names it), with a stand-in logind on a real private
// dbus-daemon (logind itself needs systemd as PID 1). A member of the
// spare group reads and pauses; changing the rules, the wallet and jobs
// need an owner; presence counts only from the user at the screen.
// Before levels, every refused case here was served.
func TestAccessLevels(t *testing.T) {
	bus := logindtest.Bus(t)
	login := logindtest.Start(t, bus)
	login.SetActive(t, "seat0", seated)
	dir, c := accessDaemon(t, bus)
	ctx := context.Background()
	before, err := c.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	withdraw := `{"to":"0x8ba1f109551bD432803012645Ac136ddd64DBA72","amount":"0.01","passphrase":"not it"}`
	settings := `{"idle_minutes":1,"run_on_battery":true,"max_temp_c":95,"schedule":"always","price_floor":"","workloads":["render","inference"]}`

	cases := []struct {
		name         string
		uid          int
		method, path string
		body         string
		status       int
		code         localapi.Code
		says         string
	}{
		{"member reads the status", member, "GET", "/v1/status", "", 200, "", `"state"`},
		{"member reads the wallet", member, "GET", "/v1/wallet", "", 200, "", `"earned"`},
		{"member reads the settings read-only", member, "GET", "/v1/settings", "", 200, "", `needs an owner of this Spare`},
		{"member pauses", member, "POST", "/v1/pause", `{"for":"1h"}`, 200, "", `"Paused"`},
		{"member resumes", member, "POST", "/v1/resume", "", 200, "", `"state"`},
		{"member may not change the settings", member, "PUT", "/v1/settings", settings, 403, localapi.CodeNeedsOwner, "sudo tee -a " + ownersPath(dir)},
		{"member may not withdraw", member, "POST", "/v1/wallet/withdraw", withdraw, 403, localapi.CodeNeedsOwner, "Withdrawing needs an owner"},
		{"member may not export the key", member, "POST", "/v1/wallet/export", `{"passphrase":"x"}`, 403, localapi.CodeNeedsOwner, "Exporting the wallet key needs an owner"},
		{"member may not submit jobs", member, "POST", "/v1/jobs", `{"spec":{}}`, 403, localapi.CodeNeedsOwner, "Submitting jobs"},
		{"member may not stop the daemon", member, "POST", "/v1/stop", "", 403, localapi.CodeNeedsOwner, "Stopping the daemon needs an owner"},
		{"member may not report presence", member, "POST", "/v1/presence", idleForAYear, 403, localapi.CodeNotSession, "the active session is " + userName(seated) + "'s"},
		{"listed owner may not report presence for another's session", listed, "POST", "/v1/presence", idleForAYear, 403, localapi.CodeNotSession, "you are " + userName(listed)},
		{"the user at the screen may not change the settings", seated, "PUT", "/v1/settings", settings, 403, localapi.CodeNeedsOwner, "You are " + userName(seated)},
		{"outsider cannot open the socket", outsider, "GET", "/v1/status", "", 0, "", "permission denied"},
		{"the user at the screen reports presence", seated, "POST", "/v1/presence", idleForAYear, 204, "", ""},
		{"listed owner changes the settings", listed, "PUT", "/v1/settings", settings, 200, "", `"idle_minutes":1`},
		{"listed owner reaches the wallet", listed, "POST", "/v1/wallet/withdraw", withdraw, 403, localapi.CodeBadPass, ""},
		{"listed owner reads the settings to change", listed, "GET", "/v1/settings", "", 200, "", `"workloads"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { // in order: each case sees the ones before
			if tc.name == "the user at the screen reports presence" {
				// Nothing refused so far reached the governor: no report, so
				// the sensor is silent.
				if s, _ := c.Status(ctx); s.Reason != localapi.ReasonSilent {
					t.Fatalf("after refused presence reports: %s (%s), want silent", s.Reason, s.Sentence)
				}
				if got, _ := c.Settings(ctx); fmt.Sprint(got) != fmt.Sprint(before) {
					t.Fatalf("settings changed by refused requests: %+v, was %+v", got, before)
				}
			}
			a := asUser(t, dir, tc.uid, tc.uid != outsider, tc.method, tc.path, tc.body)
			if a.status != tc.status || a.code != tc.code || !strings.Contains(a.body, tc.says) {
				t.Errorf("%d %q %s\nwant %d %q and %q in it", a.status, a.code, a.body, tc.status, tc.code, tc.says)
			}
			if tc.name == "listed owner reads the settings to change" && strings.Contains(a.body, "read_only") {
				t.Errorf("an owner is told the settings are read-only: %s", a.body)
			}
		})
	}
	testenv.WaitFor(t, "the seated user's report to count", 5*time.Second, func() bool {
		s, _ := c.Status(ctx)
		return s.Reason != localapi.ReasonSilent
	})

	// The user at the screen switches: the member now sits there.
	login.SetActive(t, "seat0", member)
	if a := asUser(t, dir, member, true, "POST", "/v1/presence", idleForAYear); a.status != 204 {
		t.Errorf("member at the screen: %d %s", a.status, a.body)
	}
	if a := asUser(t, dir, seated, true, "POST", "/v1/presence", idleForAYear); a.status != 403 || a.code != localapi.CodeNotSession {
		t.Errorf("the user who left the screen: %d %s", a.status, a.body)
	}
	login.SetActive(t, "seat0", -1)
	if a := asUser(t, dir, member, true, "POST", "/v1/presence", idleForAYear); a.status != 403 || !strings.Contains(a.body, "nobody holds the active session") {
		t.Errorf("nobody at the screen: %d %s", a.status, a.body)
	}

	// An owners file others may write lists nobody: a member who added
	// themself to it is still a member.
	if err := os.Chmod(ownersPath(dir), 0o666); err != nil {
		t.Fatal(err)
	}
	if a := asUser(t, dir, listed, true, "PUT", "/v1/settings", settings); a.status != 403 || a.code != localapi.CodeNeedsOwner {
		t.Errorf("owners file writable by others: %d %s", a.status, a.body)
	}
}

// TestPresenceWithoutLogind: where logind cannot be asked who sits at the
// machine (no systemd: a container, some distributions), presence reports
// are taken from owners only: root, the daemon's user, DATA/owners.
func TestPresenceWithoutLogind(t *testing.T) {
	for _, tc := range []struct{ name, bus string }{
		{"nothing answers for logind", ""}, // a real bus without it
		{"no system bus", "unix:path=/nonexistent/spare-test-bus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := tc.bus
			if bus == "" {
				bus = logindtest.Bus(t)
			}
			dir, _ := accessDaemon(t, bus)
			if a := asUser(t, dir, member, true, "POST", "/v1/presence", idleForAYear); a.status != 403 || a.code != localapi.CodeNotSession ||
				!strings.Contains(a.body, "logind cannot say who that is here") {
				t.Errorf("member: %d %q %s", a.status, a.code, a.body)
			}
			if a := asUser(t, dir, listed, true, "POST", "/v1/presence", idleForAYear); a.status != 204 {
				t.Errorf("listed owner: %d %s", a.status, a.body)
			}
		})
	}
}
