package presence

import "testing"

func TestReadPowerSysfs(t *testing.T) {
	tests := []struct {
		root      string
		onBattery bool
		charge    int
	}{
		{"testdata/power/laptop-battery", true, 63}, // the mouse battery at 5 % is ignored
		{"testdata/power/laptop-ac", false, 15},
		{"testdata/power/desktop", false, -1},
		{"testdata/power/missing", false, -1},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			p, err := readPower(tt.root)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Known || p.OnBattery != tt.onBattery || p.Charge != tt.charge {
				t.Fatalf("readPower = %+v, want on battery %v, charge %d", p, tt.onBattery, tt.charge)
			}
		})
	}
}
