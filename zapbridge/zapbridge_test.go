package zapbridge_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/codomyrmex/logging"
	"github.com/codomyrmex/logging/logtest"
	"github.com/codomyrmex/logging/zapbridge"
)

// zap's entries go through the chain: redacted by key and pattern,
// sanitized, with the logger's name, the fields of With and of the call,
// and the chain's levels.
func TestZapThroughTheChain(t *testing.T) {
	rec := logtest.New(t, logging.WithLevels("INFO,billing=DEBUG"))
	base := zap.New(zapbridge.NewCore())
	l := base.Named("billing").With(zap.String("tenant", "acme"))
	l.Info("charged\nINFO forged", zap.String("password", "hunter2"), zap.Int("amount", 12),
		zap.Error(errors.New("retry")), zap.Strings("tags", []string{"a", "b"}))
	l.Debug("billing debug")
	base.Debug("dropped: the chain's level for zap is INFO")
	base.Error("unnamed")
	require.NoError(t, base.Sync())

	r, ok := rec.Find(logtest.Logger("billing"), logtest.Level("INFO"))
	require.True(t, ok, "%v", rec.Messages())
	assert.Equal(t, `charged\nINFO forged`, r.Message)
	assert.Equal(t, "[REDACTED]", r.Attrs["password"])
	assert.Equal(t, "acme", r.Attrs["tenant"])
	assert.InDelta(t, 12.0, r.Attrs["amount"], 0)
	assert.Equal(t, "retry", r.Attrs["error"])
	assert.Equal(t, []any{"a", "b"}, r.Attrs["tags"])
	assert.Len(t, rec.Filter(logtest.Message("billing debug")), 1)
	assert.Empty(t, rec.Filter(logtest.Logger("zap"), logtest.Level("DEBUG")))
	e, ok := rec.Find(logtest.Message("unnamed"))
	require.True(t, ok)
	assert.Equal(t, "zap", e.Logger)
	assert.Equal(t, "ERROR", e.Level)
}
