package sandbox

import containerd "github.com/containerd/containerd/v2/client"

// Windows has no user namespaces; userNamespaces() is false there.
func remappedSnapshot(id string, img containerd.Image) containerd.NewContainerOpts {
	return containerd.WithNewSnapshot(id, img)
}
