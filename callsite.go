package logging

import (
	"path"
	"runtime"
	"strconv"
	"strings"
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
// package and the file's base name.
func framePath(f runtime.Frame) string {
	file := path.Base(strings.ReplaceAll(f.File, "\\", "/"))
	if pkg := funcPackage(f.Function); pkg != "" {
		file = pkg + "/" + file
	}
	return file
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
