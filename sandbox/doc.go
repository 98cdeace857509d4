// Package sandbox runs a stranger's OCI image on a family PC so that it
// cannot hurt the host. It talks to containerd (namespace "spare") through
// containerd's Go client and owns:
//
//   - images: import from OCI or Docker archives with size limits and
//     digest verification, pull from a reachable registry, list, remove;
//     images kept for jobs are marked (TouchCached) with their last use,
//     so the provider can remove the least recently used one no container
//     uses (CachedImages, RemoveCached; cache.go);
//   - the hardened run spec, composed of small SpecOpts (spec.go): a fresh
//     network namespace with only loopback, read-only root, no
//     capabilities, no-new-privileges, the default seccomp profile (native
//     architecture only: no 32-bit system call entry), uid 65534 in a user
//     namespace of its own (UserNSBase; host uid 65534 where the kernel
//     allows none), masked /proc and /sys paths, no host devices but the
//     GPUs granted through CDI, memory/CPU/pids limits, a size-capped
//     writable /output and /tmp, read-only /input;
//   - the job lifecycle: create, start, wait, pause/resume (cgroup
//     freezer), stop with a grace period then kill, delete, with a
//     wall-clock limit and capped logs;
//   - cleanup: every container and snapshot carries labels naming the job
//     and the process that owns it, so a later start removes the leftovers
//     of a crashed owner and touches nothing else.
package sandbox
