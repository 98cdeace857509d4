package p2p

import (
	"context"
	"log/slog"
	"os"
	"sync"

	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"
	"go.uber.org/zap/zapcore"
)

// LibP2PLogLevel is the lowest level of libp2p's own logs that reach Spare's
// logger: its INFO and DEBUG are developer chatter.
const LibP2PLogLevel = slog.LevelWarn

// LibP2PDebugEnv, when set to anything in the environment, lets go-libp2p's
// DEBUG logs through (kad-dht's stay at WARN).
const LibP2PDebugEnv = "SPARE_LIBP2P_DEBUG"

var routeOnce sync.Once

// routeLibP2PLogs sends go-libp2p's slog-based logs and go-log's zap-based
// ones (kad-dht) to h, keeping only LibP2PLogLevel and above. Process-wide:
// the first call wins, as both libraries bind their handler once.
func routeLibP2PLogs(h slog.Handler) {
	routeOnce.Do(func() {
		lvl := LibP2PLogLevel
		if os.Getenv(LibP2PDebugEnv) != "" {
			lvl = slog.LevelDebug
		}
		gologshim.SetDefaultHandler(minLevel{h, lvl})
		golog.SetPrimaryCore(zapToSlog{h: h})
		golog.SetAllLoggers(golog.LevelWarn)
	})
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(a), m.min}
}

func (m minLevel) WithGroup(g string) slog.Handler {
	return minLevel{m.Handler.WithGroup(g), m.min}
}

// zapToSlog is a zapcore.Core writing to an slog.Handler.
type zapToSlog struct {
	h      slog.Handler
	fields []zapcore.Field
}

var _ zapcore.Core = zapToSlog{}

func (z zapToSlog) Enabled(l zapcore.Level) bool { return l >= zapcore.WarnLevel }

// quietLoggers are libp2p loggers whose warnings are routine for Spare (an
// empty routing table before any peer is known) and are dropped.
var quietLoggers = map[string]bool{"dht/RtRefreshManager": true}

func (z zapToSlog) With(fs []zapcore.Field) zapcore.Core {
	return zapToSlog{h: z.h, fields: append(append([]zapcore.Field(nil), z.fields...), fs...)}
}

func (z zapToSlog) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if z.Enabled(e.Level) && !quietLoggers[e.LoggerName] {
		return ce.AddCore(e, z)
	}
	return ce
}

func (z zapToSlog) Write(e zapcore.Entry, fs []zapcore.Field) error {
	lvl := slog.LevelWarn
	if e.Level >= zapcore.ErrorLevel {
		lvl = slog.LevelError
	}
	r := slog.NewRecord(e.Time, lvl, e.Message, 0)
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range z.fields {
		f.AddTo(enc)
	}
	for _, f := range fs {
		f.AddTo(enc)
	}
	r.AddAttrs(slog.String("logger", e.LoggerName))
	for k, v := range enc.Fields {
		r.AddAttrs(slog.Any(k, v))
	}
	return z.h.Handle(context.Background(), r)
}

func (z zapToSlog) Sync() error { return nil }
