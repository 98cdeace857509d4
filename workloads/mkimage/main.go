// Command mkimage writes an OCI image archive of a root filesystem directory
// with imagebuild, for workloads/build.sh:
//
//	mkimage -rootfs DIR -ref NAME -out FILE.tar [-digest FILE] [-entrypoint JSON] [-cmd JSON]
//	        [-env K=V]... [-label K=V]... [-user U] [-workdir DIR] [-keep-owners]
//
// -entrypoint and -cmd take JSON arrays, e.g. -entrypoint '["/probe"]'.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/sparegpu/spare/imagebuild"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

type jsonList []string

func (l *jsonList) String() string { b, _ := json.Marshal(*l); return string(b) }
func (l *jsonList) Set(v string) error {
	if err := json.Unmarshal([]byte(v), (*[]string)(l)); err != nil {
		return fmt.Errorf("want a JSON array of strings: %w", err)
	}
	return nil
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("mkimage failed", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	var (
		cfg            imagebuild.Config
		out, digestOut string
		env, labels    multi
	)
	flag.StringVar(&cfg.Rootfs, "rootfs", "", "root filesystem directory (required)")
	flag.StringVar(&cfg.Ref, "ref", "", "image name stored in the archive (required)")
	flag.StringVar(&out, "out", "", "archive to write (required)")
	flag.StringVar(&digestOut, "digest", "", "file to write the manifest digest to")
	flag.Var((*jsonList)(&cfg.Entrypoint), "entrypoint", "entrypoint as a JSON array")
	flag.Var((*jsonList)(&cfg.Cmd), "cmd", "command as a JSON array")
	flag.Var(&env, "env", "KEY=value (repeatable)")
	flag.Var(&labels, "label", "KEY=value (repeatable)")
	flag.StringVar(&cfg.User, "user", "", "user (uid:gid)")
	flag.StringVar(&cfg.WorkingDir, "workdir", "", "working directory")
	flag.StringVar(&cfg.Platform, "platform", "", "os/arch (default linux/amd64)")
	flag.BoolVar(&cfg.KeepOwners, "keep-owners", false, "keep numeric owners from the rootfs")
	flag.Parse()
	if out == "" {
		return errors.New("-out: required")
	}
	cfg.Env = env
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("-label %q: want KEY=value", l)
		}
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[k] = v
	}
	cfg.Logger = log

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tmp, err := os.CreateTemp(filepath.Dir(out), ".mkimage-*")
	if err != nil {
		return fmt.Errorf("creating archive: %w", err)
	}
	defer os.Remove(tmp.Name())
	res, err := imagebuild.Build(ctx, cfg, tmp)
	if err != nil {
		tmp.Close()
		return fmt.Errorf("building %s: %w", cfg.Ref, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if digestOut != "" {
		if err := os.WriteFile(digestOut, []byte(res.Digest+"\n"), 0o644); err != nil {
			return fmt.Errorf("writing digest: %w", err)
		}
	}
	log.Info("image written", "ref", cfg.Ref, "out", out, "digest", res.Digest, "bytes", res.Size)
	return nil
}
