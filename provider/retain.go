package provider

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/sparegpu/spare/market"
)

// What a provider keeps between jobs, and what it deletes:
//
//   - A job's directory (DATA/provider/JOB: its inputs and the copy of its
//     outputs) goes when its session closes: by then the outputs are in
//     the blob store and the final voucher is in or given up on. Any left
//     by a crash go when the provider starts.
//   - Partial fetches and temporary files in the blob store go when the
//     provider starts (nothing writes them then).
//   - Blobs (images, inputs, outputs) and the images imported for jobs are
//     a cache kept least-recently-used under a budget (Config.Cache). A
//     blob still owed to a requester (an output it may fetch and has not
//     fetched in full, until its grant ends: OutputGrant) and what a
//     running job uses (its image, its blobs) are never deleted; they
//     count against the budget all the same.

// MinCache is the least the default cache budget keeps.
const MinCache = 1 << 30

// keptKind is what a kept item is.
type keptKind int

const (
	keptBlob  keptKind = iota // a file in the blob store, by digest
	keptImage                 // an image in containerd, by record name
)

func (k keptKind) String() string {
	if k == keptImage {
		return "image"
	}
	return "blob"
}

// kept is one thing the cache holds.
type kept struct {
	Kind   keptKind
	Key    string // the blob's digest or the image's record name
	Size   int64
	Used   time.Time // last use
	Pinned bool      // used by a job, or owed to a requester: never deleted
}

// planSweep chooses what to delete so that items take at most budget
// bytes: the least recently used first (ties broken by kind, then key, so
// the plan is the same every time), never a pinned one. When the pinned
// items alone exceed the budget, every unpinned one goes.
func planSweep(items []kept, budget int64) []kept {
	budget = max(budget, 0)
	var total int64
	for _, it := range items {
		total = satAdd(total, max(it.Size, 0))
	}
	if total <= budget {
		return nil
	}
	order := slices.Clone(items)
	slices.SortFunc(order, func(a, b kept) int {
		return cmp.Or(a.Used.Compare(b.Used), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Key, b.Key))
	})
	var drop []kept
	for _, it := range order {
		if total <= budget {
			break
		}
		if it.Pinned {
			continue
		}
		drop = append(drop, it)
		total -= max(it.Size, 0)
	}
	return drop
}

// cacheBudget is how much the cache may keep now: the owner's setting
// (zero: the larger of MinCache and a twentieth of the disk), but never so
// much that the data disk's free space falls inside the reserve: at most
// what the cache holds (used) plus the disk left above the reserve.
func cacheBudget(setting market.ByteSize, used int64, free, total uint64, reserve market.ByteSize) int64 {
	limit := int64(setting)
	if limit <= 0 {
		limit = max(MinCache, int64(min(total/20, math.MaxInt64)))
	}
	room := satAdd(max(used, 0), int64(diskLeft(free, total, reserve)))
	return min(limit, room)
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
