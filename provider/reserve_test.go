package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/sandbox"
)

func TestOffer(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		name   string
		h      sandbox.Host
		r      Reserve
		cpus   market.MilliCPU
		memory market.ByteSize
	}{
		{"a gaming PC keeps a core and a quarter", sandbox.Host{CPUs: 16, MemoryBytes: 32 * gib}, Reserve{}, 15000, 24 * gib},
		{"a small machine keeps 2 GiB", sandbox.Host{CPUs: 2, MemoryBytes: 4 * gib}, Reserve{}, 1000, 2 * gib},
		{"a single core keeps half", sandbox.Host{CPUs: 1, MemoryBytes: 8 * gib}, Reserve{}, 500, 6 * gib},
		{"the owner's reserve", sandbox.Host{CPUs: 8, MemoryBytes: 16 * gib}, Reserve{Memory: 8 * gib, CPUs: 4000}, 4000, 8 * gib},
		{"a reserve larger than the machine offers nothing", sandbox.Host{CPUs: 2, MemoryBytes: gib}, Reserve{CPUs: 9000}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cpus, mem := offer(tc.h, tc.r)
			if cpus != tc.cpus || mem != tc.memory {
				t.Fatalf("offer = %s cores, %s; want %s, %s", cpus, mem, tc.cpus, tc.memory)
			}
		})
	}
}

// idleDaemon is a daemon that says Available on the CPU and starts
// nothing.
type idleDaemon struct{ Daemon }

func (idleDaemon) Status() localapi.Status {
	return localapi.Status{State: localapi.StateAvailable,
		Devices: []localapi.Device{{UUID: node.CPUDeviceUUID, Name: "CPU only", Usable: true}}}
}

// TestQuoteKeepsTheReserve: a requester asking for all of the machine's
// memory, or all of its cores, is refused; what the reserve leaves is
// quoted.
func TestQuoteKeepsTheReserve(t *testing.T) {
	h := sandbox.LocalHost()
	p := &Provider{d: idleDaemon{}, cfg: Config{DataDir: t.TempDir()}, log: quietLogger()}
	c, _ := p.capacity()
	spec := func(cpus market.MilliCPU, mem market.ByteSize) *market.JobSpec {
		return &market.JobSpec{Image: market.Image{Digest: market.Digest("sha256:" + strings.Repeat("0", 64)), Size: 1 << 20, Blob: true},
			Resources: market.Resources{CPUs: cpus, Memory: mem}, MaxDuration: market.Duration(time.Minute), MaxPrice: 1000}
	}
	pol := market.Policy{Price: market.Price{PerCPUSecond: 1, PerGPUSecond: 1}}
	for _, ask := range []*market.JobSpec{
		spec(1000, market.ByteSize(h.MemoryBytes)),
		spec(market.MilliCPU(h.CPUs)*1000, 256<<20),
	} {
		if _, ref := market.QuoteJob(ask, c, pol, time.Now()); ref == nil || ref.Code != market.RefuseNoCapacity {
			t.Errorf("asking for %s cores and %s of a %d-core, %s machine: refusal %v, want %s",
				ask.Resources.CPUs, ask.Resources.Memory, h.CPUs, market.ByteSize(h.MemoryBytes), ref, market.RefuseNoCapacity)
		}
	}
	if _, ref := market.QuoteJob(spec(c.CPUs, c.Memory), c, pol, time.Now()); ref != nil {
		t.Errorf("what the reserve leaves (%s cores, %s) is refused: %v", c.CPUs, c.Memory, ref)
	}
}

func TestDiskLeft(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		name        string
		free, total uint64
		r           market.ByteSize
		want        market.ByteSize
	}{
		{"a big disk keeps a tenth", 300 * gib, 1000 * gib, 0, 200 * gib},
		{"a small disk keeps 5 GiB", 20 * gib, 30 * gib, 0, 15 * gib},
		{"the owner's reserve", 100 * gib, 1000 * gib, 10 * gib, 90 * gib},
		{"nearly full offers nothing", 4 * gib, 1000 * gib, 0, 0},
	} {
		if got := diskLeft(tc.free, tc.total, tc.r); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestQuoteCountsTheDisk: a spec declaring 64 inputs of 64 GiB each is
// refused on this machine's real disk before anything is fetched; its
// image, inputs and output all count.
func TestQuoteCountsTheDisk(t *testing.T) {
	p := &Provider{d: idleDaemon{}, cfg: Config{DataDir: t.TempDir()}, log: quietLogger()}
	c, _ := p.capacity()
	d := market.Digest("sha256:" + strings.Repeat("0", 64))
	spec := &market.JobSpec{Image: market.Image{Digest: d, Size: 1 << 20, Blob: true},
		Resources: market.Resources{CPUs: 500, Memory: 256 << 20}, MaxDuration: market.Duration(time.Minute), MaxPrice: 1000}
	pol := market.Policy{Price: market.Price{PerCPUSecond: 1, PerGPUSecond: 1}}
	if _, ref := market.QuoteJob(spec, c, pol, time.Now()); ref != nil {
		t.Fatalf("a small job is refused with %s free: %v", c.Disk, ref)
	}
	for i := range 64 {
		spec.Inputs = append(spec.Inputs, market.Input{Name: fmt.Sprintf("in%d", i), Digest: d, Size: 64 << 30})
	}
	if _, ref := market.QuoteJob(spec, c, pol, time.Now()); ref == nil || ref.Code != market.RefuseNoCapacity || !strings.Contains(ref.Message, "disk") {
		t.Fatalf("64 inputs of 64 GiB with %s free: refusal %v, want %s naming the disk", c.Disk, ref, market.RefuseNoCapacity)
	}
}
