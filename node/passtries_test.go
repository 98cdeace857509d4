package node

import (
	"testing"
	"time"
)

func TestPassWait(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s := PassSchedule{Free: 3, Base: 10 * time.Second, Max: time.Minute}
	for _, tc := range []struct {
		name  string
		s     PassSchedule
		tries passTries
		now   time.Time
		until time.Time // zero: allowed
	}{
		{"clean", s, passTries{}, t0, time.Time{}},
		{"free failures", s, passTries{Failures: 2, Last: t0}, t0, time.Time{}},
		{"first wait", s, passTries{Failures: 3, Last: t0}, t0.Add(time.Second), t0.Add(10 * time.Second)},
		{"first wait over", s, passTries{Failures: 3, Last: t0}, t0.Add(10 * time.Second), time.Time{}},
		{"doubles", s, passTries{Failures: 4, Last: t0}, t0.Add(10 * time.Second), t0.Add(20 * time.Second)},
		{"doubles again", s, passTries{Failures: 5, Last: t0}, t0, t0.Add(40 * time.Second)},
		{"capped", s, passTries{Failures: 6, Last: t0}, t0, t0.Add(time.Minute)},
		{"capped far on", s, passTries{Failures: 1000, Last: t0}, t0.Add(59 * time.Second), t0.Add(time.Minute)},
		{"capped and over", s, passTries{Failures: 1000, Last: t0}, t0.Add(time.Minute), time.Time{}},
		{"clock went back", s, passTries{Failures: 3, Last: t0}, t0.Add(-time.Hour), t0.Add(10 * time.Second)},
		{"defaults: five free", PassSchedule{}, passTries{Failures: 4, Last: t0}, t0, time.Time{}},
		{"defaults: then 10 s", PassSchedule{}, passTries{Failures: 5, Last: t0}, t0, t0.Add(10 * time.Second)},
		{"defaults: up to an hour", PassSchedule{}, passTries{Failures: 50, Last: t0}, t0, t0.Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			until, ok := passWait(tc.s, tc.tries, tc.now)
			if ok != tc.until.IsZero() || !until.Equal(tc.until) {
				t.Fatalf("passWait(%d failures, %s after the last) = %v, %v; want until %v", tc.tries.Failures, tc.now.Sub(tc.tries.Last), until, ok, tc.until)
			}
		})
	}
}
