package localapi

import "testing"

func TestMoneyFormat(t *testing.T) {
	for _, tc := range []struct {
		m    Money
		code string
		want string
	}{
		{350_000, "EUR", "0.35 EUR"},
		{345_000, "EUR", "0.35 EUR"},
		{344_999, "EUR", "0.34 EUR"},
		{-1_204_000, "EUR", "-1.20 EUR"},
		{-4_000, "EUR", "0.00 EUR"},
		{32_400_000, "JPY", "32 JPY"},
		{1_234_567, "BHD", "1.235 BHD"},
		{12_000_000, "USD", "12.00 USD"},
		{500_000, "XYZ", "0.50 XYZ"},
	} {
		if got := tc.m.Format(tc.code); got != tc.want {
			t.Errorf("Money(%d).Format(%s) = %q, want %q", tc.m, tc.code, got, tc.want)
		}
	}
	for code, want := range map[string]bool{"EUR": true, "JPY": true, "XYZ": false, "eur": false, "EURO": false, "": false} {
		if KnownCurrency(code) != want {
			t.Errorf("KnownCurrency(%q) = %v", code, !want)
		}
	}
}
