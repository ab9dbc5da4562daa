package logging

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// serve runs one request through h and returns the records logged.
func serve(t *testing.T, buf *syncBuffer, h http.Handler, r *http.Request) map[string]map[string]any {
	t.Helper()
	h.ServeHTTP(httptest.NewRecorder(), r)
	out := map[string]map[string]any{}
	for _, m := range jsonLines(t, buf.String()) {
		out[m["msg"].(string)] = m
	}
	return out
}

// Behind a reverse proxy the client is the one the trusted proxies name,
// never one a client claims; query values are redacted by key and
// pattern, not wholesale.
func TestMiddlewareBehindAProxy(t *testing.T) {
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	req := func(peer string, headers map[string]string) *http.Request {
		r := httptest.NewRequest("GET", "/orders?page=2&q=boots&api_key=k-123456789", nil)
		r.RemoteAddr = peer
		for k, v := range headers {
			r.Header.Set(k, v)
		}
		return r
	}
	forged := map[string]string{"X-Forwarded-For": "198.51.100.66"}

	buf := setup(t, WithOutputType(OutputJSON))
	recs := serve(t, buf, Middleware(deny), req("203.0.113.9:5555", forged))
	assert.Equal(t, "203.0.113.9", recs["request"]["client"], "no trusted proxy: the header is not read")
	assert.Equal(t, "/orders?api_key=[REDACTED]&page=2&q=boots", recs["request"]["path"])
	assert.Equal(t, "203.0.113.9", recs["security event: authz_denied"]["ip_address"])

	t.Setenv(EnvPrefix+"TRUSTED_PROXIES", "10.0.0.0/8")
	buf = setup(t, WithOutputType(OutputJSON))
	recs = serve(t, buf, Middleware(deny), req("10.1.2.3:443", map[string]string{"X-Forwarded-For": "192.0.2.50, 10.9.9.9"}))
	assert.Equal(t, "192.0.2.50", recs["request"]["client"], "the rightmost address that is not a trusted proxy")
	assert.Equal(t, "192.0.2.50", recs["security event: authz_denied"]["ip_address"])
	buf = setup(t, WithOutputType(OutputJSON))
	recs = serve(t, buf, Middleware(deny), req("10.1.2.3:443", map[string]string{"Forwarded": `for="[2001:db8::7]:4711";proto=https, for=10.2.2.2`}))
	assert.Equal(t, "2001:db8::7", recs["request"]["client"], "RFC 7239 Forwarded")
	buf = setup(t, WithOutputType(OutputJSON))
	recs = serve(t, buf, Middleware(deny), req("203.0.113.9:5555", forged))
	assert.Equal(t, "203.0.113.9", recs["request"]["client"], "an untrusted peer's header is not read")
	r := req("10.1.2.3:1", map[string]string{"X-Forwarded-For": "192.0.2.51"})
	assert.Equal(t, "192.0.2.51", ClientIP(r))
}

// The request id policy, the events switch, skipped paths, the id in the
// context, and the status of an upgraded connection.
func TestMiddlewareOptions(t *testing.T) {
	var seen string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = RequestIDFrom(r.Context())
		w.WriteHeader(http.StatusUnauthorized)
	})
	client := httptest.NewRequest("GET", "/x", nil)
	client.Header.Set("X-Request-ID", "client-id-1")

	buf := setup(t, WithOutputType(OutputJSON))
	recs := serve(t, buf, MiddlewareWith(TrustClientRequestIDs(false), RequestIDGenerator(func() string { return "gen-1" }))(h), client)
	assert.Equal(t, "gen-1", seen)
	assert.Equal(t, "gen-1", recs["request"]["request_id"])

	buf = setup(t, WithOutputType(OutputJSON))
	outer := ContextWithRequestID(context.Background(), "outer-7")
	serve(t, buf, MiddlewareWith(AdoptContextRequestID(true), RequestIDHeaderName("X-Correlation-ID"))(h), client.WithContext(outer))
	assert.Equal(t, "outer-7", seen)

	t.Setenv(EnvPrefix+"HTTP_EVENTS", "off")
	t.Setenv(EnvPrefix+"HTTP_SKIP_PATHS", "/healthz")
	buf = setup(t, WithOutputType(OutputJSON))
	recs = serve(t, buf, Middleware(h), httptest.NewRequest("GET", "/x", nil))
	assert.Contains(t, recs, "request")
	assert.NotContains(t, recs, "security event: authn_failure", "events off")
	buf = setup(t, WithOutputType(OutputJSON))
	recs = serve(t, buf, Middleware(h), httptest.NewRequest("GET", "/healthz", nil))
	assert.Empty(t, recs, "a skipped path is not logged")

	// A websocket-style upgrade: the handler hijacks without WriteHeader.
	buf = setup(t, WithOutputType(OutputJSON))
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := w.(http.Hijacker).Hijack()
		require.NoError(t, err)
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\n\r\n")
		_ = rw.Flush()
		conn.Close()
	})
	served := make(chan struct{}) // a hijacked connection is not waited for by srv.Close
	mw := Middleware(up)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw.ServeHTTP(w, r)
		close(served)
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	_, err = conn.Write([]byte("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"))
	require.NoError(t, err)
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	assert.Contains(t, line, "101")
	<-served // the middleware has logged its record
	var status any
	for _, m := range jsonLines(t, buf.String()) {
		if m["msg"] == "request" {
			status = m["status"]
		}
	}
	assert.InDelta(t, 101.0, status, 0, "an upgraded connection's status")
}

// With ADD_SOURCE, the middleware's own records (the access record, the
// 401/403 events) have no source: it would be the library's file, not the
// application's code.
func TestMiddlewareRecordsHaveNoLibrarySource(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON), WithAddSource(true))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Logger("app").InfoContext(r.Context(), "handling")
		w.WriteHeader(http.StatusForbidden)
	})
	recs := serve(t, buf, Middleware(h), httptest.NewRequest("GET", "/admin", nil))
	assert.Contains(t, recs["handling"], "source", "the application's own record keeps its source")
	assert.NotContains(t, recs["request"], "source")
	assert.NotContains(t, recs["security event: authz_denied"], "source")
	assert.NotContains(t, buf.String(), "http.go")
}

// A credential sent percent-encoded in a query value is found by the
// patterns as they know it: each value is redacted decoded, then encoded
// again, in the access record and in the 401/403 events' resource.
func TestMiddlewareRedactsEncodedQueryValues(t *testing.T) {
	pw := redacttest.Gen(redacttest.AlnumChars, 14)
	bearer := redacttest.Gen(redacttest.AlnumChars, 36)
	values := map[string]string{
		"redirect": redacttest.Join("post", "gres://admin:", pw, "@db:5432/app"),
		"q":        redacttest.Join("pass", "word=", pw),
		"filter":   redacttest.Join("Author", "ization: Bearer ", bearer),
	}
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	for k, v := range values {
		t.Run(k, func(t *testing.T) {
			buf := setup(t, WithOutputType(OutputJSON))
			recs := serve(t, buf, Middleware(deny), httptest.NewRequest("GET", "/p?"+k+"="+url.QueryEscape(v)+"&page=2", nil))
			require.Contains(t, recs, "request")
			require.Contains(t, recs, "security event: authn_failure")
			assert.NotContains(t, buf.String(), pw)
			assert.NotContains(t, buf.String(), bearer)
			path := recs["request"]["path"].(string)
			assert.Contains(t, path, "[REDACTED", "the marker is written as it is, not encoded")
			assert.Contains(t, path, "page=2", "the other values are kept")
			assert.Equal(t, path, recs["security event: authn_failure"]["resource"])
			_, err := url.ParseQuery(strings.TrimPrefix(path, "/p?"))
			assert.NoError(t, err, "the query is still a query")
		})
	}
}

// Behind a trusted proxy, a header the proxy did not write never names
// the client: nginx appends to X-Forwarded-For and passes the client's
// Forwarded through; a client that prefills a header with many hops cannot
// push the proxy's hop out of what is read; a hop that is not an IP address
// is never the client (the peer is); and the client is bounded like the
// other request fields.
func TestClientIPBehindATrustedProxy(t *testing.T) {
	var many []string
	for i := 0; i < 3*maxForwardedHops; i++ {
		many = append(many, "198.51.100.66")
	}
	long := strings.Repeat("x", 3*MaxRequestFieldBytes)
	cases := []struct {
		name, peer, xff, fwd, want string
	}{
		{"nginx default: forged Forwarded beside the appended XFF", "10.0.0.5:1", "203.0.113.9", "for=1.2.3.4", "10.0.0.5"},
		{"both headers agree", "10.0.0.5:1", "198.51.100.1, 203.0.113.9", `for=203.0.113.9;proto=https`, "203.0.113.9"},
		{"XFF only, trusted hops skipped", "10.0.0.5:1", "203.0.113.9, 10.0.0.7", "", "203.0.113.9"},
		{"Forwarded only", "10.0.0.5:1", "", `for="[2001:db8::7]:4711", for=10.2.2.2`, "2001:db8::7"},
		{"prefilled with many hops", "10.0.0.5:1", strings.Join(many, ", ") + ", 203.0.113.9", "", "203.0.113.9"},
		{"a hop that is not an address", "10.0.0.5:1", "not-an-ip\nINFO forged, 10.0.0.7", "", "10.0.0.5"},
		{"an obfuscated Forwarded hop", "10.0.0.5:1", "", "for=_hidden", "10.0.0.5"},
		{"a zone is not an address", "10.0.0.5:1", "fe80::1%eth0", "", "10.0.0.5"},
		{"an untrusted peer's headers are not read", "203.0.113.50:1", "198.51.100.66", "for=198.51.100.67", "203.0.113.50"},
		{"a peer that is not an address, bounded", long, "198.51.100.66", "", requestField(long)},
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/login", nil)
			r.RemoteAddr = c.peer
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			if c.fwd != "" {
				r.Header.Set("Forwarded", c.fwd)
			}
			got := clientIP(r, trusted)
			assert.Equal(t, c.want, got)
			assert.LessOrEqual(t, len(got), MaxRequestFieldBytes)
		})
	}

	t.Setenv(EnvPrefix+"TRUSTED_PROXIES", "10.0.0.0/8")
	buf := setup(t, WithOutputType(OutputJSON))
	r := httptest.NewRequest("GET", "/login", nil)
	r.RemoteAddr = "10.0.0.5:1234"
	r.Header.Set("X-Forwarded-For", "not-an-ip\nINFO forged, 10.0.0.7")
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	recs := serve(t, buf, Middleware(deny), r)
	assert.Equal(t, "10.0.0.5", recs["request"]["client"])
	assert.Equal(t, "10.0.0.5", recs["security event: authn_failure"]["ip_address"])
	assert.NotContains(t, buf.String(), "forged")
}

// An informational status (103 Early Hints) is not the response's status:
// the final one after it is logged, and a 401 after 103 raises its event.
func TestMiddlewareLogsTheFinalStatusAfter1xx(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusUnauthorized)
	})
	recs := serve(t, buf, Middleware(h), httptest.NewRequest("GET", "/a", nil))
	assert.InDelta(t, 401.0, recs["request"]["status"], 0)
	assert.Contains(t, recs, "security event: authn_failure")

	buf = setup(t, WithOutputType(OutputJSON))
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = w.Write([]byte("ok"))
	})
	recs = serve(t, buf, Middleware(h), httptest.NewRequest("GET", "/b", nil))
	assert.InDelta(t, 200.0, recs["request"]["status"], 0, "a body after 103 is a 200")
}

// Automatic events can be limited to paths (an entry ending in "/" holds
// the paths under it), matched cleaned so that a client cannot spell a path
// around the list; the access record is written either way.
func TestMiddlewareEventPaths(t *testing.T) {
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	cases := map[string]bool{
		"/login": true, "/admin/users": true, "/admin/": true, "//admin/./users": true, "/x/../admin/users": true,
		"/test/401": false, "/login/x": false, "/admin": false, "/administrator": false, "/loginx": false,
	}
	for _, how := range []string{"option", "variable"} {
		for p, want := range cases {
			t.Run(how+p, func(t *testing.T) {
				var buf *syncBuffer
				if how == "option" {
					buf = setup(t, WithOutputType(OutputJSON), WithHTTPEventPaths("/login", "/admin/"))
				} else {
					t.Setenv(EnvPrefix+"HTTP_EVENT_PATHS", "/login,/admin/")
					buf = setup(t, WithOutputType(OutputJSON))
				}
				r := httptest.NewRequest("GET", "/", nil)
				r.URL.Path = p
				recs := serve(t, buf, Middleware(deny), r)
				assert.Contains(t, recs, "request")
				if want {
					assert.Contains(t, recs, "security event: authn_failure")
				} else {
					assert.NotContains(t, recs, "security event: authn_failure")
				}
			})
		}
	}
	buf := setup(t, WithOutputType(OutputJSON), WithHTTPEventPaths("/login"), WithHTTPEvents(false))
	recs := serve(t, buf, Middleware(deny), httptest.NewRequest("GET", "/login", nil))
	assert.NotContains(t, recs, "security event: authn_failure", "off wins over the paths")
	require.Error(t, Setup(WithConsole(&syncBuffer{}), WithHTTPEventPaths("login")), "a path starts with /")

	// Skipped paths: matched as sent and cleaned, so that no other handler
	// is served unlogged by a path spelled into a skipped one.
	for p, skipped := range map[string]bool{"/healthz": true, "/static/app.js": true,
		"/healthz/../admin": false, "/static/../admin": false, "/healthzx": false, "/static": false} {
		buf := setup(t, WithOutputType(OutputJSON), WithHTTPSkipPaths("/healthz", "/static/"))
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = p
		recs := serve(t, buf, Middleware(deny), r)
		assert.Equal(t, skipped, len(recs) == 0, p)
	}
}

// Pagination cursors in a query keep their values: each value goes through
// the patterns on its own, not the assembled key=value, which the
// secret-assignment pattern would take for a secret. Their values are still
// redacted by pattern, and so are the path and the keys.
func TestMiddlewareKeepsQueryCursors(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	pw := redacttest.Gen(redacttest.AlnumChars, 14)
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	cases := []struct{ query, want string }{
		{"page_token=p-2", "page_token=p-2"},
		{"nextPageToken=CiAKGjBpNDd2Nmp", "nextPageToken=CiAKGjBpNDd2Nmp"},
		{"continuation_token=x1", "continuation_token=x1"},
		{"NextToken=n-3", "NextToken=n-3"},
		{"next_token=n-4", "next_token=n-4"},
		{"resumeToken=r-5", "resumeToken=r-5"},
		{"page_token=" + tok, "page_token=[REDACTED:github-token]"},
		{"password=" + pw, "password=[REDACTED]"},
		{"token=" + pw, "token=[REDACTED]"},
		{tok + "=1", "[REDACTED:github-token]=1"},
		// Credentials that protocols put in a URL under plain names.
		{"code=" + pw + "&state=s1", "code=[REDACTED]&state=s1"},
		{"ticket=ST-" + pw, "ticket=[REDACTED]"},
		{"SAMLResponse=" + pw, "SAMLResponse=[REDACTED]"},
		{"auth=" + pw, "auth=[REDACTED]"},
	}
	for _, c := range cases {
		buf := setup(t, WithOutputType(OutputJSON))
		recs := serve(t, buf, Middleware(deny), httptest.NewRequest("GET", "/p?"+c.query, nil))
		assert.Equal(t, "/p?"+c.want, recs["request"]["path"], c.query)
		assert.Equal(t, "/p?"+c.want, recs["security event: authz_denied"]["resource"], c.query)
		assert.NotContains(t, buf.String(), tok)
		assert.NotContains(t, buf.String(), pw)
	}
	buf := setup(t, WithOutputType(OutputText))
	Middleware(deny).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p?page_token=p-2", nil))
	assert.Contains(t, buf.String(), `path="/p?page_token=p-2"`)
	assert.Contains(t, buf.String(), `resource="/p?page_token=p-2"`)
	buf = setup(t, WithOutputType(OutputJSON))
	recs := serve(t, buf, Middleware(deny), httptest.NewRequest("GET", "/reset/"+tok+"?page_token=p-2", nil))
	assert.Equal(t, "/reset/[REDACTED:github-token]?page_token=p-2", recs["request"]["path"], "the path too")
	assert.Equal(t, recs["request"]["path"], recs["security event: authz_denied"]["resource"])
	// A WithHandler sink gets the same, escaped as its strings are.
	var hb syncBuffer
	require.NoError(t, Setup(WithHandler(slog.NewJSONHandler(&hb, nil)), WithConsole(nil)))
	t.Cleanup(func() { _ = Close() })
	Middleware(deny).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p?page_token=p-2&q=a%0Ab", nil))
	recs = map[string]map[string]any{}
	for _, m := range jsonLines(t, hb.String()) {
		recs[m["msg"].(string)] = m
	}
	assert.Equal(t, "/p?page_token=p-2&q=a%0Ab", recs["request"]["path"])
	assert.Equal(t, "/p?page_token=p-2&q=a%0Ab", recs["security event: authz_denied"]["resource"])
}
