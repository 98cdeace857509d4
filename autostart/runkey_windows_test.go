package autostart

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// TestRunKey runs on Windows only, under a key of its own in HKCU.
func TestRunKey(t *testing.T) {
	base := fmt.Sprintf(`Software\SpareTest-%d`, os.Getpid())
	r := RunKey{Path: base + `\Run`, ApprovedPath: base + `\Approved`}
	t.Cleanup(func() {
		registry.DeleteKey(registry.CURRENT_USER, r.Path)
		registry.DeleteKey(registry.CURRENT_USER, r.ApprovedPath)
		registry.DeleteKey(registry.CURRENT_USER, base)
	})
	if enabled(t, r) {
		t.Fatal("enabled with no key")
	}
	exe := `C:\Program Files\Spare\spare.exe`
	if err := r.Set(true, exe); err != nil {
		t.Fatal(err)
	}
	k, err := registry.OpenKey(registry.CURRENT_USER, r.Path, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := k.GetStringValue(runValue)
	k.Close()
	if err != nil || v != `"`+exe+`"` {
		t.Fatalf("Run value %q, %v", v, err)
	}
	if !enabled(t, r) {
		t.Fatal("not enabled after Set(true)")
	}
	// Switched off in Task Manager's Startup tab.
	a, _, err := registry.CreateKey(registry.CURRENT_USER, r.ApprovedPath, registry.SET_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetBinaryValue(runValue, []byte{3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if enabled(t, r) {
		t.Fatal("a Task Manager 'disabled' record read as enabled")
	}
	if err := r.Set(true, exe); err != nil || !enabled(t, r) {
		t.Fatalf("turning on again did not clear the record: %v", err)
	}
	if err := r.Set(false, ""); err != nil {
		t.Fatal(err)
	}
	if enabled(t, r) {
		t.Fatal("enabled after Set(false)")
	}
}
