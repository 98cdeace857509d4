//go:build linux

package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
)

// TestCurrentJobAPI: a job bought over the market shows its kind, its
// requester, its running time and what it earned so far; a job frozen for
// the owner says so.
func TestCurrentJobAPI(t *testing.T) {
	prov := startProvider(t, 100, market.WalletCredit{})
	c := localapi.NewClient(prov.dir)
	req := testRequester(t)
	connect(t, req, prov)
	spec := imageSpec(t, req, "probe", "sleep", "8s")
	spec.Kind = market.KindRender
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		res, err := req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second})
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("exit code %d", res.ExitCode)
		}
		done <- err
	}()
	var j *localapi.Job
	testenv.WaitFor(t, "the job earning", 60*time.Second, func() bool {
		select {
		case err := <-done:
			t.Fatalf("the job ended before it was seen earning: %v", err)
		default:
		}
		var err error
		j, err = c.Job(ctx)
		return err == nil && j != nil && j.Earned > 0
	})
	if j.Kind != "render" || j.Requester != shortPeerID(req.Host.ID()) || !strings.HasPrefix(j.ID, "job-") ||
		j.State != localapi.JobRunning || j.Started.IsZero() || j.RunningS < 0 || time.Since(j.Started) > time.Minute {
		t.Fatalf("current job %+v", j)
	}
	if !strings.HasPrefix(j.Requester, "…") || len(j.Requester) > 12 {
		t.Fatalf("requester %q is not a short ID", j.Requester)
	}
	if err := <-done; err != nil {
		t.Fatalf("Submit: %v", err)
	}
	testenv.WaitFor(t, "no job after it ended", 10*time.Second, func() bool { j, err := c.Job(ctx); return err == nil && j == nil })
}
