package app

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestAboutPage reads the notices only when the page is first shown, and
// says why when there are none.
func TestAboutPage(t *testing.T) {
	test.NewTempApp(t)
	reads := 0
	p := newAboutPage(About{Version: "1.2.3", Licence: "Apache License, Version 2.0", Notices: func() (string, error) {
		reads++
		return "Spare\n\tApache\nfyne.io/fyne/v2 v2.7.1", nil
	}})
	if reads != 0 {
		t.Fatal("the notices were read before the page was shown")
	}
	p.load()
	p.load()
	if reads != 1 {
		t.Errorf("the notices were read %d times, want once", reads)
	}
	if got := len(p.lines); got != 3 || p.lines[1] != "    Apache" {
		t.Errorf("lines = %q", p.lines)
	}

	p = newAboutPage(About{Notices: func() (string, error) { return "", errors.New("built without notices") }})
	p.load()
	if len(p.lines) != 1 || p.lines[0] != "built without notices" {
		t.Errorf("lines = %q, want the error", p.lines)
	}
}
