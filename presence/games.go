package presence

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
)

// Games says which running programs count as the owner playing.
type Games struct {
	// Names are process names (case-insensitive, ".exe" optional) that
	// count as games or exclusive apps, e.g. "blender", "resolve".
	Names []string
	// NoSteam turns off treating any process under a steamapps directory
	// as a game. Zero: Steam games count.
	NoSteam bool
	// Disabled turns process scanning off (fullscreen windows still count).
	Disabled bool

	// list lists the processes; nil: a fresh newProcLister. Watch keeps
	// one lister for its whole run (tests set their own).
	list func(ctx context.Context) ([]proc, error)
}

type proc struct {
	pid  uint32
	name string
	exe  string
	args string
}

// find returns the first game found and the PIDs running it.
func (g Games) find(ctx context.Context, log *slog.Logger) (string, []uint32) {
	if g.Disabled {
		return "", nil
	}
	list := g.list
	if list == nil {
		list = newProcLister()
	}
	procs, err := list(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("listing processes", "err", err)
		}
		return "", nil
	}
	want := map[string]bool{}
	for _, n := range g.Names {
		want[normName(n)] = true
	}
	var (
		game string
		pids []uint32
	)
	for _, p := range procs {
		name := ""
		switch {
		case want[normName(p.name)] || (p.exe != "" && want[normName(filepath.Base(p.exe))]):
			name = p.name
		case !g.NoSteam && (inSteamApps(p.exe) || inSteamApps(p.args)):
			name = steamTitle(p)
		}
		if name == "" || (game != "" && name != game) {
			continue
		}
		game = name
		pids = append(pids, p.pid)
	}
	return game, pids
}

func normName(n string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".exe")
}

func inSteamApps(path string) bool {
	p := strings.ToLower(strings.ReplaceAll(path, "\\", "/"))
	return strings.Contains(p, "/steamapps/common/")
}

// steamTitle names a Steam game by its folder under steamapps/common.
func steamTitle(p proc) string {
	for _, s := range []string{p.exe, p.args} {
		norm := strings.ReplaceAll(s, "\\", "/")
		i := strings.Index(strings.ToLower(norm), "/steamapps/common/")
		if i < 0 {
			continue
		}
		rest := norm[i+len("/steamapps/common/"):]
		if j := strings.IndexByte(rest, '/'); j > 0 {
			return rest[:j]
		}
	}
	return p.name
}

// wantsArgs says whether a process's command line must be read: Proton
// games run under wine, and the game's path is in the arguments.
func wantsArgs(name, exe string) bool {
	n := strings.ToLower(name)
	return !inSteamApps(exe) && strings.Contains(n, "wine") || strings.HasSuffix(n, ".exe")
}
