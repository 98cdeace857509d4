package wallet

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func TestPeerBinding(t *testing.T) {
	_, peer, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPeer, _ := ed25519.GenerateKey(rand.Reader)
	payee, _ := GenerateKey()
	now := time.Unix(1_800_000_000, 0)
	b, err := NewPeerBinding(peer, payee, 8453, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pub := peer.Public().(ed25519.PublicKey)
	if err := b.Verify(pub, payee.Address(), 8453, now); err != nil {
		t.Fatalf("valid binding refused: %v", err)
	}
	cases := []struct {
		name  string
		b     func() PeerBinding
		payee common.Address
		chain uint64
		now   time.Time
		want  error
	}{
		{"signed by peer key only", func() PeerBinding { c := b; c.PayeeSig = nil; return c }, payee.Address(), 8453, now, ErrBindingUnsigned},
		{"signed by payee key only", func() PeerBinding { c := b; c.PeerSig = nil; return c }, payee.Address(), 8453, now, ErrBindingUnsigned},
		{"peer signature forged", func() PeerBinding {
			c := b
			c.PeerSig = append([]byte(nil), b.PeerSig...)
			c.PeerSig[0] ^= 1
			return c
		}, payee.Address(), 8453, now, ErrBindingUnsigned},
		{"payee swapped after signing", func() PeerBinding { c := b; c.Payee = common.Address{1}; return c }, common.Address{1}, 8453, now, ErrBindingUnsigned},
		{"expired", func() PeerBinding { return b }, payee.Address(), 8453, now.Add(25 * time.Hour), ErrBindingExpired},
		{"payee differs from channel", func() PeerBinding { return b }, common.Address{2}, 8453, now, ErrBindingPayee},
		{"other chain", func() PeerBinding { return b }, payee.Address(), 1, now, ErrBindingChain},
		{"other peer's binding", func() PeerBinding {
			c, _ := NewPeerBinding(otherPeer, payee, 8453, now.Add(time.Hour))
			return c
		}, payee.Address(), 8453, now, ErrBindingPeer},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bb := c.b()
			if err := bb.Verify(pub, c.payee, c.chain, c.now); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}
