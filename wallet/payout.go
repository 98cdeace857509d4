package wallet

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// ErrBadPayee is what ParsePayoutAddress's errors wrap.
var ErrBadPayee = errors.New("bad payout address")

// ParsePayoutAddress checks an address to pay out to, as a person typed
// or pasted it: 0x and 40 hex digits, the EIP-55 checksum when the case
// is mixed, not the zero address, not this wallet's own address (me).
// Errors wrap ErrBadPayee and say what to do.
func ParsePayoutAddress(s string, me common.Address) (common.Address, error) {
	s = strings.TrimSpace(s)
	bad := func(msg string) (common.Address, error) {
		return common.Address{}, fmt.Errorf("%w: %s", ErrBadPayee, msg)
	}
	switch {
	case s == "":
		return bad("required — the Ethereum address (0x…) to pay out to")
	case !strings.HasPrefix(s, "0x") || !common.IsHexAddress(s):
		return bad(clipQuote(s) + " is not an address: want 0x followed by 40 hex digits")
	}
	a := common.HexToAddress(s)
	body := s[2:]
	switch {
	case strings.ToLower(body) != body && strings.ToUpper(body) != body && a.Hex() != s:
		return bad("the address's checksum (its mix of capitals) does not match; copy it again from the receiving wallet")
	case a == (common.Address{}):
		return bad("the zero address burns what is sent to it; give the receiving wallet's address")
	case a == me:
		return bad("that is this wallet's own address; give the receiving wallet's address")
	}
	return a, nil
}

// clipQuote quotes what a person typed, clipped to 64 bytes.
func clipQuote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}
