package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// Err writes an error's message and the types of its chain; Exception
// logs at ERROR, and with CODOMYRMEX_LOG_STACKS=error adds the stack, by
// import path, never the build machine's directories; the message is
// redacted like any value.
func TestErrAndException(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	_, statErr := os.Stat("/nonexistent-" + redacttest.Gen(redacttest.LowerChars, 8))
	err := fmt.Errorf("loading config with %s: %w", tok, errors.Join(statErr, fs.ErrPermission))
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("app").Error("failed", Err(err))
	m := lastJSON(t, buf)
	e := m["error"].(map[string]any)
	assert.NotContains(t, e["msg"], tok[4:])
	assert.Equal(t, []any{"*fmt.wrapError", "*errors.joinError", "*fs.PathError", "*errors.errorString", "syscall.Errno"}, e["types"])
	assert.NotContains(t, m, "stack")

	Exception(t.Context(), Logger("app"), "no stack by default", err)
	assert.NotContains(t, lastJSON(t, buf), "stack")

	t.Setenv(EnvPrefix+"STACKS", "error")
	buf = setup(t, WithOutputType(OutputJSON))
	Exception(t.Context(), Logger("app"), "with stack", err, slog.Int("attempt", 2))
	m = lastJSON(t, buf)
	assert.Equal(t, "ERROR", m["level"])
	st := m["stack"].([]any)
	require.NotEmpty(t, st)
	assert.True(t, strings.HasPrefix(st[0].(string), "github.com/codomyrmex/logging.TestErrAndException github.com/codomyrmex/logging/errattr_test.go:"), st[0])
	wd, _ := os.Getwd()
	assert.NotContains(t, buf.String(), wd)
	assert.InDelta(t, 2.0, m["attempt"], 0)
	assert.Equal(t, slog.Group("error"), Err(nil))
}
