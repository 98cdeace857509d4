package localapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

// ErrNoDaemon means nothing listens on the socket.
var ErrNoDaemon = errors.New("no Spare daemon running")

// maxResponse caps a response body the client reads.
const maxResponse = 1 << 20

// Client talks to a daemon over its socket, or through a bridge.
type Client struct {
	where  string // the socket, or the bridge's command line
	bridge bool
	http   *http.Client
}

// NewClient returns a client for the daemon of dataDir.
func NewClient(dataDir string) *Client {
	sock := SocketPath(dataDir)
	return &Client{where: sock, http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}}
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://spare"+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return c.dialError(err)
	}
	defer resp.Body.Close()
	return decode(resp, out)
}

func (c *Client) dialError(err error) error {
	if c.bridge { // the bridge's greeting said what happened
		return fmt.Errorf("talking to the daemon through `%s`: %w", c.where, err)
	}
	if _, serr := os.Stat(c.where); errors.Is(serr, os.ErrNotExist) || errors.Is(err, os.ErrNotExist) || isRefused(err) {
		return fmt.Errorf("%w at %s — start one with `spare node` (or open the Spare app)", ErrNoDaemon, c.where)
	}
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("talking to the daemon at %s: %w — join the spare group or use sudo", c.where, err)
	}
	return fmt.Errorf("talking to the daemon at %s: %w", c.where, err)
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func decode(resp *http.Response, out any) error {
	body := io.LimitReader(resp.Body, maxResponse)
	if resp.StatusCode >= 300 {
		var e Error
		if err := json.NewDecoder(body).Decode(&e); err != nil || e.Message == "" {
			return fmt.Errorf("daemon answered %s", resp.Status)
		}
		return &e
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(body).Decode(out)
}

// Status returns the daemon's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, &s)
	return s, err
}

// Pause pauses sharing.
func (c *Client) Pause(ctx context.Context, p PauseRequest) (Status, error) {
	var s Status
	err := c.do(ctx, http.MethodPost, "/v1/pause", p, &s)
	return s, err
}

// Stop asks the daemon to stop (an owner only): it answers, then drains
// and exits as on SIGTERM.
func (c *Client) Stop(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/stop", nil, nil)
}

// Resume resumes sharing.
func (c *Client) Resume(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, http.MethodPost, "/v1/resume", nil, &s)
	return s, err
}

// ReportPresence pushes a presence reading.
func (c *Client) ReportPresence(ctx context.Context, r PresenceReport) error {
	return c.do(ctx, http.MethodPost, "/v1/presence", r, nil)
}

// Events calls fn with the current status and every change until ctx ends
// or the daemon goes away.
func (c *Client) Events(ctx context.Context, fn func(Status)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://spare/v1/events", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.dialError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decode(resp, nil)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxResponse)
	for sc.Scan() {
		var s Status
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
		fn(s)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return sc.Err()
}
