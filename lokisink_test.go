package logging

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/codomyrmex/logging/loki"
	"github.com/codomyrmex/logging/loki/lokitest"
)

func TestLokiFromEnvironment(t *testing.T) {
	srv := lokitest.NewServer() // for configuration checks; the real Loki is in internal/e2e
	defer srv.Close()
	pwFile := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pwFile, []byte("file-pw\n"), 0o600))
	t.Setenv(EnvPrefix+"LOKI_URL", srv.URL)
	t.Setenv(EnvPrefix+"LOKI_TENANT", "team-x")
	t.Setenv(EnvPrefix+"LOKI_USERNAME", "svc")
	t.Setenv(EnvPrefix+"LOKI_PASSWORD_FILE", pwFile)
	t.Setenv(EnvPrefix+"LOKI_LABELS", "service=api,env=test")
	t.Setenv(EnvPrefix+"LOKI_BATCH_WAIT", "10ms")
	buf := setup(t) // TEXT on the console; Loki still gets JSON
	Logger("billing").Info("charged", "user_id", "u-9", "password", "pw")
	SecurityEvent(t.Context(), Event{Type: AuthzDenied, UserID: "u-9"})
	require.NoError(t, Close())
	require.Len(t, buf.Lines(), 2)
	// The label set of each line, in the order stored.
	var streams []map[string]string
	var lines []string
	for _, s := range srv.Kept() { // a push cut by Close and sent again comes twice; Loki keeps it once
		labels, err := s.LabelMap()
		require.NoError(t, err)
		for _, e := range s.Entries {
			streams = append(streams, labels)
			lines = append(lines, e.Line)
		}
	}
	require.Len(t, lines, 2)
	// Security events are sent first (priority); find each by its logger.
	bi, si := 0, 1
	if streams[0]["logger"] == "security" {
		bi, si = 1, 0
	}
	assert.Equal(t, map[string]string{"service": "api", "env": "test", "level": "INFO", "logger": "billing"}, streams[bi])
	assert.Equal(t, "authz_denied", streams[si]["security_event_type"])
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[bi]), &m))
	assert.Equal(t, "u-9", m["user_id"], "high-cardinality fields stay in the line")
	assert.Equal(t, redactedMarker, m["password"])
	require.NotEmpty(t, srv.Requests())
	for _, r := range srv.Requests() {
		assert.Equal(t, "team-x", r.Header.Get("X-Scope-OrgID"))
		u, p, _ := (&http.Request{Header: r.Header}).BasicAuth()
		assert.Equal(t, "svc:file-pw", u+":"+p)
	}
}

func TestLokiBadSettings(t *testing.T) {
	secret := "tok-" + "9f8e7d6c5b4a"
	cases := map[string]map[string]string{
		"insecure":     {"LOKI_URL": "http://loki.example:3100", "LOKI_BEARER_TOKEN": secret},
		"bad label":    {"LOKI_URL": "https://loki.example", "LOKI_LABELS": "__bad=x"},
		"bad duration": {"LOKI_URL": "https://loki.example", "LOKI_BATCH_WAIT": "soon"},
		"bad size":     {"LOKI_URL": "https://loki.example", "LOKI_QUEUE_SIZE": "-5"},
		"missing file": {"LOKI_URL": "https://loki.example", "LOKI_USERNAME": "u", "LOKI_PASSWORD_FILE": "/nonexistent/pw"},
		"creds in url": {"LOKI_URL": "https://u:" + secret + "@loki.example"},
		"bad bool":     {"LOKI_URL": "https://loki.example", "LOKI_ALLOW_INSECURE": "perhaps"},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv(EnvPrefix+"LOKI_FLUSH_TIMEOUT", "50ms") // the host does not exist: keep Close short
			for k, v := range env {
				t.Setenv(EnvPrefix+k, v)
			}
			buf := &syncBuffer{}
			err := Setup(WithConsole(buf))
			t.Cleanup(func() { _ = Close() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), "CODOMYRMEX_LOG_LOKI_")
			if name == "missing file" {
				assert.Contains(t, err.Error(), `CODOMYRMEX_LOG_LOKI_PASSWORD_FILE="/nonexistent/pw"`, "the variable that is wrong")
			}
			assert.NotContains(t, err.Error(), secret)
			Logger("x").Info("still logging")
			assert.Contains(t, buf.String(), "still logging")
			assert.NotContains(t, buf.String(), secret)
		})
	}
	t.Run("insecure allowed explicitly", func(t *testing.T) {
		t.Setenv(EnvPrefix+"LOKI_URL", "http://loki.example:3100")
		t.Setenv(EnvPrefix+"LOKI_BEARER_TOKEN", secret)
		t.Setenv(EnvPrefix+"LOKI_ALLOW_INSECURE", "true")
		t.Setenv(EnvPrefix+"LOKI_FLUSH_TIMEOUT", "100ms")
		err := Setup(WithConsole(&syncBuffer{}))
		t.Cleanup(func() { _ = Close() })
		assert.NoError(t, err)
	})
}

func TestLokiDropSummary(t *testing.T) {
	clk := newFakeClock()
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.SetStatus(503)
	t.Setenv(EnvPrefix+"LOKI_URL", srv.URL)
	t.Setenv(EnvPrefix+"LOKI_QUEUE_SIZE", "10")
	t.Setenv(EnvPrefix+"LOKI_FLUSH_TIMEOUT", "100ms")
	buf := setup(t, WithOutputType(OutputJSON), withClock(clk))
	for range 50 {
		Logger("x").Info("flood")
	}
	clk.Advance(lokiSummaryInterval)
	require.Eventually(t, func() bool {
		for _, line := range buf.Lines() {
			var m map[string]any // the sink's own reports are plain lines
			if json.Unmarshal([]byte(line), &m) == nil && m["logger"] == "logging" && m["dropped"] != nil {
				return true
			}
		}
		return false
	}, 10*time.Second, time.Millisecond, "a summary record says how many were lost")
	_ = Close()
	assert.GreaterOrEqual(t, Stats().Loki.Dropped, uint64(40))
}

// A record longer than Loki's line limit reaches Loki shortened, as valid
// JSON and valid UTF-8 that says it was cut, never cut in the middle of a
// string or a rune.
func TestLokiLongRecordStaysValidJSON(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	const max = 2000
	setup(t, WithOutputType(OutputJSON), WithMaxValueBytes(0),
		WithLoki(loki.Config{URL: srv.URL, MaxLineBytes: max, BatchWait: time.Millisecond}))
	long := strings.Repeat(`é"\x`, 3000) // multi-byte runes, quotes and backslashes to escape
	Logger("big").Info("record", "v", long)
	Logger("big").Info("small")
	require.NoError(t, Close())
	lines := srv.KeptLines()
	require.Len(t, lines, 2)
	for _, l := range lines {
		assert.LessOrEqual(t, len(l), max)
		assert.True(t, utf8.ValidString(l), l)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &m))
	assert.Greater(t, m["truncated_from_bytes"], float64(max))
	assert.True(t, strings.HasPrefix(m["line"].(string), `{"time":`), "the record's first bytes, readable")
}

// The security_event_type label takes only an event type's shape: a value
// with a secret or a space becomes "custom" (the line keeps it, redacted).
// And the loki.Config's own OnError is called as well as WithErrorHandler.
func TestLokiEventTypeLabelAndOnError(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	var own atomic.Int64
	setup(t, WithOutputType(OutputJSON), WithLoki(loki.Config{URL: srv.URL, BatchWait: time.Millisecond,
		OnError: func(error) { own.Add(1) }}))
	tok := redacttest.GHToken("gh" + "p")
	SecurityLogger().Warn("login", "security_event_type", "authn_failure "+tok)
	SecurityEvent(context.Background(), Event{Type: AuthnFailure})
	require.NoError(t, Close())
	var types []string
	for _, st := range srv.Kept() { // a push cut by Close and sent again comes twice; Loki keeps it once
		m, err := st.LabelMap()
		require.NoError(t, err)
		types = append(types, m["security_event_type"])
		for _, e := range st.Entries {
			assert.NotContains(t, e.Line, tok[4:])
		}
	}
	assert.ElementsMatch(t, []string{"custom", "authn_failure"}, types)

	srv.SetStatus(400)
	setup(t, WithOutputType(OutputJSON), WithLoki(loki.Config{URL: srv.URL, BatchWait: time.Millisecond,
		OnError: func(error) { own.Add(1) }}))
	Logger("x").Info("rejected")
	require.NoError(t, Close())
	assert.Positive(t, own.Load(), "the config's OnError was called")
}
