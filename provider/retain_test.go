package provider

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sparegpu/spare/market"
)

func TestPlanSweep(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	blob := func(key string, size int64, used int, pinned bool) kept {
		return kept{Kind: keptBlob, Key: key, Size: size, Used: at(used), Pinned: pinned}
	}
	image := func(key string, size int64, used int, pinned bool) kept {
		return kept{Kind: keptImage, Key: key, Size: size, Used: at(used), Pinned: pinned}
	}
	for _, tc := range []struct {
		name   string
		items  []kept
		budget int64
		want   []string // keys dropped, in order
	}{
		{"empty", nil, 0, nil},
		{"under the budget keeps all", []kept{blob("a", 10, 1, false), image("b", 20, 2, false)}, 30, nil},
		{"least recently used goes first", []kept{blob("new", 10, 3, false), blob("old", 10, 1, false), blob("mid", 10, 2, false)}, 20, []string{"old"}},
		{"only as much as needed", []kept{blob("a", 5, 1, false), blob("b", 5, 2, false), blob("c", 100, 3, false)}, 100, []string{"a", "b"}},
		{"images and blobs share one order", []kept{image("img", 50, 1, false), blob("blob", 50, 2, false)}, 60, []string{"img"}},
		{"a pinned item is never dropped", []kept{blob("owed", 100, 1, true), blob("b", 10, 2, false)}, 50, []string{"b"}},
		{"pinned alone over the budget: all unpinned go", []kept{image("running", 500, 1, true), blob("x", 1, 5, false), blob("y", 1, 6, false)}, 100, []string{"x", "y"}},
		{"zero budget drops every unpinned item", []kept{blob("a", 1, 1, false), image("b", 1, 2, true)}, 0, []string{"a"}},
		{"negative budget is zero", []kept{blob("a", 1, 1, false)}, -5, []string{"a"}},
		{"ties: blobs before images, then by key", []kept{image("i", 10, 1, false), blob("z", 10, 1, false), blob("y", 10, 1, false)}, 10, []string{"y", "z"}},
		{"sizes that would overflow saturate", []kept{blob("a", math.MaxInt64, 1, false), blob("b", math.MaxInt64, 2, false)}, math.MaxInt64 - 1, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, k := range planSweep(tc.items, tc.budget) {
				got = append(got, k.Key)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("dropped %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCacheBudget(t *testing.T) {
	const G = 1 << 30
	for _, tc := range []struct {
		name        string
		setting     market.ByteSize
		used        int64
		free, total uint64
		reserve     market.ByteSize
		want        int64
	}{
		{"default: a twentieth of a large disk", 0, 0, 900 * G, 1000 * G, 0, 50 * G},
		{"default: at least MinCache", 0, 0, 9 * G, 10 * G, 0, MinCache},
		{"the owner's setting", 3 * G, 0, 900 * G, 1000 * G, 0, 3 * G},
		{"never inside the reserve: used plus what is left above it", 20 * G, 4 * G, 7 * G, 1000 * G, 5 * G, 6 * G},
		{"disk below the reserve: the cache must shrink by the shortfall", 20 * G, 4 * G, 3 * G, 1000 * G, 5 * G, 4 * G},
		{"default reserve is a tenth of the disk", 50 * G, 10 * G, 110 * G, 1000 * G, 0, 20 * G},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cacheBudget(tc.setting, tc.used, tc.free, tc.total, tc.reserve); got != tc.want {
				t.Fatalf("budget %d, want %d", got, tc.want)
			}
		})
	}
}
