package logging

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
)

// maxErrorChain bounds how many errors of a wrapped chain Err names, and
// maxStack how many frames Exception writes.
const (
	maxErrorChain = 16
	maxStack      = 32
)

// Err returns the attr "error" for err, as the Python module's exc_info
// writes an exception: a group with msg (err.Error()) and types, the Go
// types of the chain errors.Unwrap and errors.Join reveal, outermost first
// ("*fmt.wrapError", "*fs.PathError", "syscall.Errno"), at most 16. Like
// every value, msg is redacted and escaped. A nil err gives an empty group,
// which handlers leave out.
func Err(err error) slog.Attr {
	if err == nil {
		return slog.Group("error")
	}
	return slog.Group("error", slog.String("msg", err.Error()), slog.Any("types", errorTypes(err)))
}

// errorTypes lists the types of err's chain, breadth first.
func errorTypes(err error) []string {
	var types []string
	queue := []error{err}
	for len(queue) > 0 && len(types) < maxErrorChain {
		e := queue[0]
		queue = queue[1:]
		if e == nil {
			continue
		}
		types = append(types, fmt.Sprintf("%T", e))
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			queue = append(queue, u.Unwrap())
		case interface{ Unwrap() []error }:
			queue = append(queue, u.Unwrap()...)
		}
	}
	return types
}

// Exception logs msg at ERROR with Err(err) and attrs, as the Python
// module's logger.exception does; with CODOMYRMEX_LOG_STACKS=error
// (WithStacks) it adds "stack", the calling goroutine's frames from the
// caller of Exception, each as function and import-path-relative file
// ("github.com/acme/shop/billing.(*Svc).Charge github.com/acme/shop/billing/charge.go:42"),
// never the build machine's directories.
//
// The record's call site (its source with ADD_SOURCE, its rate-limit
// bucket) is the caller of Exception.
func Exception(ctx context.Context, logger *slog.Logger, msg string, err error, attrs ...slog.Attr) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !logger.Enabled(ctx, slog.LevelError) {
		return
	}
	as := make([]slog.Attr, 0, len(attrs)+2)
	as = append(as, Err(err))
	if load().stacks {
		as = append(as, slog.Any("stack", stack(3)))
	}
	logAt(ctx, logger, slog.LevelError, callerPC(0), msg, append(as, attrs...))
}

// stack returns the frames of the calling goroutine from skip on (see
// runtime.Callers), at most maxStack.
func stack(skip int) []string {
	var pcs [maxStack]uintptr
	n := runtime.Callers(skip, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	var out []string
	for {
		f, more := frames.Next()
		if f.Function != "" {
			out = append(out, f.Function+" "+framePath(f)+":"+strconv.Itoa(f.Line))
		}
		if !more {
			return out
		}
	}
}

// WithStacks adds the calling goroutine's stack to records logged with
// Exception (CODOMYRMEX_LOG_STACKS=error; off by default).
func WithStacks(on bool) Option {
	return option("WithStacks", bySetup, func(c *config) error { c.stacks = on; return nil })
}
