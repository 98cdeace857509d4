package market

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/wallet"
)

func TestPriceRateAndCost(t *testing.T) {
	p := Price{PerGPUSecond: 300, PerCPUSecond: 7}
	tests := []struct {
		name     string
		gpus     uint32
		cpus     MilliCPU
		seconds  uint64
		wantRate uint64
		wantCost uint64
	}{
		{"one GPU two cores", 1, 2000, 10, 314, 3140},
		// 0.5 core × 7 = 3.5/s: the rate rounds up to 4, the cost of 1 s
		// rounds down to 3 and of 3 s is exactly floor(10.5) = 10.
		{"half core rounds", 0, 500, 1, 4, 3},
		{"half core three seconds", 0, 500, 3, 4, 10},
		{"nothing", 0, 0, 100, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := p.Rate(tc.gpus, tc.cpus)
			if err != nil || r != tc.wantRate {
				t.Errorf("Rate = %d, %v; want %d", r, err, tc.wantRate)
			}
			c, err := p.CostFor(tc.gpus, tc.cpus, tc.seconds)
			if err != nil || c != tc.wantCost {
				t.Errorf("CostFor = %d, %v; want %d", c, err, tc.wantCost)
			}
		})
	}
}

func TestCostIsCumulativeNotSummed(t *testing.T) {
	// Pricing each second separately and summing loses the half units;
	// pricing the cumulative counters does not.
	p := Price{PerCPUSecond: 7}
	var summed uint64
	for range 10 {
		c, _ := p.Cost(0, 500)
		summed += c
	}
	whole, _ := p.Cost(0, 5000)
	if summed != 30 || whole != 35 {
		t.Errorf("summed %d, cumulative %d; want 30 and 35", summed, whole)
	}
}

func TestCostOverflow(t *testing.T) {
	p := Price{PerGPUSecond: math.MaxUint64}
	if _, err := p.Cost(math.MaxUint64, 0); !errors.Is(err, ErrOverflow) {
		t.Errorf("err = %v, want ErrOverflow", err)
	}
	if _, err := p.Rate(2, 0); !errors.Is(err, ErrOverflow) {
		t.Errorf("Rate err = %v, want ErrOverflow", err)
	}
	// Large but representable: the 128-bit intermediate keeps it exact.
	q := Price{PerGPUSecond: 1 << 40}
	c, err := q.Cost(1<<30, 0)
	if err != nil || c != (1<<70)/1000 {
		t.Errorf("Cost = %d, %v; want %d", c, err, uint64((1<<70)/1000))
	}
}

// The market's and the wallet's cost are one formula: where both answer
// they give the same number; where the market's 64 bits overflow the
// wallet refuses too; past the largest Amount only the wallet refuses.
func TestCostAgreesWithWallet(t *testing.T) {
	const m, mi = math.MaxUint64, math.MaxInt64
	tests := []struct {
		name         string
		gpuMs, cpuMs uint64
		price        Price
		marketErr    bool
		walletErr    bool
	}{
		{"zero", 0, 0, Price{}, false, false},
		{"zero counters, top prices", 0, 0, Price{mi, mi}, false, false},
		{"top counters, zero prices", m, m, Price{}, false, false},
		{"rounds down", 1, 1, Price{999, 0}, false, false},
		{"half cores", 0, 5000, Price{0, 7}, false, false},
		{"largest Amount", mi, 0, Price{1000, 0}, false, false},
		{"past the largest Amount", mi, 1000, Price{1000, 1}, false, true},
		{"largest uint64", m, 0, Price{1000, 0}, false, true},
		{"overflow", m, 1, Price{1000, 1000}, true, true},
		{"overflow at top prices", m, m, Price{mi, mi}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mc, merr := tc.price.Cost(tc.gpuMs, tc.cpuMs)
			a := wallet.Agreement{PricePerGPUSecond: wallet.Amount(tc.price.PerGPUSecond), PricePerCPUSecond: wallet.Amount(tc.price.PerCPUSecond)}
			wc, werr := a.Cost(tc.gpuMs, tc.cpuMs)
			if errors.Is(merr, ErrOverflow) != tc.marketErr || (merr != nil && !tc.marketErr) {
				t.Errorf("market: %d, %v; want error %v", mc, merr, tc.marketErr)
			}
			if errors.Is(werr, wallet.ErrAmount) != tc.walletErr || (werr != nil && !tc.walletErr) {
				t.Errorf("wallet: %s, %v; want error %v", wc, werr, tc.walletErr)
			}
			if merr == nil && werr == nil && mc != uint64(wc) {
				t.Errorf("market %d, wallet %d", mc, uint64(wc))
			}
		})
	}
}

func bigBox() Capacity {
	return Capacity{GPUs: 1, VRAM: 12 << 30, CPUs: 8000, Memory: 16 << 30, Disk: 100 << 30}
}

func TestQuoteJob(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	policy := Policy{Price: Price{PerGPUSecond: 500, PerCPUSecond: 100}}
	tests := []struct {
		name   string
		spec   func(*JobSpec)
		cap    func(*Capacity)
		policy func(*Policy)
		want   RefusalCode // "" for a quote
		msg    string
	}{
		{name: "fits", spec: func(s *JobSpec) { s.MaxPrice = 700 }},
		{name: "paused", cap: func(c *Capacity) { c.Paused, c.Reason = true, "until 18:00" }, want: RefusePaused, msg: "until 18:00"},
		{name: "busy", cap: func(c *Capacity) { c.Busy = true }, want: RefuseBusy},
		{name: "invalid spec", spec: func(s *JobSpec) { s.Image.Digest = "x" }, want: RefuseInvalidSpec, msg: "image.digest"},
		{name: "kind not allowed", policy: func(p *Policy) { p.Kinds = []Kind{KindRender} }, want: RefusePolicy, msg: "inference"},
		{name: "unnamed kind under policy", spec: func(s *JobSpec) { s.Kind = "" }, policy: func(p *Policy) { p.Kinds = []Kind{KindRender} }, want: RefusePolicy, msg: "unspecified"},
		{name: "kind from label", spec: func(s *JobSpec) { s.Kind, s.Labels = "", map[string]string{KindLabel: "render"}; s.MaxPrice = 700 }, policy: func(p *Policy) { p.Kinds = []Kind{KindRender} }},
		{name: "image too large", spec: func(s *JobSpec) { s.Image.Size = 30 << 30 }, want: RefuseImageTooLarge, msg: "30 GiB"},
		{name: "image limit set", policy: func(p *Policy) { p.MaxImageSize = 50 << 20 }, want: RefuseImageTooLarge},
		{name: "too long", spec: func(s *JobSpec) { s.MaxDuration = Duration(48 * time.Hour) }, want: RefuseTooLong},
		{name: "no gpu", cap: func(c *Capacity) { c.GPUs = 0 }, want: RefuseNoGPU, msg: "none free"},
		{name: "two gpus", spec: func(s *JobSpec) { s.Resources.GPUs = 2 }, want: RefuseNoGPU, msg: "1 free"},
		{name: "vram", spec: func(s *JobSpec) { s.Resources.VRAM = 16 << 30 }, want: RefuseNoVRAM, msg: "16 GiB"},
		{name: "cpu", spec: func(s *JobSpec) { s.Resources.CPUs = 16000 }, want: RefuseNoCapacity, msg: "CPU"},
		{name: "memory", spec: func(s *JobSpec) { s.Resources.Memory = 32 << 30 }, want: RefuseNoCapacity, msg: "memory"},
		{name: "disk", spec: func(s *JobSpec) { s.Resources.Disk = 200 << 30 }, want: RefuseNoCapacity, msg: "disk"},
		{name: "inputs count against the disk", spec: func(s *JobSpec) {
			for i := range 64 {
				s.Inputs = append(s.Inputs, Input{Name: fmt.Sprintf("in%d", i), Digest: s.Image.Digest, Size: 64 << 30})
			}
		}, want: RefuseNoCapacity, msg: "4097.0 GiB of disk"},
		{name: "the image and output count too", spec: func(s *JobSpec) { s.Image.Size = 19<<30 + 1; s.MaxOutput = 1 << 30 }, cap: func(c *Capacity) { c.Disk = 20 << 30 }, want: RefuseNoCapacity, msg: "disk"},
		{name: "price too low", spec: func(s *JobSpec) { s.MaxPrice = 699 }, want: RefusePriceTooLow, msg: "700"},
		{name: "offer below the electricity cost", spec: func(s *JobSpec) { s.MaxPrice = 800 }, policy: func(p *Policy) { p.Price, p.CostFloor = Price{PerGPUSecond: 900}, Price{PerGPUSecond: 850} }, want: RefuseBelowCost, msg: "costs this provider 850 per second"},
		{name: "price under the floor", policy: func(p *Policy) { p.CostFloor = Price{PerGPUSecond: 800} }, want: RefuseBelowCost, msg: "price of 700 per second"},
		{name: "above the floor", spec: func(s *JobSpec) { s.MaxPrice = 700 }, policy: func(p *Policy) { p.CostFloor = Price{PerGPUSecond: 400, PerCPUSecond: 100} }},
		{name: "cpu-only job on a GPU box", spec: func(s *JobSpec) { s.Resources.GPUs, s.Resources.VRAM, s.MaxPrice = 0, 0, 200 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec() // 1 GPU, 4 GiB VRAM, 2 cores: rate 500 + 200 = 700
			s.MaxPrice = 10_000
			if tc.spec != nil {
				tc.spec(s)
			}
			c := bigBox()
			if tc.cap != nil {
				tc.cap(&c)
			}
			p := policy
			if tc.policy != nil {
				tc.policy(&p)
			}
			q, ref := QuoteJob(s, c, p, now)
			if tc.want == "" {
				if ref != nil {
					t.Fatalf("refused: %v", ref)
				}
				if q.JobHash != s.JobHash() || q.IntervalSeconds != DefaultInterval || !q.ExpiresAt.Equal(now.Add(DefaultQuoteTTL)) {
					t.Errorf("quote %+v", q)
				}
				want, _ := p.Price.CostFor(s.Resources.GPUs, s.Resources.CPUs, q.MaxDurationSeconds)
				if q.MaxCost != want || q.Rate > s.MaxPrice {
					t.Errorf("max cost %d rate %d; want %d and ≤ %d", q.MaxCost, q.Rate, want, s.MaxPrice)
				}
				return
			}
			if ref == nil {
				t.Fatalf("quoted %+v, want refusal %s", q, tc.want)
			}
			if ref.Code != tc.want || !strings.Contains(ref.Message, tc.msg) {
				t.Errorf("refusal %v; want code %s mentioning %q", ref, tc.want, tc.msg)
			}
		})
	}
}
