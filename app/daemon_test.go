package app

import "testing"

func TestLastLine(t *testing.T) {
	var l lastLine
	for _, w := range []string{"time=1 level=INFO msg=up\n", "spare: conta", "inerd unavailable\n", "\n  \n"} {
		if _, err := l.Write([]byte(w)); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.String(); got != "spare: containerd unavailable" {
		t.Fatalf("last line %q", got)
	}
	l.Write([]byte("no newline yet"))
	if got := l.String(); got != "no newline yet" {
		t.Fatalf("unfinished line %q", got)
	}
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'x'
	}
	l.Write(append(long, '\n'))
	if got := l.String(); len(got) > 1024 {
		t.Fatalf("kept %d bytes", len(got))
	}
}
