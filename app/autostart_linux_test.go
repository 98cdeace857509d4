//go:build linux

package app

import (
	"os"
	"strings"
	"testing"
)

func TestXDGAutostart(t *testing.T) {
	x := xdgAutostart{configHome: t.TempDir()}
	p, _ := x.path()
	if err := x.set(true, "/opt/spare/spare"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(b), `Exec="/opt/spare/spare"`) || !strings.Contains(string(b), "Type=Application") {
		t.Fatalf("autostart file %q, %v", b, err)
	}
	if err := x.set(false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("autostart file left: %v", err)
	}
}
