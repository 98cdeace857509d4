package market

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sparegpu/spare/internal/units"
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

// ParseByteSize reads a size such as "512M", "2G", "1.5GiB" or "1048576".
// Fractions keep at most three decimals and round down to a byte.
func ParseByteSize(s string) (ByteSize, error) {
	n, err := units.ParseBytes(s)
	return ByteSize(n), err
}

// String prints a size with a binary unit: "512 MiB", "1 TiB", "1.5 GiB".
func (b ByteSize) String() string { return units.FormatBytes(int64(b)) }

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
	n, err := units.ParseMilliCPU(s)
	return MilliCPU(n), err
}

// String prints cores: "1.5 cores".
func (m MilliCPU) String() string { return units.FormatMilliCPU(int64(m)) }

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

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
