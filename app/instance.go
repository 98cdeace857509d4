package app

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sparegpu/spare/internal/atomicfile"
	"github.com/sparegpu/spare/internal/filelock"
)

// One app per data directory: the process that runs it (the tray
// process, or the one process) holds DATA/app.lock. Starting Spare again
// asks that process to open its window (DATA/app-open) and ends, instead
// of showing a second tray icon.
const (
	instanceLock    = "app.lock"
	OpenRequestFile = "app-open"
)

// ErrRunning is ClaimInstance's answer while another process runs the app
// on the data directory.
var ErrRunning = errors.New("the Spare app already runs on this data directory")

// ClaimInstance makes this process the app for dataDir until release; it
// fails with ErrRunning while another process is (AskToOpen then asks it
// to open its window). A crash drops the claim.
func ClaimInstance(dataDir string) (release func(), err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	release, err = filelock.TryLock(filepath.Join(dataDir, instanceLock))
	if errors.Is(err, filelock.ErrHeld) {
		return nil, ErrRunning
	}
	return release, err
}

// AskToOpen asks the app running on dataDir to open or raise its window.
func AskToOpen(dataDir string) error {
	allowForeground()
	stamp := strconv.FormatInt(time.Now().UnixNano(), 10) + "\n"
	if err := atomicfile.Write(filepath.Join(dataDir, OpenRequestFile), []byte(stamp), 0o600); err != nil {
		return fmt.Errorf("asking the running Spare to open its window: %w", err)
	}
	return nil
}

// openRequestHandler is the watchFiles handler of OpenRequestFile: it
// calls open each time another start of Spare asks (AskToOpen). A
// request made before it was made is not told: the app opens its window
// as it starts anyway.
func openRequestHandler(dataDir string, log *slog.Logger, open func()) func() {
	p := filepath.Join(dataDir, OpenRequestFile)
	read := func() string { b, _ := os.ReadFile(p); return string(b) }
	last := read()
	return func() {
		if now := read(); now != last {
			last = now
			if now != "" {
				log.Info("another start of Spare asked for the window")
				open()
			}
		}
	}
}
