package main

import "github.com/spf13/cobra"

// appMode is how `spare` with no verb runs the desktop app. Where the
// desktop has a tray (Linux with a StatusNotifier host), `spare` is the
// tray process, and the window is a process of its own (`spare --window`)
// that it starts on Open Spare and that ends when the window closes: the
// GL stack is resident only while a window is open. Elsewhere, and with
// --one-process, one process holds the window and the tray.
type appMode struct {
	window     bool // this process is the window beside a tray process
	oneProcess bool // the window and the tray in one process
}

func addAppModeFlags(root *cobra.Command, g *globals) {
	f := root.Flags()
	f.BoolVar(&g.appMode.window, "window", false, "open the desktop app's window only (the tray process starts it)")
	f.BoolVar(&g.appMode.oneProcess, "one-process", false, "hold the tray in the window's process, as on systems without a separate tray process")
	_ = f.MarkHidden("window")
	_ = f.MarkHidden("one-process")
	root.MarkFlagsMutuallyExclusive("window", "one-process")
}
