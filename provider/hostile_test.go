package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/hostile"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
)

// reservedNow reports whether a job holds the provider.
func (p *Provider) reservedNow() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reserved
}

// TestDripFedImage: a requester that agrees, then serves its image one
// 16 KiB piece a second (a 256 KiB frame every 16 s, inside the blob
// protocol's 30 s idle timeout) holds the provider, unpaid, no longer
// than the fetch bound; and going away releases it at once.
func TestDripFedImage(t *testing.T) {
	// 16 KiB a second: a 256 KiB frame every 16 s.
	drip := hostile.DripImage(16<<10, time.Second)

	t.Run("held no longer than the bound", func(t *testing.T) {
		const slack = 2 * time.Second
		prov := startProvider(t, 100, market.WalletCredit{}, providerOption{provider: func(p *Provider) { p.setFetchBound(1<<20, slack) }})
		req := hostile.NewRequester(t, drip)
		connect(t, req.Requester, prov)
		spec := imageSpec(t, req.Requester, "probe", "true")
		bound := prov.prov.fetchBound(spec)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		submitted := make(chan error, 1)
		go func() {
			res, err := req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second, MaxAttempts: 1})
			if err == nil && res.ExitCode == 0 && res.Error == "" {
				err = errShouldFail
			}
			submitted <- err
		}()
		testenv.WaitFor(t, "the provider to take the job", 30*time.Second, prov.prov.reservedNow)
		held := time.Now()
		testenv.WaitFor(t, "the provider to give up on the drip", bound+30*time.Second, func() bool { return !prov.prov.reservedNow() })
		took := time.Since(held)
		if took > bound+5*time.Second {
			t.Errorf("a drip-fed image held the provider %v; the bound is %v", took.Round(time.Millisecond), bound)
		}
		t.Logf("a drip-fed %s image held the provider %v (bound %v)", spec.Image.Size, took.Round(time.Millisecond), bound)
		if err := <-submitted; err == errShouldFail {
			t.Error("the job ran on a drip-fed image")
		}
		if b := balance(t, prov.wallet); b.Earned != 0 {
			t.Errorf("the provider earned %s for a job that never started", b.Earned)
		}
	})

	t.Run("released when the requester goes", func(t *testing.T) {
		prov := startProvider(t, 100, market.WalletCredit{}) // the default bound: 30 s and more
		req := hostile.NewRequester(t, drip)
		connect(t, req.Requester, prov)
		spec := imageSpec(t, req.Requester, "probe", "true")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		submitted := make(chan struct{})
		go func() {
			defer close(submitted)
			_, _ = req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second, MaxAttempts: 1})
		}()
		testenv.WaitFor(t, "the provider to take the job", 30*time.Second, prov.prov.reservedNow)
		cancel() // the requester goes away mid-fetch
		gone := time.Now()
		<-submitted
		testenv.WaitFor(t, "the provider to let go", time.Minute, func() bool { return !prov.prov.reservedNow() })
		if took := time.Since(gone); took > 5*time.Second {
			t.Errorf("the provider stayed reserved %v after its requester went away", took.Round(time.Millisecond))
		} else {
			t.Logf("released %v after the requester went away", took.Round(time.Millisecond))
		}
	})
}

type shouldFail struct{}

func (shouldFail) Error() string { return "the job should not have run" }

var errShouldFail error = shouldFail{}

// TestBaitAndSwitch: a provider that advertises 1 unit a second, wins the
// ranking, then quotes 100 is refused before anything is agreed, marked
// in the requester's trust record, and the job runs on the next provider.
// An honest provider whose owner raises the price keeps the price its
// ads still promise.
func TestBaitAndSwitch(t *testing.T) {
	bait := startProvider(t, 100, market.WalletCredit{}, dishonest(hostile.Advertise(1)))
	honest := startProvider(t, 50, market.WalletCredit{})
	req := testRequester(t)
	req.Trust = market.NewMemTrust()
	connect(t, req, bait, honest)
	spec := imageSpec(t, req, "probe", "exit", "0")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if res.Provider != honest.host.ID().String() || len(res.Tries) != 2 || res.Tries[0].Provider != bait.host.ID().String() ||
		!strings.Contains(res.Tries[0].Error, market.ErrBaitAndSwitch.Error()) || res.Tries[0].Units != 0 {
		t.Fatalf("result %+v: want the bait refused unpaid, then the honest provider", res)
	}
	if tr := req.Trust.Trust(bait.host.ID().String()); tr.Invalid == 0 {
		t.Errorf("the bait's trust record %+v marks nothing", tr)
	}
	if b := balance(t, bait.wallet); b.Earned != 0 {
		t.Errorf("the bait earned %s", b.Earned)
	}

	// The honest side of the promise: the owner raises the price; quotes
	// keep the advertised one while that ad is valid.
	p := honest.prov
	var now time.Time
	testenv.WaitFor(t, "the honest provider to advertise again", time.Minute, func() bool {
		now = time.Now()
		_, ok := p.ad(now)
		return ok
	})
	raised := market.Price{PerGPUSecond: 500, PerCPUSecond: 500}
	p.SetTerms(&raised, nil)
	if got := p.quotePolicy(now.Add(time.Minute)).Price; got.PerCPUSecond != 50 {
		t.Errorf("a minute after an ad at 50, the quote asks %d", got.PerCPUSecond)
	}
	if got := p.quotePolicy(now.Add(AdLifetime + time.Second)).Price; got.PerCPUSecond != 500 {
		t.Errorf("once the ad at 50 expired, the quote asks %d, want the raised 500", got.PerCPUSecond)
	}
}

// TestNeverPayingRequester: a requester that pays nothing and proposes
// again the moment its job ends gets one small window of work in a
// minute, not a window per job: the provider remembers its unpaid work,
// refuses it with credit_limit, and still does after a restart.
func TestNeverPayingRequester(t *testing.T) {
	const price = 100 // a second, for the job's one core
	prov := startProvider(t, price, market.WalletCredit{Timeout: 2 * time.Second})
	req := hostile.NewRequester(t, hostile.NeverPay())
	connect(t, req.Requester, prov)
	spec := imageSpec(t, req.Requester, "probe", "sleep", "5m")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var ran, refused int
	for end := time.Now().Add(time.Minute); time.Now().Before(end); {
		res, err := req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second, MaxAttempts: 1})
		switch {
		case err == nil && res.Error == market.ResultCreditLimit:
			ran++
		case err != nil && strings.Contains(err.Error(), string(market.RefuseCredit)):
			refused++
		default:
			t.Fatalf("a never-paying job: %+v, %v", res, err)
		}
		if ran > 0 {
			time.Sleep(50 * time.Millisecond) // the attacker's pace, not synchronisation
		}
	}
	st := prov.prov.stand.get(req.Host.ID().String())
	t.Logf("in a minute: %d job(s) ran, %d proposal(s) refused; %d s of work left unpaid", ran, refused, st.Unpaid/price)
	if ran != 1 || refused == 0 {
		t.Errorf("%d jobs ran and %d proposals were refused; want one job, then refusals", ran, refused)
	}
	// One unpaid interval is allowed a new requester; the one in which the
	// limit trips is worked before it is billed, and the final receipt
	// covers at least a second. (Before: three intervals and the final
	// receipt per job, a job every few seconds, for as long as it liked.)
	if st.Unpaid == 0 || st.Unpaid > 3*price {
		t.Errorf("%d units left unpaid; want at most three 1 s intervals (%d)", st.Unpaid, 3*price)
	}
	if b := balance(t, prov.wallet); b.Earned != 0 {
		t.Errorf("the provider earned %s from a requester that pays nothing", b.Earned)
	}
	// A restart forgets nothing.
	again, err := openStandings(prov.dir)
	if err != nil {
		t.Fatal(err)
	}
	if why, _ := admitRequester(again.get(req.Host.ID().String()), time.Now()); why == "" {
		t.Error("after a restart the requester that owes is served again")
	}
}

func TestAdmitRequester(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name      string
		s         standing
		refused   bool
		intervals int
	}{
		{"a newcomer gets one unpaid interval", standing{}, false, NewRequesterIntervals},
		{"a payer gets the configured credit", standing{PaidJobs: 3}, false, 0},
		{"one that owes is refused", standing{Unpaid: 1, UnpaidAt: now.Add(-time.Hour), PaidJobs: 3}, true, 0},
		{"forgiven a day later, as a newcomer", standing{Unpaid: 1, UnpaidAt: now.Add(-ForgiveAfter - time.Second)}, false, NewRequesterIntervals},
	} {
		why, n := admitRequester(tc.s, now)
		if (why != "") != tc.refused || n != tc.intervals {
			t.Errorf("%s: refused %q, intervals %d; want refused %v, %d", tc.name, why, n, tc.refused, tc.intervals)
		}
	}
}

// TestNeverAtALoss: with "never work at a loss" on and a core's
// electricity costing 1500 a second, a proposal offering at most 1000
// (a requester going by an ad from before the floor, played by a raw
// stream) is refused with below_cost saying what the electricity costs;
// the owner's status counts the refusal and names the floor; the ads ask
// at least the floor.
func TestNeverAtALoss(t *testing.T) {
	prov := startProvider(t, 100, market.WalletCredit{})
	floor := market.Price{PerGPUSecond: 4000, PerCPUSecond: 1500}
	prov.prov.SetCostFloor(floor)
	f := hostile.NewFlooder(t, prov.host.AddrInfo(), 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, first, err := f.Stream(ctx, hostile.Propose)
	ref, ok := first.(*market.RefusalMsg)
	if err != nil || !ok || ref.Code != market.RefuseBelowCost || !strings.Contains(ref.Message, "offers at most 1000 per second; the electricity for these resources costs this provider 1500 per second") {
		t.Fatalf("a proposal below the electricity cost got %#v, %v; want refused %s", first, err, market.RefuseBelowCost)
	}
	var st localapi.Status
	prov.prov.Describe(&st)
	if want := "refused 1 job in the last hour that paid less than the electricity (at least 14.400000 per GPU-hour, 5.400000 per core-hour)"; !strings.Contains(st.BelowCost, want) {
		t.Fatalf("status line %q; want %q", st.BelowCost, want)
	}
	if got := prov.prov.policy().Price; got != floor {
		t.Fatalf("ads ask %+v; want the floor %+v", got, floor)
	}
	if b := balance(t, prov.wallet); b.Earned != 0 {
		t.Fatalf("earned %s from a refused job", b.Earned)
	}
}
