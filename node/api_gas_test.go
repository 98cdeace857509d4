//go:build linux

package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// rateChain is a WalletChain whose token balance and explorer do not
// matter here: GET /v1/wallet's gas figures come from the ledger, and the
// network's rate (token_per_native) is all they take from the chain.
type rateChain struct{ rate uint64 }

func (c rateChain) Network() (string, uint64, string) { return "local", 1337, "tUSD" }
func (c rateChain) TokenBalance(context.Context, common.Address) (wallet.Amount, error) {
	return 0, errors.New("no node in this test")
}
func (c rateChain) TxURL(tx common.Hash) string { return "https://explorer.example/tx/" + tx.Hex() }
func (c rateChain) TokenPerNative() uint64      { return c.rate }
func (c rateChain) SettleRule(context.Context) localapi.SettleRule {
	return localapi.SettleRule{Threshold: 1_000_000, Base: 1_000_000, GasFactor: 20, CheckSeconds: 15}
}
func (c rateChain) WithdrawableAt(context.Context, common.Hash) (time.Time, error) {
	return time.Time{}, errors.New("no node in this test")
}

// TestWalletAPIGasAndLost: a settlement and a payout recorded on a chain
// with their gas (as the evm backend and `spare wallet withdraw` record
// them) come out of GET /v1/wallet as gas spent, in wei and, at the
// network's rate, in the token, with the net (settled − gas); each
// transaction carries its own gas. The rest of a closed channel's
// vouchers is Lost, not Pending. Without a rate there is no token figure.
func TestWalletAPIGasAndLost(t *testing.T) {
	dir := t.TempDir()
	w := wallettest.Open(t, dir)
	wallettest.Fund(t, w, wallettest.Figures{Earned: 5_000_000, Settled: 3_000_000})
	ctx := context.Background()
	me, _ := w.Address()
	chs, err := w.Ledger.Channels(ctx, me)
	if err != nil || len(chs) != 1 {
		t.Fatalf("channels %v, %v", chs, err)
	}
	settleTx, payTx := common.HexToHash("0x5e771e"), common.HexToHash("0xba70")
	// 60 000 gas at 2 gwei and 50 000 at 1 gwei: 170 000 gwei.
	if err := w.Ledger.RecordSettlement(ctx, wallet.SettlementRecord{ChannelID: chs[0].ID, Cumulative: 4_000_000, Amount: 1_000_000,
		Kind: "close", TxHash: settleTx, BlockHash: common.HexToHash("0xb1"), BlockNumber: 3, GasUsed: 60_000, GasPrice: 2_000_000_000}); err != nil {
		t.Fatal(err)
	}
	if err := w.Ledger.RecordChainPayout(ctx, me, 1_000_000, "0x8ba1f109551bD432803012645Ac136ddd64DBA72",
		wallet.ChainTx{Hash: payTx, GasUsed: 50_000, GasPrice: 1_000_000_000}); err != nil {
		t.Fatal(err)
	}
	if err := w.Ledger.MarkClosed(ctx, chs[0].ID, 0); err != nil {
		t.Fatal(err)
	}
	// 3000 tUSD per native coin: 1.7e14 wei is 0.51 tUSD.
	_, c := apiDaemon(t, dir, DaemonConfig{Wallet: w, Chain: rateChain{rate: 3_000_000_000}})
	fig, err := c.Wallet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fig.Settled != 4_000_000 || fig.Lost != 1_000_000 || fig.Pending != 0 || fig.PaidOut != 1_000_000 {
		t.Fatalf("figures: settled %s lost %s pending %s paid out %s; want 4, 1, 0, 1", fig.Settled, fig.Lost, fig.Pending, fig.PaidOut)
	}
	want := localapi.GasSpent{Txs: 2, Used: 110_000, Wei: "170000000000000", Priced: true, Token: 510_000, Net: 3_490_000}
	if fig.Money.Gas != want {
		t.Fatalf("gas %+v; want %+v", fig.Money.Gas, want)
	}
	gasOf := map[string]localapi.Transaction{}
	for _, tx := range fig.Money.Transactions {
		gasOf[tx.Hash] = tx
	}
	if s := gasOf[settleTx.Hex()]; s.GasUsed != 60_000 || s.GasWei != "120000000000000" || s.GasToken != 360_000 {
		t.Errorf("the settlement's gas: %+v", s)
	}
	if p := gasOf[payTx.Hex()]; p.Kind != "payout" || p.GasUsed != 50_000 || p.GasWei != "50000000000000" || p.GasToken != 150_000 {
		t.Errorf("the payout's gas: %+v", p)
	}

	// A network without a rate: gas in wei only, no net.
	dir2 := t.TempDir()
	w2 := wallettest.Open(t, dir2)
	wallettest.Fund(t, w2, wallettest.Figures{Earned: 2_000_000, Settled: 2_000_000})
	me2, _ := w2.Address()
	if err := w2.Ledger.RecordChainPayout(ctx, me2, 1_000_000, "0x8ba1f109551bD432803012645Ac136ddd64DBA72",
		wallet.ChainTx{Hash: payTx, GasUsed: 21_000, GasPrice: 7}); err != nil {
		t.Fatal(err)
	}
	_, c2 := apiDaemon(t, dir2, DaemonConfig{Wallet: w2, Chain: rateChain{}})
	fig, err = c2.Wallet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (localapi.GasSpent{Txs: 1, Used: 21_000, Wei: "147000"}); fig.Money.Gas != want || fig.Lost != 0 {
		t.Fatalf("without a rate: gas %+v, lost %s; want %+v and none lost", fig.Money.Gas, fig.Lost, want)
	}
}
