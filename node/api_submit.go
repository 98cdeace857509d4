package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// jobSubmitter runs jobs as the requester: market.Requester, built by
// `spare node` with the daemon's host, wallet and blob store.
type jobSubmitter interface {
	CheckBlobs(spec *market.JobSpec) error
	Submit(ctx context.Context, spec *market.JobSpec, opt market.SubmitOptions) (market.SubmitResult, error)
}

var _ jobSubmitter = (*market.Requester)(nil)

// Limits of POST /v1/jobs.
const (
	// MaxRequesterJobs is how many submitted jobs the daemon runs at once.
	MaxRequesterJobs = 4
	// MaxSubmitDiscovery bounds a request's discovery time.
	MaxSubmitDiscovery = 5 * time.Minute
	// maxSubmitBody caps the request: a spec and a few paths.
	maxSubmitBody = market.MaxSpecSize + 16<<10
	// maxEventData is the most log bytes one event carries.
	maxEventData = 32 << 10
	// eventWriteTimeout bounds one event's write: a client that stops
	// reading loses its job (cancelled, the receipted work paid) rather
	// than stalling the job's payments behind its logs.
	eventWriteTimeout = 30 * time.Second
)

// requesterJobs owns the jobs submitted through the LocalAPI: each runs
// in its request's handler, under the request's context (the client
// going away or the daemon stopping cancels it), and Serve waits for
// them before it returns.
// SubmittedJobs is how many jobs submitted through the LocalAPI
// (POST /v1/jobs) are running now.
func (d *Daemon) SubmittedJobs() int {
	d.submits.mu.Lock()
	defer d.submits.mu.Unlock()
	return d.submits.n
}

type requesterJobs struct {
	mu     sync.Mutex
	n      int
	closed bool
	wg     sync.WaitGroup
}

func (j *requesterJobs) add() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed || j.n >= MaxRequesterJobs {
		return false
	}
	j.n++
	j.wg.Add(1)
	return true
}

func (j *requesterJobs) done() {
	j.mu.Lock()
	j.n--
	j.mu.Unlock()
	j.wg.Done()
}

// close refuses new jobs and waits for the running ones to end.
func (j *requesterJobs) close() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.wg.Wait()
}

// serveSubmit runs a job as the requester and streams its logs and
// result (package localapi documents the contract).
func (d *Daemon) serveSubmit(w http.ResponseWriter, r *http.Request) {
	sub := d.cfg.Submitter
	if sub == nil {
		writeError(w, http.StatusServiceUnavailable, localapi.CodeNoRequester,
			"this daemon does not submit jobs; run `spare submit --no-daemon`")
		return
	}
	if err := sameUser(r.Context()); err != nil {
		writeError(w, http.StatusForbidden, localapi.CodeForbidden, err.Error())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSubmitBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, localapi.CodeBadRequest, fmt.Sprintf("request body: %v (at most %d bytes)", err, maxSubmitBody))
		return
	}
	spec, opt, err := checkSubmit(body, sub)
	if err != nil {
		field := ""
		var fe submitFieldError
		if errors.As(err, &fe) {
			field = fe.field
		}
		writeFieldError(w, http.StatusBadRequest, localapi.CodeBadRequest, field, err.Error())
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, "streaming unsupported")
		return
	}
	if !d.submits.add() {
		writeError(w, http.StatusTooManyRequests, localapi.CodeBusy,
			fmt.Sprintf("%d submitted jobs are running already (or the daemon is stopping); try again when one ends", MaxRequesterJobs))
		return
	}
	defer d.submits.done()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	ev := &eventStream{enc: json.NewEncoder(w), rc: http.NewResponseController(w), failed: cancel}
	opt.Stdout, opt.Stderr = streamWriter{ev, localapi.StreamStdout}, streamWriter{ev, localapi.StreamStderr}
	opt.Notes = streamWriter{ev, localapi.StreamNotes}
	opt.OutputOwner = outputOwner(r.Context())
	log := d.log.With("spec", spec.JobHash().String()[:18])
	log.Info("submitting a job for the local user")
	res, err := sub.Submit(ctx, spec, opt)
	out := localapi.SubmitEvent{Type: localapi.EventResult}
	if out.Result, err = marshalResult(res, err); err != nil {
		code := localapi.CodeFailed
		switch {
		case ctx.Err() != nil:
			code = localapi.CodeCancelled
		case errors.Is(err, market.ErrNoProvider):
			code = localapi.CodeNoProvider
		case errors.Is(err, market.ErrReplicasDisagree):
			code = localapi.CodeDisagree
		case errors.Is(err, market.ErrInvalidSpec):
			code = "bad_request"
		}
		out.Error = &localapi.Error{Message: err.Error(), Code: code}
		log.Info("submitted job did not run", "code", code, "err", err)
	} else {
		log.Info("submitted job done", "job", res.Job, "provider", res.Provider, "exit", res.ExitCode, "cost", res.Cost)
	}
	ev.send(out)
}

func marshalResult(res market.SubmitResult, err error) (json.RawMessage, error) {
	if res.Outputs == nil {
		res.Outputs = []market.SubmitOutput{}
	}
	b, merr := json.Marshal(res)
	if merr != nil && err == nil {
		err = merr
	}
	return b, err
}

// checkSubmit validates a request at the edge; errors name the field.
func checkSubmit(body []byte, sub jobSubmitter) (*market.JobSpec, market.SubmitOptions, error) {
	var req localapi.SubmitRequest
	var opt market.SubmitOptions
	if err := decodeStrict(body, &req); err != nil {
		return nil, opt, fmt.Errorf("request body: %w", err)
	}
	if len(req.Spec) == 0 || string(req.Spec) == "null" {
		return nil, opt, submitFieldError{"spec", errors.New("spec: required (a job spec in JSON)")}
	}
	spec, err := market.DecodeSpec(req.Spec, market.FormatJSON)
	if err != nil {
		return nil, opt, submitFieldError{"spec", fmt.Errorf("spec: %w", err)}
	}
	if err := sub.CheckBlobs(spec); err != nil {
		return nil, opt, submitFieldError{"spec", fmt.Errorf("spec: %w", err)}
	}
	if req.OutputDir != "" {
		if !filepath.IsAbs(req.OutputDir) {
			return nil, opt, submitFieldError{"output_dir", fmt.Errorf("output_dir %q: want an absolute path", req.OutputDir)}
		}
		if fi, err := os.Stat(req.OutputDir); err != nil || !fi.IsDir() {
			return nil, opt, submitFieldError{"output_dir", fmt.Errorf("output_dir %q: want an existing directory (create it first)", req.OutputDir)}
		}
		opt.OutputDir = filepath.Clean(req.OutputDir)
	}
	if req.Deposit != "" {
		dep, err := wallet.ParseAmount(req.Deposit)
		if err != nil || dep <= 0 {
			return nil, opt, submitFieldError{"deposit", fmt.Errorf("deposit %q: want a positive amount in currency units, such as 0.5", req.Deposit)}
		}
		opt.Deposit = dep
	}
	if req.Discovery != "" {
		dur, err := time.ParseDuration(req.Discovery)
		if err != nil || dur <= 0 || dur > MaxSubmitDiscovery {
			return nil, opt, submitFieldError{"discovery", fmt.Errorf("discovery %q: want a duration between 1ms and %s, such as 20s", req.Discovery, MaxSubmitDiscovery)}
		}
		opt.Discovery = dur
	}
	return spec, opt, nil
}

// submitFieldError names the request field a rejection is about.
type submitFieldError struct {
	field string
	err   error
}

func (e submitFieldError) Error() string { return e.err.Error() }
func (e submitFieldError) Unwrap() error { return e.err }

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// eventStream writes NDJSON events to one response; log writers from the
// job's replicas share it.
type eventStream struct {
	mu     sync.Mutex
	enc    *json.Encoder
	rc     *http.ResponseController
	failed context.CancelFunc // cancels the job
	err    error
}

// send writes one event within eventWriteTimeout; once a write fails
// (the client went or stopped reading) the job is cancelled and the rest
// are dropped.
func (s *eventStream) send(ev localapi.SubmitEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
	if s.err = s.enc.Encode(ev); s.err == nil {
		s.err = s.rc.Flush()
	}
	if s.err != nil {
		s.failed()
	}
}

// streamWriter turns one of the job's log streams into log events.
type streamWriter struct {
	s    *eventStream
	name string
}

func (w streamWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		k := min(len(b), maxEventData)
		w.s.send(localapi.SubmitEvent{Type: localapi.EventLog, Stream: w.name, Data: b[:k]})
		b = b[k:]
	}
	return n, nil
}

var _ io.Writer = streamWriter{}
