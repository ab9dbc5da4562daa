package logtest_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging"
	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/codomyrmex/logging/logtest"
)

// Records are seen as they leave the chain: redacted, sanitized, with
// their level, logger, message and attrs, and can be selected by each.
func TestRecorder(t *testing.T) {
	rec := logtest.New(t, logging.WithLevel(slog.LevelDebug))
	tok := redacttest.GHToken("gh" + "p")
	logging.Logger("billing").Info("charged", "token", tok, "amount", 12, slog.Group("card", "last4", "4242"))
	logging.Logger("billing").Debug("detail\nINFO forged")
	logging.SecurityEvent(context.Background(), logging.Event{Type: logging.AuthzDenied, UserID: "u-1"})

	assert.Equal(t, []string{"charged", "detail\nINFO forged", "security event: authz_denied"}, rec.Messages(), "decoded, the message as logged")
	forged, ok := rec.Find(logtest.Level("DEBUG"))
	require.True(t, ok)
	assert.Contains(t, forged.Line, `"detail\nINFO forged"`, "the line break escaped in the line")
	assert.NotContains(t, forged.Line, "\n")
	r, ok := rec.Find(logtest.Logger("billing"), logtest.Message("charged"))
	require.True(t, ok)
	assert.Equal(t, "INFO", r.Level)
	assert.Equal(t, "[REDACTED]", r.Attrs["token"])
	assert.InDelta(t, 12.0, r.Attrs["amount"], 0)
	assert.Equal(t, map[string]any{"last4": "4242"}, r.Attrs["card"])
	assert.NotContains(t, r.Line, tok[4:])
	assert.False(t, r.Time.IsZero())

	assert.Len(t, rec.Filter(logtest.Level("DEBUG")), 1)
	assert.Len(t, rec.Filter(logtest.Logger("security"), logtest.Attr("user_id", "u-1")), 1)
	_, ok = rec.Find(logtest.Message("missing"))
	assert.False(t, ok)

	rec.Reset()
	assert.Empty(t, rec.Records())
}

// The environment cannot change what the recorder needs to read records:
// with CODOMYRMEX_LOG_OUTPUT_TYPE=TEXT and the Codomyrmex JSON schema in
// the environment, the records are still seen (and Setup says it ignored
// the variables).
func TestRecorderPinsItsFormat(t *testing.T) {
	t.Setenv(logging.EnvPrefix+"OUTPUT_TYPE", "TEXT")
	t.Setenv(logging.EnvPrefix+"JSON_SCHEMA", "codomyrmex")
	rec := logtest.New(t)
	logging.Logger("billing").Info("charged", "amount", 12)

	r, ok := rec.Find(logtest.Logger("billing"), logtest.Message("charged"))
	require.True(t, ok, "%v", rec.Records())
	assert.Equal(t, "INFO", r.Level)
	assert.InDelta(t, 12.0, r.Attrs["amount"], 0)
	assert.Len(t, rec.Filter(logtest.Logger("logging"), logtest.Level("WARNING")), 2, "%v", rec.Messages())
}

// Level takes WARN and WARNING (the name the Python module and
// CODOMYRMEX_LOG_LEVEL use), in any case, and offsets.
func TestLevelNames(t *testing.T) {
	rec := logtest.New(t)
	l := logging.Logger("app")
	l.Warn("careful")
	l.Log(context.Background(), slog.LevelWarn+1, "a bit more")
	l.Info("fine")
	for _, name := range []string{"WARN", "WARNING", "warning", "Warn"} {
		assert.Equal(t, []string{"careful"}, messages(rec.Filter(logtest.Level(name))), name)
	}
	assert.Equal(t, []string{"a bit more"}, messages(rec.Filter(logtest.Level("WARNING+1"))))
	assert.Equal(t, []string{"fine"}, messages(rec.Filter(logtest.Level("info"))))
}

func messages(rs []logtest.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Message)
	}
	return out
}
