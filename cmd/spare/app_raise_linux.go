//go:build cgo

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// onRaise calls raise each time the tray process asks the window process
// to show its window (SIGUSR1, app.RunTray's Open Spare), until stop.
func onRaise(raise func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() { // owned by the caller: ends on stop
		for {
			select {
			case <-done:
				return
			case <-ch:
				raise()
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
