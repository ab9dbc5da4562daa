// Package zapbridge sends zap's entries through the logging chain: a
// zapcore.Core whose Write hands each entry to logging, where it is
// redacted, sanitized and written to the sinks Setup configured, with
// zap's logger name as the record's logger. It lives in a module of its
// own, so that zap enters only the dependency graphs of programs that
// import it.
//
// A service that logs with zap keeps its calls and changes how the logger
// is built:
//
//	logging.Setup()
//	logger := zap.New(zapbridge.NewCore(), zap.AddCaller())
//	logger.Info("charged", zap.String("card", number)) // redacted by the chain
package zapbridge

import (
	"context"
	"log/slog"
	"maps"
	"slices"

	"go.uber.org/zap/zapcore"

	"github.com/codomyrmex/logging"
)

// DefaultLoggerName is the logger of entries from an unnamed zap logger.
const DefaultLoggerName = "zap"

// NewCore returns a Core that passes every entry to the logging chain,
// which applies its own levels (CODOMYRMEX_LOG_LEVEL, per logger name).
func NewCore() zapcore.Core { return &core{} }

type core struct {
	fields []zapcore.Field // from With
}

// Enabled reports true: the chain's level depends on the logger's name,
// which only Check knows (and Check adds nothing for a disabled entry).
func (c *core) Enabled(zapcore.Level) bool { return true }

func (c *core) With(fields []zapcore.Field) zapcore.Core {
	return &core{fields: append(slices.Clip(c.fields), fields...)}
}

func (c *core) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if logging.Logger(name(e)).Enabled(context.Background(), level(e.Level)) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write hands the entry to the chain: its time, level, message and
// caller, the fields of With and of the call, as attrs in their order
// (objects and arrays as groups and lists; a field after zap.Namespace in
// its group). A key given twice is kept twice, the second written key#2,
// as the chain writes any repeated key.
func (c *core) Write(e zapcore.Entry, fields []zapcore.Field) error {
	r := slog.NewRecord(e.Time, level(e.Level), e.Message, e.Caller.PC)
	r.AddAttrs(attrsOf(append(slices.Clip(c.fields), fields...))...)
	if e.Stack != "" {
		r.AddAttrs(slog.String("stack", e.Stack))
	}
	return logging.Logger(name(e)).Handler().Handle(context.Background(), r)
}

// attrsOf turns zap fields into attrs, in order: each field is encoded
// alone (one encoder for all would keep only the last of two equal keys
// and lose the order); a Namespace field puts the fields after it in its
// group, as zap does.
func attrsOf(fields []zapcore.Field) []slog.Attr {
	var out []slog.Attr
	for i, f := range fields {
		if f.Type == zapcore.NamespaceType {
			return append(out, slog.Attr{Key: f.Key, Value: slog.GroupValue(attrsOf(fields[i+1:])...)})
		}
		enc := zapcore.NewMapObjectEncoder()
		f.AddTo(enc)
		for _, k := range slices.Sorted(maps.Keys(enc.Fields)) {
			out = append(out, slog.Any(k, enc.Fields[k]))
		}
	}
	return out
}

// Sync waits until the chain's file sinks hold what was written.
func (c *core) Sync() error {
	logging.Flush()
	return nil
}

func name(e zapcore.Entry) string {
	if e.LoggerName == "" {
		return DefaultLoggerName
	}
	return e.LoggerName
}

// level maps zap's levels to slog's: DPanic, Panic and Fatal are CRITICAL.
func level(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	case l == zapcore.ErrorLevel:
		return slog.LevelError
	}
	return logging.LevelCritical
}
