package market

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// RefusalCode is a stable, machine-readable reason a provider refuses a
// job. Codes travel on the wire and are never renamed; new ones may be
// added. The Refusal's Message is for people. The same codes name the
// wire error frame a side sends before resetting a job stream
// (RefuseProtocol, RefuseStartFailed).
type RefusalCode string

// Refusal codes.
const (
	RefuseInvalidSpec   RefusalCode = "invalid_spec" // the spec fails validation
	RefusePaused        RefusalCode = "paused"       // the owner paused the provider
	RefuseBusy          RefusalCode = "busy"         // running another job, or the user is present
	RefusePolicy        RefusalCode = "policy"       // the workload kind is not allowed
	RefuseNoGPU         RefusalCode = "no_gpu"       // the job needs GPUs the provider does not have
	RefuseNoVRAM        RefusalCode = "insufficient_vram"
	RefuseNoCapacity    RefusalCode = "insufficient_resources" // CPU, RAM or disk
	RefuseImageTooLarge RefusalCode = "image_too_large"
	RefuseTooLong       RefusalCode = "duration_too_long"
	RefusePriceTooLow   RefusalCode = "price_too_low" // the job's max price is below the provider's rate
	RefuseQuoteExpired  RefusalCode = "quote_expired"
	RefuseBadAgreement  RefusalCode = "bad_agreement" // the agreement does not match the quote
	RefuseCredit        RefusalCode = "credit_limit"  // unpaid work past the limit
	RefuseProtocol      RefusalCode = "protocol"      // out-of-order or malformed message
	RefuseStartFailed   RefusalCode = "start_failed"  // the agreed job's sandbox did not start
	// RefuseBelowCost: the job would pay the provider less than the
	// electricity it burns (its owner's "never work at a loss").
	RefuseBelowCost RefusalCode = "below_cost"
	// RefuseIOUStranger: the provider is on the public network and takes
	// IOUs (the embedded ledger's promises) only from its own pool and
	// the peers its owner names; pay on a chain, or ask to be named.
	RefuseIOUStranger RefusalCode = "iou_from_stranger"
	// On a chain, the agreement's channel as the escrow holds it:
	RefuseUnfunded   RefusalCode = "channel_unfunded" // missing, closed, closing, paying another, or too small
	RefuseBadSigner  RefusalCode = "channel_signer"   // vouchers signed by nobody (zero) or not by the agreement's requester
	RefuseWrongToken RefusalCode = "channel_token"    // deposited in a token other than the network preset's
	RefuseShortLock  RefusalCode = "channel_lock"     // its payer may withdraw before the job's latest end
)

// Refusal is a provider's "no" with a stable code and a human message.
type Refusal struct {
	Code    RefusalCode `json:"code"`
	Message string      `json:"message"`
}

func (r *Refusal) Error() string { return fmt.Sprintf("refused (%s): %s", r.Code, r.Message) }

func refuse(code RefusalCode, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Capacity is what a provider can grant right now. Busy and Paused come
// from the governor; the rest from the GPU and host probes minus what is
// already granted.
type Capacity struct {
	GPUs   uint32
	VRAM   ByteSize // memory of the smallest free GPU
	CPUs   MilliCPU
	Memory ByteSize
	Disk   ByteSize
	Busy   bool
	Paused bool
	// Reason is the governor's human reason shown when Busy or Paused.
	Reason string
}

// Policy is the provider owner's terms. The zero value quotes free of
// charge with the defaults below; a real provider sets Price.
type Policy struct {
	// Price is the provider's price floor, quoted as is.
	Price Price
	// CostFloor is what the resources' electricity costs the provider per
	// second, with its owner's margin: a job that would pay less is
	// refused (BelowCost). Zero: no such floor.
	CostFloor Price
	// MaxImageSize refuses larger images; zero: DefaultMaxImageSize.
	MaxImageSize ByteSize
	// Kinds are the workload kinds allowed; empty: any, including jobs
	// that name no kind.
	Kinds []Kind
	// MaxDuration refuses longer jobs; zero: DefaultMaxQuoteDuration.
	MaxDuration time.Duration
	// IntervalSeconds is the metering interval; zero: DefaultInterval.
	IntervalSeconds uint32
	// QuoteTTL is how long a quote stands; zero: DefaultQuoteTTL.
	QuoteTTL time.Duration
}

// Policy defaults.
const (
	DefaultMaxImageSize     ByteSize = 20 << 30
	DefaultMaxQuoteDuration          = 24 * time.Hour
	DefaultInterval                  = 10 // seconds between receipts
	MinInterval                      = 1
	MaxInterval                      = 300
	DefaultQuoteTTL                  = 30 * time.Second
)

func (p Policy) interval() uint32 {
	if p.IntervalSeconds == 0 {
		return DefaultInterval
	}
	return min(max(p.IntervalSeconds, MinInterval), MaxInterval)
}

// Quote is a provider's offer to run one job on stated terms.
type Quote struct {
	JobHash            Hash      `json:"job_hash"`
	Price              Price     `json:"price"`
	Rate               uint64    `json:"rate"`     // per second for this job, rounded up
	MaxCost            uint64    `json:"max_cost"` // the job's cost if it runs MaxDurationSeconds
	IntervalSeconds    uint32    `json:"interval_seconds"`
	MaxDurationSeconds uint64    `json:"max_duration_seconds"`
	ExpiresAt          time.Time `json:"expires_at"`
}

// BelowCost decides whether a job granted gpus and cpus would be worked
// at a loss: a Refusal (RefuseBelowCost) when the most it offers per
// second (maxPrice), or the provider's price for it, is below what the
// resources' electricity costs under floor; nil otherwise (and always
// with a zero floor).
func BelowCost(price, floor Price, gpus uint32, cpus MilliCPU, maxPrice uint64) *Refusal {
	cost, err := floor.Rate(gpus, cpus)
	if err != nil {
		return refuse(RefuseBelowCost, "the electricity for these resources costs more than can be counted")
	}
	if cost == 0 {
		return nil
	}
	if maxPrice < cost {
		return refuse(RefuseBelowCost, "the job offers at most %d per second; the electricity for these resources costs this provider %d per second and it never works at a loss", maxPrice, cost)
	}
	if rate, err := price.Rate(gpus, cpus); err == nil && rate < cost {
		return refuse(RefuseBelowCost, "this provider's price of %d per second for these resources is below their electricity cost of %d per second (it never works at a loss); its newer ads ask at least that", rate, cost)
	}
	return nil
}

// AtLeast is p raised to floor, per resource.
func (p Price) AtLeast(floor Price) Price {
	return Price{PerGPUSecond: max(p.PerGPUSecond, floor.PerGPUSecond), PerCPUSecond: max(p.PerCPUSecond, floor.PerCPUSecond)}
}

// QuoteJob decides whether a provider with capacity c and policy p takes
// spec at time now: a Quote, or a Refusal naming the first reason in the
// order paused, busy, invalid spec, policy, image size, duration, GPUs,
// VRAM, CPU/RAM/disk, price.
func QuoteJob(spec *JobSpec, c Capacity, p Policy, now time.Time) (Quote, *Refusal) {
	switch {
	case c.Paused:
		return Quote{}, refuse(RefusePaused, "the provider is paused%s", suffix(c.Reason))
	case c.Busy:
		return Quote{}, refuse(RefuseBusy, "the provider is busy%s", suffix(c.Reason))
	}
	if err := spec.Validate(); err != nil {
		return Quote{}, refuse(RefuseInvalidSpec, "%s", firstError(err))
	}
	r := spec.Resources
	if len(p.Kinds) > 0 && !slices.Contains(p.Kinds, spec.WorkloadKind()) {
		k := string(spec.WorkloadKind())
		if k == "" {
			k = "unspecified"
		}
		return Quote{}, refuse(RefusePolicy, "workload kind %s is not allowed here (allowed: %v)", k, p.Kinds)
	}
	maxImg := p.MaxImageSize
	if maxImg == 0 {
		maxImg = DefaultMaxImageSize
	}
	if spec.Image.Size > maxImg {
		return Quote{}, refuse(RefuseImageTooLarge, "image is %s, this provider takes at most %s", spec.Image.Size, maxImg)
	}
	maxDur := p.MaxDuration
	if maxDur == 0 {
		maxDur = DefaultMaxQuoteDuration
	}
	if d := time.Duration(spec.MaxDuration); d > maxDur {
		return Quote{}, refuse(RefuseTooLong, "max duration %s exceeds this provider's %s", d, maxDur)
	}
	switch {
	case r.GPUs > 0 && c.GPUs == 0:
		return Quote{}, refuse(RefuseNoGPU, "the job needs %d GPU(s); this provider has none free", r.GPUs)
	case r.GPUs > c.GPUs:
		return Quote{}, refuse(RefuseNoGPU, "the job needs %d GPUs; %d free", r.GPUs, c.GPUs)
	case r.GPUs > 0 && r.VRAM > c.VRAM:
		return Quote{}, refuse(RefuseNoVRAM, "the job needs %s of VRAM per GPU; %s free", r.VRAM, c.VRAM)
	case r.CPUs > c.CPUs:
		return Quote{}, refuse(RefuseNoCapacity, "the job needs %s CPU cores; %s free", r.CPUs, c.CPUs)
	case r.Memory > c.Memory:
		return Quote{}, refuse(RefuseNoCapacity, "the job needs %s of memory; %s free", r.Memory, c.Memory)
	case spec.DiskNeed() > c.Disk:
		return Quote{}, refuse(RefuseNoCapacity, "the job needs %s of disk (image, inputs, output and scratch); %s free", spec.DiskNeed(), c.Disk)
	}
	if ref := BelowCost(p.Price, p.CostFloor, r.GPUs, r.CPUs, spec.MaxPrice); ref != nil {
		return Quote{}, ref
	}
	rate, err := p.Price.Rate(r.GPUs, r.CPUs)
	if err != nil || rate > spec.MaxPrice {
		return Quote{}, refuse(RefusePriceTooLow, "this provider charges %s per second for these resources; the job offers at most %d", fmtRate(rate, err), spec.MaxPrice)
	}
	secs := uint64(time.Duration(spec.MaxDuration) / time.Second)
	maxCost, err := p.Price.CostFor(r.GPUs, r.CPUs, secs)
	if err != nil {
		return Quote{}, refuse(RefusePriceTooLow, "the job's total cost overflows: %v", err)
	}
	ttl := p.QuoteTTL
	if ttl <= 0 {
		ttl = DefaultQuoteTTL
	}
	return Quote{
		JobHash:            spec.JobHash(),
		Price:              p.Price,
		Rate:               rate,
		MaxCost:            maxCost,
		IntervalSeconds:    p.interval(),
		MaxDurationSeconds: secs,
		ExpiresAt:          now.Add(ttl),
	}, nil
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

func fmtRate(rate uint64, err error) string {
	if err != nil {
		return "more than can be counted"
	}
	return fmt.Sprint(rate)
}

// firstError is the first of a joined error's parts: refusals stay short.
func firstError(err error) string {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		if errs := j.Unwrap(); len(errs) > 0 {
			err = errs[0]
		}
	}
	return err.Error()
}
