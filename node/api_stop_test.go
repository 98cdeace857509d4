package node

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// TestStopRoute: POST /v1/stop answers, then Serve returns as on its
// context's end, and the socket is gone; a body is refused and stops
// nothing. (A member's refusal: TestAccessLevels.)
func TestStopRoute(t *testing.T) {
	dir := t.TempDir()
	cfg := DaemonConfig{Wallet: wallettest.Open(t, dir), Settings: governor.Settings{}}
	cfg.DataDir, cfg.Display, cfg.Version, cfg.Log = dir, ":none", "test", quietLogger()
	d := NewDaemon(cfg)
	served := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { served <- d.Serve(ctx) }() // ends with the stop below, or cancel
	c := localapi.NewClient(dir)
	testenv.WaitFor(t, "the LocalAPI", 10*time.Second, func() bool { _, err := c.Status(context.Background()); return err == nil })

	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", localapi.SocketPath(dir))
	}}}
	resp, err := hc.Post("http://spare/v1/stop", "application/json", strings.NewReader(`{"now":true}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "no body") {
		t.Fatalf("stop with a body: %s %s", resp.Status, body)
	}
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatalf("a refused stop stopped the daemon: %v", err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve after a stop: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Serve still runs a minute after POST /v1/stop")
	}
	if _, err := c.Status(context.Background()); !errors.Is(err, localapi.ErrNoDaemon) {
		t.Fatalf("after the stop the socket answers: %v", err)
	}
}
