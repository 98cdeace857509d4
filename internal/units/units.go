// Package units reads and prints the sizes and CPU amounts people type:
// "512M", "1.5GiB", "2", "0.5", "500m". Integers only: fractions keep at
// most three decimals and round down.
package units

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSize and ErrCPU are wrapped by the parse errors.
var (
	ErrSize = errors.New("want bytes as an integer or a size such as 512M, 8G, 1.5GiB")
	ErrCPU  = errors.New("want cores such as 2 or 0.5 (at most 3 decimals), or millicores such as 500m")
)

// ParseBytes reads a size such as "512M", "2G", "1.5GiB" or "1048576".
// Suffixes are binary (K = 1024).
func ParseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGTP", t[n-1]); i >= 0 {
			mult = 1 << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	whole, frac, hasDot := strings.Cut(t, ".")
	if !digits(whole) || (hasDot && (!digits(frac) || mult == 1)) {
		return 0, fmt.Errorf("%q: %w", clip(s), ErrSize)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", clip(s))
	}
	n := w * mult
	if frac != "" {
		f, _ := strconv.ParseInt((frac + "00")[:3], 10, 64)
		n += f * (mult / 8) / 125 // f*mult/1000 without overflow: mult is a power of two ≥ 1024
	}
	return n, nil
}

// FormatBytes prints a size with a binary unit: "512 MiB", "1 TiB",
// "1.5 GiB" (one decimal, rounded down, where it is not whole).
func FormatBytes(b int64) string {
	names := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	n, i := b, 0
	for i < len(names)-1 && (n >= 1<<10 || n <= -(1<<10)) && n%(1<<10) == 0 {
		n >>= 10
		i++
	}
	if i < len(names)-1 && n >= 1<<10 {
		whole, tenths := n>>10, (n&1023)*10>>10
		return fmt.Sprintf("%d.%d %s", whole, tenths, names[i+1])
	}
	return fmt.Sprintf("%d %s", n, names[i])
}

// ParseMilliCPU reads cores ("2", "0.5") or millicores ("500m") as
// thousandths of a core.
func ParseMilliCPU(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if m, ok := strings.CutSuffix(t, "m"); ok {
		if !digits(m) || len(m) > 12 {
			return 0, fmt.Errorf("%q: %w", clip(s), ErrCPU)
		}
		n, _ := strconv.ParseInt(m, 10, 64)
		return n, nil
	}
	whole, frac, hasDot := strings.Cut(t, ".")
	if !digits(whole) || len(whole) > 9 || (hasDot && (!digits(frac) || len(frac) > 3)) {
		return 0, fmt.Errorf("%q: %w", clip(s), ErrCPU)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "000")[:3], 10, 64)
	return w*1000 + f, nil
}

// FormatMilliCPU prints thousandths of a core as cores: "1.5".
func FormatMilliCPU(m int64) string {
	s := strconv.FormatInt(m/1000, 10)
	if r := m % 1000; r != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", r), "0")
	}
	return s
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// clip shortens what is quoted back in an error.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return strings.ToValidUTF8(s[:64], "") + "…"
}
