//go:build !cgo

package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// runApp: the desktop app needs cgo (Fyne's OpenGL driver). Builds without
// it — the cross-compiled daemon and CLI for Windows and macOS — have the
// verbs only.
func runApp(*cobra.Command, *globals) error {
	return errors.New("this build of spare has no desktop app (built without cgo): run a verb, e.g. `spare node` or `spare status`")
}
