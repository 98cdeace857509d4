//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// opForkbomb starts up to N processes that sleep, counts how many the kernel
// allowed, then kills them all. The children are raw clones of this process
// that never return to Go code, so each costs exactly one pid (a Go child
// would cost one per runtime thread) and the parent needs no new threads.
func opForkbomb(args []string) result {
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 {
		return newResult("forkbomb", fmt.Errorf("argument N: want a count, got %q", args[0]))
	}
	runtime.LockOSThread()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	pids := make([]int, 0, n)
	var ferr error
	for len(pids) < n {
		pid, errno := forkSleeper()
		if errno != 0 {
			ferr = errno
			break
		}
		pids = append(pids, pid)
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, pid := range pids {
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, 0, nil)
	}
	r := newResult("forkbomb", ferr)
	r["requested"] = n
	r["started"] = len(pids)
	return r
}

// forkSleeper clones the calling thread into a new process that sleeps in
// ppoll until killed. Only raw system calls run in the child.
//
//go:norace
//go:nosplit
func forkSleeper() (int, syscall.Errno) {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	if pid == 0 {
		for {
			syscall.RawSyscall6(syscall.SYS_PPOLL, 0, 0, 0, 0, 0, 0)
		}
	}
	return int(pid), 0
}

// opBalloon allocates MB mebibytes and touches every page, reporting
// progress on stderr every 64 MiB. Past the memory limit the kernel kills
// the process, so only a balloon that fits prints its result.
func opBalloon(args []string) result {
	mb, err := strconv.Atoi(args[0])
	if err != nil || mb < 0 {
		return newResult("balloon", fmt.Errorf("argument MB: want a count, got %q", args[0]))
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	chunks := make([][]byte, 0, mb)
	for i := 0; i < mb; i++ {
		c := make([]byte, 1<<20)
		for j := 0; j < len(c); j += 4096 {
			c[j] = 1
		}
		chunks = append(chunks, c)
		if (i+1)%64 == 0 {
			fmt.Fprintf(os.Stderr, "balloon: %d MiB\n", i+1)
		}
	}
	r := newResult("balloon", nil)
	r["allocated_mb"] = len(chunks)
	runtime.KeepAlive(chunks)
	return r
}

// opFill writes up to MB mebibytes to PATH and reports how many bytes the
// file system took before the first error.
func opFill(args []string) result {
	mb, err := strconv.Atoi(args[1])
	if err != nil || mb < 0 {
		return newResult("fill", fmt.Errorf("argument MB: want a count, got %q", args[1]))
	}
	var written int64
	f, err := os.OpenFile(args[0], os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err == nil {
		chunk := bytes.Repeat([]byte{0xa5}, 1<<20)
		for i := 0; i < mb && err == nil; i++ {
			var n int
			n, err = f.Write(chunk)
			written += int64(n)
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	r := newResult("fill", err)
	r["bytes"] = written
	return r
}

// opSetuidExec runs PATH (a setuid copy of this program, which answers
// `id`) and reports the effective uid it ran with. Success means it got root.
func opSetuidExec(args []string) result {
	out, err := exec.Command(args[0]).Output()
	var child struct {
		EUID *int `json:"euid"`
	}
	if err == nil {
		err = json.Unmarshal(bytes.TrimSpace(out), &child)
	}
	if err == nil && child.EUID == nil {
		err = fmt.Errorf("%s printed no euid: %q", args[0], out)
	}
	if err == nil && *child.EUID != 0 {
		err = fmt.Errorf("ran with euid %d, not 0", *child.EUID)
	}
	r := newResult("setuid-exec", err)
	r["output"] = strings.TrimSpace(string(out))
	if child.EUID != nil {
		r["euid"] = *child.EUID
	}
	return r
}

// opID reports the process's identity and confinement as the kernel sees
// it: ids, capability sets, no_new_privs and seccomp mode.
func opID(args []string) result {
	status, err := os.ReadFile("/proc/self/status")
	r := newResult("id", err)
	r["uid"], r["euid"] = os.Getuid(), os.Geteuid()
	r["gid"], r["egid"] = os.Getgid(), os.Getegid()
	groups, _ := os.Getgroups()
	r["groups"] = groups
	want := map[string]string{
		"CapInh": "cap_inh", "CapPrm": "cap_prm", "CapEff": "cap_eff",
		"CapBnd": "cap_bnd", "CapAmb": "cap_amb", "NoNewPrivs": "no_new_privs",
		"Seccomp": "seccomp", "Seccomp_filters": "seccomp_filters",
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if key, found := want[k]; ok && found {
			r[key] = strings.TrimSpace(v)
		}
	}
	return r
}

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.EACCES: "EACCES", syscall.ENOENT: "ENOENT",
	syscall.EROFS: "EROFS", syscall.ENOSPC: "ENOSPC", syscall.EDQUOT: "EDQUOT",
	syscall.EAGAIN: "EAGAIN", syscall.ESRCH: "ESRCH", syscall.ENOSYS: "ENOSYS",
	syscall.EINVAL: "EINVAL", syscall.ENOEXEC: "ENOEXEC", syscall.EEXIST: "EEXIST",
	syscall.EFBIG: "EFBIG", syscall.ENOMEM: "ENOMEM", syscall.ECONNREFUSED: "ECONNREFUSED",
	syscall.ENETUNREACH: "ENETUNREACH", syscall.EHOSTUNREACH: "EHOSTUNREACH",
	syscall.ETIMEDOUT: "ETIMEDOUT", syscall.EBUSY: "EBUSY",
}

func errnoName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return "errno " + strconv.Itoa(int(e))
}

// opSparse makes a file of MB mebibytes that holds no data (ftruncate):
// it takes no space where it is, and the whole size wherever it is
// copied naively.
func opSparse(args []string) result {
	mb, err := strconv.Atoi(args[1])
	if err != nil || mb < 0 {
		return newResult("sparse", fmt.Errorf("argument MB: want a count, got %q", args[1]))
	}
	f, err := os.OpenFile(args[0], os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err == nil {
		err = f.Truncate(int64(mb) << 20)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	r := newResult("sparse", err)
	r["bytes"] = int64(mb) << 20
	return r
}
