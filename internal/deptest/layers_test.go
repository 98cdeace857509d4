package deptest

import (
	"strings"
	"testing"
)

const module = "github.com/sparegpu/spare/"

// layers ranks every package: a package may import only packages of a
// lower rank, so arrows point down (docs/architecture.md draws them) and
// no package reaches up into the one that wires it. A new package gets a
// rank here, where its place among the others is decided on purpose.
var layers = map[string]int{
	// Words, formats and leaves that import nothing of Spare's.
	"p2p/wire": 0, "internal/units": 0, "internal/termtext": 0, "internal/clocale": 0, "config": 0, "assets": 0, "autostart": 0,
	"localapi": 0, "imagebuild": 0, "wallet/contracts": 0, "workloads/testimage": 0, "internal/testenv": 0,
	"internal/deptest": 0, "internal/atomicfile": 0, "internal/filelock": 0, "internal/screentext": 0, "packaging": 0, "workloads": 0, "workloads/ocr": 0, "workloads/probe": 0,
	// One part of the machine or the network each.
	"gpu": 1, "presence": 1, "internal/gethtest": 1, "internal/promtest": 1, "internal/simnet": 1, "sandbox": 1, "p2p": 1, "wallet": 1, "workloads/mkimage": 1,
	// What is built on one part: the market on the network and money, the
	// governor on the sensors, the chain backend, the checks.
	"market": 2, "governor": 2, "household": 2, "wallet/evm": 2, "doctor": 2, "internal/testpeer": 2, "wallet/wallettest": 2, "presence/logindtest": 2,
	// The owner's settings: the governor's rules and the market's terms;
	// the seam through which tests make a provider dishonest.
	"settings": 3, "provider/faults": 3,
	// Named networks: a chain preset and a p2p network under one name.
	"networks": 3,
	// The daemon, then the market's provider side that works for it.
	// The hostile peers tests play (test-only: see TestHostileOnlyInTests).
	"node": 4, "internal/hostile": 4,
	"provider": 5,
	// The desktop app speaks to the daemon only through localapi; its
	// .wslconfig editing is plain text work the app uses.
	"app": 6, "app/wslconfig": 5,
	// The binaries that wire everything.
	"cmd/spare": 7, "internal/cmd/textpng": 7,
	// Test scaffolding built for Wine (a wsl.exe stand-in): imports
	// nothing of Spare's, and nothing imports it.
	"packaging/windows/wine/fakewsl": 7,
}

func TestArrowsPointDown(t *testing.T) {
	for _, p := range listPackages(t) {
		name := strings.TrimPrefix(p.ImportPath, module)
		rank, ok := layers[name]
		if !ok {
			t.Errorf("%s has no layer: give it a rank in layers (what may it import, and who may import it?)", name)
			continue
		}
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			if r, ok := layers[dep]; ok && r >= rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point to a lower layer", name, rank, dep, r)
			}
		}
	}
}
