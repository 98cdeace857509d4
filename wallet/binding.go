package wallet

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// PeerBinding ties a node's libp2p identity to the address it is paid at.
// Both keys sign the same EIP-712 digest, so neither a stolen peer key nor
// a stolen wallet key alone can redirect payments.
//
// Encoding: PeerKey is the raw 32-byte ed25519 public key — the Data field
// of libp2p's crypto.PublicKey protobuf for KeyType Ed25519, so a libp2p
// peer ID converts without loss. PeerSig is the 64-byte ed25519 signature
// of the 32-byte digest; PayeeSig is a 65-byte secp256k1 signature r ‖ s ‖ v.
// The digest is EIP-712 with type
// PeerBinding(bytes32 peerKey,address payee,uint256 chainId,uint64 expires)
// under the domain {name "Spare", version "1", chainId, zero contract}.
type PeerBinding struct {
	PeerKey  ed25519.PublicKey `json:"peer_key"`
	Payee    common.Address    `json:"payee"`
	ChainID  uint64            `json:"chain_id"`
	Expires  uint64            `json:"expires"` // unix seconds
	PeerSig  []byte            `json:"peer_sig"`
	PayeeSig Signature         `json:"payee_sig"`
}

// Binding errors.
var (
	ErrBindingUnsigned = errors.New("peer binding is not signed by both keys")
	ErrBindingExpired  = errors.New("peer binding has expired")
	ErrBindingPayee    = errors.New("peer binding names another payee")
	ErrBindingChain    = errors.New("peer binding is for another chain")
	ErrBindingPeer     = errors.New("peer binding is for another peer")
)

// Digest is the EIP-712 digest both keys sign.
func (b *PeerBinding) Digest() (common.Hash, error) {
	if len(b.PeerKey) != ed25519.PublicKeySize {
		return common.Hash{}, fmt.Errorf("%w: peer_key is %d bytes, want %d", ErrBindingUnsigned, len(b.PeerKey), ed25519.PublicKeySize)
	}
	var buf [5 * 32]byte
	copy(buf[0:], peerBindingTypeHash[:])
	copy(buf[32:], b.PeerKey)
	copy(buf[64+12:], b.Payee[:])
	putUint(buf[96:], b.ChainID)
	putUint(buf[128:], b.Expires)
	return Domain{ChainID: b.ChainID}.digest(crypto.Keccak256Hash(buf[:])), nil
}

// NewPeerBinding binds peer to payee's address on chainID until expires,
// signed by both keys.
func NewPeerBinding(peer ed25519.PrivateKey, payee *Key, chainID uint64, expires time.Time) (PeerBinding, error) {
	b := PeerBinding{
		PeerKey: peer.Public().(ed25519.PublicKey),
		Payee:   payee.Address(),
		ChainID: chainID,
		Expires: uint64(expires.Unix()),
	}
	d, err := b.Digest()
	if err != nil {
		return PeerBinding{}, err
	}
	b.PeerSig = ed25519.Sign(peer, d[:])
	if b.PayeeSig, err = payee.sign(d); err != nil {
		return PeerBinding{}, err
	}
	return b, nil
}

// Verify checks both signatures, the chain, the peer (when peer is not
// nil), that the binding names wantPayee (the channel's payee) and that
// it has not expired at now.
func (b *PeerBinding) Verify(peer ed25519.PublicKey, wantPayee common.Address, chainID uint64, now time.Time) error {
	if len(b.PeerSig) == 0 || len(b.PayeeSig) == 0 {
		return fmt.Errorf("%w (peer_sig %d bytes, payee_sig %d bytes)", ErrBindingUnsigned, len(b.PeerSig), len(b.PayeeSig))
	}
	d, err := b.Digest()
	if err != nil {
		return err
	}
	if len(b.PeerSig) != ed25519.SignatureSize || !ed25519.Verify(b.PeerKey, d[:], b.PeerSig) {
		return fmt.Errorf("%w: peer_sig does not verify", ErrBindingUnsigned)
	}
	if err := verifySig(d, b.PayeeSig, b.Payee, "payee"); err != nil {
		return fmt.Errorf("%w: %w", ErrBindingUnsigned, err)
	}
	if b.ChainID != chainID {
		return fmt.Errorf("%w: chain %d, want %d", ErrBindingChain, b.ChainID, chainID)
	}
	if peer != nil && !peer.Equal(b.PeerKey) {
		return ErrBindingPeer
	}
	if b.Payee != wantPayee {
		return fmt.Errorf("%w: %s, channel pays %s", ErrBindingPayee, b.Payee.Hex(), wantPayee.Hex())
	}
	if uint64(now.Unix()) >= b.Expires {
		return fmt.Errorf("%w at %s (hint: the peer must sign a fresh one)", ErrBindingExpired, time.Unix(int64(b.Expires), 0).UTC().Format(time.RFC3339))
	}
	return nil
}
