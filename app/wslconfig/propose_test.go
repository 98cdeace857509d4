package wslconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLimitsFor(t *testing.T) {
	for _, c := range []struct {
		name   string
		host   Host
		choice Choice
		want   Limits
		err    string
	}{
		{"defaults on 32 GB, 16 threads", Host{32768, 16}, Choice{}, Limits{24576, 14}, ""},
		{"defaults keep 4 GB and one core on a small PC", Host{8192, 4}, Choice{}, Limits{4096, 3}, ""},
		{"the owner's choice", Host{32768, 16}, Choice{MemoryGB: 20, Processors: 8}, Limits{20480, 8}, ""},
		{"more memory than the PC has", Host{16384, 8}, Choice{MemoryGB: 32}, Limits{}, "memory for jobs 32 GB: this PC has 16.0 GB"},
		{"more processors than the PC has", Host{16384, 8}, Choice{Processors: 12}, Limits{}, "processors for jobs 12: this PC has 8"},
		{"too little left for WSL", Host{4096, 2}, Choice{}, Limits{}, "WSL 2 needs at least 1024 MB"},
		{"unknown host", Host{}, Choice{}, Limits{}, "could not be read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := LimitsFor(c.host, c.choice)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("LimitsFor = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

// The owner sees what goes and what comes: the changed memory line, the
// comment keeping theirs, the added processors.
func TestProposalChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".wslconfig")
	if err := os.WriteFile(path, []byte(userFile), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Propose(path, limits)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Exists || !p.Changed() {
		t.Fatalf("proposal for an existing file with other limits: exists %v changed %v", p.Exists, p.Changed())
	}
	want := []string{"- Memory=16GB", "+ # Memory=16GB (yours before Spare changed it)", "+ Memory=12288MB", "+ " + marker, "+ processors=6"}
	if got := p.Changes(); !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n%q\nwant:\n%q", got, want)
	}

	// Once written, the same limits change nothing: no question to ask.
	if _, err := Write(p); err != nil {
		t.Fatal(err)
	}
	again, err := Propose(path, limits)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() || len(again.Changes()) != 0 {
		t.Fatalf("after writing, the same limits still change %q", again.Changes())
	}
}

func TestProposeNoFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".wslconfig")
	p, err := Propose(path, limits)
	if err != nil {
		t.Fatal(err)
	}
	if p.Exists || !p.Changed() {
		t.Fatalf("no file: exists %v changed %v", p.Exists, p.Changed())
	}
	backup, err := Write(p)
	if err != nil {
		t.Fatal(err)
	}
	if backup != "" {
		t.Fatalf("backup %q of a file that did not exist", backup)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "[wsl2]\n"+marker+"\nmemory=12288MB\nprocessors=6\n" {
		t.Fatalf("new file:\n%s", got)
	}
}

func TestProposeRefusesUTF16(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".wslconfig")
	if err := os.WriteFile(path, []byte{0xFF, 0xFE, '[', 0, 'w', 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Propose(path, limits); err == nil || !strings.Contains(err.Error(), "UTF-8") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err %v, want the file named and UTF-8 asked for", err)
	}
}

// Write keeps the file as it was beside it, replaces it whole, and
// leaves no temporary files.
func TestWriteKeepsBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".wslconfig")
	if err := os.WriteFile(path, []byte(userFile), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Propose(path, limits)
	if err != nil {
		t.Fatal(err)
	}
	backup, err := Write(p)
	if err != nil {
		t.Fatal(err)
	}
	if backup != path+BackupSuffix {
		t.Fatalf("backup %q, want %q", backup, path+BackupSuffix)
	}
	if b, _ := os.ReadFile(backup); string(b) != userFile {
		t.Fatalf("backup holds:\n%q\nwant the file as it was", b)
	}
	if b, _ := os.ReadFile(path); string(b) != string(p.New) {
		t.Fatalf("file holds:\n%q\nwant:\n%q", b, p.New)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{".wslconfig", ".wslconfig" + BackupSuffix}) {
		t.Fatalf("folder holds %v: a temporary file was left", names)
	}
}

// A file changed by the user (or WSL's settings app) between showing the
// changes and the owner's yes is not overwritten.
func TestWriteRefusesChangedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".wslconfig")
	if err := os.WriteFile(path, []byte(userFile), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Propose(path, limits)
	if err != nil {
		t.Fatal(err)
	}
	edited := userFile + "swap=8GB\r\n"
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(p); err == nil || !strings.Contains(err.Error(), "changed since Spare read it") {
		t.Fatalf("err %v, want the change refused", err)
	}
	if b, _ := os.ReadFile(path); string(b) != edited {
		t.Fatal("the user's edit was overwritten")
	}
	if _, err := os.Stat(path + BackupSuffix); err == nil {
		t.Fatal("a backup was written although nothing changed")
	}
}

// A failed write leaves the old file whole: the folder is read-only.
func TestWriteFailureLeavesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".wslconfig")
	if err := os.WriteFile(path, []byte(userFile), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Propose(path, limits)
	if err != nil {
		t.Fatal(err)
	}
	// Root ignores directory permissions: make the backup's name a
	// folder instead, so the rename onto it fails for anyone.
	if err := os.Mkdir(path+BackupSuffix, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path+BackupSuffix, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(p); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("err %v, want the failed backup to stop the write", err)
	}
	if b, _ := os.ReadFile(path); string(b) != userFile {
		t.Fatal("the file changed although its backup failed")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("folder holds %d entries, want the file and the blocked backup name: a temporary file was left", len(ents))
	}
}
