package logging

import (
	"context"
	"errors"
	"log/slog"
)

// WithHandler adds h as a sink: it receives every record the chain lets
// through (and that h is Enabled for), after redaction and sanitizing, as
// a slog.Record: the logger's name as the attr "logger" and the
// process-wide attrs first, then the groups and attrs of the logger
// (WithGroup and With reach h as WithGroup and WithAttrs), the record's
// attrs and the context's. It is how a program that has its own handler
// (an OpenTelemetry log bridge, a handler of its platform) keeps one output
// for everything — its own records, Logger(...), SecurityEvent and
// Middleware:
//
//	logging.Setup(logging.WithHandler(myHandler), logging.WithConsole(nil))
//
// makes h the only output. Strings reach h escaped (as Sanitize does) and
// cut to the size limit. h must be safe for concurrent use.
func WithHandler(h slog.Handler) Option {
	return option("WithHandler", bySetup, func(c *config) error {
		if h == nil {
			return optErr("WithHandler", "nil", errors.New("a nil handler"))
		}
		c.handlers = append(c.handlers, h)
		return nil
	})
}

// handlerSinks returns the handlers of p for a logger named name (with the
// logger's ops replayed on them), each behind the secure stages.
func (p *pipeline) handlerSinks(name string, attrs []slog.Attr, ops []handlerOp) []slog.Handler {
	if len(p.handlers) == 0 {
		return nil
	}
	out := make([]slog.Handler, 0, len(p.handlers))
	for _, h := range p.handlers {
		var sh slog.Handler = newStage(h, p.hm[escapeFor(h)], true, p.extractors, slogKeys)
		sh = sh.WithAttrs(append([]slog.Attr{slog.String("logger", name)}, attrs...))
		for _, op := range ops {
			if op.attrs != nil {
				sh = sh.WithAttrs(op.attrs)
			} else {
				sh = sh.WithGroup(op.group)
			}
		}
		out = append(out, sh)
	}
	return out
}

// toHandlers gives r to each handler sink that is enabled for its level.
func toHandlers(ctx context.Context, hs []slog.Handler, r slog.Record) {
	for _, h := range hs {
		if h.Enabled(ctx, r.Level) {
			_ = h.Handle(ctx, r.Clone())
		}
	}
}

// WithStdLogName names the logger of the standard log package's records
// ("root" by default). Their prefix and header (log.SetPrefix,
// log.SetFlags) are taken off the message either way.
func WithStdLogName(name string) Option {
	return option("WithStdLogName", bySetup, func(c *config) error {
		if name == "" {
			return optErr("WithStdLogName", name, errors.New("an empty name"))
		}
		c.stdLogName = name
		return nil
	})
}
