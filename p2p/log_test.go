package p2p

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"go.uber.org/zap/zapcore"
)

// captured is a record as a handler received it.
type captured struct {
	level slog.Level
	msg   string
}

// captureHandler keeps every record at or above min, for all handlers
// derived from it.
type captureHandler struct {
	min  slog.Level
	mu   *sync.Mutex
	recs *[]captured
}

func newCapture(min slog.Level) captureHandler {
	return captureHandler{min: min, mu: new(sync.Mutex), recs: new([]captured)}
}

func (c captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= c.min }
func (c captureHandler) WithAttrs([]slog.Attr) slog.Handler           { return c }
func (c captureHandler) WithGroup(string) slog.Handler                { return c }

func (c captureHandler) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.recs = append(*c.recs, captured{r.Level, r.Message})
	return nil
}

func (c captureHandler) records() []captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]captured(nil), *c.recs...)
}

// logVia writes one record at lvl through the path a library's logger
// takes to Spare's handler h.
type logVia func(h slog.Handler, logger string, lvl slog.Level, msg string)

var logPaths = map[string]logVia{
	// go-libp2p's gologshim adds the logger's name as an attribute.
	"gologshim": func(h slog.Handler, logger string, lvl slog.Level, msg string) {
		slog.New(libp2pLogs(h, "").WithAttrs([]slog.Attr{slog.String("logger", logger)})).Log(context.Background(), lvl, msg, "err", "x")
	},
	// pubsub gets its logger from New.
	"pubsub option": func(h slog.Handler, logger string, lvl slog.Level, msg string) {
		slog.New(libp2pLogs(h, logger)).With("id", "me").Log(context.Background(), lvl, msg, "err", "x")
	},
	// kad-dht logs through go-log's zap core.
	"zap": func(h slog.Handler, logger string, lvl slog.Level, msg string) {
		zl := zapcore.WarnLevel
		if lvl >= slog.LevelError {
			zl = zapcore.ErrorLevel
		}
		e := zapcore.Entry{Level: zl, LoggerName: logger, Message: msg, Time: time.Now()}
		z := zapToSlog{h: h}
		if ce := z.Check(e, nil); ce != nil {
			ce.Write(zapcore.Field{Key: "err", Type: zapcore.StringType, String: "x"})
		}
	},
}

func TestLibP2PLogLevels(t *testing.T) {
	tests := []struct {
		name          string
		paths         []string
		logger, msg   string
		in            slog.Level
		atDebug       slog.Level // the level a handler at DEBUG receives
		droppedAtWarn bool       // whether a handler at WARN receives nothing
	}{
		{"rendezvous with no DHT peer", []string{"pubsub option", "gologshim"}, "pubsub", "bootstrap: error providing rendezvous for topic", slog.LevelWarn, slog.LevelDebug, true},
		{"identify of a peer that left", []string{"gologshim"}, "net/identify", "failed to identify peer", slog.LevelWarn, slog.LevelDebug, true},
		{"refreshing an empty routing table", []string{"zap"}, "dht/RtRefreshManager", "failed when refreshing routing table", slog.LevelWarn, slog.LevelDebug, true},
		{"another identify warning", []string{"gologshim"}, "net/identify", "something else", slog.LevelWarn, slog.LevelWarn, false},
		{"another pubsub warning", []string{"pubsub option", "gologshim"}, "pubsub", "bootstrap: error providing rendezvous", slog.LevelWarn, slog.LevelWarn, false},
		{"another DHT error", []string{"zap"}, "dht", "failed to bootstrap", slog.LevelError, slog.LevelError, false},
		{"the same message from another logger", []string{"gologshim"}, "swarm2", "failed to identify peer", slog.LevelWarn, slog.LevelWarn, false},
	}
	for _, tc := range tests {
		for _, path := range tc.paths {
			t.Run(tc.name+"/"+path, func(t *testing.T) {
				debug, warn := newCapture(slog.LevelDebug), newCapture(slog.LevelWarn)
				logPaths[path](debug, tc.logger, tc.in, tc.msg)
				logPaths[path](warn, tc.logger, tc.in, tc.msg)
				if got := debug.records(); len(got) != 1 || got[0].level != tc.atDebug || got[0].msg != tc.msg {
					t.Errorf("a handler at DEBUG got %v, want %q at %v", got, tc.msg, tc.atDebug)
				}
				if got := warn.records(); (len(got) == 0) != tc.droppedAtWarn {
					t.Errorf("a handler at WARN got %v, want dropped %v", got, tc.droppedAtWarn)
				}
			})
		}
	}
}

// libp2p's own INFO and DEBUG stay out unless LibP2PDebugEnv is set.
func TestLibP2PLogsBelowWarnDropped(t *testing.T) {
	t.Setenv(LibP2PDebugEnv, "")
	for _, path := range []string{"gologshim", "pubsub option"} {
		debug := newCapture(slog.LevelDebug)
		logPaths[path](debug, "pubsub", slog.LevelInfo, "pubsub processloop shutting down")
		if got := debug.records(); len(got) != 0 {
			t.Errorf("%s: got %v, want nothing", path, got)
		}
	}
	t.Setenv(LibP2PDebugEnv, "1")
	debug := newCapture(slog.LevelDebug)
	logPaths["pubsub option"](debug, "pubsub", slog.LevelInfo, "pubsub processloop shutting down")
	if got := debug.records(); len(got) != 1 || got[0].level != slog.LevelInfo {
		t.Errorf("with %s set: got %v, want the INFO line", LibP2PDebugEnv, got)
	}
}

// A lone host (a network of one, as each playground host starts) warns
// about nothing: its ads topic waits for a DHT peer before pubsub's
// rendezvous (said at DEBUG), and a failed rendezvous would be at DEBUG.
func TestLoneHostQuiet(t *testing.T) {
	logs := newCapture(slog.LevelDebug)
	newTestHost(t, Config{DataDir: t.TempDir(), NoMDNS: true, Logger: slog.New(logs)})
	var got []captured
	testenv.WaitFor(t, "the ads topic's rendezvous waiting", testTimeout, func() bool {
		got = logs.records()
		for _, r := range got {
			if r.msg == "ads topic: advertising once a DHT peer is known" {
				return true
			}
		}
		return false
	})
	for _, r := range got {
		if r.level >= slog.LevelWarn || (r.msg == "bootstrap: error providing rendezvous for topic" && r.level != slog.LevelDebug) {
			t.Errorf("%v %q", r.level, r.msg)
		}
	}
}
