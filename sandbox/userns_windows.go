package sandbox

import containerd "github.com/containerd/containerd/v2/client"

// Windows has no user namespaces; userNamespaces() is false there.
func (s *Sandbox) remappedSnapshot(id string, img containerd.Image, labels map[string]string) containerd.NewContainerOpts {
	return containerd.WithNewSnapshot(id, img, snapshotLabels(labels))
}
