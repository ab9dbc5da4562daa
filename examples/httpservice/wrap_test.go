package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging"
	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/codomyrmex/logging/internal/testutil"
)

// stderrTo points os.Stderr at a pipe and makes the console default (which
// writes to stderr) write there, until the test ends; it returns what was
// written, read once the test's logging is closed.
func stderrTo(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	orig := os.Stderr
	os.Stderr = w
	require.NoError(t, logging.Close()) // the console default, on the pipe
	var got bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&got, r); close(done) }()
	var out *string
	finish := func() string {
		if out == nil {
			os.Stderr = orig
			_ = logging.Close() // the console default, on the real stderr again
			_ = w.Close()
			<-done
			_ = r.Close()
			s := got.String()
			out = &s
		}
		return *out
	}
	t.Cleanup(func() { finish() })
	return finish
}

// serveDemo sends the service the requests of the other end-to-end test:
// a secret in the query, a 403 by user u-1001; and logs one record through
// slog's default logger, as the application's own code that uses slog does.
func serveDemo(t *testing.T, pw string) {
	t.Helper()
	srv := routes()
	get := func(path string, header map[string]string) {
		r := httptest.NewRequest("GET", path, nil)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		srv.ServeHTTP(httptest.NewRecorder(), r)
	}
	get("/orders?api_key="+pw+"&page=1", nil)
	get("/admin", map[string]string{"Authorization": "Bearer demo-token-" + "u-1001"})
	slog.Info("via slog", "password", pw)
}

// messages counts the records of a JSON handler's output by message.
func messages(t *testing.T, s string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		n[m["msg"].(string)]++
	}
	return n
}

// The README's other way, slog.SetDefault(slog.New(logging.Wrap(h))) alone:
// only what is logged through slog's default logger reaches h (redacted);
// the service's logging.Logger records, the middleware's access records and
// the security events go to the console default, stderr. Two outputs: this
// test documents why the README recommends WithHandler.
func TestWrapAloneIsTwoOutputs(t *testing.T) {
	pw := redacttest.Gen(redacttest.AlnumChars, 16)
	stderr := stderrTo(t)
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	var own testutil.SyncBuffer
	slog.SetDefault(slog.New(logging.Wrap(slog.NewJSONHandler(&own, nil))))
	serveDemo(t, pw)
	errOut := stderr()

	assert.Equal(t, map[string]int{"via slog": 1}, messages(t, own.String()), "only slog's default reaches h")
	for _, msg := range []string{"listing orders", "http.access", "security event: authz_denied"} {
		assert.Contains(t, errOut, msg, "goes to stderr, not to h")
	}
	assert.NotContains(t, own.String(), pw)
	assert.NotContains(t, errOut, pw)
}

// Wrap and Setup(WithHandler(h), WithConsole(nil)) together, in either
// order: every record reaches h exactly once, redacted, and nothing goes
// to stderr. (Setup makes slog's default the chain, which reaches h; a
// SetDefault after Setup sends slog's records through Wrap to h.)
func TestWrapWithHandlerIsOneOutput(t *testing.T) {
	for _, order := range []string{"Wrap then Setup", "Setup then Wrap"} {
		t.Run(order, func(t *testing.T) {
			pw := redacttest.Gen(redacttest.AlnumChars, 16)
			stderr := stderrTo(t)
			prev := slog.Default()
			t.Cleanup(func() { slog.SetDefault(prev) })
			var own testutil.SyncBuffer
			h := slog.NewJSONHandler(&own, nil)
			setup := func() {
				require.NoError(t, logging.Setup(logging.WithHandler(h), logging.Fixed(logging.WithConsole(nil))))
			}
			if order == "Wrap then Setup" {
				slog.SetDefault(slog.New(logging.Wrap(h)))
				setup()
			} else {
				setup()
				slog.SetDefault(slog.New(logging.Wrap(h)))
			}
			serveDemo(t, pw)
			require.NoError(t, logging.Close())

			assert.Equal(t, map[string]int{"listing orders": 1, "request": 2, "security event: authz_denied": 1, "via slog": 1},
				messages(t, own.String()))
			assert.NotContains(t, own.String(), pw)
			assert.Empty(t, stderr(), "nothing reaches stderr")
		})
	}
}
