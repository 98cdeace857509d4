package wallet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Ledger is the wallet's durable record: channels, agreements, receipts,
// vouchers, settlements, payouts and fraud evidence, in one SQLite file
// per data directory (DATA/spare.db). Every Record* call returns only
// after its transaction is committed with synchronous=FULL, so a message
// that depends on it may be sent once it returns. Amounts are INTEGER
// token units; nothing is stored as floating point.
type Ledger struct {
	db         *sql.DB
	log        *slog.Logger
	agreements sync.Map // common.Hash → SignedAgreement
}

// ErrNotFound reports a channel, agreement or voucher the ledger lacks.
var ErrNotFound = errors.New("not found in the ledger")

// LedgerFile is the database's name inside a data directory.
const LedgerFile = "spare.db"

// migrations are applied in order; schema_version holds how many ran.
// Never edit one that has shipped: append a new one.
var migrations = []string{
	`CREATE TABLE accounts (
		address TEXT PRIMARY KEY,
		label   TEXT NOT NULL DEFAULT '',
		created INTEGER NOT NULL
	);
	CREATE TABLE channels (
		id          TEXT PRIMARY KEY,
		backend     TEXT NOT NULL,
		chain_id    INTEGER NOT NULL,
		contract    TEXT NOT NULL,
		payer       TEXT NOT NULL,
		payee       TEXT NOT NULL,
		signer      TEXT NOT NULL,
		token       TEXT NOT NULL,
		deposit     INTEGER NOT NULL CHECK (deposit >= 0),
		state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','closing','closed')),
		close_requested_at INTEGER NOT NULL DEFAULT 0,
		refunded    INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0),
		created     INTEGER NOT NULL
	);
	CREATE TABLE deposits (
		id         INTEGER PRIMARY KEY,
		channel_id TEXT NOT NULL REFERENCES channels(id),
		amount     INTEGER NOT NULL CHECK (amount > 0),
		at         INTEGER NOT NULL
	);
	CREATE TABLE agreements (
		id         TEXT PRIMARY KEY,
		channel_id TEXT NOT NULL REFERENCES channels(id),
		job_hash   TEXT NOT NULL,
		body       TEXT NOT NULL,
		created    INTEGER NOT NULL
	);
	CREATE TABLE receipts (
		agreement_id TEXT NOT NULL REFERENCES agreements(id),
		seq          INTEGER NOT NULL,
		hash         TEXT NOT NULL UNIQUE,
		prev_hash    TEXT NOT NULL,
		start        INTEGER NOT NULL,
		end          INTEGER NOT NULL,
		gpu_ms       INTEGER NOT NULL,
		cpu_ms       INTEGER NOT NULL,
		total_gpu_ms INTEGER NOT NULL,
		total_cpu_ms INTEGER NOT NULL,
		cumulative   INTEGER NOT NULL,
		final        INTEGER NOT NULL,
		sig          BLOB NOT NULL,
		recorded_at  INTEGER NOT NULL,
		PRIMARY KEY (agreement_id, seq)
	);
	CREATE TABLE vouchers (
		channel_id   TEXT NOT NULL REFERENCES channels(id),
		cumulative   INTEGER NOT NULL CHECK (cumulative > 0),
		delta        INTEGER NOT NULL CHECK (delta > 0),
		agreement_id TEXT NOT NULL DEFAULT '',
		sig          BLOB NOT NULL,
		recorded_at  INTEGER NOT NULL,
		PRIMARY KEY (channel_id, cumulative)
	);
	CREATE TABLE settlements (
		id           INTEGER PRIMARY KEY,
		channel_id   TEXT NOT NULL REFERENCES channels(id),
		cumulative   INTEGER NOT NULL,
		amount       INTEGER NOT NULL CHECK (amount >= 0),
		kind         TEXT NOT NULL CHECK (kind IN ('settle','close')),
		tx_hash      TEXT NOT NULL DEFAULT '',
		block_hash   TEXT NOT NULL DEFAULT '',
		block_number INTEGER NOT NULL DEFAULT 0,
		status       TEXT NOT NULL CHECK (status IN ('confirmed','dropped')),
		at           INTEGER NOT NULL
	);
	CREATE TABLE payouts (
		id          INTEGER PRIMARY KEY,
		amount      INTEGER NOT NULL CHECK (amount > 0),
		destination TEXT NOT NULL,
		reference   TEXT NOT NULL DEFAULT '',
		at          INTEGER NOT NULL
	);
	CREATE TABLE evidence (
		id           INTEGER PRIMARY KEY,
		agreement_id TEXT NOT NULL,
		kind         TEXT NOT NULL,
		recorded     TEXT NOT NULL,
		offending    TEXT NOT NULL,
		at           INTEGER NOT NULL
	);
	CREATE INDEX vouchers_time ON vouchers(recorded_at);
	CREATE INDEX settlements_channel ON settlements(channel_id, status);`,
	// Settlement transactions signed and recorded before they are sent, so
	// a restart sends the same transaction (same nonce) again, or records
	// it once mined, and never settles twice.
	`CREATE TABLE pending_txs (
		hash       TEXT PRIMARY KEY,
		chain_id   INTEGER NOT NULL,
		channel_id TEXT NOT NULL REFERENCES channels(id),
		cumulative INTEGER NOT NULL CHECK (cumulative > 0),
		amount     INTEGER NOT NULL CHECK (amount >= 0),
		kind       TEXT NOT NULL CHECK (kind IN ('settle','close')),
		nonce      INTEGER NOT NULL,
		raw        BLOB NOT NULL,
		status     TEXT NOT NULL CHECK (status IN ('pending','mined','failed')),
		at         INTEGER NOT NULL
	);
	CREATE INDEX pending_txs_status ON pending_txs(status, chain_id);`,
	// 3: every signed record names the EIP-712 domain it was signed under
	// (the ledger backend's is chain 0, contract 0x0, written out), taken
	// for old rows from what was signed: the agreement's body, the
	// receipt's agreement, the voucher's channel (CheckVoucher requires
	// the channel's domain). Settlements carry the gas their transaction
	// used (0 for the ledger backend).
	`ALTER TABLE agreements ADD COLUMN chain_id INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE agreements ADD COLUMN contract TEXT NOT NULL DEFAULT '';
	ALTER TABLE receipts ADD COLUMN chain_id INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE receipts ADD COLUMN contract TEXT NOT NULL DEFAULT '';
	ALTER TABLE vouchers ADD COLUMN chain_id INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE vouchers ADD COLUMN contract TEXT NOT NULL DEFAULT '';
	UPDATE agreements SET chain_id = COALESCE(json_extract(body, '$.domain.chain_id'), 0),
		contract = lower(COALESCE(json_extract(body, '$.domain.contract'), '0x0000000000000000000000000000000000000000'));
	UPDATE receipts SET chain_id = (SELECT a.chain_id FROM agreements a WHERE a.id = receipts.agreement_id),
		contract = (SELECT a.contract FROM agreements a WHERE a.id = receipts.agreement_id);
	UPDATE vouchers SET chain_id = (SELECT c.chain_id FROM channels c WHERE c.id = vouchers.channel_id),
		contract = (SELECT c.contract FROM channels c WHERE c.id = vouchers.channel_id);
	ALTER TABLE settlements ADD COLUMN gas_used INTEGER NOT NULL DEFAULT 0 CHECK (gas_used >= 0);`,
	// 4: what a transaction's gas cost: the price paid per unit of gas
	// (wei; 0: not known, as for rows before this version), on
	// settlements, and the gas of payouts sent on a chain.
	`ALTER TABLE settlements ADD COLUMN gas_price INTEGER NOT NULL DEFAULT 0 CHECK (gas_price >= 0);
	ALTER TABLE payouts ADD COLUMN gas_used INTEGER NOT NULL DEFAULT 0 CHECK (gas_used >= 0);
	ALTER TABLE payouts ADD COLUMN gas_price INTEGER NOT NULL DEFAULT 0 CHECK (gas_price >= 0);`,
	// 5: fee bumping. A settlement's transaction left unmined is replaced
	// by one with the same nonce and a higher fee, recorded before it is
	// sent: the rows of one settlement share original (the first
	// transaction's hash), so whichever is mined is recorded and the
	// others become 'replaced'. sent_block is the chain's head when a
	// transaction was recorded (the wait before a bump counts from it);
	// note says why a settlement waits (its fee is at the cap).
	`CREATE TABLE pending_txs_v5 (
		hash       TEXT PRIMARY KEY,
		chain_id   INTEGER NOT NULL,
		channel_id TEXT NOT NULL REFERENCES channels(id),
		cumulative INTEGER NOT NULL CHECK (cumulative > 0),
		amount     INTEGER NOT NULL CHECK (amount >= 0),
		kind       TEXT NOT NULL CHECK (kind IN ('settle','close')),
		nonce      INTEGER NOT NULL,
		raw        BLOB NOT NULL,
		status     TEXT NOT NULL CHECK (status IN ('pending','mined','failed','replaced')),
		at         INTEGER NOT NULL,
		original   TEXT NOT NULL,
		sent_block INTEGER NOT NULL DEFAULT 0 CHECK (sent_block >= 0),
		note       TEXT NOT NULL DEFAULT ''
	);
	INSERT INTO pending_txs_v5 (hash, chain_id, channel_id, cumulative, amount, kind, nonce, raw, status, at, original)
		SELECT hash, chain_id, channel_id, cumulative, amount, kind, nonce, raw, status, at, hash FROM pending_txs ORDER BY rowid;
	DROP TABLE pending_txs;
	ALTER TABLE pending_txs_v5 RENAME TO pending_txs;
	CREATE INDEX pending_txs_status ON pending_txs(status, chain_id);
	CREATE INDEX pending_txs_original ON pending_txs(original);`,
	// 6: the other transactions the wallet sends (approve, open, topUp,
	// requestClose, withdraw, deploy…) and those that reverted (a
	// settlement, a payout), with the gas they cost: every transaction
	// sent costs gas, not only the settlements and payouts mined.
	`CREATE TABLE chain_txs (
		hash         TEXT PRIMARY KEY,
		chain_id     INTEGER NOT NULL,
		kind         TEXT NOT NULL,
		channel_id   TEXT NOT NULL DEFAULT '',
		amount       INTEGER NOT NULL DEFAULT 0 CHECK (amount >= 0),
		block_hash   TEXT NOT NULL DEFAULT '',
		block_number INTEGER NOT NULL DEFAULT 0,
		gas_used     INTEGER NOT NULL CHECK (gas_used >= 0),
		gas_price    INTEGER NOT NULL CHECK (gas_price >= 0),
		reverted     INTEGER NOT NULL DEFAULT 0,
		at           INTEGER NOT NULL
	);`,
	// 7: a chain transaction is recorded signed, with its nonce, before it
	// is sent (status pending), so a restart sends the same one again or
	// finds it mined; a mined one a reorg took out of the chain is
	// pending again (or dropped, when recorded before its signed form was
	// kept). Only mined ones count as gas spent. A payout's transfer is
	// one of them while pending (destination set; it holds its amount
	// back from what may be paid out); mined, it is a payout (status
	// payout), its gas counted there.
	`ALTER TABLE chain_txs ADD COLUMN status TEXT NOT NULL DEFAULT 'mined'
		CHECK (status IN ('pending','mined','failed','dropped','payout'));
	ALTER TABLE chain_txs ADD COLUMN destination TEXT NOT NULL DEFAULT '';
	ALTER TABLE chain_txs ADD COLUMN nonce INTEGER NOT NULL DEFAULT 0 CHECK (nonce >= 0);
	ALTER TABLE chain_txs ADD COLUMN raw BLOB NOT NULL DEFAULT x'';
	ALTER TABLE chain_txs ADD COLUMN sent_block INTEGER NOT NULL DEFAULT 0 CHECK (sent_block >= 0);
	CREATE INDEX chain_txs_status ON chain_txs(status, chain_id, block_number);`,
}

// OpenLedger opens (creating and migrating) the ledger in dataDir.
func OpenLedger(dataDir string, log *slog.Logger) (*Ledger, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("opening ledger: %w", err)
	}
	path := filepath.Join(dataDir, LedgerFile)
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", path, err)
	}
	// One connection: writes are serialised in-process and every read
	// sees the last commit.
	db.SetMaxOpenConns(1)
	l := &Ledger{db: db, log: log.With("component", "ledger")}
	if err := l.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening ledger %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("securing ledger %s: %w", path, err)
	}
	return l, nil
}

// Close closes the database.
func (l *Ledger) Close() error { return l.db.Close() }

func (l *Ledger) migrate(ctx context.Context) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("schema_version: %w", err)
		}
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version VALUES (0)`); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if v > len(migrations) {
			return fmt.Errorf("ledger schema version %d is newer than this spare (%d): upgrade spare", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			l.log.Debug("ledger migrated", "version", i+1)
		}
		_, err = tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations))
		return err
	})
}

// SchemaVersion reports the applied schema version.
func (l *Ledger) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := l.db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	return v, err
}

// tx runs fn in an immediate transaction and commits; the commit is
// durable (WAL with synchronous=FULL) when tx returns nil.
func (l *Ledger) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
