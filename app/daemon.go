package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// ownedDaemon is a `spare node` the app started because none ran; the app
// stops it on Quit.
type ownedDaemon struct {
	cmd   *exec.Cmd
	after []string // run once it has stopped (DaemonStopped)
	log   *slog.Logger
	done  chan struct{}
	said  *lastLine // its stderr's last line
	mu    sync.Mutex
	err   error
}

// askStopTimeout bounds the LocalAPI's answer to a stop request.
const askStopTimeout = 10 * time.Second

// stopperOf is c's POST /v1/stop when it has one (*localapi.Client).
func stopperOf(c Daemon) func(context.Context) error {
	if s, ok := c.(interface{ Stop(context.Context) error }); ok {
		return s.Stop
	}
	return nil
}

// startDaemon starts argv; after, when set, runs once it has stopped.
func startDaemon(argv, after []string, log *slog.Logger) (*ownedDaemon, error) {
	if len(argv) == 0 {
		return nil, errors.New("no daemon command")
	}
	said := &lastLine{}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, io.MultiWriter(os.Stderr, said)
	cmd.SysProcAttr = daemonProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	d := &ownedDaemon{cmd: cmd, after: after, log: log, done: make(chan struct{}), said: said}
	go func() { // owned by d: ends when the process exits
		err := cmd.Wait()
		d.mu.Lock()
		d.err = err
		d.mu.Unlock()
		close(d.done)
		log.Info("the daemon the app started exited", "err", err)
	}()
	return d, nil
}

// failed says why the daemon ended, in its own last words, when it ended
// with an error; nil while it runs or after a clean exit.
func (d *ownedDaemon) failed() error {
	if d.running() {
		return nil
	}
	d.mu.Lock()
	err := d.err
	d.mu.Unlock()
	if err == nil {
		return nil
	}
	if last := strings.TrimPrefix(d.said.String(), "spare: "); last != "" {
		return fmt.Errorf("the Spare daemon stopped: %s", last)
	}
	return fmt.Errorf("the Spare daemon stopped: %w", err)
}

func (d *ownedDaemon) running() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// stop asks the daemon to drain and waits up to timeout for it to end,
// then kills it. It asks through the LocalAPI (ask: POST /v1/stop, the
// app's user being the daemon's owner) when it can, else by signal:
// SIGTERM, or on Windows, where the daemon is wsl.exe running it in
// Spare's distribution and no signal reaches it, the end of wsl.exe
// (whether WSL then ends the daemon is WSL's to say). Then the command
// after runs (Windows: `wsl --terminate Spare`, so that the
// distribution's containerd goes too and WSL may give back its memory).
func (d *ownedDaemon) stop(ask func(context.Context) error, timeout time.Duration) error {
	err := d.drain(ask, timeout)
	if len(d.after) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, d.after[0], d.after[1:]...)
		cmd.SysProcAttr = daemonProcAttr()
		if out, aerr := cmd.CombinedOutput(); aerr != nil {
			err = errors.Join(err, fmt.Errorf("after the daemon stopped, %s: %w: %s", strings.Join(d.after, " "), aerr, bytes.TrimSpace(out)))
		}
	}
	return err
}

// drain is stop's first part: the request, or the signal, and the wait.
func (d *ownedDaemon) drain(ask func(context.Context) error, timeout time.Duration) error {
	if !d.running() {
		return nil
	}
	asked := false
	if ask != nil {
		ctx, cancel := context.WithTimeout(context.Background(), min(timeout, askStopTimeout))
		err := ask(ctx)
		cancel()
		if asked = err == nil; !asked {
			d.log.Warn("the daemon the app started did not take a stop request; signalling it", "err", err)
		}
	}
	if !asked {
		if err := askToStop(d.cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return err
		}
	}
	select {
	case <-d.done:
		return nil
	case <-time.After(timeout):
		_ = d.cmd.Process.Kill()
		<-d.done
		return fmt.Errorf("the daemon did not stop within %v; killed", timeout)
	}
}

// lastLine keeps the last non-empty line written to it (at most 1 KiB).
type lastLine struct {
	mu   sync.Mutex
	part []byte // after the last newline
	last string
}

func (l *lastLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.part[:i])); line != "" {
			l.last = line
		}
		l.part = l.part[i+1:]
	}
	if len(l.part) > 1024 {
		l.part = l.part[len(l.part)-1024:]
	}
	if len(l.last) > 1024 {
		l.last = l.last[:1024]
	}
	return len(p), nil
}

// String is the last line, counting one not yet ended by a newline.
func (l *lastLine) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if line := strings.TrimSpace(string(l.part)); line != "" {
		return line
	}
	return l.last
}
