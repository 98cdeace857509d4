package gpu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// ErrReplayDone is returned by Replay.Snapshot after the last record.
var ErrReplayDone = errors.New("telemetry replay finished")

// Replay serves recorded telemetry. The file holds one JSON object per
// line: {"t_ms": 1500, "devices": [...]} where t_ms is milliseconds since
// the start of the recording and devices are Device objects. Blank lines
// and lines starting with # are ignored.
type Replay struct {
	mu      sync.Mutex
	records []Snapshot
	next    int
}

type replayLine struct {
	TMs     int64    `json:"t_ms"`
	Devices []Device `json:"devices"`
}

// LoadReplay reads a recording and places its first record at start.
func LoadReplay(path string, start time.Time) (*Replay, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening telemetry recording: %w", err)
	}
	defer f.Close()
	return ReadReplay(f, start)
}

// ReadReplay is LoadReplay from a reader.
func ReadReplay(r io.Reader, start time.Time) (*Replay, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	rp := &Replay{}
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		var l replayLine
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("telemetry recording line %d: %w", line, err)
		}
		at := start.Add(time.Duration(l.TMs) * time.Millisecond)
		if n := len(rp.records); n > 0 && at.Before(rp.records[n-1].At) {
			return nil, fmt.Errorf("telemetry recording line %d: time goes backwards", line)
		}
		rp.records = append(rp.records, Snapshot{At: at, Devices: l.Devices})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading telemetry recording: %w", err)
	}
	return rp, nil
}

// Snapshots returns every record, in order.
func (r *Replay) Snapshots() []Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Snapshot(nil), r.records...)
}

// Snapshot returns the next record, then ErrReplayDone. It satisfies the
// same one-method interface as NVML.
func (r *Replay) Snapshot(ctx context.Context) (Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return Snapshot{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next >= len(r.records) {
		return Snapshot{}, ErrReplayDone
	}
	s := r.records[r.next]
	r.next++
	return s, nil
}
