package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// bridgeCloseWait is how long closing a bridge connection waits for the
// process to end once its input is closed, before killing it.
const bridgeCloseWait = 5 * time.Second

// bridgeIdle caps the bridge processes kept open for later requests.
const bridgeIdle = 2

// NewBridgeClient returns a client that reaches the daemon through bridge
// processes: each connection starts argv (on Windows `wsl.exe -d Spare
// -- spare bridge --data DIR`) and speaks over its standard input and
// output. The bridge's standard error goes to stderr.
func NewBridgeClient(argv []string, stderr io.Writer) *Client {
	d := &bridgeDialer{argv: argv, stderr: stderr}
	return &Client{where: strings.Join(argv, " "), bridge: true, http: &http.Client{Transport: &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return d.dial(ctx) },
		MaxIdleConnsPerHost: bridgeIdle,
		IdleConnTimeout:     time.Minute,
	}}}
}

type bridgeDialer struct {
	argv   []string
	stderr io.Writer
}

// dial starts a bridge process and waits for its greeting.
func (d *bridgeDialer) dial(ctx context.Context) (net.Conn, error) {
	if len(d.argv) == 0 {
		return nil, fmt.Errorf("%w: no bridge command", ErrBridge)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(d.argv[0], d.argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, d.stderr
	cmd.SysProcAttr = bridgeProcAttr()
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("%w: starting %s: %w", ErrBridge, d.argv[0], err)
	}
	c := &processConn{cmd: cmd, in: inW, out: outR, done: make(chan struct{})}
	go func() { // owned by c: ends when the process exits
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	greeted := make(chan error, 1)
	go func() { greeted <- readGreeting(outR) }() // ends when the greeting is read or the process's output closes
	select {
	case err = <-greeted:
	case <-ctx.Done():
		c.Close() // kills the process, which ends the read
		<-greeted
		return nil, ctx.Err()
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// processConn is a connection over a child process's standard input and
// output; closing it closes the input and reaps the process.
type processConn struct {
	cmd     *exec.Cmd
	in      *os.File // the process's stdin
	out     *os.File // the process's stdout
	done    chan struct{}
	waitErr error // set before done closes
	once    sync.Once
}

func (c *processConn) Read(p []byte) (int, error)  { return c.out.Read(p) }
func (c *processConn) Write(p []byte) (int, error) { return c.in.Write(p) }

// Close ends the process: its input closes (the bridge relays the end and
// exits), and it is killed if it has not exited within bridgeCloseWait.
func (c *processConn) Close() error {
	c.once.Do(func() {
		c.in.Close()
		select {
		case <-c.done:
		case <-time.After(bridgeCloseWait):
			_ = c.cmd.Process.Kill() // our own child, by its handle
			<-c.done
		}
		c.out.Close()
	})
	return nil
}

func (c *processConn) LocalAddr() net.Addr  { return bridgeAddr("app") }
func (c *processConn) RemoteAddr() net.Addr { return bridgeAddr(c.cmd.Path) }

// The deadlines are the pipes': honoured where the OS can poll pipes
// (Linux); on Windows they return os.ErrNoDeadline.
func (c *processConn) SetDeadline(t time.Time) error {
	return errors.Join(c.in.SetWriteDeadline(t), c.out.SetReadDeadline(t))
}
func (c *processConn) SetReadDeadline(t time.Time) error  { return c.out.SetReadDeadline(t) }
func (c *processConn) SetWriteDeadline(t time.Time) error { return c.in.SetWriteDeadline(t) }

// bridgeAddr names a bridge connection's ends.
type bridgeAddr string

func (bridgeAddr) Network() string  { return "bridge" }
func (a bridgeAddr) String() string { return string(a) }
