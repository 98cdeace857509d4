package wallet

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strings"
)

// Decimals is the number of decimal places of the payment token: amounts
// are kept in its smallest unit (a millionth of a currency unit), never as
// floating point.
const Decimals = 6

// Unit names the currency shown next to amounts.
const Unit = "USDC"

const unitsPerCurrency = 1_000_000

// Amount is a quantity of the payment token in its smallest unit
// (1 = 0.000001 currency units). It is never negative in a valid message.
type Amount int64

// ErrAmount reports an amount that cannot be parsed or is out of range.
var ErrAmount = errors.New("invalid amount")

// ParseAmount reads a decimal amount in currency units ("1", "0.25",
// "12.345678") into token units. At most six decimals; no sign, exponent
// or thousands separators.
func ParseAmount(s string) (Amount, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("%w: empty (want a decimal such as 1.50)", ErrAmount)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("%w %q: want a decimal such as 1.50", ErrAmount, orig)
	}
	if len(frac) > Decimals {
		return 0, fmt.Errorf("%w %q: at most %d decimals", ErrAmount, orig, Decimals)
	}
	if hasDot && frac == "" {
		return 0, fmt.Errorf("%w %q: digits expected after the point", ErrAmount, orig)
	}
	var w, f int64
	for _, c := range whole {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w %q: only digits and one point allowed", ErrAmount, orig)
		}
		if w > (math.MaxInt64/unitsPerCurrency-9)/10 {
			return 0, fmt.Errorf("%w %q: too large", ErrAmount, orig)
		}
		w = w*10 + int64(c-'0')
	}
	for i := 0; i < Decimals; i++ {
		f *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%w %q: only digits and one point allowed", ErrAmount, orig)
			}
			f += int64(c - '0')
		}
	}
	return Amount(w*unitsPerCurrency + f), nil
}

// String formats a in currency units with all six decimals ("0.123456").
func (a Amount) String() string {
	neg := a < 0
	u := uint64(a)
	if neg {
		u = uint64(-a)
	}
	s := fmt.Sprintf("%d.%06d", u/unitsPerCurrency, u%unitsPerCurrency)
	if neg {
		return "-" + s
	}
	return s
}

// Big returns a as a big integer (token units), as the contract sees it.
func (a Amount) Big() *big.Int { return big.NewInt(int64(a)) }

// AmountFromBig converts token units from a contract or message. Values
// that do not fit are an error, never silently truncated.
func AmountFromBig(b *big.Int) (Amount, error) {
	if b == nil || b.Sign() < 0 || !b.IsInt64() {
		return 0, fmt.Errorf("%w: %v is outside 0..%d token units", ErrAmount, b, int64(math.MaxInt64))
	}
	return Amount(b.Int64()), nil
}

// MeteredCost is what metered counters cost at per-second prices: gpuMs
// GPU-milliseconds (summed over GPUs) at perGPUSecond, and cpuMs
// core-milliseconds at perCPUSecond per whole core. It is computed exactly
// in 128-bit integers and rounded down once, at the end:
//
//	cost = floor((gpuMs·perGPUSecond + cpuMs·perCPUSecond) / 1000)
//
// ok is false when the cost does not fit in 64 bits. This is the one cost
// formula: Agreement.Cost and the market's Price.Cost both call it, so a
// receipt's cumulative amount is the same number on both sides.
func MeteredCost(gpuMs, cpuMs, perGPUSecond, perCPUSecond uint64) (cost uint64, ok bool) {
	gh, gl := bits.Mul64(gpuMs, perGPUSecond)
	ch, cl := bits.Mul64(cpuMs, perCPUSecond)
	lo, carry := bits.Add64(gl, cl, 0)
	hi, over := bits.Add64(gh, ch, carry)
	if over != 0 || hi >= 1000 { // the quotient would need more than 64 bits
		return 0, false
	}
	q, _ := bits.Div64(hi, lo, 1000)
	return q, true
}
