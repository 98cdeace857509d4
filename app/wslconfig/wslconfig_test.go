package wslconfig

import (
	"strings"
	"testing"
)

var limits = Limits{MemoryMB: 12288, Processors: 6}

// A .wslconfig as people write them: CRLF (Notepad), comments, keys
// Spare does not own, a section after [wsl2].
const userFile = "# my WSL settings\r\n" +
	"[wsl2]\r\n" +
	"Memory=16GB\r\n" +
	"swap=0\r\n" +
	"; GUI apps off\r\n" +
	"guiApplications=false\r\n" +
	"\r\n" +
	"[experimental]\r\n" +
	"autoMemoryReclaim=gradual\r\n"

func TestMergeKeepsTheUsersFile(t *testing.T) {
	got, err := Merge([]byte(userFile), limits)
	if err != nil {
		t.Fatal(err)
	}
	want := "# my WSL settings\r\n" +
		"[wsl2]\r\n" +
		"# Memory=16GB (yours before Spare changed it)\r\n" +
		"Memory=12288MB\r\n" +
		"swap=0\r\n" +
		"; GUI apps off\r\n" +
		"guiApplications=false\r\n" +
		marker + "\r\n" +
		"processors=6\r\n" +
		"\r\n" +
		"[experimental]\r\n" +
		"autoMemoryReclaim=gradual\r\n"
	if string(got) != want {
		t.Fatalf("merged:\n%q\nwant:\n%q", got, want)
	}
	// Again with the same limits: nothing changes. With new limits: the
	// values change, and the user's earlier value is not overwritten by
	// Spare's own.
	again, err := Merge(got, limits)
	if err != nil || string(again) != want {
		t.Fatalf("merging twice: %v\n%q", err, again)
	}
	changed, err := Merge(got, Limits{MemoryMB: 8192, Processors: 4})
	if err != nil {
		t.Fatal(err)
	}
	want2 := strings.NewReplacer("Memory=12288MB", "Memory=8192MB", "processors=6", "processors=4").Replace(want)
	if string(changed) != want2 {
		t.Fatalf("new limits:\n%q\nwant:\n%q", changed, want2)
	}
}

func TestMergeAddsWhatIsMissing(t *testing.T) {
	for name, tc := range map[string]struct{ old, want string }{
		"no file": {"", "[wsl2]\n" + marker + "\nmemory=12288MB\nprocessors=6\n"},
		"no [wsl2]": {"[experimental]\nsparseVhd=true\n",
			"[experimental]\nsparseVhd=true\n\n[wsl2]\n" + marker + "\nmemory=12288MB\nprocessors=6\n"},
		"[WSL2] with other keys, no newline at the end": {"[WSL2]\nkernelCommandLine = quiet\nprocessors = 2",
			"[WSL2]\nkernelCommandLine = quiet\n# processors=2 (yours before Spare changed it)\nprocessors=6\n" + marker + "\nmemory=12288MB\n"},
		"a byte-order mark": {"\uFEFF[wsl2]\nmemory=12288MB\nprocessors=6\n", "\uFEFF[wsl2]\nmemory=12288MB\nprocessors=6\n"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Merge([]byte(tc.old), limits)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}

func TestMergeRefuses(t *testing.T) {
	utf16 := []byte{0xFF, 0xFE, '[', 0, 'w', 0, 's', 0, 'l', 0, '2', 0, ']', 0}
	if _, err := Merge(utf16, limits); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("a UTF-16 file: %v, want a refusal that says to save it as UTF-8", err)
	}
	if _, err := Merge(nil, Limits{MemoryMB: 512, Processors: 2}); err == nil || !strings.Contains(err.Error(), "memory") {
		t.Errorf("512 MB: %v, want a refusal naming memory", err)
	}
	if _, err := Merge(nil, Limits{MemoryMB: 4096}); err == nil || !strings.Contains(err.Error(), "processor") {
		t.Errorf("no processors: %v, want a refusal naming processors", err)
	}
}

func TestNotice(t *testing.T) {
	n := Notice(limits)
	for _, want := range []string{"12.0 GB", "6 processors", ".wslconfig", "all your WSL distributions", "[wsl2]"} {
		if !strings.Contains(n, want) {
			t.Errorf("the notice %q does not say %q", n, want)
		}
	}
}
