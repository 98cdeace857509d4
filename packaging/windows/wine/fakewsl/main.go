// Command fakewsl is test scaffolding for Wine only, never shipped: it
// stands in for wsl.exe, which Wine lacks, so that the real Windows app
// under Wine can be driven through first run and the bridge
// (cmd/spare/app_wsl_wine_test.go). It answers as WSL does:
//
//	--status                    WSL is installed
//	--list --quiet              the distributions imported so far (UTF-16LE, as WSL prints)
//	--import NAME DIR TAR --version 2
//	                            records NAME, after SPARE_FAKEWSL_IMPORT_GATE exists when set;
//	                            fails, with the file's text, while the file that
//	                            SPARE_FAKEWSL_IMPORT_FAIL names exists (WSL's own error text)
//	--terminate NAME            records it (the test checks that the daemon ended before);
//	                            fails as WSL does when NAME was never imported
//	-d NAME -- CMD...           relays CMD and its standard input and output to the test
//	                            (SPARE_FAKEWSL_RELAY, host:port), which runs it on Linux
//	                            with the real Linux `spare` (`spare bridge`, `spare node`)
//
// The relay's protocol: CMD as one JSON line, then the standard input in
// frames (a 4-byte big-endian length, then the bytes; length 0: the
// input ended), and back the command's output until it ends. The
// connection stays open while wsl.exe runs: its end tells the test that
// wsl.exe ended (killed, as the app stops the daemon it started), which
// it acts on as WSL ending the session.
//
// Every call is appended to SPARE_FAKEWSL_LOG, one JSON array a line;
// the distributions are kept in SPARE_FAKEWSL_STATE.
package main

import (
	"archive/tar"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if err := record(args); err != nil {
		say("fakewsl: recording the call: " + err.Error())
		return 1
	}
	switch {
	case slices.Equal(args, []string{"--status"}):
		say("Default Version: 2\r\n")
		return 0
	case slices.Equal(args, []string{"--list", "--quiet"}):
		ds := distributions()
		if len(ds) == 0 {
			say("Windows Subsystem for Linux has no installed distributions.\r\n")
			return 1 // as WSL does: -1
		}
		say(strings.Join(ds, "\r\n") + "\r\n")
		return 0
	case len(args) == 6 && args[0] == "--import" && args[4] == "--version" && args[5] == "2":
		return importDistro(args[1], args[2], args[3])
	case len(args) == 2 && args[0] == "--terminate":
		if !slices.Contains(distributions(), args[1]) {
			say("There is no distribution with the supplied name.\r\nError code: Wsl/Service/WSL_E_DISTRO_NOT_FOUND\r\n")
			return 1
		}
		say("The operation completed successfully. \r\n")
		return 0
	case len(args) >= 4 && args[0] == "-d" && args[2] == "--":
		if !slices.Contains(distributions(), args[1]) {
			say("There is no distribution with the supplied name.\r\nError code: Wsl/Service/WSL_E_DISTRO_NOT_FOUND\r\n")
			return 1
		}
		return relay(args[3:])
	}
	say("fakewsl: no stand-in for " + strings.Join(args, " ") + "\r\n")
	return 1
}

// say prints text as WSL does: UTF-16LE.
func say(s string) {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	os.Stdout.Write(b)
}

func record(args []string) error {
	line, err := json.Marshal(args)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(os.Getenv("SPARE_FAKEWSL_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(line, '\n'))
	return err
}

func distributions() []string {
	b, _ := os.ReadFile(os.Getenv("SPARE_FAKEWSL_STATE"))
	return strings.Fields(string(b))
}

// importDistro checks the image is a tar archive, as WSL would, and
// records the distribution.
func importDistro(name, dir, image string) int {
	f, err := os.Open(image)
	if err != nil {
		say("The system cannot find the file specified.\r\nError code: Wsl/Service/RegisterDistro/ERROR_FILE_NOT_FOUND\r\n")
		return 1
	}
	_, err = tar.NewReader(f).Next()
	f.Close()
	if err != nil {
		say("The tar file is not valid.\r\nError code: Wsl/Service/RegisterDistro/0x8007000d\r\n")
		return 1
	}
	if fail := os.Getenv("SPARE_FAKEWSL_IMPORT_FAIL"); fail != "" {
		if said, err := os.ReadFile(fail); err == nil {
			say(strings.TrimSpace(string(said)) + "\r\n")
			return 1
		}
	}
	if gate := os.Getenv("SPARE_FAKEWSL_IMPORT_GATE"); gate != "" {
		// The test opens the gate once it has seen the app's progress.
		for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
			if _, err := os.Stat(gate); err == nil {
				break
			}
			if time.Now().After(deadline) {
				say("fakewsl: the import gate never opened\r\n")
				return 1
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		say("fakewsl: " + err.Error() + "\r\n")
		return 1
	}
	if err := os.WriteFile(dir+`\ext4.vhdx`, []byte("stand-in disk"), 0o600); err != nil {
		say("fakewsl: " + err.Error() + "\r\n")
		return 1
	}
	st, err := os.OpenFile(os.Getenv("SPARE_FAKEWSL_STATE"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		_, err = fmt.Fprintln(st, name)
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		say("fakewsl: " + err.Error() + "\r\n")
		return 1
	}
	return 0
}

// relay sends argv (one JSON line) and then the standard input, framed,
// to the test's relay, and its answer to the standard output, until the
// command ends: as `wsl -d NAME -- CMD` ends when CMD does.
func relay(argv []string) int {
	c, err := net.Dial("tcp", os.Getenv("SPARE_FAKEWSL_RELAY"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakewsl: reaching the test's relay:", err)
		return 1
	}
	defer c.Close()
	line, _ := json.Marshal(argv)
	if _, err := c.Write(append(line, '\n')); err != nil {
		fmt.Fprintln(os.Stderr, "fakewsl:", err)
		return 1
	}
	go sendInput(c) // ends with the input, or with the process
	if _, err := io.Copy(os.Stdout, c); err != nil && !errors.Is(err, net.ErrClosed) {
		fmt.Fprintln(os.Stderr, "fakewsl:", err)
		return 1
	}
	return 0
}

// sendInput frames the standard input to the relay, and an empty frame
// at its end; the connection stays open (its close is wsl.exe's end).
func sendInput(c net.Conn) {
	buf := make([]byte, 32<<10)
	frame := func(b []byte) error {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		_, err := c.Write(append(n[:], b...))
		return err
	}
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 {
			if frame(buf[:n]) != nil {
				return
			}
		}
		if err != nil {
			_ = frame(nil)
			return
		}
	}
}
