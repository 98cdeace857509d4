package sandbox

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateNamesTheLimit(t *testing.T) {
	host := Host{CPUs: 2, MemoryBytes: 8 << 30}
	if err := DefaultLimits.Validate(host); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	cases := []struct {
		name string
		l    Limits
		says string
	}{
		{"too many cpus", Limits{MilliCPU: 3000}, "--cpus 3: must be between 0.01 and this machine's 2"},
		{"too much memory", Limits{MemoryBytes: 1 << 40}, "--memory 1 TiB: must be between 16 MiB and this machine's 8 GiB"},
		{"too little memory", Limits{MemoryBytes: 1 << 20}, "--memory 1 MiB"},
		{"timeout too long", Limits{Timeout: 30 * 24 * time.Hour}, "--timeout 720h0m0s"},
		{"pids", Limits{Pids: 1 << 20}, "pids 1048576"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := mergeLimits(c.l, DefaultLimits).Validate(host)
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %v, want ErrLimit saying %q", err, c.says)
			}
		})
	}
}
