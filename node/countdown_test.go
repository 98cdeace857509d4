//go:build linux

package node

import (
	"context"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
)

// startingIn reads the seconds left from "… — starting in 4 min 57 s";
// false when the sentence has no countdown.
func startingIn(sentence string) (int, bool) {
	m := regexp.MustCompile(`starting in (?:(\d+) min)? ?(?:(\d+) s)?$`).FindStringSubmatch(sentence)
	if m == nil || m[1]+m[2] == "" {
		return 0, false
	}
	mins, _ := strconv.Atoi(m[1])
	secs, _ := strconv.Atoi(m[2])
	return mins*60 + secs, true
}

// TestSentenceCountsDown: the owner was active 3 s ago and work starts
// after 5 min without input. The status sentence is a promise about time:
// the event stream sends it again as it changes, and GET /v1/status (what
// `spare status` prints) renders it when read, so both count down, and
// the status's updated time moves.
func TestSentenceCountsDown(t *testing.T) {
	_, c, _ := testDaemon(t, governor.Settings{IdleBefore: 5 * time.Minute}, ":none")
	ctx := context.Background()
	if err := c.ReportPresence(ctx, localapi.PresenceReport{IdleMS: 3000, IdleKnown: true, Source: "test"}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var seen []localapi.Status
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.Events(ectx, func(s localapi.Status) { mu.Lock(); seen = append(seen, s); mu.Unlock() })
	// countdowns are the seconds left in the Waiting(active) sentences the
	// stream sent, in order.
	countdowns := func() []int {
		mu.Lock()
		defer mu.Unlock()
		var out []int
		for _, s := range seen {
			if left, ok := startingIn(s.Sentence); ok && s.State == localapi.StateWaiting && s.Reason == localapi.ReasonActive {
				out = append(out, left)
			}
		}
		return out
	}
	testenv.WaitFor(t, "the event stream to count down three times", 10*time.Second, func() bool { return len(countdowns()) >= 3 })
	cd := countdowns()
	for i := 1; i < len(cd); i++ {
		if cd[i] >= cd[i-1] {
			t.Fatalf("the stream's countdown went %v: it must only fall", cd)
		}
	}
	if cd[0] > 297 || cd[0] < 280 {
		t.Fatalf("first countdown %d s after being active 3 s ago with 5 min to wait", cd[0])
	}

	first, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left, ok := startingIn(first.Sentence)
	if !ok {
		t.Fatalf("status %q has no countdown", first.Sentence)
	}
	testenv.WaitFor(t, "GET /v1/status to read differently", 5*time.Second, func() bool {
		s, err := c.Status(ctx)
		if err != nil || s.Sentence == first.Sentence {
			return false
		}
		now, ok := startingIn(s.Sentence)
		if !ok || now >= left || !s.Updated.After(first.Updated) {
			t.Fatalf("after %q (updated %v) the status says %q (updated %v)", first.Sentence, first.Updated, s.Sentence, s.Updated)
		}
		return true
	})
}
