//go:build linux && cgo

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// wslRelay is the Linux side of the wsl.exe stand-in (packaging/windows/
// wine/fakewsl): for each `wsl -d Spare -- CMD` the stand-in relays, it
// runs CMD on this machine as the distribution would, with the test's
// real Linux `spare`: `spare bridge` always, `spare node` (as the app
// starts it when no daemon answers) when node is set. The distribution's
// data directory is data.
type wslRelay struct {
	t    *testing.T
	ln   net.Listener
	data string
	// node is the arguments `spare node` runs with here, in place of the
	// distribution's (its containerd, all interfaces): the test's
	// containerd and loopback. Nil: the daemon runs already, and the app
	// must not start one.
	node []string
	wg   sync.WaitGroup

	mu      sync.Mutex
	ran     [][]string
	ended   []relayEnd
	running map[*exec.Cmd]bool
	said    bytes.Buffer // the commands' standard error, for a failure's log
}

// relayEnd is how a command the relay ran ended: by itself (own: as
// `spare node` does when asked to stop), or after wsl.exe ended.
type relayEnd struct {
	argv []string
	own  bool
	err  error
}

func startRelay(t *testing.T, data string, node []string) *wslRelay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &wslRelay{t: t, ln: ln, data: data, node: node, running: map[*exec.Cmd]bool{}}
	r.wg.Add(1)
	go r.accept() // owned by r: ends when the listener closes
	t.Cleanup(func() {
		ln.Close()
		r.mu.Lock()
		for cmd := range r.running { // wsl.exe outlived the test: end the session
			_ = cmd.Process.Signal(syscall.SIGTERM) // our own child, by its PID
		}
		r.mu.Unlock()
		r.wg.Wait()
	})
	return r
}

func (r *wslRelay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.serve(c) }() // ends with the command
	}
}

// command is CMD as it runs here, or nil with why not.
func (r *wslRelay) command(argv []string) (*exec.Cmd, error) {
	switch {
	case slices.Equal(argv, bridgeArgv("wsl", wslDataDir)[4:]):
		return exec.Command(spareBin, "bridge", "--data", r.data), nil
	case slices.Equal(argv, wslDaemonArgv("wsl", wslDataDir)[4:]):
		if r.node == nil {
			return nil, errors.New("a daemon runs already: the app must not start another")
		}
		return exec.Command(spareBin, r.node...), nil
	}
	return nil, errors.New("only the bridge and the daemon run in this distribution")
}

func (r *wslRelay) serve(c net.Conn) {
	defer c.Close()
	in := bufio.NewReader(c)
	line, err := in.ReadBytes('\n')
	var argv []string
	if err == nil {
		err = json.Unmarshal(line, &argv)
	}
	if err != nil {
		r.t.Errorf("relay: the stand-in sent %q: %v", line, err)
		return
	}
	r.mu.Lock()
	r.ran = append(r.ran, argv)
	r.mu.Unlock()
	cmd, err := r.command(argv)
	if err != nil {
		r.t.Errorf("relay: the app ran %q in the distribution: %v", argv, err)
		fmt.Fprintf(c, "relay: %v\n", err)
		return
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		r.t.Error(err)
		return
	}
	cmd.Stdout, cmd.Stderr = lenient{c}, &lockedWriter{mu: &r.mu, w: &r.said}
	if err := cmd.Start(); err != nil {
		r.t.Errorf("relay: %q: %v", argv, err)
		return
	}
	r.mu.Lock()
	r.running[cmd] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, cmd)
		r.mu.Unlock()
	}()
	// The input, until its end; then the connection's end is wsl.exe's.
	hangup := make(chan struct{})
	go func() { // owned here: ends with the connection, which serve closes
		defer close(hangup)
		err := unframe(stdin, in)
		stdin.Close()
		if err == nil {
			_, _ = io.Copy(io.Discard, in)
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // owned here: ends with the command
	end := relayEnd{argv: argv}
	select {
	case end.err = <-exited:
		end.own = true
	case <-hangup:
		// wsl.exe ended (killed): WSL ends the session; the daemon drains
		// and exits.
		_ = cmd.Process.Signal(syscall.SIGTERM) // our own child, by its PID
		select {
		case end.err = <-exited:
		case <-time.After(time.Minute):
			r.t.Errorf("relay: %q still runs a minute after wsl.exe ended and SIGTERM", argv)
			_ = cmd.Process.Kill()
			end.err = <-exited
		}
	}
	r.mu.Lock()
	r.ended = append(r.ended, end)
	r.mu.Unlock()
	c.Close()
	<-hangup
}

// unframe copies the stand-in's framed input to w until the empty frame
// (nil) or the connection's end (an error).
func unframe(w io.Writer, in io.Reader) error {
	var n [4]byte
	for {
		if _, err := io.ReadFull(in, n[:]); err != nil {
			return fmt.Errorf("the input ended without its last frame: %w", err)
		}
		size := binary.BigEndian.Uint32(n[:])
		if size == 0 {
			return nil
		}
		if _, err := io.CopyN(w, in, int64(size)); err != nil {
			return err
		}
	}
}

// ends are how the commands that ended so far ended.
func (r *wslRelay) ends() []relayEnd {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ended)
}

func (r *wslRelay) commands() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ran)
}

func (r *wslRelay) stderr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.said.String()
}

// lenient writes to the stand-in for as long as it is there: a command
// that outlives wsl.exe must not block on, or fail for, its output.
type lenient struct{ w io.Writer }

func (l lenient) Write(p []byte) (int, error) {
	_, _ = l.w.Write(p)
	return len(p), nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
