package wallettest

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"

	"github.com/sparegpu/spare/wallet"
)

func TestFund(t *testing.T) {
	const to = "0x8ba1f109551bD432803012645Ac136ddd64DBA72"
	cases := []struct {
		name string
		f    Figures
	}{
		{"settled and pending", Figures{Earned: 5_000_000, Settled: 3_000_000}},
		{"all settled", Figures{Earned: 2_000_000, Settled: 2_000_000}},
		{"nothing settled", Figures{Earned: 1_500_000}},
		{"paid out", Figures{Earned: 7_350_000, Settled: 5_000_000, Deposit: 10_000_000, PaidOut: 1_000_000, PayoutTo: to}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			light := wallet.KeystoreOptions{ScryptN: keystore.LightScryptN, ScryptP: keystore.LightScryptP}
			w, err := wallet.Open(wallet.Options{DataDir: t.TempDir(), Passphrase: "test", Keystore: light,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			Fund(t, w, c.f)
			b, err := w.Balance(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			f := c.f
			if b.Earned != f.Earned || b.Settled != f.Settled || b.Pending != f.Earned-f.Settled || b.PaidOut != f.PaidOut {
				t.Errorf("balance %+v, want %+v", b, f)
			}
		})
	}
}
