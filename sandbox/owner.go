package sandbox

import (
	"os"
	"strconv"
	"strings"
)

// Labels on every container and snapshot Spare creates.
const (
	LabelManaged  = "io.spare.managed"   // "true"
	LabelJob      = "io.spare.job"       // job ID
	LabelOwnerPID = "io.spare.owner.pid" // PID of the process that created it
	LabelOwnerRun = "io.spare.owner.run" // that process's start time, to tell a reused PID apart
	LabelWorkDir  = "io.spare.workdir"   // host directory of the job's files
)

// owner identifies a process that owns containers. A container whose owner
// process no longer runs is a leftover.
type owner struct {
	PID   int
	Start string // /proc/PID/stat field 22 (start time in clock ticks)
}

func selfOwner() owner {
	pid := os.Getpid()
	return owner{PID: pid, Start: processStart(pid)}
}

func (o owner) labels() map[string]string {
	return map[string]string{
		LabelManaged:  "true",
		LabelOwnerPID: strconv.Itoa(o.PID),
		LabelOwnerRun: o.Start,
	}
}

// alive reports whether the owner process still runs. On systems without
// /proc it assumes it does, so nothing is removed by mistake.
func (o owner) alive() bool {
	if o.PID <= 0 {
		return false
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return true
	}
	return processStart(o.PID) == o.Start && o.Start != ""
}

func ownerFromLabels(l map[string]string) owner {
	pid, _ := strconv.Atoi(l[LabelOwnerPID])
	return owner{PID: pid, Start: l[LabelOwnerRun]}
}

// processStart returns a process's start time from /proc, or "" when the
// process does not exist.
func processStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces; fields follow the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19] // field 22 overall
}
