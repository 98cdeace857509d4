package presence

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/shirou/gopsutil/v4/process"
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

	list func(ctx context.Context) ([]proc, error) // tests
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
		list = listProcs
	}
	procs, err := list(ctx)
	if err != nil {
		log.Warn("listing processes", "err", err)
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

// listProcs lists processes with gopsutil. Processes that vanish or deny
// access are skipped.
func listProcs(ctx context.Context) ([]proc, error) {
	ps, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]proc, 0, len(ps))
	for _, p := range ps {
		name, err := p.NameWithContext(ctx)
		if err != nil {
			continue
		}
		exe, _ := p.ExeWithContext(ctx)
		pr := proc{pid: uint32(p.Pid), name: name, exe: exe}
		if !inSteamApps(exe) && strings.Contains(strings.ToLower(name), "wine") || strings.HasSuffix(strings.ToLower(name), ".exe") {
			// Proton games run under wine: the game's path is in the arguments.
			pr.args, _ = p.CmdlineWithContext(ctx)
		}
		out = append(out, pr)
	}
	return out, nil
}
