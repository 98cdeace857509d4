//go:build linux

package sandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerArchive rewrites an OCI image-layout archive in the format of
// `docker save`: manifest.json, the config and each layer as a file.
func dockerArchive(t *testing.T, ociPath, tag string) string {
	t.Helper()
	files := map[string][]byte{}
	for _, e := range readTar(t, ociPath) {
		files[e.h.Name] = e.b
	}
	blob := func(d string) []byte { return files["blobs/sha256/"+strings.TrimPrefix(d, "sha256:")] }
	var idx ocispec.Index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(blob(idx.Manifests[0].Digest.String()), &m); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	cfgName := m.Config.Digest.Encoded() + ".json"
	out[cfgName] = blob(m.Config.Digest.String())
	var layers []string
	for _, l := range m.Layers {
		name := l.Digest.Encoded() + "/layer.tar"
		out[name] = blob(l.Digest.String()) // compressed; containerd detects it
		layers = append(layers, name)
	}
	manifest, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{tag}, "Layers": layers}})
	out["manifest.json"] = manifest

	path := filepath.Join(t.TempDir(), "docker.tar")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, b := range out {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportDockerArchive(t *testing.T) {
	sb, _ := testSandbox(t)
	ctx := context.Background()
	oci, err := probeArchive()
	if err != nil {
		t.Fatal(err)
	}
	img, err := sb.Import(ctx, dockerArchive(t, oci, "spare.local/probe-docker:1"), ImportOptions{Names: true})
	if err != nil {
		t.Fatal(err)
	}
	if img.Name != "docker.io/spare.local/probe-docker:1" && img.Name != "spare.local/probe-docker:1" {
		t.Errorf("imported as %q", img.Name)
	}
	var out bytes.Buffer
	res, _, err := sb.Run(ctx, JobSpec{Image: img.Digest, Args: []string{"echo", "from", "docker"}, Stdout: &out}, "")
	if err != nil || res.ExitCode != 0 || !strings.Contains(out.String(), "from docker") {
		t.Errorf("running the Docker-archive image: %v, exit %d, %q", err, res.ExitCode, out.String())
	}
}
