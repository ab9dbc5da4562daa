package zapbridge_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/codomyrmex/logging"
	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/codomyrmex/logging/internal/testutil"
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
	pw := redacttest.Gen(redacttest.AlnumChars, 12)
	l.Info("charged\nINFO forged", zap.String("password", pw), zap.Int("amount", 12),
		zap.Error(errors.New("retry")), zap.Strings("tags", []string{"a", "b"}))
	l.Debug("billing debug")
	base.Debug("dropped: the chain's level for zap is INFO")
	base.Error("unnamed")
	require.NoError(t, base.Sync())

	r, ok := rec.Find(logtest.Logger("billing"), logtest.Level("INFO"))
	require.True(t, ok, "%v", rec.Messages())
	assert.Equal(t, "charged\nINFO forged", r.Message, "decoded, as logged")
	assert.Contains(t, r.Line, `"charged\nINFO forged"`, "escaped in the line")
	assert.Equal(t, "[REDACTED]", r.Attrs["password"])
	assert.NotContains(t, r.Line, pw)
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

// A service ported to zap keeps one output: with its own handler as the
// chain's only sink (logging.WithHandler, the README's recommended way),
// its zap records, the middleware's access records and the security
// events all reach that handler, redacted, and nothing goes anywhere else.
func TestZapServiceHasOneOutput(t *testing.T) {
	var own testutil.SyncBuffer
	require.NoError(t, logging.Setup(logging.WithHandler(slog.NewJSONHandler(&own, nil)),
		logging.Fixed(logging.WithConsole(nil))))
	t.Cleanup(func() { _ = logging.Close() })
	zl := zap.New(zapbridge.NewCore()).Named("orders")
	key := "demo" + "Secret123"
	srv := logging.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zl.Info("listing orders", zap.String("api_key", key))
		if r.URL.Path == "/admin" {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	for _, path := range []string{"/orders?api_key=" + key, "/admin"} {
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	require.NoError(t, logging.Close())

	msgs := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(own.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		msgs[m["msg"].(string)]++
		if m["msg"] == "listing orders" {
			assert.Equal(t, "orders", m["logger"])
			assert.Equal(t, "[REDACTED]", m["api_key"])
		}
	}
	assert.Equal(t, 2, msgs["listing orders"], "zap's records")
	assert.Equal(t, 2, msgs["request"], "the access records")
	assert.Equal(t, 1, msgs["security event: authz_denied"], "the 403's event")
	assert.NotContains(t, own.String(), key)
}

// Fields keep their order, a key given twice is kept twice (the second
// as key#2, as the chain writes any repeated key), and a Namespace puts
// the fields after it in its group.
func TestZapFieldsInOrderAndRepeated(t *testing.T) {
	rec := logtest.New(t)
	l := zap.New(zapbridge.NewCore()).With(zap.String("a", "first"))
	l.Info("m", zap.String("z", "1"), zap.String("a", "second"), zap.Namespace("ns"), zap.Int("n", 1))
	require.NoError(t, l.Sync())
	r, ok := rec.Find(logtest.Message("m"))
	require.True(t, ok, "%v", rec.Messages())
	assert.Equal(t, "first", r.Attrs["a"])
	assert.Equal(t, "second", r.Attrs["a#2"])
	assert.Equal(t, map[string]any{"n": 1.0}, r.Attrs["ns"])
	assert.Less(t, strings.Index(r.Line, `"z"`), strings.Index(r.Line, `"a#2"`), "call order: %s", r.Line)
}
