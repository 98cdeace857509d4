package wallet

import (
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestParsePayoutAddress(t *testing.T) {
	me := common.HexToAddress("0x1111111111111111111111111111111111111111")
	dest := "0x52908400098527886E0F7030069857D2E4169EE7" // an EIP-55 test vector
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"checksummed", dest, dest, ""},
		{"lower case", strings.ToLower(dest), dest, ""},
		{"spaces around", "  " + dest + "\n", dest, ""},
		{"empty", "", "", "required"},
		{"no 0x", dest[2:], "", "not an address"},
		{"short", dest[:20], "", "not an address"},
		{"bad checksum", strings.Replace(dest, "E0F", "e0F", 1), "", "checksum"},
		{"zero", "0x0000000000000000000000000000000000000000", "", "zero address"},
		{"own", me.Hex(), "", "own address"},
		{"long junk is clipped", "0x" + strings.Repeat("z", 500), "", "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParsePayoutAddress(tc.in, me)
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrBadPayee) || !strings.Contains(err.Error(), tc.err) || len(err.Error()) > 200 {
					t.Fatalf("ParsePayoutAddress(%q) = %v, %v; want an error about %q", tc.in, a, err, tc.err)
				}
				return
			}
			if err != nil || a.Hex() != tc.want {
				t.Fatalf("ParsePayoutAddress(%q) = %v, %v; want %s", tc.in, a.Hex(), err, tc.want)
			}
		})
	}
}
