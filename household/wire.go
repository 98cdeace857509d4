package household

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/sparegpu/spare/localapi"
)

// ProtocolID is the household protocol.
const ProtocolID = "/spare/household/1"

// Limits at the edge.
const (
	// MaxMessage bounds one request or answer.
	MaxMessage = 4 << 10
	// StreamTimeout bounds one exchange.
	StreamTimeout = 10 * time.Second
	// maxName, maxSentence bound what a machine says of itself.
	maxName     = 64
	maxSentence = 512
	// maxPauseSeconds bounds a remote pause (30 days).
	maxPauseSeconds = 30 * 24 * 3600
)

// Request types.
const (
	typeHello   = "hello"
	typeStatus  = "status"
	typeCommand = "command"
	typePair    = "pair"
)

// request is what a machine asks another.
type request struct {
	Type    string   `json:"type"`
	Hello   *hello   `json:"hello,omitempty"`
	Command *command `json:"command,omitempty"`
	Pair    *pairMsg `json:"pair,omitempty"`
}

// hello proves the sender holds the wallet key of Payee: Sig signs
// helloDigest(sender, receiver, TS) with it.
type hello struct {
	Payee string `json:"payee"`
	TS    int64  `json:"ts"` // unix milliseconds
	Sig   string `json:"sig"`
}

// command is a signed pause or resume: Sig is the sender's peer key's
// signature over commandBytes(sender, receiver, …).
type command struct {
	Op         string `json:"op"`
	ForSeconds int64  `json:"for_seconds,omitempty"`
	Nonce      string `json:"nonce"`
	TS         int64  `json:"ts"` // unix milliseconds
	Sig        string `json:"sig"`
}

// pairMsg proves the sender was told the receiver's pairing code: MAC is
// HMAC-SHA256 under the code of pairBytes(sender, receiver).
type pairMsg struct {
	MAC  string `json:"mac"`
	Name string `json:"name"`
}

// answer is the reply to any request.
type answer struct {
	// Error says why the request was refused ("" when done).
	Error   string   `json:"error,omitempty"`
	Hello   *hello   `json:"hello,omitempty"`
	Machine *machine `json:"machine,omitempty"`
}

// machine is what a machine says of itself.
type machine struct {
	Name        string `json:"name"`
	State       string `json:"state"`
	Sentence    string `json:"sentence"`
	EarnedToday int64  `json:"earned_today"`
}

var (
	hexRE    = regexp.MustCompile(`^[0-9a-f]*$`)
	payeeRE  = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	nonceRE  = regexp.MustCompile(`^[0-9a-f]{32}$`)
	stateRE  = regexp.MustCompile(`^[A-Z][a-z]{1,15}$`)
	errEmpty = errors.New("empty")
)

// validate checks a request at the edge; errors name the field.
func (r *request) validate() error {
	set := 0
	for _, p := range []bool{r.Hello != nil, r.Command != nil, r.Pair != nil} {
		if p {
			set++
		}
	}
	if set > 1 {
		return errors.New("request: carry one of hello, command, pair")
	}
	switch r.Type {
	case typeHello:
		if r.Hello == nil {
			return errors.New("hello: missing")
		}
		return r.Hello.validate()
	case typeStatus:
		if set != 0 {
			return errors.New("status: carries nothing")
		}
		return nil
	case typeCommand:
		if r.Command == nil {
			return errors.New("command: missing")
		}
		return r.Command.validate()
	case typePair:
		if r.Pair == nil {
			return errors.New("pair: missing")
		}
		return r.Pair.validate()
	}
	return fmt.Errorf("type: %q is not one of hello, status, command, pair", clip(r.Type))
}

func (h *hello) validate() error {
	switch {
	case !payeeRE.MatchString(h.Payee):
		return errors.New("hello.payee: want 0x and 40 hex digits")
	case h.TS <= 0:
		return errors.New("hello.ts: want unix milliseconds")
	case len(h.Sig) != 130 || !hexRE.MatchString(h.Sig):
		return errors.New("hello.sig: want 65 bytes in lower-case hex")
	}
	return nil
}

func (c *command) validate() error {
	switch {
	case c.Op != localapi.HouseholdPause && c.Op != localapi.HouseholdResume:
		return fmt.Errorf("command.op: %q is not pause or resume", clip(c.Op))
	case c.ForSeconds < 0 || c.ForSeconds > maxPauseSeconds || (c.Op == localapi.HouseholdResume && c.ForSeconds != 0):
		return fmt.Errorf("command.for_seconds: want 0 (until resumed) to %d, and 0 for resume", maxPauseSeconds)
	case !nonceRE.MatchString(c.Nonce):
		return errors.New("command.nonce: want 16 bytes in lower-case hex")
	case c.TS <= 0:
		return errors.New("command.ts: want unix milliseconds")
	case len(c.Sig) == 0 || len(c.Sig) > 2*256 || !hexRE.MatchString(c.Sig):
		return errors.New("command.sig: want at most 256 bytes in lower-case hex")
	}
	return nil
}

func (p *pairMsg) validate() error {
	if len(p.MAC) != 64 || !hexRE.MatchString(p.MAC) {
		return errors.New("pair.mac: want 32 bytes in lower-case hex")
	}
	return checkName("pair.name", p.Name)
}

func (m *machine) validate() error {
	if err := checkName("machine.name", m.Name); err != nil {
		return err
	}
	switch {
	case !stateRE.MatchString(m.State):
		return fmt.Errorf("machine.state: %q is not a state word", clip(m.State))
	case len(m.Sentence) > maxSentence || !printable(m.Sentence):
		return fmt.Errorf("machine.sentence: want at most %d printable bytes", maxSentence)
	case m.EarnedToday < 0:
		return errors.New("machine.earned_today: negative")
	}
	return nil
}

func checkName(field, s string) error {
	if s == "" || len(s) > maxName || !printable(s) {
		return fmt.Errorf("%s: want 1 to %d printable bytes", field, maxName)
	}
	return nil
}

// printable refuses control characters (terminal escapes, newlines) and
// invalid UTF-8.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// readJSON reads one message of at most MaxMessage bytes into v,
// refusing unknown fields and trailing data.
func readJSON(s io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(s, MaxMessage+1))
	if err != nil {
		return err
	}
	if len(b) > MaxMessage {
		return fmt.Errorf("message over %d bytes", MaxMessage)
	}
	if len(b) == 0 {
		return errEmpty
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("message: %w", err)
	}
	if dec.More() {
		return errors.New("message: trailing data")
	}
	return nil
}

// writeJSON writes v and closes the write side.
func writeJSON(s network.Stream, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := s.Write(b); err != nil {
		return err
	}
	return s.CloseWrite()
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }
