package household

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/wallet"
)

// clockSkew is how far a hello's or a command's time may be from ours.
const clockSkew = 2 * time.Minute

// helloDigest is what a hello's wallet signature covers: who says it to
// whom, and when (a hello shown to one machine proves nothing to another).
func helloDigest(from, to peer.ID, ts int64) common.Hash {
	return crypto.Keccak256Hash([]byte(ProtocolID + " hello\n" + from.String() + "\n" + to.String() + "\n" + strconv.FormatInt(ts, 10)))
}

// signHello proves to `to` that `from` holds key.
func signHello(key *wallet.Key, from, to peer.ID, now time.Time) (*hello, error) {
	ts := now.UnixMilli()
	d := helloDigest(from, to, ts)
	sig, err := crypto.Sign(d[:], key.PrivateKey())
	if err != nil {
		return nil, fmt.Errorf("signing the hello: %w", err)
	}
	sig[64] += 27 // r ‖ s ‖ v, v 27 or 28 as wallet.Recover reads it
	return &hello{Payee: key.Address().Hex(), TS: ts, Sig: hexOf(sig)}, nil
}

// checkHello says whether h, from `from` to `to`, proves its payee key
// within clockSkew of now; it returns the payee.
func checkHello(h *hello, from, to peer.ID, now time.Time) (common.Address, error) {
	if err := h.validate(); err != nil {
		return common.Address{}, err
	}
	if d := now.Sub(time.UnixMilli(h.TS)); d > clockSkew || d < -clockSkew {
		return common.Address{}, fmt.Errorf("hello.ts: %s from this machine's clock (at most %s)", d.Round(time.Second), clockSkew)
	}
	sig, _ := hex.DecodeString(h.Sig)
	got, err := wallet.Recover(helloDigest(from, to, h.TS), sig)
	if err != nil {
		return common.Address{}, fmt.Errorf("hello.sig: %w", err)
	}
	if got != common.HexToAddress(h.Payee) {
		return common.Address{}, fmt.Errorf("hello.sig: signed by %s, not the payee %s", got.Hex(), h.Payee)
	}
	return got, nil
}

// commandBytes is what a command's signature covers.
func commandBytes(from, to peer.ID, c *command) []byte {
	return []byte(strings.Join([]string{ProtocolID + " command", from.String(), to.String(), c.Op,
		strconv.FormatInt(c.ForSeconds, 10), c.Nonce, strconv.FormatInt(c.TS, 10)}, "\n"))
}

// signCommand signs c as from, for to.
func signCommand(key lcrypto.PrivKey, from, to peer.ID, c *command) error {
	sig, err := key.Sign(commandBytes(from, to, c))
	if err != nil {
		return fmt.Errorf("signing the command: %w", err)
	}
	c.Sig = hexOf(sig)
	return nil
}

// checkCommand verifies c's signature by from's own key (the peer ID
// names it) and its time; replays are the caller's (nonces).
func checkCommand(c *command, from, to peer.ID, now time.Time) error {
	if err := c.validate(); err != nil {
		return err
	}
	if d := now.Sub(time.UnixMilli(c.TS)); d > clockSkew || d < -clockSkew {
		return fmt.Errorf("command.ts: %s from this machine's clock (at most %s): send a new command", d.Round(time.Second), clockSkew)
	}
	pub, err := from.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("command: the sender's key: %w", err)
	}
	sig, _ := hex.DecodeString(c.Sig)
	if ok, err := pub.Verify(commandBytes(from, to, c), sig); err != nil || !ok {
		return fmt.Errorf("command.sig: not the sender's signature for this machine")
	}
	return nil
}

// pairBytes is what a pairing MAC covers.
func pairBytes(from, to peer.ID) []byte {
	return []byte(ProtocolID + " pair\n" + from.String() + "\n" + to.String())
}

// pairMAC is the MAC of a pairing from `from` to `to` under code.
func pairMAC(code string, from, to peer.ID) string {
	m := hmac.New(sha256.New, []byte(normalCode(code)))
	m.Write(pairBytes(from, to))
	return hexOf(m.Sum(nil))
}

// normalCode is a code as typed, without spaces or dashes, upper case.
func normalCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, code)
}
