package presence

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/godbus/dbus/v5"
)

// linuxSensor combines what a Linux desktop offers: X11 (idle and
// fullscreen) or, on Wayland, Mutter/ScreenSaver over the session bus for
// idle; logind on the system bus for lock and suspend.
type linuxSensor struct {
	x11     *X11
	idleBus *idleDBus
	login   *logind
	conns   []*dbus.Conn
}

var _ sensor = (*linuxSensor)(nil)

func newSensor(ctx context.Context, opts Options) (sensor, error) {
	s := &linuxSensor{}
	var errs []error
	if opts.Display != "" || os.Getenv("DISPLAY") != "" {
		x, err := OpenX11(opts.Display)
		if err == nil {
			s.x11 = x
			if why := x.InputUnsupported(); why != nil && opts.Logger != nil {
				opts.Logger.Info("the X server sends no idle alarm; polling for input", "why", why)
			}
		} else {
			errs = append(errs, err)
		}
	}
	if s.x11 == nil {
		if c, err := connectSessionBus(ctx); err == nil {
			s.conns = append(s.conns, c)
			if d, err := openIdleDBus(ctx, c); err == nil {
				s.idleBus = d
			} else {
				errs = append(errs, err)
			}
		} else {
			errs = append(errs, err)
		}
	}
	if c, err := dbus.ConnectSystemBus(dbus.WithContext(ctx)); err == nil {
		s.conns = append(s.conns, c)
		if l, err := openLogind(ctx, c, ""); err == nil {
			s.login = l
		} else {
			errs = append(errs, err)
		}
	}
	if s.x11 == nil && s.idleBus == nil && s.login == nil {
		s.close()
		return nil, errors.Join(append([]error{ErrUnsupported}, errs...)...)
	}
	return s, nil
}

func (s *linuxSensor) idle(ctx context.Context) (time.Duration, bool, error) {
	switch {
	case s.x11 != nil:
		d, err := s.x11.Idle()
		return d, err == nil, err
	case s.idleBus != nil:
		return s.idleBus.idle(ctx)
	}
	return 0, false, nil
}

func (s *linuxSensor) session(ctx context.Context) (sessionInfo, error) {
	var si sessionInfo
	var err error
	if s.login != nil {
		h, herr := s.login.hints(ctx)
		si.locked, err = h.locked, herr
		si.sleeping = s.login.sleeping.Load()
	}
	if s.x11 != nil {
		name, pid, xerr := s.x11.Fullscreen()
		si.fullscreen, si.fullscreenPID = name, pid
		err = errors.Join(err, xerr)
	}
	return si, err
}

func (s *linuxSensor) name() string {
	n := ""
	switch {
	case s.x11 != nil:
		n = "x11"
	case s.idleBus != nil:
		n = s.idleBus.name()
	}
	if s.login != nil {
		if n != "" {
			n += "+"
		}
		n += "logind"
	}
	return n
}

func (s *linuxSensor) close() error {
	if s.login != nil {
		s.login.close()
	}
	if s.x11 != nil {
		s.x11.Close()
	}
	if s.idleBus != nil {
		s.idleBus.close()
	}
	for _, c := range s.conns {
		c.Close()
	}
	return nil
}

// input reports returning input from the X server's idle alarm or
// Mutter's idle monitor watches; nil without either.
func (s *linuxSensor) input() <-chan struct{} {
	switch {
	case s.x11 != nil:
		return s.x11.Input()
	case s.idleBus != nil:
		return s.idleBus.input()
	}
	return nil
}

// connectSessionBus connects to the session bus the environment names
// (DBUS_SESSION_BUS_ADDRESS, or the user's $XDG_RUNTIME_DIR/bus) and never
// starts one: godbus's ConnectSessionBus runs dbus-launch when there is
// none, which leaves a session bus daemon behind for nobody.
func connectSessionBus(ctx context.Context) (*dbus.Conn, error) {
	c, err := dbus.SessionBusPrivateNoAutoStartup(dbus.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	if err := c.Auth(nil); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Hello(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
