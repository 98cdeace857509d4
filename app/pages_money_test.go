package app

import (
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/localapi"
)

// TestPendingWordsSayWhyASettlementWaits: a pending settlement whose
// transaction waits at the fee cap says so, in the daemon's words,
// instead of the settle rule's sentence.
func TestPendingWordsSayWhyASettlementWaits(t *testing.T) {
	why := "not mined at a fee cap of 7 wei per gas; a higher fee would pass the cap of 7 wei per gas (10% of the 1.000000 it settles at 3000000000 token units per native coin): it waits for the chain's fees to fall"
	mo := localapi.Funds{Symbol: "tUSD", Pending: []localapi.PendingSettlement{
		{Channel: "0x1111111111111111111111111111111111111111111111111111111111111111", Amount: 1_000_000, Waiting: why},
		{Channel: "0x2222222222222222222222222222222222222222222222222222222222222222", Amount: 500_000},
	}}
	got := pendingWords(mo, time.Now())
	lines := strings.Split(got, "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "Pending settlement: 1.500000 tUSD") ||
		!strings.HasSuffix(lines[1], "its settlement is sent and waits: "+why) || !strings.HasSuffix(lines[2], "whichever comes first") {
		t.Fatalf("pending words:\n%s", got)
	}
}
