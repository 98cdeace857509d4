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

// LibP2PLogLevel is the lowest level of libp2p's own logs (go-libp2p,
// gossipsub, kad-dht) that reach Spare's logger: their INFO and DEBUG are
// developer chatter. Routine warnings (routineLogs) arrive at DEBUG.
const LibP2PLogLevel = slog.LevelWarn

// LibP2PDebugEnv, when set to anything in the environment, lets go-libp2p's
// and gossipsub's DEBUG logs through (kad-dht's stay at WARN).
const LibP2PDebugEnv = "SPARE_LIBP2P_DEBUG"

var routeOnce sync.Once

// routeLibP2PLogs sends go-libp2p's slog-based logs and go-log's zap-based
// ones (kad-dht) to h, keeping only LibP2PLogLevel and above and demoting
// routine lines to DEBUG. Process-wide: the first call wins, as both
// libraries bind their handler once.
func routeLibP2PLogs(h slog.Handler) {
	routeOnce.Do(func() {
		gologshim.SetDefaultHandler(libp2pLogs(h, ""))
		golog.SetPrimaryCore(zapToSlog{h: h})
		golog.SetAllLoggers(golog.LevelWarn)
	})
}

// libp2pLevel is the lowest level of libp2p's logs that is kept.
func libp2pLevel() slog.Level {
	if os.Getenv(LibP2PDebugEnv) != "" {
		return slog.LevelDebug
	}
	return LibP2PLogLevel
}

// routineLogs are libp2p's warnings that are routine for Spare and that a
// person cannot act on: they are logged at DEBUG. Keyed by the library's
// logger name and message; an empty message stands for every message of
// that logger. Where the condition behind one matters, Spare says so in
// its own words (waitRoutingTable's callers: "no DHT peer yet").
var routineLogs = map[[2]string]bool{
	// The DHT has no peer yet (a network of two, or before the bootstrap
	// peers answer); pubsub retries every two minutes.
	{"pubsub", "bootstrap: error providing rendezvous for topic"}: true,
	// A connection closed before identify finished (a peer that left, a
	// duplicate connection pruned); libp2p drops the connection itself.
	{"net/identify", "failed to identify peer"}: true,
	// Refreshing an empty routing table fails until a DHT peer is known.
	{"dht/RtRefreshManager", ""}: true,
}

// routine reports whether a line of logger is one of routineLogs.
func routine(logger, msg string) bool {
	return routineLogs[[2]string{logger, msg}] || routineLogs[[2]string{logger, ""}]
}

// libp2pLogs wraps h for a libp2p logger: records below libp2pLevel are
// dropped and routine ones demoted to DEBUG. logger names the library's
// logger; empty, it is taken from the "logger" attribute go-libp2p's
// gologshim adds.
func libp2pLogs(h slog.Handler, logger string) slog.Handler {
	return libp2pHandler{Handler: h, min: libp2pLevel(), logger: logger}
}

// libp2pHandler is the slog.Handler libp2p's loggers write to.
type libp2pHandler struct {
	slog.Handler
	min    slog.Level
	logger string
}

var _ slog.Handler = libp2pHandler{}

func (l libp2pHandler) Enabled(ctx context.Context, lvl slog.Level) bool {
	return lvl >= l.min && l.Handler.Enabled(ctx, lvl)
}

func (l libp2pHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level > slog.LevelDebug && routine(l.logger, r.Message) {
		if !l.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return l.Handler.Handle(ctx, r)
}

func (l libp2pHandler) WithAttrs(as []slog.Attr) slog.Handler {
	for _, a := range as {
		if a.Key == "logger" && l.logger == "" {
			l.logger = a.Value.String()
		}
	}
	l.Handler = l.Handler.WithAttrs(as)
	return l
}

func (l libp2pHandler) WithGroup(g string) slog.Handler {
	l.Handler = l.Handler.WithGroup(g)
	return l
}

// zapToSlog is a zapcore.Core writing to an slog.Handler.
type zapToSlog struct {
	h      slog.Handler
	fields []zapcore.Field
}

var _ zapcore.Core = zapToSlog{}

func (z zapToSlog) Enabled(l zapcore.Level) bool { return l >= zapcore.WarnLevel }

func (z zapToSlog) With(fs []zapcore.Field) zapcore.Core {
	return zapToSlog{h: z.h, fields: append(append([]zapcore.Field(nil), z.fields...), fs...)}
}

func (z zapToSlog) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if z.Enabled(e.Level) {
		return ce.AddCore(e, z)
	}
	return ce
}

func (z zapToSlog) Write(e zapcore.Entry, fs []zapcore.Field) error {
	lvl := slog.LevelWarn
	switch {
	case routine(e.LoggerName, e.Message):
		if !z.h.Enabled(context.Background(), slog.LevelDebug) {
			return nil
		}
		lvl = slog.LevelDebug
	case e.Level >= zapcore.ErrorLevel:
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
