package sandbox

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1048576", 1 << 20, false}, {"512M", 512 << 20, false}, {"2G", 2 << 30, false}, {"2GiB", 2 << 30, false},
		{"1.5G", 3 << 29, false}, {"64k", 64 << 10, false}, {"", 0, true}, {"-1G", 0, true}, {"lots", 0, true},
		{"1.5", 0, true}, {"99999999999T", 0, true},
	}
	for _, c := range cases {
		got, err := ParseBytes(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, error %v", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestParseMilliCPU(t *testing.T) {
	cases := map[string]int64{"1": 1000, "0.5": 500, "2.25": 2250, "0.001": 1}
	for in, want := range cases {
		if got, err := ParseMilliCPU(in); err != nil || got != want {
			t.Errorf("ParseMilliCPU(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "one", "0.0001"} {
		if _, err := ParseMilliCPU(in); err == nil {
			t.Errorf("ParseMilliCPU(%q) succeeded", in)
		}
	}
	if s := FormatMilliCPU(2250); s != "2.25" {
		t.Errorf("FormatMilliCPU(2250) = %q", s)
	}
}

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

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 1 << 10: "1 KiB", 3 << 29: "1.5 GiB", 64 << 20: "64 MiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
