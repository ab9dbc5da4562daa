package logging

import (
	"context"
	"log/slog"
	"path"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// callSite names the code at pc for the package's own reports (a rate
// limiter's summary, a secret_exposure event) without the build machine's
// layout: the import path of the function's package, the file's base name
// and the line ("github.com/acme/shop/billing/charge.go:42"), whatever
// directory the program was built in. "unknown" when pc is 0 or unknown.
func callSite(pc uintptr) string {
	if pc == 0 {
		return "unknown"
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	if f.File == "" {
		return "unknown"
	}
	return framePath(f) + ":" + strconv.Itoa(f.Line)
}

// framePath is a frame's file as the import path of its function's
// package and the file's base name. The package main is named by its
// import path when the build recorded one ("github.com/acme/shop/cmd/api/main.go"),
// else "main" (a program built from files, go run main.go).
func framePath(f runtime.Frame) string {
	return framePathIn(f, mainPackagePath())
}

func framePathIn(f runtime.Frame, mainPath string) string {
	file := path.Base(strings.ReplaceAll(f.File, "\\", "/"))
	if pkg := funcPackage(f.Function); pkg != "" {
		if pkg == "main" && mainPath != "" {
			pkg = mainPath
		}
		file = pkg + "/" + file
	}
	return file
}

// mainPackagePath is the import path of the program's main package, or ""
// when the build did not record one.
var mainPackagePath = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Path == "" || bi.Path == "command-line-arguments" {
		return ""
	}
	return bi.Path
})

// callerPC returns the program counter of the function skip frames above
// the caller of callerPC (0: the caller's caller).
func callerPC(skip int) uintptr {
	var pcs [1]uintptr
	runtime.Callers(skip+3, pcs[:]) // skip Callers, callerPC and its caller
	return pcs[0]
}

// logAt logs msg at level on logger, if its level lets it through, with pc
// as the record's call site: the caller's for records the package writes
// for it (Exception, Critical), 0 (no source) for records no line of the
// program wrote (captured output, the package's own reports), so that a
// record's source never names a file of this package.
func logAt(ctx context.Context, logger *slog.Logger, level slog.Level, pc uintptr, msg string, attrs []slog.Attr, args ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !logger.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, pc)
	r.AddAttrs(attrs...)
	r.Add(args...)
	_ = logger.Handler().Handle(ctx, r)
}

// funcPackage returns the import path of a function's package from its
// full name ("github.com/acme/shop/billing.(*Svc).Charge.func1" →
// "github.com/acme/shop/billing"), or "".
func funcPackage(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return ""
	}
	return fn[:slash+1+dot]
}
