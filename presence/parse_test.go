package presence

import (
	"testing"
	"time"
)

func TestParseIoregIdle(t *testing.T) {
	out := `+-o IOHIDSystem  <class IOHIDSystem, id 0x100000263>
    {
      "HIDIdleTime" = 4530129625
      "HIDParameters" = {}
    }`
	d, err := parseIoregIdle(out)
	if err != nil || d != 4530129625*time.Nanosecond {
		t.Fatalf("parseIoregIdle = %v, %v", d, err)
	}
	if _, err := parseIoregIdle("nothing"); err == nil {
		t.Fatal("want an error without HIDIdleTime")
	}
}

func TestParsePmset(t *testing.T) {
	tests := []struct {
		out       string
		onBattery bool
		charge    int
		err       bool
	}{
		{"Now drawing from 'Battery Power'\n -InternalBattery-0 (id=4653155)\t63%; discharging; 4:12 remaining present: true\n", true, 63, false},
		{"Now drawing from 'AC Power'\n -InternalBattery-0 (id=4653155)\t100%; charged; 0:00 remaining present: true\n", false, 100, false},
		{"Now drawing from 'AC Power'\n", false, -1, false},
		{"garbage", false, -1, true},
	}
	for _, tt := range tests {
		p, err := parsePmset(tt.out)
		if (err != nil) != tt.err || p.OnBattery != tt.onBattery || p.Charge != tt.charge {
			t.Errorf("parsePmset(%q) = %+v, %v", tt.out, p, err)
		}
	}
}
