package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain lets the test binary play `spare bridge` when SPARE_TEST_BRIDGE
// names a socket: the bridge process the client starts is this binary.
func TestMain(m *testing.M) {
	if sock := os.Getenv("SPARE_TEST_BRIDGE"); sock != "" {
		if err := ServeBridge(context.Background(), sock, os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString("bridge: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// bridgeArgv is a bridge command that runs this test binary as the bridge
// to sock (env passes the socket: exec.Cmd inherits it).
func bridgeClient(t *testing.T, sock string) *Client {
	t.Helper()
	t.Setenv("SPARE_TEST_BRIDGE", sock)
	return NewBridgeClient([]string{os.Args[0]}, os.Stderr)
}

// serveStatus serves a LocalAPI stand-in on a unix socket: /v1/status
// answers the status and counts, /v1/events streams two statuses.
func serveStatus(t *testing.T, sock string) *atomic.Int32 {
	t.Helper()
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	n := new(atomic.Int32)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		json.NewEncoder(w).Encode(Status{State: StateAvailable, Sentence: strings.Repeat("x", 100_000)})
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(Status{State: StateAvailable})
		w.(http.Flusher).Flush()
		json.NewEncoder(w).Encode(Status{State: StatePaused})
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l) // owned by the cleanup below
	t.Cleanup(func() { srv.Close() })
	return n
}

func TestBridgeCarriesTheLocalAPI(t *testing.T) {
	sock := filepath.Join(t.TempDir(), SocketName)
	served := serveStatus(t, sock)
	c := bridgeClient(t, sock)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 3 { // a large body, and the connection reused
		s, err := c.Status(ctx)
		if err != nil {
			t.Fatalf("status %d through the bridge: %v", i, err)
		}
		if s.State != StateAvailable || len(s.Sentence) != 100_000 {
			t.Fatalf("status %d: state %s, sentence of %d bytes", i, s.State, len(s.Sentence))
		}
	}
	var states []State
	if err := c.Events(ctx, func(s Status) { states = append(states, s.State) }); err != nil {
		t.Fatalf("events: %v", err)
	}
	if len(states) != 2 || states[1] != StatePaused {
		t.Errorf("events %v, want Available then Paused", states)
	}
	if served.Load() != 3 {
		t.Errorf("the daemon answered %d statuses, want 3", served.Load())
	}
	c.http.CloseIdleConnections()
}

func TestBridgeWithoutDaemon(t *testing.T) {
	c := bridgeClient(t, filepath.Join(t.TempDir(), SocketName))
	_, err := c.Status(context.Background())
	if !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("status with no daemon behind the bridge: %v, want ErrNoDaemon", err)
	}
	if !strings.Contains(err.Error(), "the bridge says") {
		t.Errorf("the error does not say the bridge found no daemon: %v", err)
	}
}

// TestBridgeRefusesStrangers: whatever the command at the other end
// prints first, the client relays nothing unless it is a bridge greeting
// of its own version.
func TestBridgeRefusesStrangers(t *testing.T) {
	long := strings.Repeat("A", 10_000)
	for _, tc := range []struct {
		name, greeting string
		want           error
	}{
		{"silent", "", ErrBridge},
		{"another protocol", "SSH-2.0-OpenSSH_9.2\r\n", ErrBridge},
		{"a newer bridge", "SPARE-BRIDGE/2 ok\n", ErrBridge},
		{"unknown word", "SPARE-BRIDGE/1 maybe\n", ErrBridge},
		{"no newline", "SPARE-BRIDGE/1 ok", ErrBridge},
		{"endless line", long, ErrBridge},
		{"an error", "SPARE-BRIDGE/1 error permission denied\n", ErrBridge},
		{"no daemon", "SPARE-BRIDGE/1 no-daemon nothing at /x\n", ErrNoDaemon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readGreeting(strings.NewReader(tc.greeting))
			if !errors.Is(err, tc.want) {
				t.Fatalf("greeting %.40q: %v, want %v", tc.greeting, err, tc.want)
			}
			if len(err.Error()) > 2*maxGreeting {
				t.Errorf("the error repeats %d bytes of what the stranger sent", len(err.Error()))
			}
		})
	}
	if err := readGreeting(strings.NewReader("SPARE-BRIDGE/1 ok\nHTTP/1.1 200 OK")); err != nil {
		t.Fatalf("a good greeting: %v", err)
	}
}

// TestBridgeCommandFails: a bridge command that cannot start or ends
// before greeting says so, and leaves no process behind.
func TestBridgeCommandFails(t *testing.T) {
	for _, argv := range [][]string{{filepath.Join(t.TempDir(), "no-such-wsl.exe")}, {"false"}} {
		c := NewBridgeClient(argv, os.Stderr)
		_, err := c.Status(context.Background())
		if !errors.Is(err, ErrBridge) {
			t.Errorf("%s: %v, want ErrBridge", argv[0], err)
		}
	}
}
