package wallet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// TestRecordsVerifyWithEthers: records exported from a ledger holding a
// metered job, under the ledger backend's domain and under a chain's,
// verify with ethers (an EIP-712 implementation sharing no code with
// Spare): the same digests, each signer the party the rules require. A
// record whose value was changed after signing recovers someone else.
func TestRecordsVerifyWithEthers(t *testing.T) {
	req, _ := wallet.GenerateKey()
	prov, _ := wallet.GenerateKey()
	l, err := wallet.OpenLedger(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	for i, d := range []wallet.Domain{{}, {ChainID: 1 << 40, Contract: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}} {
		ch := wallet.ChannelInfo{ID: crypto.Keccak256Hash([]byte{byte(i)}), Domain: d, Payer: req.Address(), Payee: prov.Address(),
			Signer: req.Address(), Deposit: 1_000_000}
		if err := l.AddChannel(ctx, wallet.LedgerBackend, ch); err != nil {
			t.Fatal(err)
		}
		sa := wallet.SignedAgreement{Domain: d, Agreement: wallet.Agreement{JobHash: crypto.Keccak256Hash([]byte("job")),
			Requester: req.Address(), Payee: prov.Address(), ChannelID: ch.ID, GPUs: 1, CPUMillis: 1500,
			PricePerGPUSecond: 100, PricePerCPUSecond: 7, IntervalSeconds: 10, MaxDurationSeconds: 3600, StartsAt: uint64(t0.Unix())}}
		sa.RequesterSig, _ = wallet.SignAgreement(d, &sa.Agreement, req)
		sa.PayeeSig, _ = wallet.SignAgreement(d, &sa.Agreement, prov)
		if err := l.RecordAgreement(ctx, &sa); err != nil {
			t.Fatal(err)
		}
		var st wallet.ReceiptState
		for seq := uint64(1); seq <= 2; seq++ {
			start := uint64(t0.Unix()) + (seq-1)*10
			r, err := wallet.NextReceipt(&sa, st, start, start+10, 10_000, 15_000, seq == 2)
			if err != nil {
				t.Fatal(err)
			}
			sr, _ := wallet.SignReceipt(d, r, prov)
			if st, err = l.RecordReceipt(ctx, &sr, time.Now()); err != nil {
				t.Fatal(err)
			}
			v, _ := wallet.SignVoucher(d, wallet.Voucher{ChannelID: ch.ID, Cumulative: st.Cumulative}, req)
			if _, err := l.RecordVoucher(ctx, &v, sa.ID(d)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out bytes.Buffer
	n := 0
	enc := json.NewEncoder(&out)
	if err := l.Records(ctx, func(r wallet.ExportRecord) error { n++; return enc.Encode(r) }); err != nil {
		t.Fatal(err)
	}
	if n != 10 { // 2 × (agreement, 2 receipts, 2 vouchers)
		t.Fatalf("%d records", n)
	}
	wallettest.CheckWithEthers(t, out.Bytes(), map[string]common.Address{
		"requester": req.Address(), "payee": prov.Address(), "provider": prov.Address(), "signer": req.Address()})
}
