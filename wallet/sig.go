package wallet

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// Signature is a 65-byte secp256k1 signature r ‖ s ‖ v with v = 27 or 28,
// as Ethereum wallets and the escrow contract's ecrecover expect. JSON
// encodes it as 0x-prefixed hex.
type Signature = hexutil.Bytes

// Errors for signatures that are refused before or after recovery.
var (
	ErrSigLength   = errors.New("signature is not 65 bytes")
	ErrSigHighS    = errors.New("signature has a high s value (malleable)")
	ErrSigV        = errors.New("signature v is not 27 or 28")
	ErrSigInvalid  = errors.New("signature does not recover a key")
	ErrWrongSigner = errors.New("signature is by the wrong key")
)

var (
	secp256k1N     = crypto.S256().Params().N
	secp256k1HalfN = new(big.Int).Rsh(secp256k1N, 1)
)

// Key is an unlocked secp256k1 wallet key. Its String never shows the
// secret, so logging a Key by mistake leaks nothing.
type Key struct {
	priv *ecdsa.PrivateKey
	addr common.Address
}

// NewKey wraps an existing private key.
func NewKey(priv *ecdsa.PrivateKey) *Key {
	return &Key{priv: priv, addr: crypto.PubkeyToAddress(priv.PublicKey)}
}

// GenerateKey makes a fresh random key.
func GenerateKey() (*Key, error) {
	p, err := crypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("generating wallet key: %w", err)
	}
	return NewKey(p), nil
}

// Address is the key's Ethereum address.
func (k *Key) Address() common.Address { return k.addr }

// PrivateKey exposes the key for signing transactions (evm backend).
func (k *Key) PrivateKey() *ecdsa.PrivateKey { return k.priv }

// String names the key by its address only.
func (k *Key) String() string { return "wallet key " + k.addr.Hex() }

// LogValue keeps the secret out of structured logs.
func (k *Key) LogValue() slog.Value { return slog.StringValue(k.addr.Hex()) }

var _ slog.LogValuer = (*Key)(nil)

// sign signs a 32-byte digest and returns r ‖ s ‖ v with v in {27, 28}
// and s in the lower half of the curve order.
func (k *Key) sign(digest common.Hash) (Signature, error) {
	sig, err := crypto.Sign(digest[:], k.priv)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	// crypto.Sign already yields low-s; normalise anyway so that every
	// signature we emit passes our own and the contract's check.
	s := new(big.Int).SetBytes(sig[32:64])
	if s.Cmp(secp256k1HalfN) > 0 {
		s.Sub(secp256k1N, s)
		s.FillBytes(sig[32:64])
		sig[64] ^= 1
	}
	sig[64] += 27
	return sig, nil
}

// Recover returns the address that signed digest, refusing signatures
// of the wrong length, with a high s or with an unexpected v.
func Recover(digest common.Hash, sig Signature) (common.Address, error) {
	if len(sig) != 65 {
		return common.Address{}, fmt.Errorf("%w: got %d bytes (hint: r ‖ s ‖ v)", ErrSigLength, len(sig))
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:64])
	if s.Cmp(secp256k1HalfN) > 0 {
		return common.Address{}, fmt.Errorf("%w: s must be at most n/2 (EIP-2)", ErrSigHighS)
	}
	if r.Sign() == 0 || s.Sign() == 0 || r.Cmp(secp256k1N) >= 0 {
		return common.Address{}, ErrSigInvalid
	}
	v := sig[64]
	if v != 27 && v != 28 {
		return common.Address{}, fmt.Errorf("%w: got %d", ErrSigV, v)
	}
	var raw [65]byte
	copy(raw[:], sig)
	raw[64] = v - 27
	pub, err := crypto.SigToPub(digest[:], raw[:])
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", ErrSigInvalid, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// verifySig checks that want signed digest.
func verifySig(digest common.Hash, sig Signature, want common.Address, who string) error {
	got, err := Recover(digest, sig)
	if err != nil {
		return fmt.Errorf("%s signature: %w", who, err)
	}
	if got != want {
		return fmt.Errorf("%s signature: %w: signed by %s, want %s", who, ErrWrongSigner, got.Hex(), want.Hex())
	}
	return nil
}
