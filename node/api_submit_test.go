//go:build linux

package node

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/internal/testpeer"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// submitDaemon runs a daemon whose requester is a real loopback host and
// wallet (no provider side, no containerd: the requests here never reach
// a job) until the test ends.
func submitDaemon(t *testing.T, withRequester bool) (string, *localapi.Client, *market.Requester) {
	t.Helper()
	dir := t.TempDir()
	cfg := DaemonConfig{DataDir: dir, Settings: governor.Settings{AlwaysAvailable: true}, Version: "test", Log: quietLogger()}
	var req *market.Requester
	if withRequester {
		req = &market.Requester{Host: testpeer.Host(t, dir), Wallet: wallettest.Open(t, dir),
			Blobs: p2p.FileStore{Dir: filepath.Join(dir, "blobs")}, Trust: market.NewMemTrust(), Log: quietLogger()}
		cfg.Submitter = req
	}
	d := NewDaemon(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	c := localapi.NewClient(dir)
	testenv.WaitFor(t, "the LocalAPI", 10*time.Second, func() bool { _, err := c.Status(context.Background()); return err == nil })
	return dir, c, req
}

// TestSubmitRequestsValidated: every bad field of POST /v1/jobs is
// rejected before anything runs, with an error naming it; a good request
// with no provider around streams a no_provider result.
func TestSubmitRequestsValidated(t *testing.T) {
	dir, c, req := submitDaemon(t, true)
	if g, err := user.LookupGroup("spare"); err != nil || g == nil {
		fi, err := os.Stat(localapi.SocketPath(dir))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("socket mode %v (%v), want 0600", fi.Mode(), err)
		}
	}
	img := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(img, []byte("an image archive the provider never sees"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, n, err := market.PutFile(req.Blobs, img)
	if err != nil {
		t.Fatal(err)
	}
	good := market.JobSpec{Image: market.Image{Digest: d, Size: n, Blob: true}, Command: []string{"true"},
		MaxDuration: market.Duration(time.Minute), MaxPrice: 100}
	spec := func(edit func(*market.JobSpec)) json.RawMessage {
		s := good
		if edit != nil {
			edit(&s)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	missing := "sha256:" + strings.Repeat("ab", 32)
	out := t.TempDir()
	for _, tc := range []struct {
		name  string
		req   localapi.SubmitRequest
		want  string
		field string
	}{
		{"no spec", localapi.SubmitRequest{}, "spec: required", "spec"},
		{"spec not an object", localapi.SubmitRequest{Spec: json.RawMessage(`[1]`)}, "spec: invalid job spec", "spec"},
		{"spec unknown field", localapi.SubmitRequest{Spec: json.RawMessage(`{"image":{},"shell":"rm -rf /"}`)}, "shell", "spec"},
		{"spec bad field", localapi.SubmitRequest{Spec: spec(func(s *market.JobSpec) { s.Image.Digest = "sha256:zz" })}, "image.digest", "spec"},
		{"image not in the store", localapi.SubmitRequest{Spec: spec(func(s *market.JobSpec) { s.Image.Digest = market.Digest(missing) })},
			"image.digest: " + missing + " is not in the blob store", "spec"},
		{"image size differs", localapi.SubmitRequest{Spec: spec(func(s *market.JobSpec) { s.Image.Size++ })}, "image.digest: the stored blob has", "spec"},
		{"input not in the store", localapi.SubmitRequest{Spec: spec(func(s *market.JobSpec) {
			s.Inputs = []market.Input{{Name: "in.txt", Digest: market.Digest(missing), Size: 3}}
		})}, "inputs[0].digest", "spec"},
		{"relative output_dir", localapi.SubmitRequest{Spec: spec(nil), OutputDir: "out"}, `output_dir "out": want an absolute path`, "output_dir"},
		{"missing output_dir", localapi.SubmitRequest{Spec: spec(nil), OutputDir: filepath.Join(out, "nope")}, "want an existing directory", "output_dir"},
		{"output_dir a file", localapi.SubmitRequest{Spec: spec(nil), OutputDir: img}, "want an existing directory", "output_dir"},
		{"bad deposit", localapi.SubmitRequest{Spec: spec(nil), Deposit: "-1"}, `deposit "-1"`, "deposit"},
		{"zero deposit", localapi.SubmitRequest{Spec: spec(nil), Deposit: "0"}, `deposit "0"`, "deposit"},
		{"bad discovery", localapi.SubmitRequest{Spec: spec(nil), Discovery: "forever"}, `discovery "forever"`, "discovery"},
		{"long discovery", localapi.SubmitRequest{Spec: spec(nil), Discovery: "1h"}, `discovery "1h"`, "discovery"},
		{"oversized", localapi.SubmitRequest{Spec: spec(func(s *market.JobSpec) {
			s.Command = []string{strings.Repeat("x", maxSubmitBody)}
		})}, "at most", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ev, err := c.Submit(ctx, tc.req, nil)
			var e *localapi.Error
			if !errors.As(err, &e) || e.Code != localapi.CodeBadRequest || !strings.Contains(e.Message, tc.want) {
				t.Fatalf("got %+v, %v; want a bad_request naming %q", ev, err, tc.want)
			}
			if e.Field != tc.field {
				t.Fatalf("field %q, want %q", e.Field, tc.field)
			}
		})
	}
	// Unknown request fields are refused too (a raw request: the client
	// cannot send one).
	raw := rawPost(t, dir, `{"spec":{},"output":"/etc"}`)
	if !strings.Contains(raw, `unknown field \"output\"`) {
		t.Fatalf("unknown field answered %s", raw)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ev, err := c.Submit(ctx, localapi.SubmitRequest{Spec: spec(nil), OutputDir: out, Discovery: "300ms", Deposit: "0.5"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != localapi.EventResult || ev.Error == nil || ev.Error.Code != localapi.CodeNoProvider {
		t.Fatalf("result event %+v (error %+v)", ev, ev.Error)
	}
	var res market.SubmitResult
	if err := json.Unmarshal(ev.Result, &res); err != nil || res.Outputs == nil {
		t.Fatalf("result %s: %v", ev.Result, err)
	}
}

// TestSubmitWithoutRequester: a daemon with no requester says so, and
// the client reports it as unsupported (the CLI then runs the job itself).
func TestSubmitWithoutRequester(t *testing.T) {
	_, c, _ := submitDaemon(t, false)
	_, err := c.Submit(context.Background(), localapi.SubmitRequest{Spec: json.RawMessage(`{}`)}, nil)
	if !errors.Is(err, localapi.ErrSubmitUnsupported) || !strings.Contains(err.Error(), "--no-daemon") {
		t.Fatalf("got %v", err)
	}
}

// TestSameUser: only the daemon's own user (or root) may submit.
func TestSameUser(t *testing.T) {
	me := os.Geteuid()
	other := me + 4242
	if err := sameUser(context.WithValue(context.Background(), peerUIDKey{}, me)); err != nil {
		t.Fatalf("own user refused: %v", err)
	}
	if err := sameUser(context.WithValue(context.Background(), peerUIDKey{}, 0)); err != nil {
		t.Fatalf("root refused: %v", err)
	}
	if err := sameUser(context.WithValue(context.Background(), peerUIDKey{}, other)); err == nil {
		t.Fatal("another user may submit")
	}
	if err := sameUser(context.Background()); err == nil {
		t.Fatal("an unknown caller may submit")
	}
	// The user ID comes from the kernel (SO_PEERCRED) on a real socket.
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if uid, ok := withPeerCred(context.Background(), sc).Value(peerUIDKey{}).(int); !ok || uid != me {
		t.Fatalf("peer uid %d (%v), want %d", uid, ok, me)
	}
}

// rawPost sends body to POST /v1/jobs and returns the answer's body.
func rawPost(t *testing.T, dir, body string) string {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", localapi.SocketPath(dir))
	}}}
	resp, err := hc.Post("http://spare/v1/jobs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %s: %s", resp.Status, b)
	}
	return string(b)
}
