package household

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileHouseholdFile: a DATA/household.json that is garbage, names
// something that is not a peer ID, carries escapes in a name or fields
// Spare does not know stops the household with a message saying to fix
// or remove the file; none of it becomes a member.
func TestHostileHouseholdFile(t *testing.T) {
	const id = "12D3KooWGmBggrQPqXD1YYc2qbcf6jrZa3o6qrNiudJAyycYaxM1"
	for name, body := range map[string]string{
		"garbage":       "{{{",
		"not a peer":    `{"paired":[{"peer":"192.168.1.7","name":"x","since":"2026-01-01T00:00:00Z"}]}`,
		"escape":        `{"paired":[{"peer":"` + id + `","name":"a\u001b[31m","since":"2026-01-01T00:00:00Z"}]}`,
		"unknown field": `{"paired":[],"trusted_addresses":["10.0.0.0/8"]}`,
		"huge":          `{"paired":[` + strings.Repeat(`{"peer":"`+id+`","name":"x"},`, 2000) + `]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, File), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			m, err := loadMembers(dir)
			if err == nil || !strings.Contains(err.Error(), "fix or remove the file") {
				t.Fatalf("loaded %+v, %v", m, err)
			}
		})
	}
}
