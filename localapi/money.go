package localapi

import (
	"fmt"

	"golang.org/x/text/currency"
)

// Money is an amount in millionths of a currency the owner named (the
// electricity's: "EUR"), as opposed to the token's Amount.
type Money int64

// Format writes m with code's standard decimals (ISO 4217: two for EUR,
// none for JPY), rounded half away from zero, in integers: "0.35 EUR",
// "-1.20 EUR", "32 JPY". A code that is not a currency gets two decimals.
func (m Money) Format(code string) string {
	scale := 2
	if u, err := currency.ParseISO(code); err == nil {
		scale, _ = currency.Standard.Rounding(u)
	}
	scale = min(max(scale, 0), 6)
	v, sign := uint64(m), ""
	if m < 0 {
		v, sign = uint64(-m), "-"
	}
	div := uint64(1)
	for range 6 - scale {
		div *= 10
	}
	v = (v + div/2) / div // half away from zero, at scale digits
	if v == 0 {
		sign = ""
	}
	if scale == 0 {
		return fmt.Sprintf("%s%d %s", sign, v, code)
	}
	unit := uint64(1)
	for range scale {
		unit *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, v/unit, scale, v%unit, code)
}

// KnownCurrency says code is an ISO 4217 currency code.
func KnownCurrency(code string) bool {
	u, err := currency.ParseISO(code)
	return err == nil && u.String() == code
}
