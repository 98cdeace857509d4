package market

import (
	"io"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/p2p"
)

// Stage is where a submitted job is, for a person watching it.
type Stage int

const (
	// StageDiscovering: looking for providers; Progress.Providers counts
	// those heard from so far.
	StageDiscovering Stage = iota
	// StageUploading: a provider is fetching the image or an input from
	// this host; Name, Done and Total describe that blob.
	StageUploading
	// StageRunning: the agreement is signed and the job runs on Provider;
	// Paid is what its vouchers have paid so far.
	StageRunning
	// StageDownloading: an output is being fetched; Name, Done and Total
	// describe it.
	StageDownloading
)

func (s Stage) String() string {
	switch s {
	case StageDiscovering:
		return "discovering"
	case StageUploading:
		return "uploading"
	case StageRunning:
		return "running"
	case StageDownloading:
		return "downloading"
	}
	return "unknown"
}

// Progress is one report of SubmitOptions.Progress. Fields other than
// Stage are meaningful only in the stages that say so.
type Progress struct {
	Stage     Stage
	Providers int    // StageDiscovering: providers heard from
	Provider  string // peer ID of the provider concerned
	Name      string // the blob's digest (uploading) or the output's path
	Done      int64  // bytes so far
	Total     int64  // bytes in all
	Paid      uint64 // StageRunning: in the token's smallest unit
}

// progressFunc reports progress; nil reports nothing.
type progressFunc func(Progress)

func (f progressFunc) report(p Progress) {
	if f != nil {
		f(p)
	}
}

// progressSource is a BlobSource whose reads are reported as uploads.
type progressSource struct {
	p2p.BlobSource
	report progressFunc
}

func (s progressSource) OpenBlob(d p2p.Digest) (io.ReadSeekCloser, int64, error) {
	rc, n, err := s.BlobSource.OpenBlob(d)
	if err != nil {
		return nil, 0, err
	}
	return &countingReader{ReadSeekCloser: rc, total: n, name: d.String(), report: s.report}, n, nil
}

// countingReader reports its position after each read.
type countingReader struct {
	io.ReadSeekCloser
	name   string
	total  int64
	report progressFunc

	mu  sync.Mutex
	pos int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.ReadSeekCloser.Read(b)
	c.mu.Lock()
	c.pos += int64(n)
	pos := c.pos
	c.mu.Unlock()
	if n > 0 {
		c.report(Progress{Stage: StageUploading, Name: c.name, Done: pos, Total: c.total})
	}
	return n, err
}

func (c *countingReader) Seek(off int64, whence int) (int64, error) {
	pos, err := c.ReadSeekCloser.Seek(off, whence)
	if err == nil {
		c.mu.Lock()
		c.pos = pos
		c.mu.Unlock()
	}
	return pos, err
}

// countingWriter reports an output's download.
type countingWriter struct {
	w      io.Writer
	p      Progress
	report progressFunc
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.p.Done += int64(n)
	c.report(c.p)
	return n, err
}

func downloading(w io.Writer, report progressFunc, provider peer.ID, name string, size int64) io.Writer {
	if report == nil {
		return w
	}
	return &countingWriter{w: w, report: report, p: Progress{Stage: StageDownloading, Provider: provider.String(), Name: name, Total: size}}
}
