// Package wslconfig merges the owner's limits for Spare's jobs into the
// Windows user's %USERPROFILE%\.wslconfig, the file WSL 2 reads for the
// memory and processors of its virtual machine.
//
// The file is the user's, shared by all their WSL distributions, and
// may hold settings and comments of their own: Merge changes the two
// values Spare owns and nothing else. The app writes the result only
// with the owner's consent, after showing Notice.
package wslconfig

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits are what WSL 2's virtual machine may take, from the owner's
// settings: the machine's memory and cores less what Spare keeps back.
type Limits struct {
	MemoryMB   int64 // [wsl2] memory, in whole megabytes
	Processors int   // [wsl2] processors
}

// Valid reports what is wrong with l, naming the field.
func (l Limits) Valid() error {
	if l.MemoryMB < 1024 {
		return fmt.Errorf("memory limit %d MB: WSL 2 needs at least 1024 MB; keep back less memory in Spare's settings", l.MemoryMB)
	}
	if l.Processors < 1 {
		return fmt.Errorf("processor limit %d: at least 1; keep back fewer cores in Spare's settings", l.Processors)
	}
	return nil
}

// marker is the comment Merge puts above the lines it adds.
const marker = "# Set by Spare: what its jobs may use (change it in Spare's settings)."

// Merge returns the .wslconfig text old (empty: none yet) with memory
// and processors under [wsl2] set to l. Every other line stays as it
// was, comments and unknown keys included; an existing memory or
// processors line is changed in place, with the user's earlier value
// kept in a comment above it the first time; missing keys are added at
// the end of [wsl2], which is added at the end of the file when there
// is none. Line endings follow the file's (CRLF as Notepad writes them,
// or LF), and a UTF-8 byte-order mark is kept. Text WSL would not read
// (UTF-16, or not UTF-8) is refused.
func Merge(old []byte, l Limits) ([]byte, error) {
	if err := l.Valid(); err != nil {
		return nil, err
	}
	bom := []byte{0xEF, 0xBB, 0xBF}
	hasBOM := bytes.HasPrefix(old, bom)
	text := old
	if hasBOM {
		text = text[len(bom):]
	}
	if bytes.IndexByte(text, 0) >= 0 || !utf8.Valid(text) {
		return nil, errors.New(".wslconfig is not UTF-8 text (saved as UTF-16?): save it as UTF-8 in Notepad, then try again")
	}
	eol := "\n"
	if bytes.Contains(text, []byte("\r\n")) {
		eol = "\r\n"
	}
	lines := strings.Split(strings.ReplaceAll(string(text), "\r\n", "\n"), "\n")
	trailing := len(lines) > 0 && lines[len(lines)-1] == ""
	if trailing {
		lines = lines[:len(lines)-1]
	}
	want := map[string]string{"memory": fmt.Sprintf("%dMB", l.MemoryMB), "processors": fmt.Sprint(l.Processors)}
	order := []string{"memory", "processors"}

	var out []string
	section, inWSL2, sawWSL2 := "", false, false
	set := map[string]bool{}
	lastKey := -1 // index in out of the last key line of [wsl2]
	for _, line := range lines {
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "[") && strings.HasSuffix(trim, "]") {
			section = strings.ToLower(strings.TrimSpace(trim[1 : len(trim)-1]))
			inWSL2 = section == "wsl2"
			sawWSL2 = sawWSL2 || inWSL2
			out = append(out, line)
			if inWSL2 {
				lastKey = len(out) - 1
			}
			continue
		}
		if !inWSL2 || trim == "" || strings.HasPrefix(trim, "#") || strings.HasPrefix(trim, ";") {
			out = append(out, line)
			continue
		}
		k, v, ok := strings.Cut(trim, "=")
		key := strings.ToLower(strings.TrimSpace(k))
		if !ok || want[key] == "" {
			out = append(out, line)
			lastKey = len(out) - 1
			continue
		}
		v = strings.TrimSpace(v)
		if v != want[key] && !spareWrote(out) {
			out = append(out, fmt.Sprintf("# %s=%s (yours before Spare changed it)", strings.TrimSpace(k), v))
		}
		out = append(out, strings.TrimSpace(k)+"="+want[key])
		set[key] = true
		lastKey = len(out) - 1
	}
	var add []string
	for _, k := range order {
		if !set[k] {
			add = append(add, k+"="+want[k])
		}
	}
	if len(add) > 0 {
		add = append([]string{marker}, add...)
		if !sawWSL2 {
			if len(out) > 0 && strings.TrimSpace(out[len(out)-1]) != "" {
				out = append(out, "")
			}
			out = append(out, "[wsl2]")
			lastKey = len(out) - 1
		}
		out = append(out[:lastKey+1], append(add, out[lastKey+1:]...)...)
	}
	res := strings.Join(out, eol) + eol
	if hasBOM {
		res = string(bom) + res
	}
	return []byte(res), nil
}

// spareWrote reports whether the key line about to be changed sits in
// lines Spare wrote (below its marker or an earlier-value comment, with
// only its own keys between): the user's earlier value is recorded once.
func spareWrote(out []string) bool {
	for i := len(out) - 1; i >= 0; i-- {
		l := strings.TrimSpace(out[i])
		switch k, _, _ := strings.Cut(l, "="); {
		case l == marker || strings.HasSuffix(l, "(yours before Spare changed it)"):
			return true
		case strings.EqualFold(strings.TrimSpace(k), "memory") || strings.EqualFold(strings.TrimSpace(k), "processors"):
			continue
		default:
			return false
		}
	}
	return false
}

// Notice is the sentence the app shows before it asks to write the
// limits: what Spare changes, where, why, and for whom.
func Notice(l Limits) string {
	return fmt.Sprintf("Spare runs its jobs in WSL 2. To keep them within what you allow (%.1f GB of memory, %d processor%s), "+
		"it sets memory and processors under [wsl2] in .wslconfig in your user folder. These limits apply to all your "+
		"WSL distributions, not only Spare's; the rest of the file stays as it is, and your earlier values are kept in a "+
		"comment. WSL applies them when it next starts.",
		float64(l.MemoryMB)/1024, l.Processors, plural(l.Processors))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
