package deptest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// guiAllowed are the only packages that may import fyne: the desktop app
// and the binary that wires it in. Everything else must build and run on
// a headless server.
var guiAllowed = map[string]bool{
	"github.com/sparegpu/spare/app":       true,
	"github.com/sparegpu/spare/cmd/spare": true,
	// Test support for cmd/spare's screen tests: it renders the expected
	// sentence with Fyne's software painter. Only tests import it.
	"github.com/sparegpu/spare/internal/screentext": true,
}

func TestFyneOnlyInTheApp(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Deps", "github.com/sparegpu/spare/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		n++
		if guiAllowed[p.ImportPath] {
			continue
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, "fyne.io/") {
				t.Errorf("%s depends on %s: only the app and cmd/spare may use the GUI toolkit", p.ImportPath, d)
				break
			}
		}
	}
	if n < 3 {
		t.Fatalf("go list saw %d packages; the guard is not looking at the project", n)
	}
}
