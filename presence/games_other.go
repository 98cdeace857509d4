//go:build !linux

package presence

import (
	"context"
	"strings"

	"github.com/shirou/gopsutil/v4/process"
)

// newProcLister returns a function listing the processes with gopsutil.
func newProcLister() func(context.Context) ([]proc, error) { return listProcs }

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
		if wantsArgs(name, exe) {
			pr.args, _ = p.CmdlineWithContext(ctx)
			pr.args = strings.TrimSpace(pr.args)
		}
		out = append(out, pr)
	}
	return out, nil
}
