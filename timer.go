package logging

import (
	"context"
	"log/slog"
	"time"
)

// Timer measures one operation and logs its duration when stopped, as the
// Python module's performance timing does:
//
//	t := logging.StartTimer(ctx, logger, "charge", slog.String("invoice", id)).SlowAfter(500 * time.Millisecond)
//	defer t.Stop()
//
// Stop logs a record whose message is the operation's name, with
// duration_ms (milliseconds, fractional) and the attrs, at INFO, or at
// WARNING when the operation took the slow threshold or longer. A Timer
// is a value: starting and stopping one allocates nothing when its level
// is disabled. The time comes from the chain's clock.
type Timer struct {
	ctx    context.Context
	logger *slog.Logger
	op     string
	attrs  []slog.Attr
	start  time.Time
	slow   time.Duration
}

// StartTimer starts timing the operation op, to be logged by logger with
// ctx's attrs and attrs.
func StartTimer(ctx context.Context, logger *slog.Logger, op string, attrs ...slog.Attr) Timer {
	return Timer{ctx: ctx, logger: logger, op: op, attrs: attrs, start: load().clock.Now()}
}

// SlowAfter returns t with a slow threshold: an operation that takes d or
// longer is logged at WARNING. Zero (the default) means never.
func (t Timer) SlowAfter(d time.Duration) Timer {
	t.slow = d
	return t
}

// Stop logs the operation's duration (see Timer), with attrs after the
// timer's own, and returns it.
func (t Timer) Stop(attrs ...slog.Attr) time.Duration {
	d := load().clock.Now().Sub(t.start)
	level := slog.LevelInfo
	if t.slow > 0 && d >= t.slow {
		level = slog.LevelWarn
	}
	ctx := t.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if t.logger == nil || !t.logger.Enabled(ctx, level) {
		return d
	}
	as := make([]slog.Attr, 0, 2+len(t.attrs)+len(attrs))
	as = append(as, slog.Float64("duration_ms", float64(d.Microseconds())/1000))
	if level == slog.LevelWarn {
		as = append(as, slog.Bool("slow", true))
	}
	as = append(append(as, t.attrs...), attrs...)
	t.logger.LogAttrs(ctx, level, t.op, as...)
	return d
}

// Time starts a Timer and returns its Stop, for one line at the top of a
// function:
//
//	defer logging.Time(ctx, logger, "charge")()
//
// The returned function allocates; use StartTimer and Stop where that
// matters.
func Time(ctx context.Context, logger *slog.Logger, op string, attrs ...slog.Attr) func() {
	t := StartTimer(ctx, logger, op, attrs...)
	return func() { t.Stop() }
}
