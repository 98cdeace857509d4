package wallet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Settlement turns signed vouchers into settled money. Two backends
// implement it: the embedded ledger (LedgerSettlement) and the EVM escrow
// contract (package wallet/evm). Both apply the same rules to the same
// EIP-712 digests.
type Settlement interface {
	// Open deposits for payee into a new channel whose vouchers signer signs.
	Open(ctx context.Context, payee, signer common.Address, deposit Amount) (ChannelInfo, error)
	// Settle pays the payee the difference between v and what is settled,
	// returning that difference.
	Settle(ctx context.Context, v *SignedVoucher) (Amount, error)
	// Settled is the cumulative amount settled on a channel.
	Settled(ctx context.Context, channel common.Hash) (Amount, error)
}

// Settlement errors shared by both backends.
var (
	ErrNotPayee      = errors.New("only the channel's payee may do this")
	ErrNotPayer      = errors.New("only the channel's payer may do this")
	ErrChannelClosed = errors.New("channel is closed")
	ErrGracePeriod   = errors.New("the close grace period has not ended")
	ErrNoCloseReq    = errors.New("no close was requested")
)

// CloseGrace is how long a payee has to settle after the payer asks to
// close, in both backends (the contract's GRACE_PERIOD).
const CloseGrace = 24 * time.Hour

// ChannelID derives a channel's ID as the contract does:
// keccak256(abi.encode(chainId, contract, payer, payee, salt)).
func ChannelID(d Domain, payer, payee common.Address, salt common.Hash) common.Hash {
	var b [5 * 32]byte
	putUint(b[0:32], d.ChainID)
	copy(b[32+12:], d.Contract[:])
	copy(b[64+12:], payer[:])
	copy(b[96+12:], payee[:])
	copy(b[128:], salt[:])
	return crypto.Keccak256Hash(b[:])
}

// LedgerBackend names the embedded backend in the ledger.
const LedgerBackend = "ledger"

// LedgerSettlement is the embedded backend: deposits, channels and
// settlements are recorded in the local ledger under the contract's rules
// and digests, with no chain behind them. It is an IOU system for parties
// who trust each other's nodes (one household, one studio): it proves who
// signed what, but nothing forces a payer to honour a voucher.
type LedgerSettlement struct {
	Ledger *Ledger
	Domain Domain         // ChainID as configured, Contract the zero address
	Me     common.Address // the wallet acting: payer on Open, payee on Settle
	Now    func() time.Time
}

var _ Settlement = (*LedgerSettlement)(nil)

func (s *LedgerSettlement) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Open records a deposit by Me for payee.
func (s *LedgerSettlement) Open(ctx context.Context, payee, signer common.Address, deposit Amount) (ChannelInfo, error) {
	if deposit <= 0 {
		return ChannelInfo{}, fmt.Errorf("deposit: %w: must be positive", ErrAmount)
	}
	var salt common.Hash
	if _, err := rand.Read(salt[:]); err != nil {
		return ChannelInfo{}, err
	}
	ch := ChannelInfo{
		ID: ChannelID(s.Domain, s.Me, payee, salt), Domain: s.Domain,
		Payer: s.Me, Payee: payee, Signer: signer, Deposit: deposit,
	}
	if err := s.Ledger.AddChannel(ctx, LedgerBackend, ch); err != nil {
		return ChannelInfo{}, err
	}
	return ch, nil
}

func (s *LedgerSettlement) channel(ctx context.Context, id common.Hash) (ChannelRecord, error) {
	ch, err := s.Ledger.Channel(ctx, id)
	if err != nil {
		return ch, err
	}
	if ch.State == "closed" {
		return ch, fmt.Errorf("channel %s: %w", id.Hex(), ErrChannelClosed)
	}
	return ch, nil
}

// Settle applies the contract's settle: payee only, voucher signed by the
// channel's signer for this domain, above what is settled, at most the deposit.
func (s *LedgerSettlement) Settle(ctx context.Context, v *SignedVoucher) (Amount, error) {
	return s.settle(ctx, v, "settle")
}

func (s *LedgerSettlement) settle(ctx context.Context, v *SignedVoucher, kind string) (Amount, error) {
	ch, err := s.channel(ctx, v.ChannelID)
	if err != nil {
		return 0, err
	}
	if s.Me != ch.Payee {
		return 0, fmt.Errorf("%s: %w (%s)", kind, ErrNotPayee, ch.Payee.Hex())
	}
	settled, err := s.Ledger.Settled(ctx, ch.ID)
	if err != nil {
		return 0, err
	}
	if err := CheckVoucher(ch.ChannelInfo, settled, v); err != nil {
		return 0, fmt.Errorf("%s: %w", kind, err)
	}
	if _, err := s.Ledger.RecordVoucher(ctx, v, common.Hash{}); err != nil && !errors.Is(err, ErrReplay) {
		return 0, err
	}
	amt := v.Cumulative - settled
	if err := s.Ledger.RecordSettlement(ctx, SettlementRecord{ChannelID: ch.ID, Cumulative: v.Cumulative, Amount: amt, Kind: kind}); err != nil {
		return 0, err
	}
	return amt, nil
}

// Settled is the cumulative amount settled on a channel.
func (s *LedgerSettlement) Settled(ctx context.Context, id common.Hash) (Amount, error) {
	return s.Ledger.Settled(ctx, id)
}

// TopUp adds to Me's channel and cancels a pending close request.
func (s *LedgerSettlement) TopUp(ctx context.Context, id common.Hash, amount Amount) error {
	ch, err := s.channel(ctx, id)
	if err != nil {
		return err
	}
	if ch.Payer != s.Me {
		return fmt.Errorf("top-up: %w", ErrNotPayer)
	}
	return s.Ledger.TopUp(ctx, id, amount)
}

// RequestClose starts the payer's grace period.
func (s *LedgerSettlement) RequestClose(ctx context.Context, id common.Hash) error {
	ch, err := s.channel(ctx, id)
	if err != nil {
		return err
	}
	if ch.Payer != s.Me {
		return fmt.Errorf("request close: %w", ErrNotPayer)
	}
	return s.Ledger.setChannelState(ctx, id, "closing", s.now().Unix(), 0)
}

// Withdraw refunds deposit − settled to the payer once the grace period
// after RequestClose has passed, and closes the channel.
func (s *LedgerSettlement) Withdraw(ctx context.Context, id common.Hash) (Amount, error) {
	ch, err := s.channel(ctx, id)
	if err != nil {
		return 0, err
	}
	if ch.Payer != s.Me {
		return 0, fmt.Errorf("withdraw: %w", ErrNotPayer)
	}
	if ch.CloseRequestedAt == 0 {
		return 0, fmt.Errorf("withdraw: %w (hint: request a close first)", ErrNoCloseReq)
	}
	if ends := time.Unix(ch.CloseRequestedAt, 0).Add(CloseGrace); s.now().Before(ends) {
		return 0, fmt.Errorf("withdraw: %w: it ends at %s", ErrGracePeriod, ends.UTC().Format(time.RFC3339))
	}
	settled, err := s.Ledger.Settled(ctx, id)
	if err != nil {
		return 0, err
	}
	refund := ch.Deposit - settled
	return refund, s.Ledger.setChannelState(ctx, id, "closed", 0, refund)
}

// Close is the payee's close: settle v (when it is above what is settled)
// and refund the rest to the payer.
func (s *LedgerSettlement) Close(ctx context.Context, v *SignedVoucher) (Amount, error) {
	ch, err := s.channel(ctx, v.ChannelID)
	if err != nil {
		return 0, err
	}
	if s.Me != ch.Payee {
		return 0, fmt.Errorf("close: %w", ErrNotPayee)
	}
	settled, _ := s.Ledger.Settled(ctx, ch.ID)
	if v.Cumulative > settled {
		if _, err := s.settle(ctx, v, "close"); err != nil {
			return 0, err
		}
		settled = v.Cumulative
	}
	return ch.Deposit - settled, s.Ledger.setChannelState(ctx, ch.ID, "closed", 0, ch.Deposit-settled)
}
