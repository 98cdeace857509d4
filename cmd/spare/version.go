package main

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// licenses holds NOTICES.gz, the licence and notices of every library
// compiled into spare, which `make build` generates (see the README
// there); a plain `go build` has none.
//
//go:embed licenses
var licenses embed.FS

// licence is Spare's own licence, in the words the About page uses.
const licence = "Apache License, Version 2.0"

var errNoNotices = errors.New("this spare was built without its list of licences (go build rather than make build); the packages carry it in /usr/share/doc/spare/copyright")

// notices returns the text of licenses/NOTICES.gz.
func notices() (string, error) {
	gz, err := licenses.ReadFile("licenses/NOTICES.gz")
	if errors.Is(err, fs.ErrNotExist) {
		return "", errNoNotices
	}
	if err != nil {
		return "", err
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return "", fmt.Errorf("reading the embedded notices: %w", err)
	}
	text, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("reading the embedded notices: %w", err)
	}
	return string(text), nil
}

type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go"`
	Platform  string `json:"platform"`
	Licence   string `json:"licence"`
}

func currentVersion() versionInfo {
	v := versionInfo{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Licence: licence}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v.Commit = s.Value
			}
		}
	}
	return v
}

func newVersionCmd(g *globals) *cobra.Command {
	var showLicenses bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print Spare's version",
		Long: `Print Spare's version. With --licenses, print Spare's licence and the
licence and notices of every library compiled into it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showLicenses {
				text, err := notices()
				if err != nil {
					return err
				}
				_, err = io.WriteString(cmd.OutOrStdout(), text)
				return err
			}
			v := currentVersion()
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(v)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "spare %s (%s, %s)\n%s; see spare version --licenses\n", v.Version, v.GoVersion, v.Platform, v.Licence)
			return nil
		},
	}
	cmd.Flags().BoolVar(&showLicenses, "licenses", false, "print the licences and notices of Spare and every library in it")
	return cmd
}
