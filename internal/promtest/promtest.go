// Package promtest scrapes a running daemon's GET /metrics over its
// LocalAPI socket, checks the scrape with promtool (Prometheus's own
// linter) and reads values out of it. It is test support: only tests
// import it.
package promtest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
)

// Scrape is one read of /metrics: its text and its families by name.
type Scrape struct {
	Text     []byte
	Families map[string]*dto.MetricFamily
}

// Get scrapes the daemon serving dataDir's LocalAPI socket.
func Get(t testing.TB, dataDir string) Scrape {
	t.Helper()
	sock := localapi.SocketPath(dataDir)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	resp, err := c.Get("http://spare/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s %v: %s", resp.Status, err, b)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, b)
	}
	return Scrape{Text: b, Families: fams}
}

// Promtool runs `promtool check metrics` on the scrape and fails the test
// on any problem it reports. Without promtool the test is skipped, or
// fails under CI.
func (s Scrape) Promtool(t testing.TB) {
	t.Helper()
	bin := testenv.NeedCommand(t, "promtool", "prometheus")
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(s.Text)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// Value is the value of the sample of family name whose labels include
// all of labels (name=value pairs); false when there is none.
func (s Scrape) Value(name string, labels ...string) (float64, bool) {
	f, ok := s.Families[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// Histogram is the sample count and sum of histogram name.
func (s Scrape) Histogram(name string) (count uint64, sum float64, ok bool) {
	f, found := s.Families[name]
	if !found || len(f.Metric) == 0 || f.Metric[0].Histogram == nil {
		return 0, 0, false
	}
	h := f.Metric[0].Histogram
	return h.GetSampleCount(), h.GetSampleSum(), true
}

// Must is Value that fails the test when the sample is missing.
func (s Scrape) Must(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	v, ok := s.Value(name, labels...)
	if !ok {
		t.Fatalf("/metrics has no %s{%s}:\n%s", name, strings.Join(labels, ","), s.Text)
	}
	return v
}
