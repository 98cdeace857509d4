package provider

import (
	"testing"
	"time"
)

// TestStandingOwnerEnded: a job the owner ended (the owner came back and
// the freeze failed, so the job was ended instead) leaves its last receipt
// unpaid through no fault of the requester's; that is not held against it.
// The same gap when the requester stopped paying is, across a reopen.
func TestStandingOwnerEnded(t *testing.T) {
	dir := t.TempDir()
	s, err := openStandings(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.ended("owner-ended", 400, 300, true, now); err != nil {
		t.Fatal(err)
	}
	if err := s.ended("stopped-paying", 400, 300, false, now); err != nil {
		t.Fatal(err)
	}
	s, err = openStandings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if refuse, n := admitRequester(s.get("owner-ended"), now.Add(time.Second)); refuse != "" || n != NewRequesterIntervals {
		t.Errorf("after a job the owner ended: refused %q, %d intervals; want admitted as a newcomer (%d)", refuse, n, NewRequesterIntervals)
	}
	if refuse, _ := admitRequester(s.get("stopped-paying"), now.Add(time.Second)); refuse == "" {
		t.Error("a requester that left work unpaid was admitted")
	}
}
