package provider

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// ClosePollEvery is how often a running job's channel is read on-chain for
// its payer's close request: a requester may ask to close at any moment,
// and every second of work after that is at risk (the escrow's grace
// period runs from the request, whatever the job's length).
const ClosePollEvery = 5 * time.Second

// watchClose reads channel id every interval until ctx ends and reports
// on seen, once, when its payer asked to close it (or it is closed). A
// failed read is logged and tried again at the next interval.
func (r *providerRun) watchClose(ctx context.Context, id common.Hash, every time.Duration, seen chan<- struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, min(ChainReadTimeout, 4*every))
		ch, err := r.p.cfg.Chain.Channel(rctx, id)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("reading the job's channel for a close request", "channel", id.Hex(), "err", err)
			}
			continue
		}
		if ch.CloseRequestedAt != 0 || ch.Closed {
			seen <- struct{}{} // buffered: the one report is never lost
			return
		}
	}
}

// startCloseWatch starts watchClose for the session's channel on a chain;
// the session's tasks own it and it ends with the session.
func (r *providerRun) startCloseWatch(ctx context.Context) {
	if r.p.cfg.Chain == nil || r.sa.ChannelID == (common.Hash{}) {
		return
	}
	r.closing = make(chan struct{}, 1)
	id, every := r.sa.ChannelID, r.p.closePoll
	r.tasks.Add(1)
	go func() {
		defer r.tasks.Done()
		r.watchClose(ctx, id, every, r.closing)
	}()
}
