// Command spare is Spare's single binary: the desktop app, the provider
// daemon and the command-line verbs. This file is the composition root: it
// parses flags, wires packages together and maps errors to exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/config"
	_ "github.com/sparegpu/spare/internal/clocale" // before the GUI toolkit initialises
)

// Exit codes shared by every verb. A verb that runs a job exits with the
// job's own code instead; these are outside the range a job normally uses.
const (
	exitOK          = 0
	exitFailure     = 1   // Spare itself failed (bad input, missing component)
	exitUsage       = 2   // bad flags or arguments
	exitTimeout     = 124 // the job ran past --timeout (as timeout(1))
	exitInterrupted = 130 // SIGINT or SIGTERM ended the job (as a shell reports SIGINT)
)

// globals are the flags that mean the same for every verb.
type globals struct {
	dataDir    string
	containerd string
	json       bool
	logLevel   string
	log        *slog.Logger
	// appMode is how `spare` with no verb runs the desktop app (app.go).
	appMode appMode
}

// exitError carries an exit code through cobra without printing anything
// more than the command already printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError marks an error in flags or arguments (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	g := &globals{}
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "spare:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailure
}

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "spare",
		Short: "Rent out your idle GPU; run jobs on other people's",
		Long: `Spare runs other people's sandboxed GPU jobs while you are away and pays
you for every second of work. The same binary submits jobs.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			lg, err := newLogger(g.logLevel)
			if err != nil {
				return usageError{err}
			}
			g.log = lg
			slog.SetDefault(lg)
			return nil
		},
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return runApp(cmd, g) }
	addAppModeFlags(root, g)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.dataDir, "data", "", "data directory (default $XDG_DATA_HOME/spare)")
	pf.StringVar(&g.containerd, "containerd", config.DefaultContainerdSocket, "containerd socket")
	pf.BoolVar(&g.json, "json", false, "print machine-readable JSON")
	pf.StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")

	root.AddCommand(
		newVersionCmd(g),
		newRunCmd(g),
		newImageCmd(g),
		newDoctorCmd(g),
		newNodeCmd(g),
		newStatusCmd(g),
		newPauseCmd(g),
		newResumeCmd(g),
		newHouseholdCmd(g),
		newDemoCmd(g),
		newWalletCmd(g),
		newSubmitCmd(g),
		newBootstrapCmd(g),
		newChainCmd(g),
		newBridgeCmd(g),
	)
	root.AddCommand(newManCmd(root))
	return root
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// dataDir resolves --data and creates the directory.
func (g *globals) resolveDataDir() (string, error) {
	dir, err := config.DataDir(g.dataDir)
	if err != nil {
		return "", err
	}
	if err := config.EnsureDir(dir); err != nil {
		return "", err
	}
	return dir, nil
}
