package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sparegpu/spare/market"
)

type peerUIDKey struct{}

// peersNamed: the kernel names the user at the other end of the socket
// (SO_PEERCRED), so access levels are enforced.
const peersNamed = true

// noFollow opens a file without following a link at its name.
const noFollow = unix.O_NOFOLLOW

// peerUID is the calling user (withPeerCred); false when unknown.
func peerUID(ctx context.Context) (int, bool) {
	uid, ok := ctx.Value(peerUIDKey{}).(int)
	return uid, ok
}

// trustedFile accepts a file of the daemon's that decides who may do
// what (DATA/owners): regular, owned by root or the daemon's user,
// writable by nobody else.
func trustedFile(fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular():
		return errors.New("not a regular file")
	case !ok:
		return errors.New("cannot tell who owns it")
	case int(st.Uid) != 0 && int(st.Uid) != os.Geteuid():
		return fmt.Errorf("owned by uid %d, not root or the daemon's user; chown root it", st.Uid)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("writable by others (%s); chmod go-w it", fi.Mode().Perm())
	}
	return nil
}

type peerGIDKey struct{}

// withPeerCred records the user ID of the process at the other end of a
// LocalAPI connection (SO_PEERCRED), for handlers that act as the
// daemon's user (http.Server.ConnContext).
func withPeerCred(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil || cerr != nil {
		return ctx
	}
	ctx = context.WithValue(ctx, peerUIDKey{}, int(cred.Uid))
	return context.WithValue(ctx, peerGIDKey{}, int(cred.Gid))
}

// sameUser allows a request from the daemon's own user (or root): the
// socket may be open to a "spare" group, whose members may watch and
// pause the daemon but not have it read or write files as its user.
func sameUser(ctx context.Context) error {
	uid, ok := ctx.Value(peerUIDKey{}).(int)
	if !ok {
		return errors.New("cannot tell which user is calling; submit without the daemon (`spare submit --no-daemon`)")
	}
	if me := os.Geteuid(); uid != me && uid != 0 {
		return fmt.Errorf("the daemon runs as user %d and submits jobs only for that user (you are %d); run `spare submit --no-daemon`", me, uid)
	}
	return nil
}

// outputOwner is who a job's outputs fetched for the caller belong to: the
// calling user and group, when the daemon runs as root (otherwise the
// files are the daemon's user's, which sameUser made the caller or root).
func outputOwner(ctx context.Context) *market.Owner {
	uid, ok := ctx.Value(peerUIDKey{}).(int)
	gid, gok := ctx.Value(peerGIDKey{}).(int)
	if !ok || !gok || os.Geteuid() != 0 {
		return nil
	}
	return &market.Owner{UID: uid, GID: gid}
}
