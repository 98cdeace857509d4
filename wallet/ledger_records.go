package wallet

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func addrKey(a common.Address) string { return strings.ToLower(a.Hex()) }

// now is the ledger's clock; tests replace it.
var ledgerNow = time.Now

// AddChannel records a channel with its initial deposit. Adding the same
// channel again with the same parties is a no-op.
func (l *Ledger) AddChannel(ctx context.Context, backend string, ch ChannelInfo) error {
	if ch.Deposit < 0 {
		return fmt.Errorf("channel %s: %w: negative deposit", ch.ID.Hex(), ErrAmount)
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		now := ledgerNow().Unix()
		res, err := tx.ExecContext(ctx, `INSERT INTO channels (id, backend, chain_id, contract, payer, payee, signer, token, deposit, created)
			VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING`,
			ch.ID.Hex(), backend, int64(ch.Domain.ChainID), addrKey(ch.Domain.Contract), addrKey(ch.Payer), addrKey(ch.Payee),
			addrKey(ch.Signer), addrKey(ch.Token), int64(ch.Deposit), now)
		if err != nil {
			return fmt.Errorf("recording channel: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 && ch.Deposit > 0 {
			_, err = tx.ExecContext(ctx, `INSERT INTO deposits (channel_id, amount, at) VALUES (?,?,?)`, ch.ID.Hex(), int64(ch.Deposit), now)
		}
		return err
	})
}

// TopUp adds to a channel's deposit and cancels a pending close request,
// as the contract's topUp does.
func (l *Ledger) TopUp(ctx context.Context, id common.Hash, amount Amount) error {
	if amount <= 0 {
		return fmt.Errorf("top-up: %w: must be positive", ErrAmount)
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE channels SET deposit = deposit + ?, state = 'open', close_requested_at = 0
			WHERE id = ? AND state != 'closed'`, int64(amount), id.Hex())
		if err != nil {
			return fmt.Errorf("top-up: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("top-up of channel %s: %w (or closed)", id.Hex(), ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO deposits (channel_id, amount, at) VALUES (?,?,?)`, id.Hex(), int64(amount), ledgerNow().Unix())
		return err
	})
}

// ChannelRecord is a channel as the ledger holds it.
type ChannelRecord struct {
	ChannelInfo
	Backend          string `json:"backend"`
	State            string `json:"state"` // open, closing or closed
	CloseRequestedAt int64  `json:"close_requested_at"`
	Refunded         Amount `json:"refunded"`
}

// Channel returns a recorded channel.
func (l *Ledger) Channel(ctx context.Context, id common.Hash) (ChannelRecord, error) {
	return scanChannel(l.db.QueryRowContext(ctx, channelSelect+` WHERE id = ?`, id.Hex()))
}

// Channels lists channels where addr is payer or payee.
func (l *Ledger) Channels(ctx context.Context, addr common.Address) ([]ChannelRecord, error) {
	rows, err := l.db.QueryContext(ctx, channelSelect+` WHERE payer = ? OR payee = ? ORDER BY created`, addrKey(addr), addrKey(addr))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChannelRecord
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const channelSelect = `SELECT id, backend, chain_id, contract, payer, payee, signer, token, deposit, state, close_requested_at, refunded FROM channels`

func scanChannel(row interface{ Scan(...any) error }) (ChannelRecord, error) {
	var c ChannelRecord
	var id, contract, payer, payee, signer, token string
	var chain int64
	err := row.Scan(&id, &c.Backend, &chain, &contract, &payer, &payee, &signer, &token, &c.Deposit, &c.State, &c.CloseRequestedAt, &c.Refunded)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("channel: %w", ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("reading channel: %w", err)
	}
	c.ID = common.HexToHash(id)
	c.Domain = Domain{ChainID: uint64(chain), Contract: common.HexToAddress(contract)}
	c.Payer, c.Payee, c.Signer, c.Token = common.HexToAddress(payer), common.HexToAddress(payee), common.HexToAddress(signer), common.HexToAddress(token)
	return c, nil
}

// setChannelState records a close request, or the close and its refund.
func (l *Ledger) setChannelState(ctx context.Context, id common.Hash, state string, at int64, refunded Amount) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE channels SET state = ?, close_requested_at = CASE WHEN ? > 0 THEN ? ELSE close_requested_at END,
			refunded = refunded + ? WHERE id = ?`, state, at, at, int64(refunded), id.Hex())
		return err
	})
}

// RecordAgreement verifies sa against its channel and stores it.
func (l *Ledger) RecordAgreement(ctx context.Context, sa *SignedAgreement) error {
	ch, err := l.Channel(ctx, sa.ChannelID)
	if err != nil {
		return err
	}
	if err := CheckAgreement(sa, ch.ChannelInfo); err != nil {
		return err
	}
	body, err := json.Marshal(sa)
	if err != nil {
		return err
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO agreements (id, channel_id, job_hash, body, created, chain_id, contract) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT(id) DO NOTHING`, sa.ID(sa.Domain).Hex(), sa.ChannelID.Hex(), sa.JobHash.Hex(), string(body), ledgerNow().Unix(),
			int64(sa.Domain.ChainID), addrKey(sa.Domain.Contract))
		return err
	})
}

// Agreement returns a recorded agreement. Agreements never change once
// recorded, so they are cached.
func (l *Ledger) Agreement(ctx context.Context, id common.Hash) (SignedAgreement, error) {
	if sa, ok := l.agreements.Load(id); ok {
		return sa.(SignedAgreement), nil
	}
	var body string
	var sa SignedAgreement
	err := l.db.QueryRowContext(ctx, `SELECT body FROM agreements WHERE id = ?`, id.Hex()).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return sa, fmt.Errorf("agreement %s: %w", id.Hex(), ErrNotFound)
	}
	if err != nil {
		return sa, err
	}
	if err := json.Unmarshal([]byte(body), &sa); err != nil {
		return sa, fmt.Errorf("decoding agreement %s: %w", id.Hex(), err)
	}
	l.agreements.Store(id, sa)
	return sa, nil
}

// ReceiptState rebuilds an agreement's receipt state from its receipts.
func (l *Ledger) ReceiptState(ctx context.Context, agreementID common.Hash) (ReceiptState, error) {
	return receiptState(ctx, l.db, agreementID)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func receiptState(ctx context.Context, q querier, id common.Hash) (ReceiptState, error) {
	var st ReceiptState
	var hash string
	var final int
	err := q.QueryRowContext(ctx, `SELECT seq, hash, end, cumulative, final, total_gpu_ms, total_cpu_ms
		FROM receipts WHERE agreement_id = ? ORDER BY seq DESC LIMIT 1`, id.Hex()).
		Scan(&st.LastSeq, &hash, &st.LastEnd, &st.Cumulative, &final, &st.GPUms, &st.CPUms)
	if errors.Is(err, sql.ErrNoRows) {
		return ReceiptState{}, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading receipts: %w", err)
	}
	st.LastHash, st.Final = common.HexToHash(hash), final != 0
	return st, nil
}

// RecordReceipt checks r against the agreement and every earlier receipt
// and stores it; it returns after the commit. A replay is refused with
// ErrReplay and changes nothing. A second, different final receipt is
// stored as fraud evidence and refused with ErrConflictingFinal.
func (l *Ledger) RecordReceipt(ctx context.Context, r *SignedReceipt, now time.Time) (ReceiptState, error) {
	sa, err := l.Agreement(ctx, r.AgreementID)
	if err != nil {
		return ReceiptState{}, err
	}
	var next ReceiptState
	var evidence error
	err = l.tx(ctx, func(tx *sql.Tx) error {
		st, err := receiptState(ctx, tx, r.AgreementID)
		if err != nil {
			return err
		}
		next, err = CheckReceipt(&sa, st, r, now)
		if errors.Is(err, ErrConflictingFinal) {
			evidence = err
			return l.storeEvidence(ctx, tx, r, st.LastHash)
		}
		if err != nil {
			return err
		}
		final := 0
		if r.Final {
			final = 1
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO receipts (agreement_id, seq, hash, prev_hash, start, end, gpu_ms, cpu_ms,
			total_gpu_ms, total_cpu_ms, cumulative, final, sig, recorded_at, chain_id, contract) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			r.AgreementID.Hex(), r.Seq, next.LastHash.Hex(), r.PrevHash.Hex(), r.Start, r.End, r.GPUms, r.CPUms,
			next.GPUms, next.CPUms, int64(r.Cumulative), final, []byte(r.Sig), ledgerNow().Unix(),
			int64(sa.Domain.ChainID), addrKey(sa.Domain.Contract))
		if err != nil {
			return fmt.Errorf("recording receipt: %w", err)
		}
		return nil
	})
	if evidence != nil && err == nil {
		l.log.Warn("conflicting final receipt kept as evidence", "agreement", r.AgreementID.Hex(), "seq", r.Seq)
		return ReceiptState{}, evidence
	}
	return next, err
}

func (l *Ledger) storeEvidence(ctx context.Context, tx *sql.Tx, r *SignedReceipt, recordedHash common.Hash) error {
	var recorded string
	err := tx.QueryRowContext(ctx, `SELECT json_object('seq', seq, 'hash', hash, 'cumulative', cumulative, 'sig', hex(sig))
		FROM receipts WHERE hash = ?`, recordedHash.Hex()).Scan(&recorded)
	if err != nil {
		return fmt.Errorf("reading recorded final receipt: %w", err)
	}
	off, _ := json.Marshal(r)
	_, err = tx.ExecContext(ctx, `INSERT INTO evidence (agreement_id, kind, recorded, offending, at) VALUES (?,?,?,?,?)`,
		r.AgreementID.Hex(), "conflicting_final_receipt", recorded, string(off), ledgerNow().Unix())
	return err
}

// Evidence is a recorded proof of misbehaviour.
type Evidence struct {
	AgreementID common.Hash `json:"agreement_id"`
	Kind        string      `json:"kind"`
	Recorded    string      `json:"recorded"`  // what the ledger held
	Offending   string      `json:"offending"` // the conflicting signed message
	At          time.Time   `json:"at"`
}

// Evidence lists fraud evidence for an agreement.
func (l *Ledger) Evidence(ctx context.Context, agreementID common.Hash) ([]Evidence, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT kind, recorded, offending, at FROM evidence WHERE agreement_id = ? ORDER BY id`, agreementID.Hex())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Evidence
	for rows.Next() {
		e := Evidence{AgreementID: agreementID}
		var at int64
		if err := rows.Scan(&e.Kind, &e.Recorded, &e.Offending, &at); err != nil {
			return nil, err
		}
		e.At = time.Unix(at, 0)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecordVoucher checks v against its channel and the best voucher held
// and stores it, returning the amount it adds. It returns after the
// commit: acknowledge the voucher only then. agreementID (may be zero)
// names the job the voucher pays for, for per-job history.
func (l *Ledger) RecordVoucher(ctx context.Context, v *SignedVoucher, agreementID common.Hash) (Amount, error) {
	var delta Amount
	err := l.tx(ctx, func(tx *sql.Tx) error {
		ch, err := scanChannel(tx.QueryRowContext(ctx, channelSelect+` WHERE id = ?`, v.ChannelID.Hex()))
		if err != nil {
			return fmt.Errorf("voucher for channel %s: %w", v.ChannelID.Hex(), err)
		}
		if ch.State == "closed" {
			return fmt.Errorf("voucher for channel %s: %w: channel is closed", v.ChannelID.Hex(), ErrAfterFinal)
		}
		best, err := bestCumulative(ctx, tx, v.ChannelID)
		if err != nil {
			return err
		}
		if err := CheckVoucher(ch.ChannelInfo, best, v); err != nil {
			return err
		}
		delta = v.Cumulative - best
		aid := ""
		if agreementID != (common.Hash{}) {
			aid = agreementID.Hex()
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO vouchers (channel_id, cumulative, delta, agreement_id, sig, recorded_at, chain_id, contract)
			VALUES (?,?,?,?,?,?,?,?)`, v.ChannelID.Hex(), int64(v.Cumulative), int64(delta), aid, []byte(v.Sig), ledgerNow().Unix(),
			int64(v.Domain.ChainID), addrKey(v.Domain.Contract))
		if err != nil {
			return fmt.Errorf("recording voucher: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return delta, nil
}

func bestCumulative(ctx context.Context, q querier, id common.Hash) (Amount, error) {
	var best Amount
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(cumulative), 0) FROM vouchers WHERE channel_id = ?`, id.Hex()).Scan(&best)
	return best, err
}

// BestVoucher returns the highest voucher held for a channel.
func (l *Ledger) BestVoucher(ctx context.Context, id common.Hash) (SignedVoucher, error) {
	ch, err := l.Channel(ctx, id)
	if err != nil {
		return SignedVoucher{}, err
	}
	var sig []byte
	v := SignedVoucher{Domain: ch.Domain, Voucher: Voucher{ChannelID: id}}
	err = l.db.QueryRowContext(ctx, `SELECT cumulative, sig FROM vouchers WHERE channel_id = ? ORDER BY cumulative DESC LIMIT 1`, id.Hex()).
		Scan(&v.Cumulative, &sig)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("voucher for channel %s: %w", id.Hex(), ErrNotFound)
	}
	v.Sig = sig
	return v, err
}

// Receipt returns a recorded signed receipt, e.g. to send it again after
// a reconnect.
func (l *Ledger) Receipt(ctx context.Context, agreementID common.Hash, seq uint64) (SignedReceipt, error) {
	r := SignedReceipt{UsageReceipt: UsageReceipt{AgreementID: agreementID}}
	var prev string
	var final int
	var sig []byte
	err := l.db.QueryRowContext(ctx, `SELECT seq, start, end, gpu_ms, cpu_ms, cumulative, prev_hash, final, sig FROM receipts
		WHERE agreement_id = ? AND seq = ?`, agreementID.Hex(), seq).
		Scan(&r.Seq, &r.Start, &r.End, &r.GPUms, &r.CPUms, &r.Cumulative, &prev, &final, &sig)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("receipt %d of %s: %w", seq, agreementID.Hex(), ErrNotFound)
	}
	if err != nil {
		return r, err
	}
	r.PrevHash, r.Final, r.Sig = common.HexToHash(prev), final != 0, sig
	return r, nil
}

// SyncDeposit raises a channel's recorded deposit to what the settlement
// backend reports (a top-up this ledger did not make); it never lowers it.
func (l *Ledger) SyncDeposit(ctx context.Context, id common.Hash, deposit Amount) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		var cur Amount
		if err := tx.QueryRowContext(ctx, `SELECT deposit FROM channels WHERE id = ?`, id.Hex()).Scan(&cur); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("channel %s: %w", id.Hex(), ErrNotFound)
			}
			return err
		}
		if deposit <= cur {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET deposit = ? WHERE id = ?`, int64(deposit), id.Hex()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO deposits (channel_id, amount, at) VALUES (?,?,?)`, id.Hex(), int64(deposit-cur), ledgerNow().Unix())
		return err
	})
}

// AddAccount records one of this node's own addresses (idempotent).
func (l *Ledger) AddAccount(ctx context.Context, a common.Address, label string) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts (address, label, created) VALUES (?,?,?) ON CONFLICT(address) DO NOTHING`,
			addrKey(a), label, ledgerNow().Unix())
		return err
	})
}

// Accounts lists this node's recorded addresses, oldest first.
func (l *Ledger) Accounts(ctx context.Context) ([]common.Address, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT address FROM accounts ORDER BY created, address`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []common.Address
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, common.HexToAddress(s))
	}
	return out, rows.Err()
}
