//go:build cgo && !linux

package main

// onRaise: the window runs as a process of its own on Linux only.
func onRaise(func()) (stop func()) { return func() {} }
