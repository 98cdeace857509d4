package app

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/localapi"
)

// maxShownTx is how many transactions the Wallet page lists.
const maxShownTx = 8

// ledgerWords says what the embedded ledger's figures are.
const ledgerWords = "Local ledger (IOUs): these figures are promises between people who trust each other, " +
	"not money on a chain. To be paid by strangers, choose a network in Settings."

// moneyView is the Wallet page's "where the money is" section: the
// network (a chain, or the local ledger), the balance on the chain, what
// is pending settlement and when it settles, and the transactions sent,
// each linked to the network's explorer.
type moneyView struct {
	box      *fyne.Container
	where    *widget.Label
	onChain  *widget.Label
	pending  *widget.Label
	gas      *widget.Label // what the transactions' gas cost, and the net
	lost     *widget.Label // unsettled on channels their payer closed; hidden when none
	txTitle  *widget.Label
	txs      *fyne.Container
	lastKeys string // the transactions shown, to redraw only on change
}

func newMoneyView() *moneyView {
	m := &moneyView{where: wrapped("—"), onChain: wrapped(""), pending: wrapped(""), gas: wrapped(""), lost: wrapped(""),
		txTitle: widget.NewLabelWithStyle("Transactions", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		txs:     container.NewVBox()}
	m.where.TextStyle.Bold = true
	m.lost.Hide()
	m.box = container.NewVBox(m.where, m.onChain, m.pending, m.gas, m.lost, m.txTitle, m.txs)
	return m
}

// render shows w's money; it reports whether the section changed size
// (the page then lays itself out again).
func (m *moneyView) render(w *localapi.Wallet) (resized bool) {
	if w == nil {
		m.where.SetText("—")
		return false
	}
	mo := w.Money
	onChain := mo.Network != ""
	lostShown := m.lost.Visible()
	if w.Lost > 0 {
		unit := mo.Symbol
		if unit == "" {
			unit = w.Unit
		}
		m.lost.SetText(fmt.Sprintf("Lost: %s %s that vouchers held was not settled before their payer closed the channel; it will not be paid.", w.Lost, unit))
		m.lost.Show()
	} else {
		m.lost.Hide()
	}
	resized = lostShown != m.lost.Visible()
	for _, o := range []fyne.CanvasObject{m.onChain, m.pending, m.gas, m.txTitle, m.txs} {
		if onChain {
			o.Show()
		} else {
			o.Hide()
		}
	}
	if !onChain {
		m.where.SetText(ledgerWords)
		return resized
	}
	m.where.SetText(fmt.Sprintf("On chain: %s (chain ID %d), in %s", mo.Network, mo.ChainID, mo.Symbol))
	if mo.OnChainError != "" {
		m.onChain.SetText("Balance on the chain: unknown (" + mo.OnChainError + ")")
	} else {
		m.onChain.SetText("Balance on the chain: " + mo.OnChain.String() + " " + mo.Symbol)
	}
	m.pending.SetText(pendingWords(mo, time.Now()))
	m.gas.SetText(gasWords(mo))
	keys := ""
	for i, t := range mo.Transactions {
		if i == maxShownTx {
			break
		}
		keys += t.Hash + fmt.Sprint(t.Dropped) + ";"
	}
	if keys == m.lastKeys {
		return resized
	}
	m.lastKeys = keys
	m.txs.RemoveAll()
	if len(mo.Transactions) == 0 {
		m.txs.Add(wrapped("None sent yet."))
	}
	for i, t := range mo.Transactions {
		if i == maxShownTx {
			break
		}
		m.txs.Add(txRow(t, mo.Symbol))
	}
	m.txs.Refresh()
	return true
}

// pendingWords says what is pending settlement and, per channel, when
// it settles (settleWhen).
func pendingWords(mo localapi.Funds, now time.Time) string {
	if len(mo.Pending) == 0 {
		return "Pending settlement: nothing; every voucher is settled."
	}
	var total localapi.Amount
	lines := []string{}
	for _, p := range mo.Pending {
		total += p.Amount
		lines = append(lines, fmt.Sprintf("  channel %s: %s", shortAddr(p.Channel), settleWhen(p, mo.Settle, mo.Symbol, now)))
	}
	return fmt.Sprintf("Pending settlement: %s %s\n", total, mo.Symbol) + strings.Join(lines, "\n")
}

// settleWhen says when channel p's unsettled earnings settle under the
// daemon's policy r (package wallet/evm's ShouldSettle): a settlement
// costs gas whatever it pays, so at the threshold, as soon as the payer
// asks to close, and before the payer may withdraw, whichever comes
// first.
func settleWhen(p localapi.PendingSettlement, r localapi.SettleRule, symbol string, now time.Time) string {
	amount := fmt.Sprintf("%s %s unsettled", p.Amount, symbol)
	if p.Waiting != "" {
		return fmt.Sprintf("%s; its settlement is sent and waits: %s", amount, p.Waiting)
	}
	next := "settles at the daemon's next check"
	if r.CheckSeconds > 0 {
		next += fmt.Sprintf(" (every %s)", time.Duration(r.CheckSeconds)*time.Second)
	}
	if !p.By.IsZero() {
		by := p.By.Local().Format("2 Jan 15:04")
		if !p.By.After(now) {
			return fmt.Sprintf("%s; the grace period ended %s: %s unless the payer withdraws first, and then it is lost", amount, by, next)
		}
		return fmt.Sprintf("%s; its payer asked to close: %s, before %s, when the payer may withdraw", amount, next, by)
	}
	const orClose = "or as soon as its payer asks to close, whichever comes first"
	switch {
	case r.Threshold <= 0:
		return fmt.Sprintf("%s; settles when that is worth a settlement's gas, %s", amount, orClose)
	case r.Threshold >= localapi.SettleNever:
		return fmt.Sprintf("%s; a settlement's gas (%s %s) costs more than any amount it could pay: settles only once its payer asks to close",
			amount, r.GasCost, symbol)
	case p.Amount >= r.Threshold:
		return fmt.Sprintf("%s, at or above the threshold of %s %s: %s", amount, r.Threshold, symbol, next)
	}
	why := ""
	if r.Threshold > r.Base && r.GasCost > 0 {
		why = fmt.Sprintf("; %d times a settlement's gas of %s", r.GasFactor, r.GasCost)
	}
	return fmt.Sprintf("settles when its unsettled earnings reach %s %s (now %s%s), %s", r.Threshold, symbol, p.Amount, why, orClose)
}

// gasWords says what the wallet's transactions cost in gas (in wei, and
// in the token when the network gives its rate) and what settled comes
// to after it.
func gasWords(mo localapi.Funds) string {
	g := mo.Gas
	if g.Txs == 0 {
		return "Gas spent: none yet."
	}
	s := fmt.Sprintf("Gas spent: %d gas on %d transaction", g.Used, g.Txs)
	if g.Txs != 1 {
		s += "s"
	}
	s += ", " + g.Wei + " wei"
	if g.Priced {
		s += fmt.Sprintf(" (%s %s); settled after gas: %s %s", g.Token, mo.Symbol, g.Net, mo.Symbol)
	}
	if g.Unpriced > 0 {
		s += fmt.Sprintf(" (%d sent before gas prices were kept count no wei)", g.Unpriced)
	}
	return s + "."
}

// txRow is one transaction: what, how much, when, and its hash linked
// to the explorer when the network has one.
func txRow(t localapi.Transaction, symbol string) fyne.CanvasObject {
	what := map[string]string{"settle": "Settled", "close": "Settled at close", "payout": "Paid out", "approve": "Approved for deposit",
		"open": "Deposited", "topUp": "Topped up", "requestClose": "Asked to close", "withdraw": "Withdrew the rest"}[t.Kind]
	if what == "" {
		what = t.Kind
	}
	text := fmt.Sprintf("%s %s %s, %s", what, t.Amount, symbol, t.At.Local().Format("2 Jan 15:04"))
	if t.GasUsed > 0 {
		text += fmt.Sprintf(", gas %d", t.GasUsed)
		if t.GasToken > 0 {
			text += fmt.Sprintf(" (%s %s)", t.GasToken, symbol)
		} else if t.GasWei != "" {
			text += " (" + t.GasWei + " wei)"
		}
	}
	if t.Dropped {
		text += " (dropped by a reorg; sent again)"
	}
	if t.Reverted {
		text += " (reverted: it cost its gas and did nothing)"
	}
	var hash fyne.CanvasObject = widget.NewLabel(shortAddr(t.Hash))
	if u, err := url.Parse(t.URL); err == nil && t.URL != "" && (u.Scheme == "https" || u.Scheme == "http") {
		hash = widget.NewHyperlink(shortAddr(t.Hash), u)
	}
	return container.NewHBox(widget.NewLabel(text), hash)
}
