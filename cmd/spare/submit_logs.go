package main

import (
	"io"

	"github.com/sparegpu/spare/internal/termtext"
	"github.com/sparegpu/spare/localapi"
)

// providerMark starts every line of a job's output that `spare submit`
// prints: the provider sent those bytes, and the mark keeps them from
// passing for Spare's own lines ("spare: …"), which start at the margin.
const providerMark = "│ "

// jobLogs prints a job's logs for a person, from the daemon's log events
// or the in-process requester. The provider's output is escaped
// (internal/termtext: no escape sequence, clipboard write or carriage
// return reaches the terminal) and marked with providerMark; the
// requester's notes are escaped and unmarked. `--json` changes only where
// the logs go (stderr), not how: its summary on stdout is JSON.
type jobLogs struct {
	out, err, notes *termtext.Writer
}

func newJobLogs(stdout, stderr io.Writer) *jobLogs {
	return &jobLogs{out: &termtext.Writer{W: stdout, Prefix: providerMark},
		err: &termtext.Writer{W: stderr, Prefix: providerMark}, notes: &termtext.Writer{W: stderr}}
}

// write prints one chunk of a stream (localapi.StreamStdout, StreamStderr,
// StreamNotes; another is taken for the provider's stderr).
func (l *jobLogs) write(stream string, b []byte) {
	switch stream {
	case localapi.StreamStdout:
		_, _ = l.out.Write(b)
	case localapi.StreamNotes:
		_, _ = l.notesWriter().Write(b)
	default:
		_, _ = l.err.Write(b)
	}
}

// notesWriter ends the provider's unfinished lines before a note, so that
// the note starts at the margin.
func (l *jobLogs) notesWriter() io.Writer {
	_ = l.out.Flush()
	_ = l.err.Flush()
	return l.notes
}

type streamFunc func([]byte) (int, error)

func (f streamFunc) Write(b []byte) (int, error) { return f(b) }

// writers are the three for market.SubmitOptions (Stdout, Stderr, Notes).
func (l *jobLogs) writers() (stdout, stderr, notes io.Writer) {
	return l.out, l.err, streamFunc(func(b []byte) (int, error) { return l.notesWriter().Write(b) })
}

// flush ends what is unfinished, before Spare prints its summary.
func (l *jobLogs) flush() {
	_ = l.out.Flush()
	_ = l.err.Flush()
	_ = l.notes.Flush()
}
