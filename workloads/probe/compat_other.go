//go:build !amd64

package main

import "errors"

func opSyscall32(_ []string) result {
	return newResult("syscall32", errors.New("only amd64 has a 32-bit system call entry to probe"))
}
