package termtext

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppend(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "loss 0.25\n", "loss 0.25\n"},
		{"tab", "a\tb", "a\tb"},
		{"unicode", "héllo │ 日本", "héllo │ 日本"},
		{"CSI", "\x1b[2J\x1b[1;1H", `\x1b[2J\x1b[1;1H`},
		{"OSC 52 clipboard", "\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07", `\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07`},
		{"carriage return", "progress\rspare: done\n", `progress\x0dspare: done` + "\n"},
		{"backspace and bell", "a\bb\a", `a\x08b\x07`},
		{"DEL", "a\x7f", `a\x7f`},
		{"C1 as a character", "a\u009b31mred", `a\u009b31mred`},
		{"C1 as a raw byte", "a\x9b31m", `a\x9b31m`},
		{"invalid UTF-8", "a\xff\xfeb", `a\xff\xfeb`},
		{"bidi override", "abc\u202edcba", `abc\u202edcba`},
		{"NUL", "a\x00b", `a\x00b`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := String(tc.in); got != tc.want {
				t.Fatalf("String(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestWriterMarksLines(t *testing.T) {
	var out bytes.Buffer
	w := &Writer{W: &out, Prefix: "│ "}
	// Chunks split mid-line and mid-character, as a stream delivers them.
	for _, c := range []string{"epoch 1\nepo", "ch 2\n\nspare: job done, exit 0\n", "caf\xc3", "\xa9 \x1b]52;c;eA==\x07\n", "tail\xe6\x97"} {
		if _, err := w.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "│ epoch 1\n│ epoch 2\n│ \n│ spare: job done, exit 0\n│ café \\x1b]52;c;eA==\\x07\n│ tail\\xe6\\x97\n"
	if out.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", out.String(), want)
	}
}

// FuzzAppend: whatever goes in, what comes out holds no control byte but
// '\n' and '\t', no C1 control, and is valid UTF-8; and the Writer, fed
// the same bytes in two chunks, starts every line with its prefix.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "hello\n", "\x1b[31m", "\x1b]52;c;AAAA\x07", "\r\n", "\xc2\x9b", "\xe2\x80\xae", "\xff", "日本\n語"} {
		f.Add([]byte(s), 1)
	}
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		check := func(out []byte) {
			if !utf8.Valid(out) {
				t.Fatalf("invalid UTF-8 out of %q: %q", b, out)
			}
			for _, r := range string(out) {
				if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f {
					t.Fatalf("control %U out of %q: %q", r, b, out)
				}
			}
		}
		check(Append(nil, b))
		var out bytes.Buffer
		w := &Writer{W: &out, Prefix: "> "}
		if split < 0 {
			split = -split
		}
		split %= len(b) + 1
		w.Write(b[:split])
		w.Write(b[split:])
		w.Flush()
		check(out.Bytes())
		for _, line := range strings.SplitAfter(out.String(), "\n") {
			if line != "" && !strings.HasPrefix(line, "> ") {
				t.Fatalf("line %q of %q has no prefix", line, out.String())
			}
		}
	})
}
