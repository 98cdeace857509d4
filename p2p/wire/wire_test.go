package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	in := Envelope{Type: 3, Version: 1, Payload: []byte("hello")}
	if err := WriteFrame(&buf, 64, in); err != nil {
		t.Fatal(err)
	}
	if err := WriteError(&buf, "not_found", "no such blob"); err != nil {
		t.Fatal(err)
	}
	out, err := ReadFrame(&buf, 64)
	if err != nil {
		t.Fatal(err)
	}
	if out.Type != 3 || out.Version != 1 || string(out.Payload) != "hello" {
		t.Fatalf("got %+v", out)
	}
	_, err = ReadFrame(&buf, 64)
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != "not_found" || !errors.Is(err, ErrRemote) {
		t.Fatalf("want remote error, got %v", err)
	}
	if _, err := ReadFrame(&buf, 64); err != io.EOF {
		t.Fatalf("want io.EOF at end, got %v", err)
	}
}

func TestRejects(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"too large", []byte{0x80, 0x01, 1, 1}, ErrFrameTooLarge},
		{"empty frame", []byte{0}, ErrMalformed},
		{"truncated body", []byte{5, 1, 1}, ErrMalformed},
		{"truncated length", []byte{0x80}, ErrMalformed},
		{"non-minimal length", []byte{0x83, 0x00, 1, 1, 0}, ErrMalformed},
		{"overlong length", bytes.Repeat([]byte{0xff}, 11), ErrMalformed},
		{"zero type", []byte{2, 0, 1}, ErrMalformed},
		{"zero version", []byte{2, 1, 0}, ErrMalformed},
		{"non-minimal type", []byte{3, 0x81, 0x00, 1}, ErrMalformed},
		{"bad error payload", []byte{3, 0x7f, 1, '{'}, ErrMalformed},
		{"error without code", append([]byte{4, 0x7f, 1}, "{}"...), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(c.in), 100)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if err.Error() == c.want.Error() {
				t.Fatalf("error %q carries no reason", err)
			}
		})
	}
}

func TestWriteRefusesOversize(t *testing.T) {
	err := WriteFrame(io.Discard, 8, Envelope{Type: 1, Version: 1, Payload: make([]byte, 8)})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("got %v", err)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{3, 1, 1, 'x'})
	f.Add([]byte{0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		const max = 256
		e, err := ReadFrame(bytes.NewReader(b), max)
		if err != nil {
			return
		}
		// A decoded frame re-encodes to a prefix of the input.
		var out bytes.Buffer
		if err := WriteFrame(&out, max, e); err != nil {
			t.Fatalf("re-encoding a decoded frame: %v", err)
		}
		if !bytes.HasPrefix(b, out.Bytes()) {
			t.Fatalf("re-encoding %x is not a prefix of %x", out.Bytes(), b)
		}
	})
}
