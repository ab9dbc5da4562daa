package logging

import (
	"fmt"
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
	assert.Equal(t, `warning\rINFO forged`, errs[0]["msg"])
	assert.Equal(t, "second line", errs[1]["msg"])
}
