//go:build !linux

package sandbox

func totalMemory() int64 { return 0 }
