package sandbox

import (
	"archive/tar"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/containerd/v2/core/images"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestArchiveCannotRebindAName: a stranger's archive whose index names
// its image after another image's digest reference (the provider's cache
// would then run it for the other image's next job) imports under its
// own digest alone; the other image keeps its name, and so does every
// image when the archive's names are applied (the owner's import).
func TestArchiveCannotRebindAName(t *testing.T) {
	sb, victim := testSandbox(t)
	ctx := context.Background()
	poisoned := renameInIndex(t, uniqueArchive(t), digestRefPrefix+victim.Digest)
	for _, names := range []bool{false, true} {
		img, err := sb.Import(ctx, poisoned, ImportOptions{Names: names})
		if err != nil {
			t.Fatalf("importing the poisoned archive (names %v): %v", names, err)
		}
		if img.Digest == victim.Digest {
			t.Fatal("the poisoned archive is the victim's image")
		}
		got, err := sb.Resolve(ctx, victim.Digest)
		if err != nil || got.Digest != victim.Digest {
			t.Fatalf("names %v: the victim's digest resolves to %+v, %v; want %s", names, got, err, victim.Digest)
		}
		if !names && slices.Contains(imageNames(t, sb), "spare.local/unique:1") {
			t.Error("a stranger's archive applied the name it carries")
		}
	}
}

// renameInIndex copies an OCI archive, giving every manifest in its
// index.json the image name name.
func renameInIndex(t *testing.T, src, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "poisoned.tar")
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	for _, e := range readTar(t, src) {
		if e.h.Name == "index.json" {
			var idx ocispec.Index
			if err := json.Unmarshal(e.b, &idx); err != nil {
				t.Fatal(err)
			}
			for i := range idx.Manifests {
				idx.Manifests[i].Annotations = map[string]string{images.AnnotationImageName: name, ocispec.AnnotationRefName: name}
			}
			if e.b, err = json.Marshal(idx); err != nil {
				t.Fatal(err)
			}
			e.h.Size = int64(len(e.b))
		}
		if err := tw.WriteHeader(e.h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}
