package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/presence"
)

// Who may do what through the LocalAPI (localapi.Level). The socket lets
// in its owner, root and, where a "spare" group exists, the group's
// members (listenSocket); the kernel names each caller (SO_PEERCRED,
// peerUID). Everyone let in reads and operates (pause, resume); owners
// administer: root, the daemon's own user and the users of DATA/owners.
// Presence reports come only from the person at the machine.

// seatReader says who holds each seat's active session; *presence.Seats
// asks logind.
type seatReader interface {
	ActiveUsers(ctx context.Context) ([]int, error)
}

var _ seatReader = (*presence.Seats)(nil)

// isOwner reports whether uid administers the daemon. DATA/owners is read
// each time: an owner added there counts at once, without a restart.
func (d *Daemon) isOwner(uid int) bool {
	if uid == 0 || uid == os.Geteuid() {
		return true
	}
	uids, err := readOwners(d.cfg.DataDir)
	if err != nil {
		d.log.Warn("reading the owners file", "err", err)
	}
	return slices.Contains(uids, uid)
}

// needOwner is nil when the caller administers the daemon; otherwise the
// refusal a member reads: what needs an owner, who the owners are, what
// the member may do, and how to become an owner.
func (d *Daemon) needOwner(ctx context.Context, what string) error {
	uid, known := peerUID(ctx)
	if !known {
		if !peersNamed {
			return nil // no SO_PEERCRED here: the socket's owner-only mode is the check
		}
		return fmt.Errorf("%s needs an owner of this Spare, and the daemon cannot tell which user is calling", what)
	}
	if d.isOwner(uid) {
		return nil
	}
	me, you := userName(os.Geteuid()), userName(uid)
	return fmt.Errorf("%s needs an owner of this Spare: root, %s, or a user listed in %s. You are %s, who may watch Spare and pause it. "+
		"Ask an owner to do it, or to make you one: echo %s | sudo tee -a %s",
		what, me, ownersPath(d.cfg.DataDir), you, strings.TrimPrefix(you, "uid "), ownersPath(d.cfg.DataDir))
}

// admin serves h to owners only (localapi.LevelAdmin); what names the
// action for the refusal ("Changing the settings").
func (d *Daemon) admin(what string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := d.needOwner(r.Context(), what); err != nil {
			d.log.Info("refused a member", "route", r.Method+" "+r.URL.Path, "why", "not an owner")
			writeError(w, http.StatusForbidden, localapi.CodeNeedsOwner, err.Error())
			return
		}
		h(w, r)
	}
}

// presenceFrom is nil when the caller may report presence: the user who
// holds a seat's active session according to logind (or root, or the
// daemon's own user). Where logind cannot be asked, owners may report.
func (d *Daemon) presenceFrom(ctx context.Context) error {
	uid, known := peerUID(ctx)
	if !known {
		if !peersNamed {
			return nil
		}
		return errors.New("presence reports are taken only from the user at the screen, and the daemon cannot tell which user is calling")
	}
	if uid == 0 || uid == os.Geteuid() {
		return nil
	}
	active, err := d.seats.ActiveUsers(ctx)
	if err != nil {
		if d.isOwner(uid) {
			return nil
		}
		d.log.Debug("logind cannot say who is at the screen", "err", err)
		return fmt.Errorf("presence reports are taken only from the user at the screen; logind cannot say who that is here (%v), so only from owners of this Spare (root, %s, or a user listed in %s). You are %s",
			err, userName(os.Geteuid()), ownersPath(d.cfg.DataDir), userName(uid))
	}
	if slices.Contains(active, uid) {
		return nil
	}
	at := "nobody holds the active session"
	if len(active) > 0 {
		names := make([]string, len(active))
		for i, u := range active {
			names[i] = userName(u)
		}
		at = "the active session is " + strings.Join(names, ", ") + "'s"
	}
	return fmt.Errorf("presence reports are taken only from the user at the screen, and %s (logind); you are %s. Spare reads the report of whoever sits at the machine", at, userName(uid))
}
