package sandbox

import (
	"io"
	"sync"
)

// tailBytes is how much of the end of the logs a Result keeps.
const tailBytes = 4 << 10

// logSink passes a job's stdout and stderr to optional writers until the
// shared cap is reached, counts what it drops, and keeps the last bytes
// for the result.
type logSink struct {
	mu       sync.Mutex
	cap      int64
	written  int64
	lost     int64
	ring     []byte
	out, err io.Writer
}

func newLogSink(limit int64, stdout, stderr io.Writer) *logSink {
	return &logSink{cap: limit, out: stdout, err: stderr}
}

func (l *logSink) stdout() io.Writer { return sinkWriter{l, false} }
func (l *logSink) stderr() io.Writer { return sinkWriter{l, true} }

type sinkWriter struct {
	l     *logSink
	isErr bool
}

func (w sinkWriter) Write(p []byte) (int, error) {
	l := w.l
	l.mu.Lock()
	defer l.mu.Unlock()
	keep := int64(len(p))
	if room := l.cap - l.written; keep > room {
		keep = max(room, 0)
	}
	l.lost += int64(len(p)) - keep
	l.written += keep
	kept := p[:keep]
	l.ring = append(l.ring, kept...)
	if len(l.ring) > tailBytes {
		l.ring = append(l.ring[:0], l.ring[len(l.ring)-tailBytes:]...)
	}
	dst := l.out
	if w.isErr {
		dst = l.err
	}
	if dst != nil && len(kept) > 0 {
		_, _ = dst.Write(kept) // a slow or broken reader must not block the job
	}
	return len(p), nil
}

func (l *logSink) total() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.written + l.lost
}

func (l *logSink) dropped() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

func (l *logSink) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.ring)
}
