package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/imagebuild"
	"github.com/sparegpu/spare/internal/units"
	"github.com/sparegpu/spare/sandbox"
)

func newImageCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Build, import, list and remove job images",
	}
	cmd.AddCommand(newImageBuildCmd(g), newImageImportCmd(g), newImageLsCmd(g), newImageRmCmd(g))
	return cmd
}

func newImageBuildCmd(g *globals) *cobra.Command {
	var cfg imagebuild.Config
	var out string
	cmd := &cobra.Command{
		Use:   "build --rootfs DIR --ref NAME -o FILE.tar [flags]",
		Short: "Pack a root filesystem directory into a reproducible OCI image archive",
		Long: `Pack a directory into a single-layer OCI image archive. The same directory
always gives the same digest (sorted entries, zeroed times and owners), so a
requester can name the image by digest and a provider can check it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("-o FILE.tar is required")}
			}
			cfg.Logger = g.log
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			res, err := imagebuild.Build(cmd.Context(), cfg, f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(out)
				if errors.Is(err, imagebuild.ErrInvalidConfig) {
					return usageError{err}
				}
				return err
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"file": out, "ref": cfg.Ref, "digest": res.Digest, "size": res.Size})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s (%s)\n", out, res.Digest, units.FormatBytes(res.Size))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.Rootfs, "rootfs", "", "directory whose contents become the image (required)")
	fl.StringVar(&cfg.Ref, "ref", "", "image name stored in the archive, e.g. spare.local/render:1 (required)")
	fl.StringVarP(&out, "output", "o", "", "archive file to write (required)")
	fl.StringArrayVar(&cfg.Entrypoint, "entrypoint", nil, "entrypoint argument (repeatable, in order)")
	fl.StringArrayVar(&cfg.Cmd, "cmd", nil, "default command argument (repeatable, in order)")
	fl.StringArrayVar(&cfg.Env, "env", nil, "KEY=VALUE environment variable (repeatable)")
	fl.StringVar(&cfg.WorkingDir, "workdir", "", "working directory")
	fl.StringVar(&cfg.Platform, "platform", "", "os/arch (default linux/amd64)")
	return cmd
}

func newImageImportCmd(g *globals) *cobra.Command {
	var digest string
	cmd := &cobra.Command{
		Use:   "import FILE.tar [--digest sha256:…]",
		Short: "Import an OCI or Docker image archive",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sb, err := g.openSandbox(cmd.Context())
			if err != nil {
				return err
			}
			defer sb.Close()
			img, err := sb.Import(cmd.Context(), args[0], sandbox.ImportOptions{Digest: digest, Progress: g.progress(args[0]), Names: true})
			if err != nil {
				return err
			}
			return printImages(cmd, g, []sandbox.Image{img})
		},
	}
	cmd.Flags().StringVar(&digest, "digest", "", "expected manifest digest; the import is undone if it differs")
	return cmd
}

func newImageLsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List imported images",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sb, err := g.openSandbox(cmd.Context())
			if err != nil {
				return err
			}
			defer sb.Close()
			imgs, err := sb.Images(cmd.Context())
			if err != nil {
				return err
			}
			return printImages(cmd, g, imgs)
		},
	}
}

func newImageRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME|DIGEST...",
		Short: "Remove images (a digest removes every name of it)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sb, err := g.openSandbox(cmd.Context())
			if err != nil {
				return err
			}
			defer sb.Close()
			var errs []error
			for _, ref := range args {
				if err := sb.RemoveImage(cmd.Context(), ref); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	}
}

func printImages(cmd *cobra.Command, g *globals, imgs []sandbox.Image) error {
	if g.json {
		enc := json.NewEncoder(cmd.OutOrStdout())
		for _, im := range imgs {
			if err := enc.Encode(im); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDIGEST\tSIZE")
	for _, im := range imgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", im.Name, im.Digest, units.FormatBytes(im.Size))
	}
	return tw.Flush()
}
