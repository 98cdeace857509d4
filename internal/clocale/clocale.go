// Package clocale runs before the GUI toolkit initialises and maps the
// "C"/"POSIX" locale (no localisation, common on servers and in
// containers) to English for it. Without this, Fyne logs a three-line
// "Error parsing user locale C" on every start of every spare verb.
//
// It must stay free of imports beyond the standard library's os and
// strings: Go initialises packages in import-path order among those whose
// imports are ready, so this package's init runs before Fyne's, whose
// dependencies (golang.org/x/text) sort after it. main imports it for that
// side effect.
package clocale

import (
	"os"
	"strings"
)

func init() {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(name)
		if v == "" {
			continue
		}
		base, enc, hasEnc := strings.Cut(v, ".")
		if base == "C" || base == "POSIX" {
			english := "en_US" // what "C" means for messages
			if hasEnc {
				english += "." + enc
			}
			_ = os.Setenv(name, english)
		}
		return // the first one set decides, as in the C library
	}
}
