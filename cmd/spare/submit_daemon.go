package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
)

// submitViaDaemon hands the job to the daemon of dir when one runs and
// takes jobs for this user; done is false when none does (no socket,
// nobody listening, a socket this user may not open, a daemon without a
// requester or of another user), and the caller runs the job itself.
// The spec's blobs are already in the data directory's blob store, which
// the daemon serves to providers.
func submitViaDaemon(ctx context.Context, g *globals, dir string, f *submitFlags, spec *market.JobSpec,
	logs *jobLogs, stderr io.Writer) (res market.SubmitResult, done bool, err error) {
	if _, err := os.Stat(localapi.SocketPath(dir)); err != nil {
		return res, false, nil
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return res, true, err
	}
	req := localapi.SubmitRequest{Spec: raw, Deposit: f.deposit}
	if f.output != "" {
		if req.OutputDir, err = filepath.Abs(f.output); err != nil {
			return res, true, fmt.Errorf("--output %s: %w", f.output, err)
		}
	}
	if f.discovery > 0 {
		req.Discovery = f.discovery.String()
	}
	ev, err := localapi.NewClient(dir).Submit(ctx, req, logs.write)
	logs.flush()
	if errors.Is(err, localapi.ErrNoDaemon) || errors.Is(err, localapi.ErrSubmitUnsupported) || errors.Is(err, os.ErrPermission) {
		g.log.Info("running the job in this process", "why", err)
		return res, false, nil
	}
	if err != nil {
		var le *localapi.Error
		if errors.As(err, &le) && le.Code == localapi.CodeBadRequest {
			return res, true, usageError{err}
		}
		return res, true, err
	}
	fmt.Fprintf(stderr, "spare: the daemon at %s ran the job\n", localapi.SocketPath(dir))
	if len(ev.Result) > 0 {
		if err := json.Unmarshal(ev.Result, &res); err != nil {
			return res, true, fmt.Errorf("the daemon's result: %w", err)
		}
	}
	if ev.Error != nil {
		return res, true, daemonSubmitError{ev.Error}
	}
	return res, true, nil
}

// daemonSubmitError is a job the daemon could not run; it matches
// market.ErrNoProvider or market.ErrReplicasDisagree when that was the
// reason, so both paths exit alike.
type daemonSubmitError struct{ e *localapi.Error }

func (d daemonSubmitError) Error() string { return d.e.Message }

func (d daemonSubmitError) Is(target error) bool {
	return target == market.ErrNoProvider && d.e.Code == localapi.CodeNoProvider ||
		target == market.ErrReplicasDisagree && d.e.Code == localapi.CodeDisagree
}
