package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// The bridge carries the LocalAPI across a boundary a socket cannot cross
// (Windows to Spare's WSL distribution) without opening a network port:
// the app starts a process, `wsl.exe -d Spare -- spare bridge`, and
// speaks HTTP over its standard input and output. One process carries
// one connection; the client starts another for each connection it
// opens (the event stream holds one, requests reuse an idle one).
//
// Wire: the bridge first writes one greeting line of at most
// maxGreeting bytes, then relays bytes both ways until both sides end.
//
//	SPARE-BRIDGE/1 ok                      relaying to the daemon
//	SPARE-BRIDGE/1 no-daemon <reason>      nothing answers on the socket; the bridge exits
//	SPARE-BRIDGE/1 error <reason>          any other failure; the bridge exits
//
// A greeting of another version, or none, is refused: the app and the
// distribution's spare disagree, and the installer must update one.

// BridgeVersion opens every greeting.
const BridgeVersion = "SPARE-BRIDGE/1"

// maxGreeting caps the greeting line the client reads.
const maxGreeting = 512

// ErrBridge means the bridge process did not relay: it failed to start,
// ended before its greeting, or greeted in another version.
var ErrBridge = errors.New("the LocalAPI bridge failed")

// greeting words after BridgeVersion.
const (
	greetOK       = "ok"
	greetNoDaemon = "no-daemon"
	greetError    = "error"
)

// ServeBridge relays in and out (the bridge's standard input and output)
// to the daemon's socket: the Linux side of the bridge, `spare bridge`.
// It returns once both directions have ended (the client closed its side
// and the daemon finished answering), or when ctx ends.
func ServeBridge(ctx context.Context, socket string, in io.Reader, out io.Writer) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		word := greetError
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			word, err = greetNoDaemon, fmt.Errorf("%w at %s", ErrNoDaemon, socket)
		}
		_, _ = fmt.Fprintf(out, "%s %s %s\n", BridgeVersion, word, oneLine(err.Error()))
		return err
	}
	conn := c.(*net.UnixConn)
	defer conn.Close()
	if _, err := fmt.Fprintf(out, "%s %s\n", BridgeVersion, greetOK); err != nil {
		return fmt.Errorf("writing the greeting: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	up := make(chan error, 1)
	go func() { // owned by ServeBridge, which waits for it below
		_, err := io.Copy(conn, in)
		_ = conn.CloseWrite() // the client is done asking: the daemon may finish
		up <- err
	}()
	_, downErr := io.Copy(out, conn)
	_ = conn.CloseRead()
	upErr := <-up
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if downErr != nil {
		return fmt.Errorf("relaying the daemon's answers: %w", downErr)
	}
	if upErr != nil {
		return fmt.Errorf("relaying requests: %w", upErr)
	}
	return nil
}

// oneLine keeps a reason to one line within the greeting's cap.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxGreeting-64 {
		s = s[:maxGreeting-64]
	}
	return s
}

// readGreeting reads the greeting byte by byte (nothing of the relayed
// stream after it is consumed) and says whether the bridge relays.
func readGreeting(r io.Reader) error {
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := io.ReadFull(r, b); err != nil {
			if len(line) == 0 {
				return fmt.Errorf("%w: it ended without a greeting", ErrBridge)
			}
			return fmt.Errorf("%w: it ended inside its greeting %q", ErrBridge, line)
		}
		if b[0] == '\n' {
			break
		}
		if len(line) >= maxGreeting {
			return fmt.Errorf("%w: its greeting is longer than %d bytes", ErrBridge, maxGreeting)
		}
		line = append(line, b[0])
	}
	version, rest, _ := strings.Cut(string(line), " ")
	if version != BridgeVersion {
		return fmt.Errorf("%w: it greeted %q, want %s — install the same version of Spare on both sides", ErrBridge, oneLine(string(line)), BridgeVersion)
	}
	word, reason, _ := strings.Cut(rest, " ")
	switch word {
	case greetOK:
		return nil
	case greetNoDaemon:
		return fmt.Errorf("%w (the bridge says: %s)", ErrNoDaemon, reason)
	case greetError:
		return fmt.Errorf("%w: %s", ErrBridge, reason)
	}
	return fmt.Errorf("%w: unknown greeting %q", ErrBridge, oneLine(string(line)))
}
