package presence

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procLister lists processes from /proc, cheaply enough to run every
// heartbeat: each scan reads the PIDs and each process's executable link
// (the link changes when a launcher execs the game), and reads a name
// and command line only for a process it has not seen with that
// executable. A reused PID with the same executable is the same program
// to the rules in Games.find, except under wine, whose command line is
// read every time.
type procLister struct {
	root string // "/proc" (tests may point elsewhere)
	seen map[uint32]proc
}

// newProcLister returns a function listing the processes, remembering
// what it read between calls (one lister per Watch).
func newProcLister() func(context.Context) ([]proc, error) {
	l := &procLister{root: "/proc", seen: map[uint32]proc{}}
	return l.list
}

// listProcs lists the processes once.
func listProcs(ctx context.Context) ([]proc, error) { return newProcLister()(ctx) }

func (l *procLister) list(ctx context.Context) ([]proc, error) {
	d, err := os.Open(l.root)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	out := make([]proc, 0, len(names))
	next := make(map[uint32]proc, len(l.seen))
	for _, n := range names {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		pid, err := strconv.ParseUint(n, 10, 32)
		if err != nil {
			continue // not a process
		}
		dir := filepath.Join(l.root, n)
		exe, _ := os.Readlink(filepath.Join(dir, "exe")) // kernel threads and others' processes have none
		exe = strings.TrimSuffix(exe, " (deleted)")
		p, ok := l.seen[uint32(pid)]
		if !ok || p.exe != exe {
			comm, err := os.ReadFile(filepath.Join(dir, "comm"))
			if err != nil {
				continue // the process ended
			}
			p = proc{pid: uint32(pid), name: procName(strings.TrimSuffix(string(comm), "\n"), exe), exe: exe}
		}
		if wantsArgs(p.name, p.exe) {
			p.args = readCmdline(filepath.Join(dir, "cmdline"))
		}
		next[p.pid] = p
		out = append(out, p)
	}
	l.seen = next
	return out, nil
}

// procName is the process's name: the kernel's comm, which is cut at 15
// bytes, or the executable's file name when comm is its beginning.
func procName(comm, exe string) string {
	if base := filepath.Base(exe); exe != "" && len(comm) >= 15 && strings.HasPrefix(base, comm) {
		return base
	}
	return comm
}

// readCmdline returns a process's arguments joined by spaces ("" when
// unreadable).
func readCmdline(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}
