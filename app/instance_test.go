package app

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// TestInstanceAndOpenRequests: a second claim on a data directory is
// refused while the first holds it, and taken once it is released; each
// request to open is told to the running app.
func TestInstanceAndOpenRequests(t *testing.T) {
	dir := t.TempDir()
	release, err := ClaimInstance(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ClaimInstance(dir); !errors.Is(err, ErrRunning) {
		t.Fatalf("a second claim: %v, want ErrRunning", err)
	}
	opened := make(chan struct{}, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { // ends with cancel
		log := slog.New(slog.DiscardHandler)
		done <- watchFiles(ctx, dir, log, map[string]func(){OpenRequestFile: openRequestHandler(dir, log, func() { opened <- struct{}{} })})
	}()
	for i := range 2 {
		// Asked until told: the follower may not be watching yet.
		deadline := time.After(time.Minute)
		tick := time.NewTicker(100 * time.Millisecond)
	asking:
		for {
			if err := AskToOpen(dir); err != nil {
				t.Fatal(err)
			}
			select {
			case <-opened:
				break asking
			case <-tick.C:
			case <-deadline:
				t.Fatalf("request %d: the window was not opened", i+1)
			}
		}
		tick.Stop()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	release()
	again, err := ClaimInstance(dir)
	if err != nil {
		t.Fatalf("a claim after the release: %v", err)
	}
	again()
}
