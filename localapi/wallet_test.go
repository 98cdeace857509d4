package localapi

import (
	"context"
	"errors"
	"testing"
)

func TestAmountString(t *testing.T) {
	for _, c := range []struct {
		a    Amount
		want string
	}{{0, "0.000000"}, {1, "0.000001"}, {1_250_000, "1.250000"}, {-1_000_001, "-1.000001"}, {9_223_372_036_854_775_807, "9223372036854.775807"}} {
		if got := c.a.String(); got != c.want {
			t.Errorf("Amount(%d) = %q, want %q", int64(c.a), got, c.want)
		}
	}
}

func TestExportNeedsAPath(t *testing.T) {
	_, err := NewClient(t.TempDir()).ExportKeystore(context.Background(), ExportRequest{Passphrase: "x"}, "")
	var e *Error
	if !errors.As(err, &e) || e.Field != "path" {
		t.Fatalf("export without a path: %v", err)
	}
}
