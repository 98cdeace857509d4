package presence

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// fakeProc writes a process entry (comm and the exe link) under root.
func fakeProc(t *testing.T, root, pid, comm, exe string) {
	t.Helper()
	dir := filepath.Join(root, pid)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "comm"), []byte(comm+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "exe"))
	if err := os.Symlink(exe, filepath.Join(dir, "exe")); err != nil {
		t.Fatal(err)
	}
}

// TestProcListerExecAndReuse follows a launcher that execs a Steam game
// (same PID, new executable), a long name cut by the kernel, and a PID
// that goes away, through one lister as Watch keeps it.
func TestProcListerExecAndReuse(t *testing.T) {
	root := t.TempDir()
	fakeProc(t, root, "10", "bash", "/usr/bin/bash")
	fakeProc(t, root, "20", "DaVinciResolve-", "/opt/resolve/bin/DaVinciResolve-Studio")
	if err := os.WriteFile(filepath.Join(root, "self"), nil, 0o644); err != nil { // not a process
		t.Fatal(err)
	}
	l := &procLister{root: root, seen: map[uint32]proc{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g := Games{Names: []string{"DaVinciResolve-Studio"}, list: l.list}
	find := func() (string, []uint32) { return g.find(context.Background(), log) }

	if name, pids := find(); name != "DaVinciResolve-Studio" || len(pids) != 1 || pids[0] != 20 {
		t.Fatalf("long name: %q %v", name, pids)
	}
	os.RemoveAll(filepath.Join(root, "20"))
	if name, _ := find(); name != "" {
		t.Fatalf("after the process ended: %q", name)
	}
	// The launcher execs the game: same PID, another executable.
	fakeProc(t, root, "10", "hl2_linux", "/home/a/.steam/steam/steamapps/common/Half-Life 2/hl2_linux")
	if name, pids := find(); name != "Half-Life 2" || len(pids) != 1 || pids[0] != 10 {
		t.Fatalf("after exec: %q %v", name, pids)
	}
	if len(l.seen) != 1 {
		t.Fatalf("the lister remembers %d processes, want 1", len(l.seen))
	}
}
