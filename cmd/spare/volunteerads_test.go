package main

import (
	"log/slog"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/settings"
)

// TestVolunteerAds: `spare node --ads auto` keeps the ads topic when the
// node relays for others (--relay, or the saved relay setting), to answer
// pull requesters' batches; otherwise, and for any mode the owner named,
// the mode stands.
func TestVolunteerAds(t *testing.T) {
	for _, c := range []struct {
		mode       adsMode
		flag, save bool
		want       adsMode
	}{
		{"auto", false, false, "auto"},
		{"auto", true, false, "gossip"},
		{"auto", false, true, "gossip"},
		{"pull", true, true, "pull"},
		{"gossip", false, false, "gossip"},
	} {
		dir := t.TempDir()
		if c.save {
			s := settings.FromGovernor(governor.Settings{})
			s.Relay = true
			if err := settings.Save(dir, s); err != nil {
				t.Fatal(err)
			}
		}
		cmd := &cobra.Command{}
		cmd.Flags().Bool("relay", false, "")
		if c.flag {
			if err := cmd.Flags().Set("relay", "true"); err != nil {
				t.Fatal(err)
			}
		}
		if got := volunteerAds(cmd, dir, c.mode, slog.Default()); got != c.want {
			t.Errorf("--ads %s, --relay %v, saved relay %v: %s, want %s", c.mode, c.flag, c.save, got, c.want)
		}
	}
}
