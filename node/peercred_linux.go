package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sparegpu/spare/market"
)

type peerUIDKey struct{}

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
