package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SessionBus starts a private D-Bus session bus (dbus-daemon) for the
// test and returns its address; it stops when the test ends. Anyone on it
// may own any name, as a desktop's session bus allows.
func SessionBus(t testing.TB) string {
	t.Helper()
	daemon := NeedCommand(t, "dbus-daemon", "dbus")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "session.conf")
	err := os.WriteFile(cfg, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir=`+dir+`</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+cfg, "--nofork", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killAtEnd(t, cmd)
	return firstLine(t, out, "dbus-daemon", "its bus address")
}
