package logging

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
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
// WARNING when the operation took the slow threshold or longer. The
// record's call site (its source with ADD_SOURCE, its rate-limit bucket)
// is where StartTimer or Time was called, whichever function stops it.
// The time comes from the chain's clock.
//
// A Timer is a value. When its logger has WARNING disabled at StartTimer,
// the timer is off: it keeps nothing, Stop logs nothing, and starting and
// stopping it (StartTimer with attrs, SlowAfter, Stop, and
// defer Time(...)()) allocates nothing.
type Timer struct {
	ctx    context.Context
	logger *slog.Logger
	op     string
	attrs  []slog.Attr // a copy: the caller's attrs never escape
	start  time.Time
	slow   time.Duration
	pc     uintptr // where StartTimer or Time was called; 0: the timer is off
}

// StartTimer starts timing the operation op, to be logged by logger with
// ctx's attrs and attrs.
func StartTimer(ctx context.Context, logger *slog.Logger, op string, attrs ...slog.Attr) Timer {
	return startTimer(ctx, logger, op, attrs)
}

// startTimer is StartTimer for the function 2 frames up (StartTimer's or
// Time's caller).
func startTimer(ctx context.Context, logger *slog.Logger, op string, attrs []slog.Attr) Timer {
	if ctx == nil {
		ctx = context.Background()
	}
	// WARNING is the highest level Stop uses: below it nothing will be logged.
	if logger == nil || !logger.Enabled(ctx, slog.LevelWarn) {
		return Timer{}
	}
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:]) // skip Callers, startTimer and StartTimer (or Time)
	pc := pcs[0]
	if pc == 0 {
		pc = 1 // on all the same; callSite names it "unknown"
	}
	return Timer{ctx: ctx, logger: logger, op: op, attrs: slices.Clone(attrs), start: load().clock.Now(), pc: pc}
}

// SlowAfter returns t with a slow threshold: an operation that takes d or
// longer is logged at WARNING. Zero (the default) means never.
func (t Timer) SlowAfter(d time.Duration) Timer {
	t.slow = d
	return t
}

// Stop logs the operation's duration (see Timer), with attrs after the
// timer's own, and returns it (0 for a timer that is off).
func (t Timer) Stop(attrs ...slog.Attr) time.Duration {
	if t.pc == 0 {
		return 0
	}
	end := load().clock.Now()
	d := end.Sub(t.start)
	level := slog.LevelInfo
	if t.slow > 0 && d >= t.slow {
		level = slog.LevelWarn
	}
	if !t.logger.Enabled(t.ctx, level) {
		return d
	}
	r := slog.NewRecord(end, level, t.op, t.pc)
	r.AddAttrs(slog.Float64("duration_ms", float64(d.Microseconds())/1000))
	if level == slog.LevelWarn {
		r.AddAttrs(slog.Bool("slow", true))
	}
	r.AddAttrs(t.attrs...)
	r.AddAttrs(attrs...)
	_ = t.logger.Handler().Handle(t.ctx, r)
	return d
}

// Time starts a Timer and returns its Stop, for one line at the top of a
// function:
//
//	defer logging.Time(ctx, logger, "charge")()
//
// The returned function allocates only when the timer is on.
func Time(ctx context.Context, logger *slog.Logger, op string, attrs ...slog.Attr) func() {
	t := startTimer(ctx, logger, op, attrs)
	if t.pc == 0 {
		return stopNothing
	}
	return func() { t.Stop() }
}

func stopNothing() {}
