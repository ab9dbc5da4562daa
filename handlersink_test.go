package logging

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// A program's own handler as the only output: every record (its loggers,
// slog's default, SecurityEvent, Middleware) reaches it, redacted and
// escaped, with the logger's name, groups and attrs, and its Enabled
// honoured.
func TestWithHandlerIsOneOutput(t *testing.T) {
	var out syncBuffer
	h := slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})
	require.NoError(t, Setup(WithHandler(h), WithConsole(nil), WithLevel(slog.LevelDebug)))
	t.Cleanup(func() { _ = Close() })

	pw := redacttest.Gen(redacttest.AlnumChars, 12)
	Logger("billing").With("tenant", "acme").WithGroup("g").Info("charged\nINFO forged", "password", pw, "k", "v")
	Logger("billing").Debug("below the handler's level")
	slog.Info("via slog")
	SecurityEvent(context.Background(), Event{Type: AuthzDenied, UserID: "u-1"})
	Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	require.NoError(t, Close())

	lines := jsonLines(t, out.String())
	byMsg := map[string]map[string]any{}
	for _, m := range lines {
		byMsg[m["msg"].(string)] = m
	}
	m := byMsg["charged\nINFO forged"] // decoded: slog's handler escaped the line break, once
	require.NotNil(t, m, out.String())
	assert.Contains(t, out.String(), `"msg":"charged\nINFO forged"`, "one escape in the line")
	assert.Equal(t, "billing", m["logger"])
	assert.Equal(t, "acme", m["tenant"])
	assert.Equal(t, map[string]any{"password": "[REDACTED]", "k": "v"}, m["g"])
	assert.NotContains(t, out.String(), pw)
	assert.NotContains(t, out.String(), "below the handler's level", "the handler's Enabled")
	assert.Equal(t, "root", byMsg["via slog"]["logger"])
	assert.Equal(t, "u-1", byMsg["security event: authz_denied"]["user_id"])
	assert.Contains(t, byMsg, "request", "the middleware's access record")
	assert.Contains(t, byMsg, "security event: authn_failure", "the middleware's 401 event")
	assert.Equal(t, len(lines), strings.Count(out.String(), "\n"), "one line per record")
}

// The package's own records (Setup's notices, here that a variable
// overrides an option) reach a WithHandler handler that is the only
// output.
func TestWithHandlerGetsSetupNotices(t *testing.T) {
	t.Setenv(EnvPrefix+"LEVEL", "ERROR")
	var out syncBuffer
	require.NoError(t, Setup(WithHandler(slog.NewJSONHandler(&out, nil)), WithConsole(nil), WithLevel(slog.LevelInfo)))
	t.Cleanup(func() { _ = Close() })
	Logger("billing").Error("billing error")
	require.NoError(t, Close())
	var msgs []string
	for _, m := range jsonLines(t, out.String()) {
		msgs = append(msgs, m["msg"].(string))
		if strings.Contains(m["msg"].(string), "overrides") {
			assert.Equal(t, "logging", m["logger"])
			assert.Equal(t, "WARN", m["level"])
		}
	}
	assert.Contains(t, msgs, "CODOMYRMEX_LOG_LEVEL overrides WithLevel given by the program")
	assert.Contains(t, msgs, "billing error")
}
