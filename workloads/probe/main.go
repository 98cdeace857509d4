//go:build linux

// Command probe checks a sandbox from inside. Each subcommand attempts one
// thing and prints one JSON line on stdout:
//
//	{"op":"connect","success":false,"error":"…", …op-specific fields}
//
// "success" says whether the attempt worked (a connect that connected, a
// mount that mounted); the tests decide whether that was expected. The exit
// status is 0 when success is true, 1 when it is false and 2 for a usage
// error; `exit N` exits N, `counter` and `sleep` run until stopped.
//
// Invoked as suid-id (the setuid-root copy in the image), it runs `id`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// result is what every op prints: the three common fields plus its own.
type result map[string]any

func newResult(op string, err error) result {
	r := result{"op": op, "success": err == nil}
	if err != nil {
		r["error"] = err.Error()
		var errno syscall.Errno
		if errors.As(err, &errno) {
			r["errno"] = errnoName(errno)
		}
	}
	return r
}

func (r result) print() {
	b, err := json.Marshal(r)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"op":%q,"success":false,"error":%q}`, r["op"], err.Error()))
	}
	os.Stdout.Write(append(b, '\n'))
}

// op is one subcommand: it gets its arguments and returns what to print.
type op struct {
	usage string
	nargs int // -1: any
	run   func(args []string) result
}

var ops = map[string]op{
	"connect":     {"HOST:PORT", 1, opConnect},
	"resolve":     {"NAME", 1, opResolve},
	"read":        {"PATH", 1, opRead},
	"write":       {"PATH", 1, opWrite},
	"ps":          {"", 0, opPS},
	"ifaces":      {"", 0, opIfaces},
	"mount":       {"", 0, opMount},
	"modprobe":    {"", 0, opModprobe},
	"ptrace":      {"PID", 1, opPtrace},
	"mknod":       {"PATH", 1, opMknod},
	"setuid-exec": {"PATH", 1, opSetuidExec},
	"forkbomb":    {"N", 1, opForkbomb},
	"balloon":     {"MB", 1, opBalloon},
	"fill":        {"PATH MB", 2, opFill},
	"sparse":      {"PATH MB", 2, opSparse},
	"counter":     {"", 0, opCounter},
	"id":          {"", 0, opID},
	"sleep":       {"DURATION", 1, opSleep},
	"echo":        {"ARGS...", -1, opEcho},
	"exit":        {"N", 1, opExit},
	"syscall32":   {"", 0, opSyscall32},
}

func usage() {
	var names []string
	for name, o := range ops {
		names = append(names, "  probe "+name+" "+o.usage)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage:\n%s\n", strings.Join(names, "\n"))
	os.Exit(2)
}

func main() {
	args := os.Args
	if filepath.Base(args[0]) == "suid-id" {
		args = []string{args[0], "id"}
	}
	if len(args) < 2 {
		usage()
	}
	o, ok := ops[args[1]]
	if !ok || (o.nargs >= 0 && len(args)-2 != o.nargs) {
		usage()
	}
	r := o.run(args[2:])
	r["op"] = args[1]
	r.print()
	if r["success"] != true {
		os.Exit(1)
	}
}

func opConnect(args []string) result {
	start := time.Now()
	c, err := net.DialTimeout("tcp", args[0], 2*time.Second)
	r := newResult("connect", err)
	r["ms"] = time.Since(start).Milliseconds()
	if err == nil {
		r["local"] = c.LocalAddr().String()
		c.Close()
	}
	return r
}

func opResolve(args []string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, args[0])
	r := newResult("resolve", err)
	r["addrs"] = addrs
	return r
}

func opRead(args []string) result {
	b, err := os.ReadFile(args[0])
	r := newResult("read", err)
	r["bytes"] = len(b)
	if len(b) > 4096 {
		b = b[:4096]
	}
	r["content"] = string(b)
	return r
}

func opWrite(args []string) result {
	err := os.WriteFile(args[0], []byte("written by probe\n"), 0o644)
	return newResult("write", err)
}

func opPS(args []string) result {
	type proc struct {
		PID     int    `json:"pid"`
		Cmdline string `json:"cmdline"`
	}
	ents, err := os.ReadDir("/proc")
	r := newResult("ps", err)
	var procs []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		procs = append(procs, proc{pid, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))})
	}
	r["procs"] = procs
	return r
}

func opIfaces(args []string) result {
	ifs, err := net.Interfaces()
	r := newResult("ifaces", err)
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	r["ifaces"] = names
	return r
}

func opMount(args []string) result {
	target := "/tmp/probe-mount"
	if err := os.MkdirAll(target, 0o755); err != nil {
		target = "/"
	}
	err := syscall.Mount("tmpfs", target, "tmpfs", 0, "size=1m")
	r := newResult("mount", err)
	r["target"] = target
	if err == nil {
		_ = syscall.Unmount(target, syscall.MNT_DETACH)
	}
	return r
}

// opModprobe asks the kernel to load an empty module image. With the right
// to load modules the kernel gets as far as rejecting the image (ENOEXEC or
// EINVAL): success then means the permission check passed. Nothing is ever
// loaded.
func opModprobe(args []string) result {
	empty := []byte{0}
	params := []byte{0}
	_, _, errno := syscall.Syscall(syscall.SYS_INIT_MODULE,
		uintptr(unsafe.Pointer(&empty[0])), 0, uintptr(unsafe.Pointer(&params[0])))
	var err error
	switch errno {
	case 0, syscall.ENOEXEC, syscall.EINVAL, syscall.EEXIST:
		// Past the permission check.
	default:
		err = errno
	}
	r := newResult("modprobe", err)
	if errno != 0 {
		r["errno"] = errnoName(errno)
	}
	return r
}

func opPtrace(args []string) result {
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		return newResult("ptrace", fmt.Errorf("argument PID: %w", err))
	}
	err = syscall.PtraceAttach(pid)
	if err == nil {
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, syscall.WALL, nil)
		_ = syscall.PtraceDetach(pid)
	}
	r := newResult("ptrace", err)
	r["pid"] = pid
	return r
}

func opMknod(args []string) result {
	// /dev/null's numbers: a node that works would give access to a device.
	err := syscall.Mknod(args[0], syscall.S_IFCHR|0o666, 1<<8|3)
	r := newResult("mknod", err)
	if err == nil {
		f, oerr := os.OpenFile(args[0], os.O_WRONLY, 0)
		r["opened"] = oerr == nil
		if oerr == nil {
			f.Close()
		}
		_ = os.Remove(args[0])
	}
	return r
}

func opCounter(args []string) result {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for n := 0; ; n++ {
		r := result{"op": "counter", "success": true, "n": n, "unix_ms": time.Now().UnixMilli()}
		r.print()
		<-t.C
	}
}

func opSleep(args []string) result {
	d, err := time.ParseDuration(args[0])
	if err != nil {
		return newResult("sleep", fmt.Errorf("argument DURATION: %w", err))
	}
	time.Sleep(d)
	return newResult("sleep", nil)
}

func opEcho(args []string) result {
	r := newResult("echo", nil)
	r["text"] = strings.Join(args, " ")
	return r
}

func opExit(args []string) result {
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return newResult("exit", fmt.Errorf("argument N: %w", err))
	}
	r := newResult("exit", nil)
	r["code"] = n
	r["op"] = "exit"
	r.print()
	os.Exit(n)
	return r
}
