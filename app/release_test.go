package app

import (
	"context"
	"runtime/metrics"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/sparegpu/spare/localapi"
)

// forcedGCs counts the collections the program asked for (FreeOSMemory
// runs one).
func forcedGCs() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func waitForcedGCs(t *testing.T, n uint64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for forcedGCs() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d forced collections, want %d within %s", forcedGCs(), n, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReleasesMemoryWhenSettled checks that the app hands its free heap
// back once quiet after it starts and after its window closes to the
// tray, and does not keep collecting while nothing happens.
func TestReleasesMemoryWhenSettled(t *testing.T) {
	fy := test.NewTempApp(t)
	dir := t.TempDir()
	settle := 300 * time.Millisecond
	a := New(fy, Config{DataDir: dir, Client: localapi.NewClient(dir),
		Session: &SessionInfo{Bus: true, TrayHost: true}, SettleAfter: settle})
	ctx, cancel := context.WithCancel(context.Background())
	base := forcedGCs()
	start := time.Now()
	a.Start(ctx)
	t.Cleanup(func() { cancel(); a.Stop() })

	waitForcedGCs(t, base+1, 5*time.Second)
	if took := time.Since(start); took < settle {
		t.Errorf("memory handed back %s after start, before the app settled (%s)", took, settle)
	}
	time.Sleep(3 * settle)
	if n := forcedGCs(); n != base+1 {
		t.Fatalf("%d forced collections while the app idled, want 1", n-base)
	}

	fyne.DoAndWait(a.ui.hide) // the window's close button, with a tray
	waitForcedGCs(t, base+2, 5*time.Second)
}
