package logging

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// With CODOMYRMEX_LOG_CAPTURE_STDIO, what the process prints becomes
// records of the loggers stdout and stderr, redacted and sanitized; the
// console keeps writing to the original file (no loop); Close puts the
// original files back after logging what was written.
func TestCaptureStdio(t *testing.T) {
	origOut, origErr := os.Stdout, os.Stderr
	console, err := os.CreateTemp(t.TempDir(), "console")
	require.NoError(t, err)
	os.Stderr = console // the "terminal" the console sink keeps writing to
	t.Cleanup(func() { stopCapture(); os.Stdout, os.Stderr = origOut, origErr })

	t.Setenv(EnvPrefix+"CAPTURE_STDIO", "true")
	require.NoError(t, Setup(WithOutputType(OutputJSON)))
	assert.NotSame(t, console, os.Stderr, "captured")
	tok := redacttest.GHToken("gh" + "p")
	fmt.Println("hello from fmt, token", tok)
	fmt.Fprint(os.Stderr, "warning\rINFO forged\nsecond line\n")
	require.NoError(t, Close())
	assert.Same(t, console, os.Stderr, "restored")
	assert.Same(t, origOut, os.Stdout, "restored")

	b, err := os.ReadFile(console.Name())
	require.NoError(t, err)
	lines := jsonLines(t, string(b))
	require.Len(t, lines, 3, string(b))
	var out, errs []map[string]any // the two pipes are read side by side: order within each
	for _, m := range lines {
		if m["logger"] == "stdout" {
			out = append(out, m)
		} else {
			errs = append(errs, m)
		}
	}
	require.Len(t, out, 1)
	require.Len(t, errs, 2)
	assert.Equal(t, "INFO", out[0]["level"])
	assert.True(t, strings.HasPrefix(out[0]["msg"].(string), "hello from fmt, token [REDACTED:github-token]"), out[0]["msg"])
	assert.Equal(t, "stderr", errs[0]["logger"])
	assert.Equal(t, "WARN", errs[0]["level"])
	assert.Equal(t, "warning\rINFO forged", errs[0]["msg"])
	assert.Contains(t, string(b), `"warning\rINFO forged"`)
	assert.Equal(t, "second line", errs[1]["msg"])
}

// A Setup made while the capture is on, given os.Stderr as its console
// and os.Stdout as a sink (both the capture's pipes by then), writes to
// the original files: every line arrives once, and nothing written by the
// chain comes back through a pipe.
func TestCaptureStdioSetupAgainWithStdFiles(t *testing.T) {
	origOut, origErr := os.Stdout, os.Stderr
	dir := t.TempDir()
	console, err := os.CreateTemp(dir, "stderr")
	require.NoError(t, err)
	stdout, err := os.CreateTemp(dir, "stdout")
	require.NoError(t, err)
	os.Stdout, os.Stderr = stdout, console // the "terminal"
	t.Cleanup(func() { stopCapture(); os.Stdout, os.Stderr = origOut, origErr })

	require.NoError(t, Setup(WithCaptureStdio(true), WithOutputType(OutputJSON)))
	require.NotSame(t, console, os.Stderr, "captured")
	require.NoError(t, Setup(WithCaptureStdio(true), WithOutputType(OutputJSON),
		WithConsole(os.Stderr), WithSink("copy", os.Stdout)))

	var ws []io.Writer // the chain's writers: the original files, never the pipes
	for _, lw := range load().writers {
		ws = append(ws, lw.w)
	}
	assert.Contains(t, ws, io.Writer(console))
	assert.Contains(t, ws, io.Writer(stdout))
	assert.NotContains(t, ws, io.Writer(os.Stderr))
	assert.NotContains(t, ws, io.Writer(os.Stdout))

	Logger("app").Info("hello")
	fmt.Println("printed")
	require.NoError(t, Close())

	for _, f := range []*os.File{console, stdout} {
		b, err := os.ReadFile(f.Name())
		require.NoError(t, err)
		var msgs []string
		for _, m := range jsonLines(t, string(b)) {
			msgs = append(msgs, m["logger"].(string)+": "+m["msg"].(string))
		}
		assert.ElementsMatch(t, []string{"app: hello", "stdout: printed"}, msgs, f.Name())
	}
}

// The goroutine that reads a pipe never waits for the chain: with nobody
// logging, push returns for every line, keeps what fits in the bound and
// counts the rest, and take hands them over in order.
func TestCaptureQueueNeverBlocks(t *testing.T) {
	q := newLineQueue(10)
	for _, l := range []string{"abc", "defg", "hi", "j"} { // 4+5 fit, 3 does not, 2 does not
		q.push(l)
	}
	lines, dropped, ok := q.take()
	require.True(t, ok)
	assert.Equal(t, []string{"abc", "defg"}, lines)
	assert.Equal(t, 2, dropped)

	q.push("k") // room again once taken
	q.close()
	lines, dropped, ok = q.take()
	require.True(t, ok)
	assert.Equal(t, []string{"k"}, lines)
	assert.Zero(t, dropped)
	_, _, ok = q.take()
	assert.False(t, ok, "closed and empty")
}

// Lines longer than the reader's buffer become several lines; the last
// line needs no newline.
func TestReadCaptured(t *testing.T) {
	q := newLineQueue(1 << 30)
	long := strings.Repeat("x", maxCapturedLine+10)
	require.NoError(t, readCaptured(strings.NewReader("a\n"+long+"\nb"), q))
	q.close()
	lines, _, _ := q.take()
	assert.Equal(t, []string{"a", long[:maxCapturedLine], long[maxCapturedLine:], "b"}, lines)
}
