package app

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// ownedDaemon is a `spare node` the app started because none ran; the app
// stops it on Quit.
type ownedDaemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func startDaemon(argv []string, log *slog.Logger) (*ownedDaemon, error) {
	if len(argv) == 0 {
		return nil, errors.New("no daemon command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = daemonProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	d := &ownedDaemon{cmd: cmd, done: make(chan struct{})}
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

func (d *ownedDaemon) running() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// stop asks the daemon to drain (SIGTERM) and kills it after timeout.
func (d *ownedDaemon) stop(timeout time.Duration) error {
	if !d.running() {
		return nil
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
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
