package wallet

import (
	"fmt"
	"time"
)

// Action is what the credit limit tells a provider to do with a job.
type Action int

// Actions, in order of severity.
const (
	Continue Action = iota // paid up to the limit: keep working
	Pause                  // too much unpaid work: freeze the job, wait for a voucher
	End                    // unpaid past the timeout: end the job, send the final receipt
)

func (a Action) String() string {
	switch a {
	case Continue:
		return "continue"
	case Pause:
		return "pause"
	case End:
		return "end"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// DefaultUnpaidIntervals is how many intervals of unpaid work a provider
// risks by default.
const DefaultUnpaidIntervals = 2

// DefaultPauseTimeout is how long a paused job waits for payment.
const DefaultPauseTimeout = 30 * time.Second

// Credit are the inputs of the credit-limit decision.
type Credit struct {
	Billed      Amount    // cumulative amount of the latest receipt sent
	Paid        Amount    // best voucher held for this job
	PerInterval Amount    // what one full interval costs at the agreement's prices
	Intervals   int       // allowed unpaid intervals; 0 means DefaultUnpaidIntervals
	OverSince   time.Time // when unpaid work first exceeded the limit; zero if it has not
	Timeout     time.Duration
}

// Decision is the credit helper's answer with the reason a person reads.
type Decision struct {
	Action Action
	Reason string
}

// Decide is a pure function of c and now: Continue while unpaid work is at
// most Intervals × PerInterval, Pause beyond it, End once it has stayed
// beyond for Timeout (DefaultPauseTimeout when zero).
func (c Credit) Decide(now time.Time) Decision {
	n := c.Intervals
	if n <= 0 {
		n = DefaultUnpaidIntervals
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultPauseTimeout
	}
	unpaid := c.Billed - c.Paid
	limit := Amount(n) * c.PerInterval
	if unpaid <= limit {
		return Decision{Continue, fmt.Sprintf("unpaid %s within the limit %s", unpaid, limit)}
	}
	if c.OverSince.IsZero() || now.Sub(c.OverSince) < timeout {
		return Decision{Pause, fmt.Sprintf("unpaid %s exceeds %d intervals (%s): waiting for a voucher", unpaid, n, limit)}
	}
	return Decision{End, fmt.Sprintf("unpaid %s for %s past the limit: ending the job", unpaid, now.Sub(c.OverSince).Round(time.Second))}
}
