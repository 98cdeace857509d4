package market

import (
	"math"
	"strings"
	"testing"
)

// TestBelowCost is the "never work at a loss" decision: a job is refused
// when what it offers, or the price it would be quoted, is under what
// its resources' electricity costs.
func TestBelowCost(t *testing.T) {
	tests := []struct {
		name     string
		price    Price
		floor    Price
		gpus     uint32
		cpus     MilliCPU
		maxPrice uint64
		refused  string // "" for taken; else a part of the message
	}{
		{name: "no floor", price: Price{PerGPUSecond: 1}, gpus: 1, maxPrice: 1},
		{name: "offer covers the floor", price: Price{PerGPUSecond: 50}, floor: Price{PerGPUSecond: 34}, gpus: 1, maxPrice: 50},
		{name: "offer exactly the floor", price: Price{PerGPUSecond: 34}, floor: Price{PerGPUSecond: 34}, gpus: 1, maxPrice: 34},
		{name: "offer one below the floor", price: Price{PerGPUSecond: 34}, floor: Price{PerGPUSecond: 34}, gpus: 1, maxPrice: 33, refused: "offers at most 33 per second; the electricity for these resources costs this provider 34"},
		{name: "two GPUs double the floor", price: Price{PerGPUSecond: 40}, floor: Price{PerGPUSecond: 34}, gpus: 2, maxPrice: 67, refused: "costs this provider 68"},
		{name: "cores count, rounded up", price: Price{PerCPUSecond: 10}, floor: Price{PerCPUSecond: 3}, cpus: 1500, maxPrice: 4, refused: "costs this provider 5"},
		{name: "half a core", price: Price{PerCPUSecond: 10}, floor: Price{PerCPUSecond: 3}, cpus: 500, maxPrice: 2},
		{name: "own price below the floor", price: Price{PerGPUSecond: 20}, floor: Price{PerGPUSecond: 34}, gpus: 1, maxPrice: 100, refused: "price of 20 per second for these resources is below their electricity cost of 34"},
		{name: "overflowing floor", floor: Price{PerGPUSecond: math.MaxUint64}, gpus: 2, maxPrice: math.MaxUint64, refused: "more than can be counted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref := BelowCost(tc.price, tc.floor, tc.gpus, tc.cpus, tc.maxPrice)
			switch {
			case tc.refused == "" && ref != nil:
				t.Fatalf("refused: %v", ref)
			case tc.refused != "" && ref == nil:
				t.Fatal("taken; want refused")
			case ref != nil && (ref.Code != RefuseBelowCost || !strings.Contains(ref.Message, tc.refused)):
				t.Fatalf("refusal %v; want %s with %q", ref, RefuseBelowCost, tc.refused)
			}
		})
	}
}

func TestPriceAtLeast(t *testing.T) {
	got := Price{PerGPUSecond: 10, PerCPUSecond: 5}.AtLeast(Price{PerGPUSecond: 34, PerCPUSecond: 2})
	if got != (Price{PerGPUSecond: 34, PerCPUSecond: 5}) {
		t.Fatalf("AtLeast = %+v", got)
	}
}
