package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// int80 makes an i386 system call (compat.go's assembly).
func int80(trap uintptr) uintptr

// opSyscall32 asks for the process ID through the kernel's 32-bit entry
// (INT 0x80, i386 getpid = 20), which 64-bit jobs never need: success
// means that door is open. A seccomp filter that knows only the native
// architecture ends the process instead.
func opSyscall32(_ []string) result {
	runtime.LockOSThread()
	ret := int32(int80(20))
	if ret < 0 {
		return newResult("syscall32", syscall.Errno(-ret))
	}
	r := newResult("syscall32", nil)
	if int(ret) != os.Getpid() {
		r = newResult("syscall32", fmt.Errorf("32-bit getpid gave %d, want %d", ret, os.Getpid()))
	}
	r["pid"] = ret
	return r
}
