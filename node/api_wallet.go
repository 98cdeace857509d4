package node

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet"
)

// Wallet routes' limits.
const (
	// walletEvery is how often the daemon looks for new vouchers, to
	// announce EventWallet on the event stream.
	walletEvery = 2 * time.Second
	// maxPassphrase bounds a passphrase in a request.
	maxPassphrase = 1024
	// minNewPassphrase is the shortest passphrase an exported copy may get.
	minNewPassphrase = 8
)

// walletAddress is the wallet's address, read once (reading it records
// the account in the ledger).
func (d *Daemon) walletAddress() (common.Address, error) {
	d.walletMu.Lock()
	defer d.walletMu.Unlock()
	if d.walletAddr != (common.Address{}) {
		return d.walletAddr, nil
	}
	a, err := d.cfg.Wallet.Address()
	if err != nil {
		return a, err
	}
	d.walletAddr = a
	return a, nil
}

// walletFigures computes GET /v1/wallet from the ledger at now.
func (d *Daemon) walletFigures(ctx context.Context, now time.Time) (localapi.Wallet, error) {
	me, err := d.walletAddress()
	if err != nil {
		return localapi.Wallet{}, err
	}
	l := d.cfg.Wallet.Ledger
	b, err := l.Balance(ctx, me)
	if err != nil {
		return localapi.Wallet{}, err
	}
	now = now.UTC()
	firstDay := now.Truncate(24*time.Hour).AddDate(0, 0, -29)
	firstHour := now.Truncate(time.Hour).Add(-23 * time.Hour)
	days, err := l.History(ctx, me, wallet.ByDay, firstDay)
	if err != nil {
		return localapi.Wallet{}, err
	}
	hours, err := l.History(ctx, me, wallet.ByHour, firstHour)
	if err != nil {
		return localapi.Wallet{}, err
	}
	act, err := l.Activity(ctx, me, localapi.MaxHistory)
	if err != nil {
		return localapi.Wallet{}, err
	}
	w := localapi.Wallet{Address: me.Hex(), Unit: wallet.Unit, Earned: localapi.Amount(b.Earned),
		Settled: localapi.Amount(b.Settled), PaidOut: localapi.Amount(b.PaidOut), Pending: localapi.Amount(b.Pending),
		Available: localapi.Amount(max(b.Settled-b.PaidOut, 0)), Lost: localapi.Amount(b.Lost), Updated: now,
		Days: buckets(days, firstDay, 30, 24*time.Hour), Hours: buckets(hours, firstHour, 24, time.Hour),
		History: make([]localapi.Activity, 0, len(act))}
	for i, p := range w.Days {
		w.Month += p.Earned
		if i >= len(w.Days)-7 {
			w.Week += p.Earned
		}
		if i == len(w.Days)-1 {
			w.Today = p.Earned
		}
	}
	for _, r := range act {
		a := localapi.Activity{At: r.At, Kind: localapi.ActivityJob, Amount: localapi.Amount(r.Amount)}
		if r.To != "" {
			a.Kind, a.To = localapi.ActivityPayout, r.To
		} else if r.Job != (common.Hash{}) {
			a.Job = r.Job.Hex()
		}
		if r.Agreement != (common.Hash{}) {
			a.Agreement = r.Agreement.Hex()
		}
		w.History = append(w.History, a)
	}
	if w.Money, err = d.money(ctx, me, b.Settled); err != nil {
		return localapi.Wallet{}, err
	}
	return w, nil
}

// buckets spreads ledger rows over n points of width step from first.
func buckets(rows []wallet.HistoryRow, first time.Time, n int, step time.Duration) []localapi.Point {
	out := make([]localapi.Point, n)
	for i := range out {
		out[i].Start = first.Add(time.Duration(i) * step)
	}
	for _, r := range rows {
		if i := int(r.Start.Sub(first) / step); i >= 0 && i < n && !r.Start.Before(first) {
			out[i].Earned += localapi.Amount(r.Earned)
		}
	}
	return out
}

func (d *Daemon) haveWallet(w http.ResponseWriter) bool {
	if d.cfg.Wallet == nil {
		writeError(w, http.StatusServiceUnavailable, localapi.CodeNoWallet, "this daemon runs without a wallet")
		return false
	}
	return true
}

func (d *Daemon) serveWallet(w http.ResponseWriter, r *http.Request) {
	if !d.haveWallet(w) {
		return
	}
	now := time.Now()
	fig, err := d.walletFigures(r.Context(), now)
	if err != nil {
		d.log.Error("reading the wallet", "err", err)
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, "reading the wallet: "+err.Error())
		return
	}
	fig.Energy = d.energyTotals(now)
	d.jobsEnergy(now, fig.History)
	writeJSON(w, fig)
}

// checkPassphrase says whether pass unlocks the wallet key. Wallet
// mutations hold walletOp, so guesses are tried one at a time, each paying
// the key's full KDF cost; after PassSchedule's free failures a guess is
// refused unread (429, CodeTooManyTries) until the wait has passed. The
// count survives restarts (DATA/passphrase-tries.json) and the right
// passphrase clears it.
func (d *Daemon) checkPassphrase(w http.ResponseWriter, pass string) bool {
	if pass == "" {
		writeFieldError(w, http.StatusBadRequest, localapi.CodeInvalid, "passphrase", "passphrase: required — the wallet keystore's passphrase (a daemon without a chosen one keeps it in DATA/wallet/passphrase)")
		return false
	}
	if len(pass) > maxPassphrase {
		writeFieldError(w, http.StatusBadRequest, localapi.CodeInvalid, "passphrase", "passphrase: longer than 1024 bytes")
		return false
	}
	if !d.triesRead {
		t, err := loadPassTries(d.cfg.DataDir)
		if err != nil {
			d.log.Error("reading the record of wrong passphrases; starting a clean one", "err", err)
		}
		d.tries, d.triesRead = t, true
	}
	now := time.Now()
	if until, ok := passWait(d.cfg.PassSchedule, d.tries, now); !ok {
		d.log.Warn("wallet request refused: too many wrong passphrases", "failures", d.tries.Failures, "retry_at", until)
		writeRetryError(w, until, "passphrase: too many wrong passphrases; try again after "+until.Local().Format(time.TimeOnly)+
			" (in "+waitText(until.Sub(now))+")")
		return false
	}
	if _, err := d.cfg.Wallet.Keys.Export(pass, ""); err != nil {
		if errors.Is(err, wallet.ErrBadPassphase) {
			d.tries.Failures++
			d.tries.Last = now
			d.saveTries()
			d.log.Warn("wallet request refused: wrong passphrase", "failures", d.tries.Failures)
			e := localapi.Error{Code: localapi.CodeBadPass, Field: "passphrase",
				Message: "passphrase: it does not unlock the wallet key; check it and try again"}
			if until, ok := passWait(d.cfg.PassSchedule, d.tries, now); !ok {
				e.RetryAt = until
				e.Message += " after " + until.Local().Format(time.TimeOnly) + " (in " + waitText(until.Sub(now)) + ")"
			}
			writeAPIError(w, http.StatusForbidden, e)
			return false
		}
		d.log.Error("checking the wallet passphrase", "err", err)
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, "reading the wallet key: "+err.Error())
		return false
	}
	if d.tries.Failures > 0 {
		d.tries = passTries{}
		d.saveTries()
	}
	return true
}

// saveTries keeps the record of wrong passphrases across restarts. The
// count in memory stays the truth for this run if the file cannot be
// written.
func (d *Daemon) saveTries() {
	if err := savePassTries(d.cfg.DataDir, d.tries); err != nil {
		d.log.Error("saving the record of wrong passphrases", "err", err)
	}
}

// writeRetryError answers 429 CodeTooManyTries with when to try again,
// in the body (Error.RetryAt) and in Retry-After.
func writeRetryError(w http.ResponseWriter, until time.Time, msg string) {
	secs := int64((time.Until(until) + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	writeAPIError(w, http.StatusTooManyRequests, localapi.Error{Message: msg, Code: localapi.CodeTooManyTries, Field: "passphrase", RetryAt: until})
}

// waitText is a wait for a person: "40 s", "3 min", "1 h".
func waitText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(max((d+time.Second-1)/time.Second, 1))) + " s"
	case d < time.Hour:
		return strconv.Itoa(int((d+time.Minute-1)/time.Minute)) + " min"
	}
	return strconv.Itoa(int((d+time.Hour-1)/time.Hour)) + " h"
}

func (d *Daemon) serveWithdraw(w http.ResponseWriter, r *http.Request) {
	if !d.haveWallet(w) {
		return
	}
	var req localapi.WithdrawRequest
	if !readJSON(w, r, &req) {
		return
	}
	me, err := d.walletAddress()
	if err != nil {
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, "reading the wallet: "+err.Error())
		return
	}
	to, err := wallet.ParsePayoutAddress(req.To, me)
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, localapi.CodeInvalid, "to", "to: "+strings.TrimPrefix(err.Error(), wallet.ErrBadPayee.Error()+": "))
		return
	}
	amt, err := wallet.ParseAmount(strings.TrimSpace(req.Amount))
	if err != nil || amt <= 0 {
		writeFieldError(w, http.StatusBadRequest, localapi.CodeInvalid, "amount",
			"amount: "+quoteClip(req.Amount)+" is not an amount above 0 like 1.25 (at most 6 decimals)")
		return
	}
	d.walletOp.Lock()
	defer d.walletOp.Unlock()
	if !d.checkPassphrase(w, req.Passphrase) {
		return
	}
	if err := d.cfg.Wallet.Ledger.RecordPayout(r.Context(), me, amt, to.Hex(), "localapi"); err != nil {
		if errors.Is(err, wallet.ErrInsufficient) {
			writeFieldError(w, http.StatusConflict, localapi.CodeInsufficient, "amount", "amount: "+err.Error())
			return
		}
		d.log.Error("recording a payout", "err", err)
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, "recording the payout: "+err.Error())
		return
	}
	d.log.Info("payout recorded", "to", to.Hex(), "amount", amt.String())
	b, err := d.cfg.Wallet.Ledger.Balance(r.Context(), me)
	if err != nil {
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, "reading the wallet: "+err.Error())
		return
	}
	d.emit(localapi.EventWallet)
	writeJSON(w, localapi.WithdrawResult{To: to.Hex(), Amount: localapi.Amount(amt), Available: localapi.Amount(max(b.Settled-b.PaidOut, 0))})
}

func quoteClip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}

func (d *Daemon) serveExport(w http.ResponseWriter, r *http.Request) {
	if !d.haveWallet(w) {
		return
	}
	var req localapi.ExportRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.NewPassphrase != "" && (len(req.NewPassphrase) < minNewPassphrase || len(req.NewPassphrase) > maxPassphrase) {
		writeFieldError(w, http.StatusBadRequest, localapi.CodeInvalid, "new_passphrase", "new_passphrase: want 8 to 1024 characters (or none to keep the current one)")
		return
	}
	me, err := d.walletAddress()
	if err != nil {
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, "reading the wallet: "+err.Error())
		return
	}
	d.walletOp.Lock()
	defer d.walletOp.Unlock()
	if !d.checkPassphrase(w, req.Passphrase) {
		return
	}
	b, err := d.cfg.Wallet.Keys.Export(req.Passphrase, req.NewPassphrase)
	if err != nil {
		d.log.Error("exporting the wallet key", "err", err)
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, "exporting the wallet key: "+err.Error())
		return
	}
	d.log.Info("wallet keystore exported", "address", me.Hex(), "re_encrypted", req.NewPassphrase != "")
	writeJSON(w, localapi.ExportResult{Address: me.Hex(), Keystore: b})
}

// watchWallet announces EventWallet when the wallet's figures change
// (vouchers arrive, a settlement confirms).
func (d *Daemon) watchWallet(ctx context.Context) error {
	if d.cfg.Wallet == nil {
		return nil
	}
	t := time.NewTicker(walletEvery)
	defer t.Stop()
	var last wallet.Balance
	for first := true; ; first = false {
		if me, err := d.walletAddress(); err == nil {
			if b, err := d.cfg.Wallet.Ledger.Balance(ctx, me); err == nil {
				if !first && b != last {
					d.emit(localapi.EventWallet)
				}
				last = b
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
