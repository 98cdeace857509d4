// Package termtext makes text from others safe to print on a terminal:
// control characters become visible escapes, and a Writer marks each line
// as someone else's.
//
// What Append keeps: printable UTF-8, '\n' and '\t'. What it escapes: the
// other C0 controls and DEL as \xNN (ESC is \x1b, CR is \x0d), the C1
// controls U+0080–U+009F and the bidirectional overrides and isolates
// (U+202A–U+202E, U+2066–U+2069) as \uNNNN, and each byte of invalid UTF-8
// as \xNN. A backslash is left alone: the escapes are for reading, not for
// undoing.
package termtext

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// Append appends b to dst, escaped for a terminal.
func Append(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1:
			dst = fmt.Appendf(dst, `\x%02x`, b[0])
		case r == '\n' || r == '\t':
			dst = append(dst, byte(r))
		case r < 0x20 || r == 0x7f:
			dst = fmt.Appendf(dst, `\x%02x`, r)
		case unsafeRune(r):
			dst = fmt.Appendf(dst, `\u%04x`, r)
		default:
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// String is Append for a string.
func String(s string) string { return string(Append(nil, []byte(s))) }

// unsafeRune: C1 controls, and the bidi controls that reorder what
// follows them on the line.
func unsafeRune(r rune) bool {
	return r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// Writer escapes what is written to it (Append) and starts every line
// with Prefix, so that text from others (a provider's job logs) cannot
// move the cursor, write the clipboard, or pass for the program's own
// lines. A multi-byte character split between writes is joined; Flush
// writes what is held back and ends an unfinished line, so that the next
// line printed by someone else starts on a line of its own.
type Writer struct {
	W      io.Writer
	Prefix string

	midLine bool
	held    []byte // the start of a character the next write completes
	buf     []byte
}

var _ io.Writer = (*Writer)(nil)

// Write escapes b and writes it; it reports len(b) when all was written.
func (w *Writer) Write(b []byte) (int, error) {
	n := len(b)
	if len(w.held) > 0 {
		b = append(w.held, b...)
		w.held = nil
	}
	// Hold back an incomplete character at the end (at most 3 bytes).
	if k := incompleteTail(b); k > 0 {
		w.held = append([]byte(nil), b[len(b)-k:]...)
		b = b[:len(b)-k]
	}
	return n, w.emit(b)
}

// Flush writes a held-back partial character, escaped, and ends an
// unfinished line.
func (w *Writer) Flush() error {
	b := w.held
	w.held = nil
	if err := w.emit(b); err != nil {
		return err
	}
	if !w.midLine {
		return nil
	}
	w.midLine = false
	_, err := io.WriteString(w.W, "\n")
	return err
}

func (w *Writer) emit(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	out := w.buf[:0]
	for len(b) > 0 {
		if !w.midLine {
			out = append(out, w.Prefix...)
			w.midLine = true
		}
		line := b
		for i, c := range b {
			if c == '\n' {
				line = b[:i+1]
				w.midLine = false
				break
			}
		}
		out = Append(out, line)
		b = b[len(line):]
	}
	w.buf = out
	_, err := w.W.Write(out)
	return err
}

// incompleteTail is how many bytes at the end of b start a UTF-8
// character that is not complete yet (0 when none).
func incompleteTail(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return 0
		}
		if c >= 0xc0 { // a leading byte: complete or not?
			if utf8.FullRune(b[len(b)-k:]) {
				return 0
			}
			return k
		}
	}
	return 0
}
