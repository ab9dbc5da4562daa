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

	assert.Equal(t, []string{"charged", `detail\nINFO forged`, "security event: authz_denied"}, rec.Messages(), "the line break escaped")
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
