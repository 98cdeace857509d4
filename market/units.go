package market

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Digest is a content digest, "sha256:" and 64 lowercase hex digits.
type Digest string

// DigestOf returns the sha256 digest of a 32-byte hash.
func DigestOf(sum [32]byte) Digest { return Digest("sha256:" + hex.EncodeToString(sum[:])) }

// Validate checks d's form.
func (d Digest) Validate() error {
	h, ok := strings.CutPrefix(string(d), "sha256:")
	if !ok || len(h) != 64 || strings.ToLower(h) != h {
		return fmt.Errorf("%q: want sha256: and 64 lowercase hex digits", clip(string(d)))
	}
	if _, err := hex.DecodeString(h); err != nil {
		return fmt.Errorf("%q: want sha256: and 64 lowercase hex digits", clip(string(d)))
	}
	return nil
}

// ByteSize is a size in bytes. In spec files it is an integer or a string
// with a binary suffix: "512M", "8G", "1.5GiB", "1T" (K = 1024).
type ByteSize int64

var errSize = errors.New("want bytes as an integer or a size such as 512M, 8G, 1.5GiB")

// ParseByteSize reads a size such as "512M", "2G", "1.5GiB" or "1048576".
// Fractions keep at most three decimals and round down to a byte.
func ParseByteSize(s string) (ByteSize, error) {
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
	if whole == "" || !digits(whole) || (hasDot && (frac == "" || !digits(frac) || mult == 1)) {
		return 0, fmt.Errorf("%q: %w", clip(s), errSize)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", clip(s))
	}
	n := w * mult
	if frac != "" {
		frac = (frac + "00")[:3]
		f, _ := strconv.ParseInt(frac, 10, 64)
		n += f * (mult / 8) / 125 // f*mult/1000 without overflow: mult is a power of two ≥ 1024
	}
	return ByteSize(n), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// String prints a size with a binary unit: "512 MiB", "1 TiB", "1.5 GiB".
func (b ByteSize) String() string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	n, i := int64(b), 0
	for i < len(units)-1 && (n >= 1<<10 || n <= -(1<<10)) && n%(1<<10) == 0 {
		n >>= 10
		i++
	}
	if i < len(units)-1 && n >= 1<<10 {
		// not a whole number of the next unit: one decimal, rounded down
		whole, tenths := n>>10, (n&1023)*10>>10
		return fmt.Sprintf("%d.%d %s", whole, tenths, units[i+1])
	}
	return fmt.Sprintf("%d %s", n, units[i])
}

// MarshalJSON writes the byte count as an integer.
func (b ByteSize) MarshalJSON() ([]byte, error) { return []byte(strconv.FormatInt(int64(b), 10)), nil }

// UnmarshalJSON accepts an integer or a size string.
func (b *ByteSize) UnmarshalJSON(p []byte) error {
	s, err := scalar(p)
	if err != nil {
		return err
	}
	v, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MilliCPU is CPU in thousandths of a core. In files: an integer or decimal
// number of cores ("2", 0.5) or millicores with an m suffix ("500m").
type MilliCPU int64

// ParseMilliCPU reads "2", "0.5" or "500m".
func ParseMilliCPU(s string) (MilliCPU, error) {
	t := strings.TrimSpace(s)
	if m, ok := strings.CutSuffix(t, "m"); ok {
		if !digits(m) || len(m) > 12 {
			return 0, fmt.Errorf("%q: want millicores such as 500m", clip(s))
		}
		n, _ := strconv.ParseInt(m, 10, 64)
		return MilliCPU(n), nil
	}
	whole, frac, hasDot := strings.Cut(t, ".")
	if !digits(whole) || len(whole) > 9 || (hasDot && (!digits(frac) || len(frac) > 3)) {
		return 0, fmt.Errorf("%q: want cores such as 2 or 0.5 (at most 3 decimals), or 500m", clip(s))
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "000")[:3], 10, 64)
	return MilliCPU(w*1000 + f), nil
}

// String prints cores: "1.5 cores".
func (m MilliCPU) String() string {
	s := strconv.FormatInt(int64(m)/1000, 10)
	if r := int64(m) % 1000; r != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", r), "0")
	}
	return s
}

// MarshalJSON writes millicores as a string with the m suffix, so that the
// canonical form never looks like a float.
func (m MilliCPU) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(m), 10) + `m"`), nil
}

// UnmarshalJSON accepts a number of cores or a string.
func (m *MilliCPU) UnmarshalJSON(p []byte) error {
	s, err := scalar(p)
	if err != nil {
		return err
	}
	v, err := ParseMilliCPU(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Duration is a time.Duration written as "90s", "1h30m" or an integer
// number of seconds.
type Duration time.Duration

// String is time.Duration's.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes whole seconds as an integer.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatInt(int64(time.Duration(d)/time.Second), 10)), nil
}

// UnmarshalJSON accepts "1h30m" or an integer number of seconds.
func (d *Duration) UnmarshalJSON(p []byte) error {
	s, err := scalar(p)
	if err != nil {
		return err
	}
	if digits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > int64(MaxJobDuration/time.Second)*1000 {
			return fmt.Errorf("%q seconds is too long", clip(s))
		}
		*d = Duration(time.Duration(n) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q: want a duration such as 90s or 1h30m, or whole seconds", clip(s))
	}
	*d = Duration(v)
	return nil
}

// scalar returns a JSON string's contents or a number's literal text.
func scalar(p []byte) (string, error) {
	p = bytes.TrimSpace(p)
	if len(p) > 0 && p[0] == '"' {
		var s string
		if err := json.Unmarshal(p, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	if len(p) == 0 || !(p[0] == '-' || (p[0] >= '0' && p[0] <= '9')) {
		return "", fmt.Errorf("want a number or a string, got %s", clip(string(p)))
	}
	return string(p), nil
}
