package app

import (
	"bytes"
	"sync"
	_ "unsafe" // for go:linkname

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/fontscan"
	"github.com/go-text/typesetting/language"
)

// The toolkit's text painter makes its fallback font map once, on first
// use, under fontScanLock: loaded says it has, and a nil map means no
// fallback (what the toolkit does itself when the system has no fonts).
// These name its variables; a toolkit release that renames them fails to
// link, loudly, rather than quietly loading the fonts again.

//go:linkname painterFontsLoaded fyne.io/fyne/v2/internal/painter.loaded
var painterFontsLoaded bool

//go:linkname painterFontMap fyne.io/fyne/v2/internal/painter.fm
var painterFontMap *fontscan.FontMap

//go:linkname painterFontLock fyne.io/fyne/v2/internal/painter.fontScanLock
var painterFontLock sync.Mutex

// SkipSystemFonts keeps the toolkit from loading system fonts when the
// theme's own font covers the user's language, and reports whether it did.
// Call it before the toolkit draws any text.
//
// For each text style it first draws (regular, bold, italic, monospace)
// the toolkit loads, besides its bundled font, a system font for the
// user's language, parsed whole into memory: ~2.5 MB each, 9 MB of the
// app's 13 MB of live heap on an English desktop, and ~40 ms of launch,
// to draw text the bundled Noto Sans draws already (all of Spare's words,
// numbers, addresses and IDs). Languages the bundled font does not cover
// (Chinese, Japanese, Arabic, Hindi…) keep the toolkit's behaviour. The
// price: in a session whose language the bundled font covers, a character
// outside it (a CJK file name typed into the export path, say) shows as �.
func SkipSystemFonts() bool {
	if !themeFontCovers(lang.SystemLocale().LanguageString()) {
		return false
	}
	painterFontLock.Lock()
	defer painterFontLock.Unlock()
	if painterFontsLoaded { // too late: the toolkit has drawn text
		return false
	}
	painterFontsLoaded, painterFontMap = true, nil
	return true
}

// themeFontCovers reports whether the theme's regular font has what text
// in language tag needs, by the same test the toolkit's font lookup makes.
func themeFontCovers(tag string) bool {
	id, ok := fontscan.NewLangID(language.Language(tag))
	if !ok {
		return false
	}
	face, err := font.ParseTTF(bytes.NewReader(theme.DefaultTextFont().Content()))
	if err != nil {
		return false
	}
	const family = "spare-theme" // any name no other font has
	fm := fontscan.NewFontMap(quietFontLog{})
	md := face.Describe()
	md.Family = family
	fm.AddFace(face, fontscan.Location{File: family}, md)
	fm.SetQuery(fontscan.Query{Families: []string{family}})
	return fm.ResolveFaceForLang(id) != nil
}

type quietFontLog struct{}

func (quietFontLog) Printf(string, ...any) {}
