package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/sparegpu/spare/internal/termtext"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// submitProgress draws what `spare submit` is doing on a terminal, one
// line redrawn in place on stderr: providers heard from while it looks,
// each upload and download as a bar (size, rate, time left), the job
// running (elapsed, paid so far). The job's logs and Spare's notes clear
// that line before they are printed and it is drawn again after them.
// It is used only when stderr is a terminal and --json is off.
type submitProgress struct {
	w     io.Writer
	names map[string]string // blob digest -> the file name a person gave
	now   func() time.Time

	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	barKey  string // the transfer the bar shows ("" for a status line)
	stage   market.Stage
	last    market.Progress
	running time.Time // when the job started running; zero before
	active  bool      // a report came and done has not been called
}

// progressTick is how often the running job's elapsed time is redrawn.
const progressTick = time.Second

// newSubmitProgress returns nil unless w is a terminal (and --json off).
func newSubmitProgress(w io.Writer, json bool, spec *market.JobSpec, image string, inputs []string) *submitProgress {
	f, ok := w.(*os.File)
	if json || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return newProgressTo(w, spec, image, inputs)
}

func newProgressTo(w io.Writer, spec *market.JobSpec, image string, inputs []string) *submitProgress {
	p := &submitProgress{w: w, names: map[string]string{}, now: time.Now}
	if image != "" {
		p.names[string(spec.Image.Digest)] = filepath.Base(image)
	}
	for _, in := range spec.Inputs {
		p.names[string(in.Digest)] = in.Name
	}
	return p
}

// report takes one market.Progress (from several goroutines).
func (p *submitProgress) report(ev market.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Stage == market.StageRunning && p.running.IsZero() {
		p.running = p.now()
	}
	p.stage, p.last, p.active = ev.Stage, ev, true
	p.drawLocked()
}

// tick redraws the running job's line every progressTick until ctx ends.
func (p *submitProgress) tick(ctx context.Context) {
	t := time.NewTicker(progressTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.mu.Lock()
			if p.active && p.stage == market.StageRunning {
				p.drawLocked()
			}
			p.mu.Unlock()
		}
	}
}

func (p *submitProgress) drawLocked() {
	ev := p.last
	switch ev.Stage {
	case market.StageUploading, market.StageDownloading:
		key := ev.Stage.String() + " " + ev.Name
		if p.bar == nil || p.barKey != key {
			p.clearLocked()
			name := ev.Name
			if n, ok := p.names[name]; ok {
				name = n
			}
			verb := "sending"
			if ev.Stage == market.StageDownloading {
				verb = "fetching"
			}
			p.bar = progressbar.NewOptions64(ev.Total, progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription("spare: "+verb+" "+termtext.String(name)),
				progressbar.OptionShowBytes(true), progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetWidth(20), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(), progressbar.OptionUseANSICodes(true))
			p.barKey = key
		}
		_ = p.bar.Set64(ev.Done)
	default:
		p.clearLocked()
		fmt.Fprintf(p.w, "\r\x1b[K%s", p.lineLocked())
	}
}

// lineLocked is the status line of the stages without a bar.
func (p *submitProgress) lineLocked() string {
	ev := p.last
	switch ev.Stage {
	case market.StageDiscovering:
		return fmt.Sprintf("spare: looking for providers: %d heard from", ev.Providers)
	case market.StageRunning:
		el := p.now().Sub(p.running).Truncate(time.Second)
		return fmt.Sprintf("spare: running on %s: %s, paid %s %s", shortID(ev.Provider), el, wallet.Amount(ev.Paid), wallet.Unit)
	}
	return ""
}

// clearLocked erases the line drawn last.
func (p *submitProgress) clearLocked() {
	if p.bar != nil {
		_ = p.bar.Clear()
		p.bar, p.barKey = nil, ""
	}
	fmt.Fprint(p.w, "\r\x1b[K")
}

// around wraps w (the job's logs, Spare's notes) so that the progress
// line is cleared before each write and drawn again after it.
func (p *submitProgress) around(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return streamFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.active { // nothing drawn (the job went to the daemon)
			return w.Write(b)
		}
		fmt.Fprint(p.w, "\r\x1b[K")
		n, err := w.Write(b)
		if len(b) > 0 && b[len(b)-1] == '\n' && p.bar == nil {
			fmt.Fprint(p.w, p.lineLocked())
		}
		return n, err
	})
}

// done erases the progress line for good, before the summary.
func (p *submitProgress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.active {
		p.clearLocked()
	}
	p.active = false
}

func shortID(id string) string {
	if len(id) > 8 {
		return "…" + id[len(id)-8:]
	}
	return id
}

// noteHandler prints the libraries' warnings as one readable line each
// ("spare: warning: connecting to the DHT: no peers"), escaped and around
// the progress line, instead of raw key=value records.
type noteHandler struct {
	p     *submitProgress
	min   slog.Level
	attrs []slog.Attr
}

func (h noteHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }

func (h noteHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "spare: %s: %s", strings.ToLower(r.Level.String()), r.Message)
	add := func(a slog.Attr) bool {
		if a.Key == "err" {
			fmt.Fprintf(&b, ": %v", a.Value)
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	_, err := h.p.around(h.p.w).Write([]byte(termtext.String(b.String()) + "\n"))
	return err
}

func (h noteHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return h
}

func (h noteHandler) WithGroup(string) slog.Handler { return h }
