package logging

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

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

// Labels cannot leak or explode: security_event_type takes only the
// library's own event types ("custom" for anything else, the value staying
// in the redacted line), and the logger label is redacted and bounded.
func TestLokiLabelsCannotLeakOrExplode(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	setup(t, WithOutputType(OutputJSON), WithLoki(loki.Config{URL: srv.URL, BatchWait: time.Hour}))
	tok := redacttest.GHToken("gh" + "p")
	for i := range 3000 {
		SecurityLogger().Warn("probe", "security_event_type", fmt.Sprint("type_", i)) // a name each: no stream each
	}
	SecurityLogger().Warn("long", "security_event_type", strings.Repeat("t", 3000))
	SecurityLogger().Warn("lower", "security_event_type", "key_"+strings.ToLower(tok[4:]))
	SecurityEvent(t.Context(), Event{Type: AuthnFailure})
	Logger("payments." + tok).Info("logger named with a secret")
	Logger(strings.Repeat("n", 100_000)).Info("long logger name")
	Logger("ok").Info("innocent")
	require.NoError(t, Close())
	labelSets := map[string]bool{}
	lines := 0
	for _, st := range srv.Kept() {
		labelSets[st.Labels] = true
		lines += len(st.Entries)
		m, err := st.LabelMap()
		require.NoError(t, err)
		assert.NotContains(t, st.Labels, tok[4:], "no secret in a label")
		assert.NotContains(t, st.Labels, strings.ToLower(tok[4:]))
		assert.LessOrEqual(t, len(m["logger"]), maxLokiLoggerLabel)
		if et, ok := m["security_event_type"]; ok {
			assert.True(t, et == "custom" || builtinEventTypes[et], "security_event_type %q", et)
		}
	}
	assert.Equal(t, 3000+3+3, lines, "every record arrived, innocent ones included")
	assert.LessOrEqual(t, len(labelSets), 5, "a handful of streams, not one per value: %v", labelSets)
	assert.Contains(t, labelSets, `{level="WARNING",logger="security",security_event_type="custom"}`)
	redacted := false
	for ls := range labelSets {
		redacted = redacted || strings.HasPrefix(ls, `{level="INFO",logger="payments.[REDACTED`)
	}
	assert.True(t, redacted, "the logger label redacted: %v", labelSets)
}

// Loki's limits are checked at Setup, with errors naming the variable,
// bounded, never quoting a secret: values that would make every push fail
// are refused before the first one.
func TestLokiLimitsCheckedAtSetup(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	many := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprint("l", i, "=v")
		}
		return strings.Join(parts, ",")
	}
	cases := []struct {
		name, variable, value string
	}{
		{"tenant-lf", "LOKI_TENANT", "team\na"},
		{"tenant-1MiB", "LOKI_TENANT", strings.Repeat("t", 1<<20)},
		{"tenant-space", "LOKI_TENANT", "team a"},
		{"labels-2000", "LOKI_LABELS", many(2000)},
		{"labels-13", "LOKI_LABELS", many(13)}, // 12 and the sink's 3 are Loki's 15
		{"label-value-100KB", "LOKI_LABELS", "service=" + strings.Repeat("v", 100_000)},
		{"label-sink-owns", "LOKI_LABELS", "level=debug"},
		{"label-secret", "LOKI_LABELS", "service=" + tok},
		{"queue-bytes-small", "LOKI_QUEUE_BYTES", "1000"},
		{"queue-bytes-below-line", "LOKI_QUEUE_BYTES", "1048576"}, // MaxLineBytes 1 MiB below
		{"max-tries-0", "LOKI_MAX_TRIES", "0"},
		{"retry-age", "LOKI_MAX_RETRY_AGE", "soon"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvPrefix+"LOKI_URL", "https://loki.example")
			t.Setenv(EnvPrefix+"LOKI_FLUSH_TIMEOUT", "50ms")
			t.Setenv(EnvPrefix+tc.variable, tc.value)
			var opts []Option
			if tc.name == "queue-bytes-below-line" {
				opts = append(opts, WithLoki(loki.Config{URL: "https://loki.example", MaxLineBytes: 1 << 20, QueueBytes: 1 << 20, FlushTimeout: 50 * time.Millisecond}))
				os.Unsetenv(EnvPrefix + "LOKI_URL") // the option's URL: the variable, set, would override it (restored by t.Setenv)
			}
			err := Setup(append([]Option{WithConsole(&syncBuffer{})}, opts...)...)
			t.Cleanup(func() { _ = Close() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), EnvPrefix+tc.variable, "names the variable")
			assert.NotContains(t, err.Error(), tok[4:])
			if len(tc.value) > 1000 && tc.variable != "LOKI_LABELS" { // a label that does not parse is quoted whole by the env parser
				assert.Less(t, len(err.Error()), 1000, "bounded")
			}
		})
	}
}

// With Loki stalled, the sink's memory is bounded by QUEUE_BYTES, not by
// the number of records: records with 60 KiB attrs fill the queue and no
// more.
func TestLokiMemoryBoundedInBytes(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.Hang()
	t.Setenv(EnvPrefix+"LOKI_URL", srv.URL)
	t.Setenv(EnvPrefix+"LOKI_QUEUE_BYTES", strconv.Itoa(4<<20))
	t.Setenv(EnvPrefix+"LOKI_FLUSH_TIMEOUT", "50ms")
	require.NoError(t, Setup(WithConsole(io.Discard)))
	t.Cleanup(func() { _ = Close() })
	Logger("x").Warn("first") // sent once the batch wait ends; Loki hangs
	big := strings.Repeat("x", 60<<10)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 600 {
		Logger("x").Info("big", "a", big, "b", big, "c", big, "i", i) // 180 KiB a record: 105 MiB in all
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew by %d KiB", grew>>10)
	assert.Less(t, grew, int64(24<<20), "4 MiB of queue, a batch in flight, and slack")
	st := Stats().Loki
	assert.Positive(t, st.Dropped, "records beyond the bound are dropped and counted")
	assert.LessOrEqual(t, st.Pending, (4<<20)/(180<<10)+loki.DefaultBatchSize/(180<<10)+1+10,
		"the queue and a batch in flight, and a few small records (the first, drop summaries)")
	_ = Close()
}

// Middleware cuts what it takes from a request: 5,000 requests with a
// 60 KiB path and user agent answered 401 cannot fill memory.
func TestMiddlewareCutsRequestFields(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	long := strings.Repeat("é", 30<<10)
	req := httptest.NewRequest("GET", "/"+url.PathEscape(long)+"?q="+long, nil)
	req.Header.Set("User-Agent", long)
	h.ServeHTTP(httptest.NewRecorder(), req)
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, 2, "the access record and the AuthnFailure event")
	for _, l := range lines {
		for _, k := range []string{"path", "user_agent", "resource"} {
			if v, ok := l[k].(string); ok {
				assert.LessOrEqual(t, len(v), MaxRequestFieldBytes, k)
				assert.True(t, utf8.ValidString(v), k)
				assert.Contains(t, v, "bytes]", "%s says it was cut", k)
			}
		}
	}
}

// A secret across the User-Agent's cut is redacted whole before the cut:
// no prefix of it is written, in the access record or the event.
func TestMiddlewareRedactsBeforeTheCut(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	tok := redacttest.GHToken("gh" + "p")
	for _, pad := range []int{MaxRequestFieldBytes - 40, MaxRequestFieldBytes - 10, MaxRequestFieldBytes + 100} {
		buf.Reset()
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("User-Agent", strings.Repeat("x", pad)+" "+tok)
		h.ServeHTTP(httptest.NewRecorder(), req)
		for _, l := range jsonLines(t, buf.String()) {
			if v, ok := l["user_agent"].(string); ok {
				assert.NotContains(t, v, tok[:8], "pad %d", pad)
				assert.LessOrEqual(t, len(v), MaxRequestFieldBytes)
			}
		}
	}
}

// Setup and Close leave no goroutine and no connection behind, cycle after
// cycle, with Loki (lumberjack's mill goroutine is the file sink's, and
// cannot be stopped: ignored by name).
func TestSetupCloseLeavesNothing(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	cycle := func(i int) {
		require.NoError(t, Setup(WithConsole(&syncBuffer{}), WithLoki(loki.Config{URL: srv.URL, BatchWait: time.Hour})))
		Logger("cycle").Info("record", "i", i)
		require.NoError(t, Close())
	}
	cycle(-1) // lazily started singletons, if any, before the snapshot
	defer goleak.VerifyNone(t, ignoreLumberjack, goleak.IgnoreCurrent())
	for i := range 300 {
		cycle(i)
	}
	assert.Equal(t, 301, srv.Distinct())
}

// A spool directory that is a symbolic link, or a spool size out of range,
// is a Setup error naming the variable.
func TestLokiSpoolVariablesRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.Mkdir(target, 0o700))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))
	for _, tc := range []struct{ variable, value string }{
		{"LOKI_SPOOL_DIR", link},
		{"LOKI_SPOOL_MAX_MB", "0"},
		{"LOKI_SPOOL_MAX_MB", "lots"},
	} {
		t.Run(tc.variable+"="+tc.value, func(t *testing.T) {
			t.Setenv(EnvPrefix+"LOKI_URL", "http://127.0.0.1:1")
			t.Setenv(EnvPrefix+"LOKI_FLUSH_TIMEOUT", "50ms")
			t.Setenv(EnvPrefix+tc.variable, tc.value)
			err := Setup(WithConsole(&syncBuffer{}))
			t.Cleanup(func() { _ = Close() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), EnvPrefix+tc.variable, "names the variable")
		})
	}
}

// Records logged while Loki is down wait in LOKI_SPOOL_DIR across a
// restart of the program; Stats().Loki counts them as Spooled, then as
// Replayed once the next Setup sends them.
func TestLokiSpoolAcrossRestart(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.SetStatus(503)
	spool := filepath.Join(t.TempDir(), "app.loki-spool")
	t.Setenv(EnvPrefix+"LOKI_URL", srv.URL)
	t.Setenv(EnvPrefix+"LOKI_FLUSH_TIMEOUT", "50ms")
	t.Setenv(EnvPrefix+"LOKI_SPOOL_DIR", spool)
	before := Stats().Loki
	require.NoError(t, Setup(WithConsole(io.Discard)))
	Logger("app").Info("while Loki is down", "n", 1)
	SecurityEvent(context.Background(), Event{Type: AuthnFailure, UserID: "u-spooled"})
	require.NoError(t, Close(), "nothing is lost: it waits in the spool")
	mid := Stats().Loki
	assert.Equal(t, before.Spooled+2, mid.Spooled)
	assert.Equal(t, before.Dropped, mid.Dropped)

	srv.SetStatus(0)
	require.NoError(t, Setup(WithConsole(io.Discard)))
	require.NoError(t, srv.WaitLines(context.Background(), 2))
	require.NoError(t, Close())
	after := Stats().Loki
	assert.Equal(t, mid.Replayed+2, after.Replayed)
	lines := strings.Join(srv.KeptLines(), "\n")
	assert.Contains(t, lines, "while Loki is down")
	assert.Contains(t, lines, "u-spooled")
}

// With a FILE, the spool defaults to <file>.loki-spool beside it;
// LOKI_SPOOL_DIR=off keeps the sink in memory only.
func TestLokiSpoolBesideFile(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.SetStatus(503)
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprint("off=", off), func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "app.log")
			t.Setenv(EnvPrefix+"LOKI_URL", srv.URL)
			t.Setenv(EnvPrefix+"LOKI_FLUSH_TIMEOUT", "50ms")
			t.Setenv(EnvPrefix+"FILE", file)
			if off {
				t.Setenv(EnvPrefix+"LOKI_SPOOL_DIR", "off")
			}
			require.NoError(t, Setup(WithConsole(io.Discard)))
			Logger("app").Info("kept on disk")
			err := Close()
			segs, _ := filepath.Glob(filepath.Join(file+".loki-spool", "*.seg"))
			if off {
				assert.Error(t, err, "memory only: the record is lost at Close")
				assert.NoDirExists(t, file+".loki-spool")
				return
			}
			require.NoError(t, err)
			assert.Len(t, segs, 1)
			fi, err := os.Stat(file + ".loki-spool")
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
		})
	}
}

// A credential or header value with CR or LF is refused at Setup with an
// error that names the variable and the character, reads whole (no
// "[REDACTED" where a word was taken for the credential) and never shows
// the value.
func TestLokiHeaderValuesWithControlsRefused(t *testing.T) {
	secret := redacttest.Gen(redacttest.AlnumChars, 10)
	for _, v := range []string{"BEARER_TOKEN", "PASSWORD", "USERNAME", "TENANT"} {
		for _, c := range []string{"\r", "\n"} {
			t.Run(v, func(t *testing.T) {
				t.Setenv(EnvPrefix+"LOKI_URL", "http://127.0.0.1:3100")
				if v == "PASSWORD" {
					t.Setenv(EnvPrefix+"LOKI_USERNAME", "u")
				}
				t.Setenv(EnvPrefix+"LOKI_"+v, secret+c+"x")
				err := Setup(WithConsole(&syncBuffer{}))
				t.Cleanup(func() { _ = Close() })
				require.Error(t, err)
				msg := err.Error()
				assert.Contains(t, msg, EnvPrefix+"LOKI_"+v)
				assert.Contains(t, msg, "not a valid HTTP header value")
				assert.NotContains(t, msg, "[REDACTED")
				if v == "BEARER_TOKEN" || v == "PASSWORD" {
					assert.NotContains(t, msg, secret)
				}
			})
		}
	}
}
