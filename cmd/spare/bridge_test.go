package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
)

// wslStandIn writes a script that stands in for wsl.exe, which cannot run
// here: `wsl -d Spare -- CMD…` runs CMD on this machine, with the test's
// spare binary as `spare`, as the distribution would run it.
func wslStandIn(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(spareBin, filepath.Join(dir, "spare")); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "wsl.exe")
	body := "#!/bin/sh\n# Stands in for wsl.exe: -d " + wslDistro + " -- CMD... runs CMD.\n" +
		"[ \"$1\" = -d ] && [ \"$2\" = " + wslDistro + " ] && [ \"$3\" = -- ] || { echo \"wsl stand-in: want -d " + wslDistro + " -- CMD\" >&2; exit 1; }\n" +
		"shift 3\nPATH=" + dir + ":$PATH exec \"$@\"\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// TestBridgeToRealDaemon: the Windows app's LocalAPI client, through the
// bridge command it starts (wsl.exe standing in), against a real
// `spare node`: status, pause, resume, presence and wallet.
func TestBridgeToRealDaemon(t *testing.T) {
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	data := t.TempDir()
	c := localapi.NewBridgeClient(bridgeArgv(wslStandIn(t), data), os.Stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if _, err := c.Status(ctx); !errors.Is(err, localapi.ErrNoDaemon) {
		t.Fatalf("status before the daemon starts: %v, want ErrNoDaemon (the app then starts one)", err)
	}
	nd := &spareNode{data: data, args: []string{"--data", data, "--containerd", sock, "node", "--always-available", "--no-mdns", "--ious-from-strangers",
		"--listen", "/ip4/127.0.0.1/tcp/0"}}
	nd.start(t) // waits until the daemon is Available on its socket

	s, err := c.Status(ctx)
	if err != nil || s.PeerID != nd.peerID {
		t.Fatalf("status through the bridge: %v, peer %q, want %q", err, s.PeerID, nd.peerID)
	}
	s, err = c.Pause(ctx, localapi.PauseRequest{})
	if err != nil || s.State != localapi.StatePaused {
		t.Fatalf("pause: %v, state %s", err, s.State)
	}
	if s, err = c.Status(ctx); err != nil || s.State != localapi.StatePaused {
		t.Fatalf("status after pause: %v, state %s", err, s.State)
	}
	if s, err = c.Resume(ctx); err != nil || s.State == localapi.StatePaused {
		t.Fatalf("resume: %v, state %s", err, s.State)
	}
	if err := c.ReportPresence(ctx, localapi.PresenceReport{IdleMS: 600_000, IdleKnown: true, Source: "bridge-test"}); err != nil {
		t.Fatalf("presence: %v", err)
	}
	w, err := c.Wallet(ctx)
	if err != nil {
		t.Fatalf("wallet: %v", err)
	}
	if w.Address == "" {
		t.Errorf("the wallet through the bridge has no address: %+v", w)
	}
	got := make(chan localapi.Status, 1)
	evctx, stop := context.WithCancel(ctx)
	go func() { // owned here: ends when evctx ends
		_ = c.Events(evctx, func(s localapi.Status) {
			select {
			case got <- s:
			default:
			}
		})
	}()
	select {
	case s := <-got:
		if s.PeerID == "" {
			t.Errorf("the event stream's first status has no peer ID: %+v", s)
		}
	case <-ctx.Done():
		t.Fatal("no event through the bridge")
	}
	stop()
}
