package units

import "testing"

func TestParseBytes(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1048576", 1 << 20, false}, {"512M", 512 << 20, false}, {"2G", 2 << 30, false}, {"2GiB", 2 << 30, false},
		{"1.5G", 3 << 29, false}, {"64k", 64 << 10, false}, {"", 0, true}, {"-1G", 0, true}, {"lots", 0, true},
		{"1.5", 0, true}, {"99999999999T", 0, true}, {"1.5.5G", 0, true},
	}
	for _, c := range cases {
		got, err := ParseBytes(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, error %v", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestParseMilliCPU(t *testing.T) {
	cases := map[string]int64{"1": 1000, "0.5": 500, "2.25": 2250, "0.001": 1, "500m": 500}
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

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 1 << 10: "1 KiB", 3 << 29: "1.5 GiB", 64 << 20: "64 MiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
