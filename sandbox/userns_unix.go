//go:build !windows

package sandbox

import containerd "github.com/containerd/containerd/v2/client"

func remappedSnapshot(id string, img containerd.Image) containerd.NewContainerOpts {
	return containerd.WithUserNSRemappedSnapshot(id, img, idMap, idMap)
}
