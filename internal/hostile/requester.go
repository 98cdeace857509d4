package hostile

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testpeer"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// Requester is a real market.Requester on a loopback host, with a wallet
// of its own, that misbehaves as its options say.
type Requester struct {
	*market.Requester
	stopPaying int // market.SubmitOptions.StopPayingAfter; zero: pays
}

// RequesterOption is one dishonest act of a requester.
type RequesterOption func(*Requester)

// NewRequester starts a requester closed when the test ends.
func NewRequester(t testing.TB, opts ...RequesterOption) *Requester {
	t.Helper()
	dir := t.TempDir()
	r := &Requester{Requester: &market.Requester{Host: testpeer.Host(t, dir), Wallet: wallettest.Open(t, dir),
		Blobs: p2p.FileStore{Dir: filepath.Join(dir, "blobs")}, Log: slog.New(slog.DiscardHandler)}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Submit is market.Requester's, with the requester's misbehaviour.
func (r *Requester) Submit(ctx context.Context, spec *market.JobSpec, opts market.SubmitOptions) (market.SubmitResult, error) {
	if r.stopPaying != 0 {
		opts.StopPayingAfter = r.stopPaying
	}
	return r.Requester.Submit(ctx, spec, opts)
}

// NeverPay signs no voucher, ever.
func NeverPay() RequesterOption { return func(r *Requester) { r.stopPaying = -1 } }

// StopPayingAfter pays the first n receipts of each job (n > 0), then
// no more.
func StopPayingAfter(n int) RequesterOption { return func(r *Requester) { r.stopPaying = max(n, 1) } }

// DripImage serves the job's image and inputs piece bytes at a time,
// each after a pause of every: a requester that agrees, then holds the
// provider unpaid while it fetches. A piece every second keeps a frame
// arriving within the blob protocol's idle timeout.
func DripImage(piece int, every time.Duration) RequesterOption {
	return func(r *Requester) { r.Serve = dripSource{FileStore: r.Blobs, piece: piece, every: every} }
}

// dripSource is a blob source that drips what its FileStore holds.
type dripSource struct {
	p2p.FileStore
	piece int
	every time.Duration
}

func (d dripSource) OpenBlob(dg p2p.Digest) (io.ReadSeekCloser, int64, error) {
	f, n, err := d.FileStore.OpenBlob(dg)
	if err != nil {
		return f, n, err
	}
	return &dripReader{ReadSeekCloser: f, piece: d.piece, every: d.every}, n, nil
}

type dripReader struct {
	io.ReadSeekCloser
	piece int
	every time.Duration
}

func (r *dripReader) Read(b []byte) (int, error) {
	time.Sleep(r.every) // the attacker's pace, not synchronisation
	return r.ReadSeekCloser.Read(b[:min(len(b), r.piece)])
}
