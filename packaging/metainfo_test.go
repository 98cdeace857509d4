package packaging

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

// metainfoPath is where both packages install the AppStream metadata;
// the ID is the app's (cmd/spare/app.go gives it to Fyne).
const metainfoPath = "/usr/share/metainfo/io.sparegpu.spare.metainfo.xml"

// metainfo is the part of the AppStream file the test checks itself;
// appstreamcli checks the rest.
type metainfo struct {
	ID             string `xml:"id"`
	ProjectLicense string `xml:"project_license"`
	Launchable     string `xml:"launchable"`
	URLs           []struct {
		Type string `xml:"type,attr"`
		URL  string `xml:",chardata"`
	} `xml:"url"`
	Screenshots []struct {
		Image struct {
			Width  int    `xml:"width,attr"`
			Height int    `xml:"height,attr"`
			URL    string `xml:",chardata"`
		} `xml:"image"`
	} `xml:"screenshots>screenshot"`
	Rating struct {
		Type string `xml:"type,attr"`
	} `xml:"content_rating"`
	Releases []struct {
		Version string `xml:"version,attr"`
		Date    string `xml:"date,attr"`
	} `xml:"releases>release"`
}

// TestAppStream validates the AppStream metadata as each package installs
// it, with appstreamcli (the tool GNOME Software's and KDE Discover's
// catalogues are built with): `validate-tree` over the unpacked package
// also checks that the launchable's .desktop file is installed beside it.
// No errors and no warnings; infos are allowed (appstreamcli 0.16 does
// not know the <developer> tag of AppStream 1.0, and says so as an info).
//
// --no-net: without it appstreamcli downloads every screenshot and
// fails when one is not reachable, and the screenshots are the goldens
// at the packaged commit on GitHub (app/testdata), which a commit not
// yet pushed does not have and CI cannot reach. The test checks instead
// that each screenshot URL names a golden in this tree, of the size the
// file states.
func TestAppStream(t *testing.T) {
	appstreamcli := testenv.NeedCommand(t, "appstreamcli", "appstream")
	testenv.NeedCommand(t, "cpio", "cpio")
	testenv.NeedCommand(t, "rpm2cpio", "rpm")
	pkgs := buildPackages(t)

	debRoot, rpmRoot := t.TempDir(), t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", pkgs.deb, debRoot).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	// nfpm's .rpm names its files by absolute path (see TestRpmlint).
	unpack := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet --no-absolute-filenames`, "sh", pkgs.rpm)
	unpack.Dir = rpmRoot
	if out, err := unpack.CombinedOutput(); err != nil {
		t.Fatalf("unpacking the .rpm: %v\n%s", err, out)
	}
	deb, err := os.ReadFile(filepath.Join(debRoot, metainfoPath))
	if err != nil {
		t.Fatalf("the .deb lacks the AppStream file: %v", err)
	}
	rpm, err := os.ReadFile(filepath.Join(rpmRoot, metainfoPath))
	if err != nil {
		t.Fatalf("the .rpm lacks the AppStream file: %v", err)
	}
	if !bytes.Equal(deb, rpm) {
		t.Error("the .deb and the .rpm install different AppStream files")
	}

	for name, root := range map[string]string{"deb": debRoot, "rpm": rpmRoot} {
		out, err := exec.Command(appstreamcli, "validate-tree", "--no-net", "--explain", root).CombinedOutput()
		t.Logf("appstreamcli validate-tree --no-net (the .%s):\n%s", name, out)
		if err != nil {
			t.Errorf("appstreamcli validate-tree on the .%s: %v", name, err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "W: ") {
				t.Errorf("appstreamcli (.%s): %s", name, l)
			}
		}
	}

	var m metainfo
	if err := xml.Unmarshal(deb, &m); err != nil {
		t.Fatalf("parsing %s: %v", metainfoPath, err)
	}
	if want := strings.TrimSuffix(filepath.Base(metainfoPath), ".metainfo.xml"); m.ID != want {
		t.Errorf("component ID %q, want %q (the file's name and the app's ID)", m.ID, want)
	}
	if m.Launchable != "spare.desktop" {
		t.Errorf("launchable %q, want spare.desktop", m.Launchable)
	}
	nfpm, err := os.ReadFile("nfpm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := "\nlicense: " + m.ProjectLicense + "\n"; !bytes.Contains(nfpm, []byte(want)) {
		t.Errorf("project_license %q is not the packages' licence in nfpm.yaml", m.ProjectLicense)
	}
	homepage := ""
	for _, u := range m.URLs {
		if u.Type == "homepage" {
			homepage = u.URL
		}
	}
	if homepage == "" || !bytes.Contains(nfpm, []byte("\nhomepage: "+homepage+"\n")) {
		t.Errorf("homepage %q is not nfpm.yaml's", homepage)
	}
	if m.Rating.Type != "oars-1.1" {
		t.Errorf("content rating %q, want oars-1.1", m.Rating.Type)
	}

	// One release: the packaged version, on the commit's date.
	ct, err := exec.Command("git", "log", "-1", "--format=%ct").Output()
	if err != nil {
		t.Fatalf("git log: %v", err)
	}
	epoch, err := time.Parse("2006-01-02", m.firstReleaseDate())
	if err != nil || len(m.Releases) != 1 || m.Releases[0].Version != "0.0.0+test" {
		t.Errorf("releases %+v, want one for 0.0.0+test dated the commit's day (%v)", m.Releases, err)
	} else if want := unixDay(t, strings.TrimSpace(string(ct))); !epoch.Equal(want) {
		t.Errorf("release date %s, want the commit's %s", m.Releases[0].Date, want.Format("2006-01-02"))
	}

	// The screenshots: goldens of this tree at the commit it is on.
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	prefix := "https://raw.githubusercontent.com/sparegpu/spare/" + strings.TrimSpace(string(head)) + "/"
	if len(m.Screenshots) < 2 {
		t.Errorf("%d screenshots; software centres want at least one, Spare shows 3", len(m.Screenshots))
	}
	for _, s := range m.Screenshots {
		rel, ok := strings.CutPrefix(s.Image.URL, prefix)
		if !ok || !strings.HasPrefix(rel, "app/testdata/") {
			t.Errorf("screenshot %q is not a golden under %sapp/testdata/", s.Image.URL, prefix)
			continue
		}
		f, err := os.Open(filepath.Join("..", rel))
		if err != nil {
			t.Errorf("screenshot %s: %v", rel, err)
			continue
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Errorf("screenshot %s: %v", rel, err)
		} else if cfg.Width != s.Image.Width || cfg.Height != s.Image.Height {
			t.Errorf("screenshot %s is %dx%d; the file says %dx%d", rel, cfg.Width, cfg.Height, s.Image.Width, s.Image.Height)
		}
	}
}

func (m metainfo) firstReleaseDate() string {
	if len(m.Releases) == 0 {
		return ""
	}
	return m.Releases[0].Date
}

// unixDay is the UTC day of a Unix time given in seconds.
func unixDay(t *testing.T, secs string) time.Time {
	t.Helper()
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		t.Fatalf("commit time %q: %v", secs, err)
	}
	y, mo, d := time.Unix(n, 0).UTC().Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}
