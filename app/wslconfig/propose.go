package wslconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Host is the PC's memory and logical processors, as Windows reports them.
type Host struct {
	MemoryMB   int64
	Processors int
}

// Choice is the owner's setting for WSL 2's virtual machine: how much of
// the PC its jobs may use. Zero fields take the default: all the
// memory but a quarter (at least 4 GB kept back), all processors but
// two (one on a PC with four or fewer).
type Choice struct {
	MemoryGB   int `json:"memory_gb,omitempty"`
	Processors int `json:"processors,omitempty"`
}

// LimitsFor turns the owner's choice into the limits for this PC. A
// choice above what the PC has is refused, naming the field.
func LimitsFor(h Host, c Choice) (Limits, error) {
	if h.MemoryMB <= 0 || h.Processors <= 0 {
		return Limits{}, fmt.Errorf("the PC's memory (%d MB) or processors (%d) could not be read", h.MemoryMB, h.Processors)
	}
	l := Limits{MemoryMB: int64(c.MemoryGB) * 1024, Processors: c.Processors}
	if c.MemoryGB == 0 {
		keep := max(h.MemoryMB/4, 4096)
		l.MemoryMB = (h.MemoryMB - keep) / 1024 * 1024 // whole GB
	}
	if c.Processors == 0 {
		keep := 2
		if h.Processors <= 4 {
			keep = 1
		}
		l.Processors = max(h.Processors-keep, 1)
	}
	if c.MemoryGB < 0 || l.MemoryMB > h.MemoryMB {
		return Limits{}, fmt.Errorf("memory for jobs %d GB: this PC has %.1f GB; choose less", c.MemoryGB, float64(h.MemoryMB)/1024)
	}
	if c.Processors < 0 || l.Processors > h.Processors {
		return Limits{}, fmt.Errorf("processors for jobs %d: this PC has %d; choose fewer", c.Processors, h.Processors)
	}
	return l, l.Valid()
}

// Proposal is what Spare would write to the user's .wslconfig: the file
// as it is (Old; Exists false when there is none) and as it would be.
type Proposal struct {
	Path   string
	Limits Limits
	Exists bool
	Old    []byte
	New    []byte
}

// Propose reads the .wslconfig at path and merges l into it. Nothing is
// written.
func Propose(path string, l Limits) (Proposal, error) {
	p := Proposal{Path: path, Limits: l}
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return p, fmt.Errorf("reading %s: %w", path, err)
	default:
		p.Exists, p.Old = true, old
	}
	if p.New, err = Merge(p.Old, l); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Changed reports whether writing would change the file.
func (p Proposal) Changed() bool { return !p.Exists || !bytes.Equal(p.Old, p.New) }

// Changes lists, for the owner to read, the lines the write removes
// ("- " before them) and adds ("+ "), in the new file's order.
func (p Proposal) Changes() []string {
	count := func(b []byte) (lines []string, n map[string]int) {
		n = map[string]int{}
		for _, l := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
			if strings.TrimSpace(l) == "" {
				continue
			}
			l = strings.TrimPrefix(l, "\uFEFF")
			lines = append(lines, l)
			n[l]++
		}
		return lines, n
	}
	oldLines, oldN := count(p.Old)
	newLines, newN := count(p.New)
	var out []string
	for _, l := range oldLines {
		if newN[l] > 0 {
			newN[l]--
			continue
		}
		out = append(out, "- "+l)
	}
	for _, l := range newLines {
		if oldN[l] > 0 {
			oldN[l]--
			continue
		}
		out = append(out, "+ "+l)
	}
	return out
}

// BackupSuffix names the copy of the file as it was before Spare last
// wrote it, beside it.
const BackupSuffix = ".spare-backup"

// Write writes p.New to p.Path, first keeping the file as it was in
// p.Path+BackupSuffix (no backup when there was no file). Both writes go
// through a temporary file renamed into place, so a crash leaves the old
// file or the new, never half of one. A file that changed since p was
// read is not overwritten: look again and ask anew. It returns the
// backup's path ("" when none was needed).
func Write(p Proposal) (backup string, err error) {
	now, err := os.ReadFile(p.Path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading %s: %w", p.Path, err)
	}
	if exists != p.Exists || !bytes.Equal(now, p.Old) {
		return "", fmt.Errorf("%s changed since Spare read it: nothing was written; look at the changes again", p.Path)
	}
	if exists {
		backup = p.Path + BackupSuffix
		if err := writeAtomic(backup, p.Old); err != nil {
			return "", fmt.Errorf("keeping a backup of %s: %w; nothing was changed", p.Path, err)
		}
	}
	if err := writeAtomic(p.Path, p.New); err != nil {
		return backup, fmt.Errorf("writing %s: %w", p.Path, err)
	}
	return backup, nil
}

// writeAtomic writes b to a temporary file beside path, syncs it and
// renames it over path (on Windows, os.Rename replaces the file too).
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Restart is what the owner is told after the write: WSL reads the file
// only when its virtual machine starts.
const Restart = "WSL applies the new limits when it next starts: restart Windows, or run wsl --shutdown in PowerShell (this stops every WSL distribution you have open)."
