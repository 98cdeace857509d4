package autostart

import (
	"encoding/xml"
	"os"
	"testing"
)

// plist is the shape Spare writes: a dict of alternating keys and values.
type plist struct {
	XMLName xml.Name `xml:"plist"`
	Version string   `xml:"version,attr"`
	Dict    struct {
		Keys    []string   `xml:"key"`
		Strings []string   `xml:"string"`
		Args    []string   `xml:"array>string"`
		True    []struct{} `xml:"true"`
	} `xml:"dict"`
}

func TestLaunchAgent(t *testing.T) {
	l := LaunchAgent{Home: t.TempDir()}
	if enabled(t, l) {
		t.Fatal("enabled with no agent")
	}
	exe := "/Applications/Spare & Co.app/Contents/MacOS/spare"
	if err := l.Set(true, exe); err != nil {
		t.Fatal(err)
	}
	p, _ := l.path()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var pl plist
	if err := xml.Unmarshal(b, &pl); err != nil {
		t.Fatalf("agent is not well-formed XML: %v\n%s", err, b)
	}
	wantKeys := []string{"Label", "ProgramArguments", "RunAtLoad", "ProcessType", "LimitLoadToSessionType"}
	if pl.Version != "1.0" || len(pl.Dict.Keys) != len(wantKeys) || len(pl.Dict.True) != 1 {
		t.Fatalf("agent:\n%s", b)
	}
	for i, k := range wantKeys {
		if pl.Dict.Keys[i] != k {
			t.Fatalf("key %d is %q, want %q", i, pl.Dict.Keys[i], k)
		}
	}
	if pl.Dict.Strings[0] != agentLabel || len(pl.Dict.Args) != 1 || pl.Dict.Args[0] != exe {
		t.Fatalf("label %q, arguments %q", pl.Dict.Strings[0], pl.Dict.Args)
	}
	if !enabled(t, l) {
		t.Fatal("not enabled after Set(true)")
	}
	if err := l.Set(false, ""); err != nil {
		t.Fatal(err)
	}
	if enabled(t, l) {
		t.Fatal("enabled after Set(false)")
	}
	if err := l.Set(true, "spare"); err == nil {
		t.Fatal("a relative path was accepted")
	}
}
