package autostart

import "testing"

func enabled(t *testing.T, m Mechanism) bool {
	t.Helper()
	on, err := m.Enabled()
	if err != nil {
		t.Fatal(err)
	}
	return on
}
