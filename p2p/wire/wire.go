// Package wire is the framing shared by Spare's stream protocols.
//
// # Frames
//
// Every message on a Spare stream is one frame:
//
//	frame    = length body
//	length   = uvarint                 ; byte length of body, 1 ≤ length ≤ the reader's cap
//	body     = type version payload
//	type     = uvarint                 ; message type, defined per protocol (0 is invalid)
//	version  = uvarint                 ; version of that message's payload (0 is invalid)
//	payload  = *OCTET                  ; the rest of body, meaning given by (type, version)
//
// Uvarints are the unsigned LEB128 varints of encoding/binary, at most
// [binary.MaxVarintLen64] bytes, and must be minimally encoded. A reader refuses a
// frame whose length exceeds the cap it was given before reading the body, so
// a peer can never make it allocate more than that cap.
//
// Type [TypeError] is reserved in every protocol: its payload is a JSON object
// {"code": "...", "reason": "..."} carrying a machine-readable code and a
// human reason; a peer that refuses a request sends one and closes the stream.
//
// Streams carry a deadline ([StreamDeadline] unless a protocol says otherwise);
// a handler resets the stream on any error and closes it on success.
package wire

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limits shared by all protocols. A protocol may use a smaller cap.
const (
	// MaxFrameSize is the largest body any Spare frame may have.
	MaxFrameSize = 1 << 20
	// MaxErrorReason is the longest reason an error frame may carry.
	MaxErrorReason = 512
	// MaxErrorCode is the longest code an error frame may carry.
	MaxErrorCode = 64
)

// TypeError is the message type reserved for refusals in every protocol.
const TypeError uint64 = 0x7f

// Sentinel errors; match with errors.Is.
var (
	// ErrFrameTooLarge: the frame's length is above the reader's cap.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrMalformed: the bytes do not form a valid frame or payload.
	ErrMalformed = errors.New("malformed frame")
	// ErrRemote: the peer sent an error frame; see *RemoteError.
	ErrRemote = errors.New("refused by peer")
)

// Envelope is the decoded body of one frame.
type Envelope struct {
	Type    uint64
	Version uint64
	Payload []byte
}

// RemoteError is a refusal received in an error frame.
type RemoteError struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

func (e *RemoteError) Error() string { return fmt.Sprintf("refused by peer: %s: %s", e.Code, e.Reason) }

// Unwrap lets errors.Is(err, ErrRemote) match.
func (e *RemoteError) Unwrap() error { return ErrRemote }

// WriteFrame writes one frame. It refuses to write a body larger than max.
func WriteFrame(w io.Writer, max int, e Envelope) error {
	if e.Type == 0 || e.Version == 0 {
		return fmt.Errorf("writing frame: %w: type and version must be non-zero", ErrMalformed)
	}
	var hdr [2 * binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], e.Type)
	n += binary.PutUvarint(hdr[n:], e.Version)
	size := n + len(e.Payload)
	if size > max {
		return fmt.Errorf("writing frame: %w: %d bytes, cap %d", ErrFrameTooLarge, size, max)
	}
	buf := make([]byte, 0, binary.MaxVarintLen64+size)
	buf = binary.AppendUvarint(buf, uint64(size))
	buf = append(buf, hdr[:n]...)
	buf = append(buf, e.Payload...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("writing frame: %w", err)
	}
	return nil
}

// ReadFrame reads one frame whose body is at most max bytes. An error frame
// is returned as a *RemoteError (errors.Is(err, ErrRemote)). At a clean end
// of stream before any byte it returns io.EOF.
func ReadFrame(r io.Reader, max int) (Envelope, error) {
	size, err := readUvarint(r)
	if err != nil {
		return Envelope{}, err
	}
	if size == 0 {
		return Envelope{}, fmt.Errorf("%w: empty frame", ErrMalformed)
	}
	if size > uint64(max) {
		return Envelope{}, fmt.Errorf("%w: %d bytes, cap %d", ErrFrameTooLarge, size, max)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return Envelope{}, fmt.Errorf("%w: truncated body: %w", ErrMalformed, err)
	}
	e, err := decodeBody(body)
	if err != nil {
		return Envelope{}, err
	}
	if e.Type == TypeError {
		return Envelope{}, decodeRemoteError(e.Payload)
	}
	return e, nil
}

// WriteError sends a refusal with a code and a human reason (truncated to
// the limits above).
func WriteError(w io.Writer, code, reason string) error {
	if len(code) > MaxErrorCode {
		code = code[:MaxErrorCode]
	}
	if len(reason) > MaxErrorReason {
		reason = reason[:MaxErrorReason]
	}
	p, err := json.Marshal(RemoteError{Code: code, Reason: reason})
	if err != nil {
		return err
	}
	return WriteFrame(w, MaxFrameSize, Envelope{Type: TypeError, Version: 1, Payload: p})
}

// Expect checks that e has the wanted type and version.
func Expect(e Envelope, typ, version uint64) error {
	if e.Type != typ {
		return fmt.Errorf("%w: message type %d, want %d", ErrMalformed, e.Type, typ)
	}
	if e.Version != version {
		return fmt.Errorf("%w: message type %d version %d, want %d", ErrMalformed, e.Type, e.Version, version)
	}
	return nil
}

func decodeBody(body []byte) (Envelope, error) {
	typ, n := binary.Uvarint(body)
	if n <= 0 || !minimal(typ, n) {
		return Envelope{}, fmt.Errorf("%w: bad type varint", ErrMalformed)
	}
	ver, m := binary.Uvarint(body[n:])
	if m <= 0 || !minimal(ver, m) {
		return Envelope{}, fmt.Errorf("%w: bad version varint", ErrMalformed)
	}
	if typ == 0 || ver == 0 {
		return Envelope{}, fmt.Errorf("%w: zero type or version", ErrMalformed)
	}
	return Envelope{Type: typ, Version: ver, Payload: body[n+m:]}, nil
}

func decodeRemoteError(p []byte) error {
	var re RemoteError
	if err := json.Unmarshal(p, &re); err != nil {
		return fmt.Errorf("%w: error frame: %w", ErrMalformed, err)
	}
	if re.Code == "" || len(re.Code) > MaxErrorCode || len(re.Reason) > MaxErrorReason ||
		!utf8.ValidString(re.Code) || !utf8.ValidString(re.Reason) {
		return fmt.Errorf("%w: error frame fields out of bounds", ErrMalformed)
	}
	return &re
}

// readUvarint reads a minimally encoded uvarint one byte at a time, so it
// never reads past the length prefix. io.EOF before the first byte is
// returned as is.
func readUvarint(r io.Reader) (uint64, error) {
	var b [1]byte
	var x uint64
	var s uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			if i == 0 && errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, fmt.Errorf("%w: truncated length: %w", ErrMalformed, err)
		}
		c := b[0]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, fmt.Errorf("%w: length overflows", ErrMalformed)
			}
			if i > 0 && c == 0 {
				return 0, fmt.Errorf("%w: length not minimally encoded", ErrMalformed)
			}
			return x | uint64(c)<<s, nil
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, fmt.Errorf("%w: length overflows", ErrMalformed)
}

func minimal(v uint64, n int) bool {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], v) == n
}
