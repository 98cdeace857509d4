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

// pkg is one package as `go list -json` describes it.
type pkg struct {
	ImportPath string
	Imports    []string // its direct imports
	Deps       []string // everything it depends on
}

// listPackages lists every package of the module.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 3 {
		t.Fatalf("go list saw %d packages; the guard is not looking at the project", len(pkgs))
	}
	return pkgs
}

func TestFyneOnlyInTheApp(t *testing.T) {
	for _, p := range listPackages(t) {
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
}

// TestHostileOnlyInTests: the hostile peers are for tests alone, and the
// seam that makes a provider dishonest is set by them alone. No package's
// own files import internal/hostile (go list's Imports leave out
// _test.go files); only provider, which reads the seam, and
// internal/hostile, which sets it, import provider/faults.
func TestHostileOnlyInTests(t *testing.T) {
	faultsUsers := map[string]bool{module + "provider": true, module + "internal/hostile": true}
	seen := false
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			switch {
			case imp == module+"internal/hostile":
				t.Errorf("%s imports internal/hostile: only tests may play hostile peers", p.ImportPath)
			case imp == module+"provider/faults" && !faultsUsers[p.ImportPath]:
				t.Errorf("%s imports provider/faults: only provider reads it and internal/hostile sets it", p.ImportPath)
			case imp == module+"provider/faults":
				seen = true
			}
		}
	}
	if !seen {
		t.Error("nobody imports provider/faults: is the guard looking at the right package?")
	}
}
