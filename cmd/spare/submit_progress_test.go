package main

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// TestSubmitProgress: the progress line says what `spare submit` does at
// each stage, names uploads by the file a person gave, clears itself
// around the job's logs, and is never drawn for --json or a non-terminal.
func TestSubmitProgress(t *testing.T) {
	spec := &market.JobSpec{Image: market.Image{Digest: "sha256:aa"}, Inputs: []market.Input{{Name: "in.txt", Digest: "sha256:bb"}}}
	var buf bytes.Buffer
	p := newProgressTo(&buf, spec, "/tmp/job/image.tar", nil)
	clock := time.Unix(1000, 0)
	p.now = func() time.Time { return clock }
	logs := p.around(&buf)
	// Before any report (a job that went to the daemon): logs pass as
	// they are.
	_, _ = logs.Write([]byte("│ early\n"))
	if got := buf.String(); got != "│ early\n" {
		t.Errorf("a log line before any report: %q, want it untouched", got)
	}

	step := func(ev market.Progress, want string) {
		t.Helper()
		buf.Reset()
		p.report(ev)
		if !strings.Contains(buf.String(), want) {
			t.Errorf("after %+v: drew %q, want it to contain %q", ev, buf.String(), want)
		}
	}
	step(market.Progress{Stage: market.StageDiscovering, Providers: 2}, "looking for providers: 2 heard from")
	step(market.Progress{Stage: market.StageUploading, Name: "sha256:aa", Done: 1 << 20, Total: 4 << 20}, "sending image.tar")
	step(market.Progress{Stage: market.StageUploading, Name: "sha256:bb", Done: 10, Total: 100}, "sending in.txt")
	step(market.Progress{Stage: market.StageRunning, Provider: "12D3KooWabcdefghijkl"}, "running on …efghijkl: 0s, paid")
	clock = clock.Add(12 * time.Second)
	step(market.Progress{Stage: market.StageRunning, Provider: "12D3KooWabcdefghijkl", Paid: 1500}, "12s, paid 0.001500")

	buf.Reset()
	_, _ = logs.Write([]byte("│ hello\n"))
	if got := buf.String(); !strings.HasPrefix(got, "\r\x1b[K│ hello\n") || !strings.HasSuffix(got, "12s, paid 0.001500 "+wallet.Unit) {
		t.Errorf("a log line around the progress: %q, want the line cleared, the log, the line drawn again", got)
	}
	step(market.Progress{Stage: market.StageDownloading, Name: "out/result.png", Done: 5, Total: 10}, "fetching out/result.png")
	buf.Reset()
	p.done()
	if got := buf.String(); strings.Contains(got, "spare:") {
		t.Errorf("done drew %q, want only the line erased", got)
	}
	buf.Reset()
	_, _ = logs.Write([]byte("│ late\n"))
	if got := buf.String(); got != "│ late\n" {
		t.Errorf("a log line after done: %q, want it untouched", got)
	}

	if newSubmitProgress(os.Stderr, true, spec, "", nil) != nil {
		t.Error("progress drawn with --json")
	}
	if newSubmitProgress(&buf, false, spec, "", nil) != nil {
		t.Error("progress drawn on a writer that is not a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if newSubmitProgress(f, false, spec, "", nil) != nil {
		t.Error("progress drawn on a file")
	}
}

// TestNoteHandler: a library's warning becomes one readable line, and an
// escape sequence in it (an error quoting a peer) is not passed through.
func TestNoteHandler(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressTo(&buf, &market.JobSpec{}, "", nil)
	log := slog.New(noteHandler{p: p, min: slog.LevelWarn}).With("component", "p2p")
	log.Info("not shown")
	log.Warn("bootstrap peer unreachable", "peer", "12D3", "err", errors.New("dial \x1b]52;c;evil\x07 refused"))
	got := buf.String()
	if strings.Contains(got, "not shown") || strings.Contains(got, "component=") || strings.Contains(got, "\x1b]") {
		t.Errorf("got %q: want only the warning, no key=value record, no escape sequence", got)
	}
	if !strings.Contains(got, "spare: warn: bootstrap peer unreachable: dial") {
		t.Errorf("got %q, want the warning as a sentence", got)
	}
}
