package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
)

// Namespace is the containerd namespace all of Spare's objects live in.
const Namespace = "spare"

// Runtime is the containerd runtime (shim) jobs use.
const Runtime = "io.containerd.runc.v2"

// ErrUnavailable means containerd cannot be reached; the hint says what to do.
var ErrUnavailable = errors.New("containerd unavailable")

// Config configures a Sandbox. The zero value connects to the system
// containerd and keeps job files under the OS temp directory.
type Config struct {
	// Socket is containerd's gRPC socket. Empty: /run/containerd/containerd.sock.
	Socket string
	// Namespace is the containerd namespace. Empty: "spare".
	Namespace string
	// WorkDir holds per-job directories (inputs, outputs). Empty: a
	// "spare-jobs" directory under the OS temp directory.
	WorkDir string
	// Limits are the default limits of a job; zero fields take the
	// package defaults.
	Limits Limits
	// ImageLimits bound what Import accepts. Zero fields take defaults.
	ImageLimits ImageLimits
	// NoUserNamespace runs jobs as uid 65534 of the host instead of in a
	// user namespace of their own. Zero: a user namespace wherever the
	// kernel allows one.
	NoUserNamespace bool
	// Log receives the sandbox's logs. Nil: slog.Default().
	Log *slog.Logger
}

// Sandbox runs jobs in containerd. It is safe for concurrent use.
type Sandbox struct {
	client  *containerd.Client
	cfg     Config
	owner   owner
	log     *slog.Logger
	host    Host
	workDir string
	userns  bool
}

// New connects to containerd. It fails with ErrUnavailable and a hint when
// the socket cannot be reached, and with ErrMountNamespace when containerd
// would not see the output directories this process mounts for jobs.
func New(ctx context.Context, cfg Config) (*Sandbox, error) {
	if cfg.Socket == "" {
		cfg.Socket = "/run/containerd/containerd.sock"
	}
	if cfg.Namespace == "" {
		cfg.Namespace = Namespace
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = filepath.Join(os.TempDir(), "spare-jobs")
	}
	if _, err := os.Stat(cfg.Socket); err != nil {
		return nil, fmt.Errorf("%w: socket %s: %v — start it (sudo systemctl start containerd) or pass --containerd SOCK", ErrUnavailable, cfg.Socket, err)
	}
	client, err := containerd.New(cfg.Socket,
		containerd.WithDefaultNamespace(cfg.Namespace),
		containerd.WithTimeout(5*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: connecting to %s: %v — is containerd running, and may this user use its socket?", ErrUnavailable, cfg.Socket, err)
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o711); err != nil {
		client.Close()
		return nil, fmt.Errorf("creating job directory %s: %w", cfg.WorkDir, err)
	}
	if err := checkMountsVisible(cfg.Socket, cfg.WorkDir); err != nil {
		client.Close()
		return nil, err
	}
	return &Sandbox{
		client:  client,
		cfg:     cfg,
		owner:   selfOwner(),
		log:     cfg.Log.With("component", "sandbox"),
		host:    LocalHost(),
		workDir: cfg.WorkDir,
		userns:  !cfg.NoUserNamespace && userNamespaces(),
	}, nil
}

// Close releases the connection. Jobs still running are not touched.
func (s *Sandbox) Close() error { return s.client.Close() }

// Version returns the containerd daemon's version.
func (s *Sandbox) Version(ctx context.Context) (string, error) {
	v, err := s.client.Version(s.ns(ctx))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return v.Version, nil
}

// Host returns the ceilings jobs are validated against.
func (s *Sandbox) Host() Host { return s.host }

// ns puts the sandbox's namespace on ctx.
func (s *Sandbox) ns(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, s.cfg.Namespace)
}

// isNotFound reports a containerd "not found" in any wrapping.
func isNotFound(err error) bool { return errdefs.IsNotFound(err) }
