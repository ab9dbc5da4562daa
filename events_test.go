package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/codomyrmex/logging/loki"
	"github.com/codomyrmex/logging/loki/lokitest"
)

var eventLabels = []string{"security_event_type", "user_id", "ip_address", "user_agent", "resource", "action", "outcome", "severity", "threat_level"}

func TestSecurityEventEveryType(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON), WithLevel(slog.LevelDebug))
	ctx := ContextWithCorrelationID(context.Background(), "cid-0123456789ab")
	mine := EventTypes()
	mine[0] = "changed by the caller"
	types := EventTypes()
	require.Equal(t, AuthnSuccess, types[0], "each call returns a new slice")
	for _, et := range types {
		SecurityEvent(ctx, Event{Type: et, UserID: "u-1", IP: "203.0.113.9", UserAgent: "curl/8", Resource: "/admin",
			Action: "GET", Outcome: OutcomeFailure, ThreatLevel: ThreatMedium, Reason: "because"})
	}
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, len(types))
	for i, m := range lines {
		assert.Equal(t, "security", m["logger"])
		assert.Equal(t, string(types[i]), m["security_event_type"])
		for _, k := range eventLabels {
			assert.Contains(t, m, k)
		}
		assert.Equal(t, "u-1", m["user_id"])
		assert.Equal(t, "203.0.113.9", m["ip_address"])
		assert.Equal(t, "curl/8", m["user_agent"])
		assert.Equal(t, "/admin", m["resource"])
		assert.Equal(t, "GET", m["action"])
		assert.Equal(t, "failure", m["outcome"])
		assert.Equal(t, "medium", m["threat_level"])
		assert.Equal(t, "because", m["reason"])
		assert.Equal(t, "cid-0123456789ab", m["correlation_id"])
	}
	for _, m := range lines {
		if m["security_event_type"] == string(TamperingDetected) {
			assert.Equal(t, "CRITICAL", m["level"], "tampering is critical")
		}
	}
}

func TestSecurityEventRedactedAndSanitized(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	tok := redacttest.GHToken("gh" + "p")
	SecurityEvent(context.Background(), Event{Type: AuthnFailure, UserAgent: "evil\r\nINFO forged", Reason: "token " + tok,
		Attrs: []slog.Attr{slog.String("password", "pw")}})
	out := buf.String()
	assert.Equal(t, 1, strings.Count(out, "\n"))
	m := lastJSON(t, buf)
	assert.Contains(t, out, `"user_agent":"evil\r\nINFO forged"`, "JSON's escapes in the line")
	assert.Equal(t, "evil\r\nINFO forged", m["user_agent"], "decoded, what was sent")
	assert.Equal(t, "token [REDACTED:github-token]", m["reason"])
	assert.Equal(t, redactedMarker, m["password"])
}

func TestSecurityEventsNotFilteredBelowWarning(t *testing.T) {
	t.Setenv(EnvPrefix+"LEVEL", "CRITICAL")
	buf := setup(t, WithOutputType(OutputJSON))
	SecurityEvent(context.Background(), Event{Type: AuthzDenied})                          // medium → WARNING
	SecurityEvent(context.Background(), Event{Type: AuthnSuccess})                         // low → INFO, filtered
	SecurityEvent(context.Background(), Event{Type: AuthnFailure, Severity: SeverityHigh}) // ERROR
	Logger("app").Error("ordinary error, filtered")
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, 2)
	assert.Equal(t, "WARN", lines[0]["level"])
	assert.Equal(t, "ERROR", lines[1]["level"])

	buf = setup(t, WithOutputType(OutputJSON), WithSecurityLevel(LevelCritical)) // explicit
	SecurityEvent(context.Background(), Event{Type: AuthzDenied})
	assert.Empty(t, buf.Lines())
}

// Every security event reaches the sinks that keep the audit trail (the
// security file and Loki) at every severity, whatever
// CODOMYRMEX_LOG_LEVEL says; the console and the main file take them from
// CODOMYRMEX_LOG_SECURITY_LEVEL (default WARNING) up.
func TestEverySecurityEventKept(t *testing.T) {
	dir := t.TempDir()
	secPath, mainPath := filepath.Join(dir, "security.log"), filepath.Join(dir, "app.log")
	srv := lokitest.NewServer()
	defer srv.Close()
	t.Setenv(EnvPrefix+"LEVEL", "ERROR")
	buf := setup(t, WithOutputType(OutputJSON), WithSecurityFile(secPath), WithFile(mainPath),
		WithLoki(loki.Config{URL: srv.URL, BatchWait: time.Millisecond}))
	for _, typ := range []EventType{AuthnSuccess, SecretAccess, DataExport, ConfigChange, AuthzDenied} {
		SecurityEvent(context.Background(), Event{Type: typ, UserID: "u-7"})
	}
	require.NoError(t, Close())
	sec, err := os.ReadFile(secPath)
	require.NoError(t, err)
	main, err := os.ReadFile(mainPath)
	require.NoError(t, err)
	for _, typ := range []string{"authn_success", "secret_access", "data_export", "config_change", "authz_denied"} {
		assert.Contains(t, string(sec), `"security_event_type":"`+typ+`"`, "security file keeps %s", typ)
		found := false
		for _, l := range srv.KeptLines() {
			found = found || strings.Contains(l, `"security_event_type":"`+typ+`"`)
		}
		assert.True(t, found, "Loki keeps %s", typ)
	}
	for _, out := range []string{buf.String(), string(main)} {
		assert.Contains(t, out, "authz_denied", "WARNING and above on the console and the main file")
		assert.NotContains(t, out, "authn_success", "INFO events below the application's level are not")
	}

	t.Setenv(EnvPrefix+"SECURITY_LEVEL", "INFO")
	buf = setup(t, WithOutputType(OutputJSON))
	SecurityEvent(context.Background(), Event{Type: AuthnSuccess})
	assert.Contains(t, buf.String(), "authn_success", "CODOMYRMEX_LOG_SECURITY_LEVEL lets INFO events onto the console")
}

func TestSecurityFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sec", "security.log")
	t.Setenv(EnvPrefix+"SECURITY_FILE", path)
	buf := setup(t, WithOutputType(OutputJSON))
	SecurityEvent(context.Background(), Event{Type: PolicyViolation, UserID: "u-2"})
	Logger("app").Info("ordinary")
	require.NoError(t, Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"security_event_type":"policy_violation"`)
	assert.NotContains(t, string(data), "ordinary")
	assert.Len(t, buf.Lines(), 2, "console has both")
	assert.Equal(t, os.FileMode(0o600), mode(t, path))
	assert.Equal(t, os.FileMode(0o700), mode(t, filepath.Dir(path)))
}

func TestContextAttrs(t *testing.T) {
	ctx := ContextWithRequestID(context.Background(), "req-1")
	ctx = ContextWithCorrelationID(ctx, "cid-abc")
	ctx = ContextWith(ctx, slog.String(KeyTenant, "acme"), slog.String("api_key", "leak"))
	for _, out := range []OutputType{OutputJSON, OutputText} {
		buf := setup(t, WithOutputType(out), WithFormat("%(message)s"))
		Logger("c").WithGroup("g").InfoContext(ctx, "hello", "k", "v")
		line := buf.String()
		if out == OutputJSON {
			m := lastJSON(t, buf)
			assert.Equal(t, "req-1", m["request_id"])
			assert.Equal(t, "cid-abc", m["correlation_id"])
			assert.Equal(t, "acme", m["tenant"])
			assert.Equal(t, redactedMarker, m["api_key"])
			assert.Equal(t, map[string]any{"k": "v"}, m["g"], "context ids stay at the top level")
		} else {
			assert.Equal(t, "hello g.k=v request_id=req-1 correlation_id=cid-abc tenant=acme api_key=[REDACTED]\n", line)
		}
	}
	assert.Regexp(t, `^cid-[0-9a-f]{12}$`, NewCorrelationID())
	assert.Equal(t, "acme", ContextValue(ctx, KeyTenant))
}

func TestContextExtractor(t *testing.T) {
	type spanKey struct{}
	ex := func(ctx context.Context) []slog.Attr {
		if id, ok := ctx.Value(spanKey{}).(string); ok {
			return []slog.Attr{slog.String(KeyTraceID, "t-"+id), slog.String(KeySpanID, "s-"+id)}
		}
		return nil
	}
	buf := setup(t, WithOutputType(OutputJSON), WithContextExtractor(ex), WithContextExtractor(func(context.Context) []slog.Attr { panic("bad extractor") }))
	Logger("x").InfoContext(context.WithValue(context.Background(), spanKey{}, "1"), "traced")
	m := lastJSON(t, buf)
	assert.Equal(t, "t-1", m["trace_id"])
	assert.Equal(t, "s-1", m["span_id"])

	var b strings.Builder
	slog.New(Wrap(slog.NewJSONHandler(&b, nil), WithContextExtractor(ex))).InfoContext(context.WithValue(context.Background(), spanKey{}, "2"), "wrapped")
	assert.Contains(t, b.String(), `"trace_id":"t-2"`)
}

func TestContextIDsManyGoroutines(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			ctx := ContextWithRequestID(context.Background(), fmt.Sprintf("req-%d", g))
			for i := range 200 {
				Logger("x").InfoContext(ctx, "m", "g", g, "i", i)
			}
		})
	}
	wg.Wait()
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, 16*200)
	for _, m := range lines {
		assert.Equal(t, fmt.Sprintf("req-%v", m["g"]), m["request_id"])
	}
}

func TestMiddleware(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		Logger("handler").InfoContext(r.Context(), "inside")
		_, _ = w.Write([]byte("hello"))
	})
	mux.HandleFunc("/401", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	mux.HandleFunc("/403", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	srv := httptest.NewServer(Middleware(mux))
	defer srv.Close()

	get := func(path, reqID, ua string) *http.Response {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		require.NoError(t, err)
		if reqID != "" {
			req.Header.Set(RequestIDHeader, reqID)
		}
		if ua != "" {
			req.Header.Set("User-Agent", ua)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	secret := redacttest.Gen(redacttest.AlnumChars, 16) // a query token, built at run time
	resp := get("/ok?token="+secret+"&page=2", "abc-123", "curl/8")
	assert.Equal(t, "abc-123", resp.Header.Get(RequestIDHeader))
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, 2)
	assert.Equal(t, "abc-123", lines[0]["request_id"], "handler records carry the id")
	acc := lines[1]
	assert.Equal(t, "http.access", acc["logger"])
	assert.Equal(t, "GET", acc["method"])
	assert.Equal(t, "/ok?page=2&token=[REDACTED]", acc["path"])
	assert.Equal(t, float64(200), acc["status"])
	assert.Equal(t, float64(5), acc["bytes"])
	assert.Contains(t, acc, "duration")
	assert.Equal(t, "127.0.0.1", acc["client"])
	assert.Equal(t, "curl/8", acc["user_agent"])
	assert.NotContains(t, buf.String(), secret)

	for _, bad := range []string{strings.Repeat("a", 100), "id\x01x", "a b", "<script>", "x\r\nSet-Cookie: a=b"} {
		// Recorded directly: Go's client refuses to send some of these.
		req := httptest.NewRequest("GET", "/ok", nil)
		req.Header[RequestIDHeader] = []string{bad}
		rec := httptest.NewRecorder()
		Middleware(mux).ServeHTTP(rec, req)
		got := rec.Header().Get(RequestIDHeader)
		assert.NotEqual(t, bad, got)
		assert.Regexp(t, `^req-[0-9a-f]{16}$`, got)
	}
	assert.NotContains(t, buf.String(), "<script>")

	buf2 := setup(t, WithOutputType(OutputJSON))
	get("/401", "", "evil\tagent")
	get("/403", "", "")
	ls := jsonLines(t, buf2.String())
	require.Len(t, ls, 4)
	assert.Equal(t, string(AuthnFailure), ls[1]["security_event_type"])
	assert.Equal(t, "evil\tagent", ls[1]["user_agent"])
	assert.Contains(t, buf2.String(), `"evil\tagent"`)
	assert.Equal(t, string(AuthzDenied), ls[3]["security_event_type"])
	assert.Equal(t, "denied", ls[3]["outcome"])
}

// With the clock stopped, a call site gets exactly its burst; every drop is
// counted and summarized (once per summary interval and once at Close);
// security events are never dropped.
func TestRateLimiterCountsExactly(t *testing.T) {
	clk := newFakeClock()
	before := Stats().RateLimited
	buf := setup(t, WithOutputType(OutputJSON), WithRateLimit(RateLimit{PerSecond: 100, Burst: 10}), withClock(clk))
	const workers, per = 8, 2000
	l := Logger("flood")
	flood := func(workers, per int) {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := range per {
					l.Info("flood", "i", i) // one call site
					if i%500 == 0 {
						SecurityEvent(context.Background(), Event{Type: RateLimitExceeded})
					}
				}
			})
		}
		wg.Wait()
	}
	flood(workers, per)
	summaries := func() []map[string]any {
		var out []map[string]any
		for _, m := range jsonLines(t, buf.String()) {
			if m["logger"] == "logging" && strings.HasPrefix(m["msg"].(string), "rate limit dropped") {
				out = append(out, m)
			}
		}
		return out
	}
	clk.Advance(summaryInterval) // the periodic summary; the bucket refills to its burst
	require.Eventually(t, func() bool { return len(summaries()) == 1 }, 10*time.Second, time.Millisecond)
	flood(1, 50)
	require.NoError(t, Close()) // the last summary
	var written, events, summarized int
	for _, m := range jsonLines(t, buf.String()) {
		switch {
		case m["msg"] == "flood":
			written++
		case m["logger"] == "security":
			events++
		}
	}
	sums := summaries()
	require.Len(t, sums, 2, "one periodic summary, one at Close")
	for _, m := range sums {
		summarized += int(m["dropped"].(float64))
		assert.Contains(t, m, "sites")
	}
	dropped := int(Stats().RateLimited - before)
	assert.Equal(t, 20, written, "the burst of 10, twice")
	assert.Equal(t, workers*per+50, written+dropped, "written + dropped = sent")
	assert.Equal(t, dropped, summarized, "every drop summarized")
	assert.Equal(t, workers*4+1, events, "security events never dropped")
}

func TestRateLimitEnv(t *testing.T) {
	t.Setenv(EnvPrefix+"RATE_LIMIT", "2")
	t.Setenv(EnvPrefix+"RATE_BURST", "3")
	t.Setenv(EnvPrefix+"RATE_KEY", "message")
	buf := setup(t, WithOutputType(OutputJSON))
	for range 10 {
		Logger("a").Info("same message")
		Logger("b").Info("other message")
	}
	n := map[string]int{}
	for _, m := range jsonLines(t, buf.String()) {
		n[m["msg"].(string)]++
	}
	assert.Equal(t, 3, n["same message"])
	assert.Equal(t, 3, n["other message"])
	t.Setenv(EnvPrefix+"RATE_LIMIT", "fast")
	assert.ErrorContains(t, Setup(WithConsole(io.Discard)), "CODOMYRMEX_LOG_RATE_LIMIT")
}

func BenchmarkRateLimiter(b *testing.B) {
	l := newLimiter(1e9, 1<<20, false, systemClock{}, nil) // on, never limiting
	defer l.close()
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 1234)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.allow(&r)
		}
	})
}

// Authentication runs inside the handler, after Middleware built the
// request's context: SetUser fills the slot Middleware made, so the access
// record, the 401/403 event and the handler's own later records name the
// user.
func TestSetUserInsideMiddleware(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Logger("app").InfoContext(r.Context(), "before auth")
		require.True(t, SetUser(r.Context(), "u-42"))
		Logger("app").InfoContext(r.Context(), "after auth")
		w.WriteHeader(http.StatusForbidden)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/admin", nil))
	byMsg := map[string]map[string]any{}
	for _, m := range jsonLines(t, buf.String()) {
		byMsg[m["msg"].(string)] = m
	}
	assert.NotContains(t, byMsg["before auth"], "user_id")
	assert.Equal(t, "u-42", byMsg["after auth"]["user_id"])
	assert.Equal(t, "u-42", byMsg["request"]["user_id"], "the access record")
	assert.Equal(t, "u-42", byMsg["security event: authz_denied"]["user_id"], "the 403 event")
	assert.NotContains(t, buf.String(), "user_id#2", "the event's label takes the context's user_id place")
	assert.False(t, SetUser(context.Background(), "u-1"), "no slot outside Middleware")
}

// What the package writes about itself names code by import path, never by
// the build machine's directories: the rate limiter's summary and the
// secret_exposure event.
func TestCallSitesWithoutBuildPaths(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	clk := newFakeClock()
	buf := setup(t, WithOutputType(OutputJSON), WithRateLimit(RateLimit{PerSecond: 1, Burst: 1}), withClock(clk))
	for range 3 {
		Logger("spam").Info("again")
	}
	require.NoError(t, Close())
	out := buf.String()
	assert.Contains(t, out, "github.com/codomyrmex/logging/events_test.go:")
	assert.NotContains(t, out, wd, "no absolute path")
	assert.Equal(t, "github.com/codomyrmex/logging", funcPackage("github.com/codomyrmex/logging.(*limiter).allow.func1"))
	assert.Equal(t, "main", funcPackage("main.main"))
	assert.Equal(t, "unknown", callSite(0))
}

// readmeText is README.md with its whitespace runs made single spaces, so
// that a sentence can be read across line breaks.
func readmeText(t testing.TB) string {
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	return strings.Join(strings.Fields(string(b)), " ")
}

// readmeNames are the `names` in s, in order.
func readmeNames(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// Every event type's default severity, and the level it gives the record,
// is the one the README's "Security events" section documents: the
// expected values are read from the README's sentences (the inventory of
// event types, "Default severities: low for …; high for …; critical for
// …; medium for the rest", and the levels of the severities), so that a
// change to the code's table or to the README alone fails.
func TestSecurityEventDefaultSeverities(t *testing.T) {
	readme := readmeText(t)

	inv := regexp.MustCompile(`Event types: (.*?)\. Default severities:`).FindStringSubmatch(readme)
	require.NotNil(t, inv, "the README's inventory of event types")
	var documented []EventType
	for _, n := range readmeNames(inv[1]) {
		documented = append(documented, EventType(n))
	}
	require.ElementsMatch(t, EventTypes(), documented, "the README's inventory is EventTypes()")

	sevs := regexp.MustCompile(`Default severities: ([^.]*)\.`).FindStringSubmatch(readme)
	require.NotNil(t, sevs, "the README's default severities")
	want := map[EventType]Severity{}
	var rest Severity
	for part := range strings.SplitSeq(sevs[1], "; ") {
		sev, list, ok := strings.Cut(part, " for ")
		require.True(t, ok, part)
		require.Contains(t, []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}, Severity(sev), part)
		if list == "the rest" {
			rest = Severity(sev)
			continue
		}
		names := readmeNames(list)
		require.NotEmpty(t, names, part)
		for _, n := range names {
			require.Contains(t, documented, EventType(n), "%s in the README's severities is an event type", n)
			require.NotContains(t, want, EventType(n), "%s is given one severity", n)
			want[EventType(n)] = Severity(sev)
		}
	}
	require.NotEmpty(t, rest, "the README gives the rest a severity")
	for _, et := range documented {
		if _, ok := want[et]; !ok {
			want[et] = rest
		}
	}

	lv := regexp.MustCompile(`Severity ((?:` + "`[a-z]+`" + `,? )+)sets the level \(([A-Z, ]+)\)`).FindStringSubmatch(readme)
	require.NotNil(t, lv, "the README's levels of the severities")
	levelNames := strings.Split(lv[2], ", ")
	sevNames := readmeNames(lv[1])
	require.Len(t, levelNames, len(sevNames))
	levels := map[Severity]string{}
	for i, n := range sevNames {
		levels[Severity(n)] = levelNames[i]
	}

	// The Codomyrmex schema names the levels as the README does (WARNING).
	buf := setup(t, WithOutputType(OutputJSON), WithJSONSchema(SchemaCodomyrmex), WithLevel(slog.LevelDebug))
	types := EventTypes()
	for _, et := range types {
		SecurityEvent(t.Context(), Event{Type: et, Outcome: OutcomeFailure})
	}
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, len(types))
	for i, m := range lines {
		et := types[i]
		assert.Equal(t, string(et), m["security_event_type"])
		assert.Equal(t, string(want[et]), m["severity"], "default severity of %s", et)
		assert.Equal(t, levels[want[et]], m["level"], "level of %s", et)
	}
}
