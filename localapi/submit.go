package localapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// SubmitRequest asks the daemon to run a job as the requester
// (POST /v1/jobs), with its unlocked wallet, its warm libp2p host and the
// providers it already knows. Only the daemon's own user may submit: the
// daemon reads the blob store and writes OutputDir on the caller's behalf.
type SubmitRequest struct {
	// Spec is a job spec in JSON (the `spare submit --spec` format). The
	// image blob and inputs it names by digest must already be in the data
	// directory's blob store (DATA/blobs), where `spare submit` puts them.
	Spec json.RawMessage `json:"spec"`
	// OutputDir is an absolute path to an existing directory that
	// receives the outputs; empty: outputs are not fetched.
	OutputDir string `json:"output_dir,omitempty"`
	// Deposit per payment channel in currency units ("0.5"); empty: the
	// quoted job's maximum cost.
	Deposit string `json:"deposit,omitempty"`
	// Discovery bounds the search for providers ("20s"); empty: the
	// market's default.
	Discovery string `json:"discovery,omitempty"`
}

// Submit stream event types.
const (
	EventLog    = "log"    // Stream and Data: the job's output, or the requester's notes
	EventResult = "result" // Result, and Error when the job could not run
)

// Log event streams.
const (
	StreamStdout = "stdout" // the job's standard output, as the provider sent it
	StreamStderr = "stderr" // the job's standard error, as the provider sent it
	// StreamNotes is the requester's own lines ("spare: provider …: job
	// frozen"); they may quote a provider's words, so escape them too.
	StreamNotes = "spare"
)

// SubmitEvent is one line of the POST /v1/jobs response stream: log
// events while the job runs, then exactly one result event.
type SubmitEvent struct {
	Type string `json:"type"`
	// Stream is StreamStdout or StreamStderr (the provider's output,
	// untrusted: escape it before a terminal shows it) or StreamNotes
	// (log events).
	Stream string `json:"stream,omitempty"`
	// Data is a chunk of the stream, base64 in JSON (log events).
	Data []byte `json:"data,omitempty"`
	// Result is the submit result, as `spare submit --json` prints it
	// (result events).
	Result json.RawMessage `json:"result,omitempty"`
	// Error says why the job could not run (result events); its code is
	// "no_provider" when no provider could run the job and
	// "replicas_disagree" when replicas gave different results with no
	// majority.
	Error *Error `json:"error,omitempty"`
}

// maxEventLine caps one line of the submit stream.
const maxEventLine = 1 << 20

// ErrSubmitUnsupported means the daemon does not take jobs for its user
// (an older daemon, one without a wallet, or a caller who is not the
// daemon's user); the caller may run the job itself.
var ErrSubmitUnsupported = errors.New("the daemon does not submit jobs for this user")

// Submit hands a job to the daemon and calls onLog with each chunk of the
// job's logs until the result arrives. It returns the result event; a
// job that could not run has Error set. Cancelling ctx closes the
// connection, which cancels the job (the receipted work stays paid).
func (c *Client) Submit(ctx context.Context, r SubmitRequest, onLog func(stream string, data []byte)) (SubmitEvent, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return SubmitEvent{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://spare/v1/jobs", bytes.NewReader(b))
	if err != nil {
		return SubmitEvent{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return SubmitEvent{}, c.dialError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		err := decode(resp, nil)
		var e *Error
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden ||
			(errors.As(err, &e) && e.Code == CodeNoRequester) {
			return SubmitEvent{}, fmt.Errorf("%w: %w", ErrSubmitUnsupported, err)
		}
		return SubmitEvent{}, err
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	for sc.Scan() {
		var ev SubmitEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return SubmitEvent{}, fmt.Errorf("submit stream: %w", err)
		}
		switch ev.Type {
		case EventLog:
			if onLog != nil {
				onLog(ev.Stream, ev.Data)
			}
		case EventResult:
			return ev, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return SubmitEvent{}, err
	}
	if err := sc.Err(); err != nil {
		return SubmitEvent{}, fmt.Errorf("submit stream: %w", err)
	}
	return SubmitEvent{}, errors.New("submit stream: the daemon closed it before the result (did it stop?)")
}
