package logging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With ADD_SOURCE, the records the package writes for the program carry
// the program's call site (Exception, Critical), and those no line of the
// program wrote (the package's own warnings) carry none: never a file of
// the package.
func TestLibraryRecordsCarryTheCallersSource(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON), WithAddSource(true))
	ctx := context.Background()
	_, file, line, _ := runtime.Caller(0)
	Exception(ctx, Logger("app"), "failed", errors.New("boom")) // line+1
	Critical(ctx, Logger("app"), "down", "attempt", 2)          // line+2
	logAt(ctx, internalLogger, slog.LevelWarn, 0, "a report", nil)

	ls := jsonLines(t, buf.String())
	require.Len(t, ls, 3)
	for i, want := range []int{line + 1, line + 2} {
		src, ok := ls[i]["source"].(map[string]any)
		require.True(t, ok, ls[i])
		assert.Equal(t, fmt.Sprintf("%s:%d", file, want), fmt.Sprintf("%s:%v", src["file"], src["line"]), ls[i]["msg"])
	}
	assert.InDelta(t, 2.0, ls[1]["attempt"], 0)
	assert.NotContains(t, ls[2], "source", "the package's own report")
	for _, m := range ls {
		assert.NotContains(t, fmt.Sprint(m), "errattr.go")
		assert.NotContains(t, fmt.Sprint(m), "levels.go")
		assert.NotContains(t, fmt.Sprint(m), "callsite.go")
	}
}

// Captured lines have no source: no line of the program wrote them
// through the logger.
func TestCapturedLinesHaveNoSource(t *testing.T) {
	origOut, origErr := os.Stdout, os.Stderr
	console, err := os.CreateTemp(t.TempDir(), "console")
	require.NoError(t, err)
	os.Stderr = console
	t.Cleanup(func() { stopCapture(); os.Stdout, os.Stderr = origOut, origErr })

	require.NoError(t, Setup(WithCaptureStdio(true), WithOutputType(OutputJSON), WithAddSource(true)))
	fmt.Println("printed")
	require.NoError(t, Close())
	b, err := os.ReadFile(console.Name())
	require.NoError(t, err)
	ls := jsonLines(t, string(b))
	require.Len(t, ls, 1, string(b))
	assert.Equal(t, "printed", ls[0]["msg"])
	assert.NotContains(t, ls[0], "source")
}

// The package main is named by the main package's import path the build
// recorded, and "main" without one.
func TestFramePathOfMain(t *testing.T) {
	f := runtime.Frame{Function: "main.main", File: filepath.Join(t.TempDir(), "cmd", "api", "main.go")}
	assert.Equal(t, "github.com/acme/shop/cmd/api/main.go", framePathIn(f, "github.com/acme/shop/cmd/api"))
	assert.Equal(t, "main/main.go", framePathIn(f, ""))
	g := runtime.Frame{Function: "github.com/acme/shop/billing.(*Svc).Charge", File: "/x/billing/charge.go"}
	assert.Equal(t, "github.com/acme/shop/billing/charge.go", framePathIn(g, "github.com/acme/shop/cmd/api"))
}
