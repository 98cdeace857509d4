package sandbox

import (
	"os"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A job in a user namespace is root of nothing: its uids 0..65535 are
// host uids UserNSBase..UserNSBase+65535, which own no file on the host.
// The base lies far above the ranges distributions hand out in
// /etc/subuid, so the range belongs to no other user or container tool.
const (
	UserNSBase = 0x7F000000
	UserNSSize = 65536
)

// idMap is the one mapping used for uids and gids alike.
var idMap = []specs.LinuxIDMapping{{ContainerID: 0, HostID: UserNSBase, Size: UserNSSize}}

// userNamespaces reports whether this kernel lets root create user
// namespaces (user.max_user_namespaces > 0).
func userNamespaces() bool {
	b, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && n > 0
}

// hostID is the host uid (or gid) of a job's uid.
func (s *Sandbox) hostID(id uint32) uint32 {
	if s.userns {
		return UserNSBase + id
	}
	return id
}

// withUserNamespace puts the job in its own user namespace.
func withUserNamespace() oci.SpecOpts { return oci.WithUserNamespace(idMap, idMap) }

// newSnapshot is the job's root filesystem: with a user namespace, a
// copy of the image whose owners are shifted into the job's range (made
// once per image, kept while the image is, and the parent of every job's
// snapshot).
func (s *Sandbox) newSnapshot(id string, img containerd.Image, labels map[string]string) containerd.NewContainerOpts {
	if s.userns {
		return s.remappedSnapshot(id, img, labels)
	}
	return containerd.WithNewSnapshot(id, img, snapshotLabels(labels))
}

func snapshotLabels(l map[string]string) snapshots.Opt { return snapshots.WithLabels(l) }
