package main

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging"
	"github.com/codomyrmex/logging/internal/testutil"
)

// The service, ported to keep its own handler (logging.WithHandler, the
// README's recommended way): its records, the middleware's access records
// and the security events all reach that one handler, redacted, and
// nothing goes anywhere else: nothing reaches stderr.
func TestOneOutputWithOwnHandler(t *testing.T) {
	stderr := stderrTo(t)
	var own testutil.SyncBuffer
	require.NoError(t, logging.Setup(logging.WithHandler(slog.NewJSONHandler(&own, nil)),
		logging.Fixed(logging.WithConsole(nil)))) // the handler is the only output
	t.Cleanup(func() { _ = logging.Close() })
	srv := routes()
	get := func(path string, header map[string]string) {
		r := httptest.NewRequest("GET", path, nil)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		srv.ServeHTTP(httptest.NewRecorder(), r)
	}
	get("/orders?api_key="+"demo"+"Secret123&page=1", nil)
	get("/admin", map[string]string{"Authorization": "Bearer demo-token-" + "u-1001"})
	require.NoError(t, logging.Close())

	msgs := map[string]map[string]any{}
	var paths []any
	for _, line := range strings.Split(strings.TrimSpace(own.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		msgs[m["msg"].(string)] = m
		if m["msg"] == "request" {
			paths = append(paths, m["path"])
		}
	}
	assert.Contains(t, msgs, "listing orders", "the service's own record")
	assert.Equal(t, []any{"/orders?api_key=[REDACTED]&page=1", "/admin"}, paths, "the access records, redacted")
	assert.Equal(t, "u-1001", msgs["security event: authz_denied"]["user_id"], "the 403 event names the user")
	assert.NotContains(t, own.String(), "demoSecret123")
	assert.Empty(t, stderr(), "nothing reaches stderr")
}
