package app

import (
	"errors"
	"testing"
	"time"

	"github.com/sparegpu/spare/localapi"
)

// While Setup runs the view says what is done and for how long; after a
// failure, the problem and its fix.
func TestDeriveSetup(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	up := &settingUp{doing: ImportDoing, since: t0}
	for _, tc := range []struct {
		after time.Duration
		next  string
	}{
		{0, "First run only: this takes a minute or two. 0 seconds so far; Spare starts when it is done."},
		{time.Second, "First run only: this takes a minute or two. 1 second so far; Spare starts when it is done."},
		{75 * time.Second, "First run only: this takes a minute or two. 1 min 15 s so far; Spare starts when it is done."},
	} {
		v := Derive(localapi.Status{}, up, Details{}, t0.Add(tc.after))
		if v.State != StateSettingUp || v.Sentence != ImportDoing || v.Next != tc.next || v.Connected || v.CanPause || v.CanResume {
			t.Errorf("after %v: %+v", tc.after, v)
		}
	}
	disk := HostProblem{Problem: "There is not enough free disk space.", Fix: "Free some space."}
	v := Derive(localapi.Status{}, &setupFailed{disk}, Details{}, t0)
	if v.State != StateDisconnected || v.Sentence != disk.Problem || v.Next != disk.Fix || v.Brief != "Spare is not set up" {
		t.Errorf("failed: %+v", v)
	}
	// Any other error is still "not connected".
	if v := Derive(localapi.Status{}, errors.New("dial: refused"), Details{}, t0); v.Sentence != "Not connected to the Spare daemon" {
		t.Errorf("a connection error shows %q", v.Sentence)
	}
}
