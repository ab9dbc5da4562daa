package logging

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/loki/lokitest"
)

// fakeLoki records pushed streams; it is for configuration checks, the real
// server is in loki_e2e_test.go.
type fakeLoki struct {
	mu      sync.Mutex
	streams []map[string]string
	lines   []string
	headers http.Header
	status  int
}

func (f *fakeLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.headers = r.Header.Clone()
	if f.status != 0 {
		w.WriteHeader(f.status)
		return
	}
	streams, err := lokitest.DecodePushRequest(r.Header.Get("Content-Type"), r.Body)
	if err != nil {
		w.WriteHeader(400)
		return
	}
	for _, s := range streams {
		labels, err := s.LabelMap()
		if err != nil {
			w.WriteHeader(400)
			return
		}
		for _, e := range s.Entries {
			f.streams = append(f.streams, labels)
			f.lines = append(f.lines, e.Line)
		}
	}
	w.WriteHeader(204)
}

func TestLokiFromEnvironment(t *testing.T) {
	fl := &fakeLoki{}
	srv := httptest.NewServer(fl)
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
	fl.mu.Lock()
	defer fl.mu.Unlock()
	require.Len(t, fl.lines, 2)
	// Security events are sent first (priority); find each by its logger.
	bi, si := 0, 1
	if fl.streams[0]["logger"] == "security" {
		bi, si = 1, 0
	}
	assert.Equal(t, map[string]string{"service": "api", "env": "test", "level": "INFO", "logger": "billing"}, fl.streams[bi])
	assert.Equal(t, "authz_denied", fl.streams[si]["security_event_type"])
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(fl.lines[bi]), &m))
	assert.Equal(t, "u-9", m["user_id"], "high-cardinality fields stay in the line")
	assert.Equal(t, redactedMarker, m["password"])
	assert.Equal(t, "team-x", fl.headers.Get("X-Scope-OrgID"))
	u, p, _ := (&http.Request{Header: fl.headers}).BasicAuth()
	assert.Equal(t, "svc:file-pw", u+":"+p)
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
	old := lokiSummaryInterval
	lokiSummaryInterval = 30 * time.Millisecond
	defer func() { lokiSummaryInterval = old }()
	fl := &fakeLoki{status: 503}
	srv := httptest.NewServer(fl)
	defer srv.Close()
	t.Setenv(EnvPrefix+"LOKI_URL", srv.URL)
	t.Setenv(EnvPrefix+"LOKI_QUEUE_SIZE", "10")
	t.Setenv(EnvPrefix+"LOKI_FLUSH_TIMEOUT", "100ms")
	buf := setup(t, WithJSON())
	for range 50 {
		Logger("x").Info("flood")
	}
	require.Eventually(t, func() bool {
		for _, m := range jsonLines(t, buf.String()) {
			if m["logger"] == "logging" && m["dropped"] != nil {
				return true
			}
		}
		return false
	}, 2*time.Second, 10*time.Millisecond, "a summary record says how many were lost")
	_ = Close()
	assert.GreaterOrEqual(t, Stats().Loki.Dropped, uint64(40))
}
