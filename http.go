package logging

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RequestIDHeader is the header Middleware reads and sets.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds an accepted request id.
const maxRequestIDLen = 64

// safeRequestID reports whether an id from a client is short and made only
// of letters, digits, '-', '_', '.' and ':'.
func safeRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

var accessLogger = Logger("http.access")

// MaxRequestFieldBytes bounds what Middleware takes from a request for its
// records: the path with its (redacted) query, and the User-Agent. A longer
// value is cut on a character boundary and ends with "…[truncated N
// bytes]", within the bound, as the access logs of HTTP servers cut them: a
// client cannot make a record, or the Loki queue, larger by sending a long
// path or header.
const MaxRequestFieldBytes = 2048

// requestField is s, taken from a request, cut to MaxRequestFieldBytes and
// copied, so that the record does not keep the request's memory alive.
func requestField(s string) string { return cutField(s, len(s)) }

// cutField is requestField for s, the start of a field of total bytes.
func cutField(s string, total int) string {
	if total <= MaxRequestFieldBytes && len(s) <= MaxRequestFieldBytes {
		return s
	}
	// truncateMore's cut, with room left for its marker within the bound.
	marker := len("…[truncated  bytes]") + len(strconv.Itoa(total))
	return truncateMore(s, MaxRequestFieldBytes-marker, total-len(s))
}

// redactedField is a request field redacted, then cut as requestField
// cuts it: redacted over MaxRequestFieldBytes plus redactSlack bytes, so
// that a secret across the cut is found whole and no part of it is kept
// (the rest is never looked at, and never written).
func redactedField(s string, m *attrMapper) string {
	if m.red == nil {
		return requestField(s)
	}
	n := min(len(s), MaxRequestFieldBytes+redactSlack)
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	head := s[:n]
	red, _ := m.red.Redact(head)
	if len(head) < len(s) {
		return cutField(red, len(s)-len(head)+len(red))
	}
	return requestField(red)
}

// MiddlewareOption configures one Middleware (see MiddlewareWith).
type MiddlewareOption func(*middleware)

type middleware struct {
	header     string        // the request id's header
	trustIDs   bool          // adopt a safe id the client sent
	newID      func() string // makes a request id
	adoptCtxID bool          // keep an id already in the request's context
}

// RequestIDHeaderName sets the header the request id is read from and
// written to (X-Request-ID by default).
func RequestIDHeaderName(name string) MiddlewareOption {
	return func(m *middleware) { m.header = http.CanonicalHeaderKey(name) }
}

// TrustClientRequestIDs says whether an id the client sent is adopted when
// it is short and made of safe characters (the default), or always
// replaced by a new one.
func TrustClientRequestIDs(on bool) MiddlewareOption {
	return func(m *middleware) { m.trustIDs = on }
}

// RequestIDGenerator makes the request ids (NewRequestID by default).
func RequestIDGenerator(f func() string) MiddlewareOption {
	return func(m *middleware) { m.newID = f }
}

// AdoptContextRequestID keeps a request id already in the request's
// context (set by an outer middleware with ContextWithRequestID) instead
// of reading the header or making one.
func AdoptContextRequestID(on bool) MiddlewareOption {
	return func(m *middleware) { m.adoptCtxID = on }
}

// Middleware is MiddlewareWith with the default options.
func Middleware(next http.Handler) http.Handler { return MiddlewareWith()(next) }

// MiddlewareWith returns a middleware that logs one access record per
// request under the logger "http.access": method, path (the query's values
// redacted by the same key and pattern rules as every value), status (101
// for a connection upgraded or hijacked without one), bytes, duration,
// client address (see ClientIP) and user agent (the path and the user
// agent cut to MaxRequestFieldBytes each), with the request id. The
// id is the client's X-Request-ID when it is short and of safe characters
// (see the options), else a new one; it goes in the context (request_id,
// RequestIDFrom) and in the response header. 401 and 403 responses also
// emit AuthnFailure and AuthzDenied security events, unless
// CODOMYRMEX_LOG_HTTP_EVENTS=off (WithHTTPEvents), and only on the paths
// of CODOMYRMEX_LOG_HTTP_EVENT_PATHS when it is set (WithHTTPEventPaths);
// requests to the paths of CODOMYRMEX_LOG_HTTP_SKIP_PATHS
// (WithHTTPSkipPaths, e.g. /healthz) are served without a record or event. Authentication inside the handler
// names the user with [SetUser].
func MiddlewareWith(opts ...MiddlewareOption) func(http.Handler) http.Handler {
	m := &middleware{header: RequestIDHeader, trustIDs: true, newID: NewRequestID}
	for _, o := range opts {
		o(m)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := load()
			if skipPath(p.http.skipPaths, r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			start := time.Now()
			id := ""
			if m.adoptCtxID {
				id = RequestIDFrom(r.Context())
			}
			if id == "" && m.trustIDs {
				if h := r.Header.Get(m.header); safeRequestID(h) {
					id = h
				}
			}
			if id == "" {
				id = m.newID()
			}
			ctx, _ := withUserSlot(ContextWithRequestID(r.Context(), id))
			w.Header().Set(m.header, id)
			rw := &responseRecorder{ResponseWriter: w, status: http.StatusOK}
			defer func() {
				client := clientIP(r, p.http.trustedProxies)
				path := requestField(redactedPath(r.URL, p.m))
				ua := redactedField(r.UserAgent(), p.m)
				status := rw.status
				if rw.hijacked && !rw.wroteHeader {
					status = http.StatusSwitchingProtocols
				}
				// The record's source would be this file: it has none (the
				// application's code is the handler, named by the path).
				ar := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
				ar.AddAttrs(
					slog.String("method", r.Method),
					slog.Any("path", preRedacted(path)),
					slog.Int("status", status),
					slog.Int64("bytes", rw.bytes),
					slog.Duration("duration", time.Since(start)),
					slog.String("client", client),
					slog.String("user_agent", ua),
				)
				if accessLogger.Enabled(ctx, slog.LevelInfo) {
					_ = accessLogger.Handler().Handle(ctx, ar)
				}
				if !p.http.events || !eventPath(p.http.eventPaths, r.URL.Path) {
					return
				}
				switch status {
				case http.StatusUnauthorized:
					securityEvent(ctx, Event{Type: AuthnFailure, IP: client, UserAgent: ua, Resource: path,
						Action: r.Method, Outcome: OutcomeFailure, Reason: "HTTP 401", resourceRedacted: true}, 0)
				case http.StatusForbidden:
					securityEvent(ctx, Event{Type: AuthzDenied, IP: client, UserAgent: ua, Resource: path,
						Action: r.Method, Outcome: OutcomeDenied, Reason: "HTTP 403", resourceRedacted: true}, 0)
				}
			}()
			next.ServeHTTP(rw, r.WithContext(ctx))
		})
	}
}

// RequestIDFrom returns the request id of ctx (set by Middleware or
// ContextWithRequestID), or "".
func RequestIDFrom(ctx context.Context) string { return ContextValue(ctx, KeyRequestID) }

// ClientIP returns the address of the client of r: the peer's address,
// or, when the peer is a trusted proxy (CODOMYRMEX_LOG_TRUSTED_PROXIES,
// WithTrustedProxies), the address the proxies name in X-Forwarded-For or
// Forwarded: walked from the right (the hops the proxies appended), the
// first one that is not itself a trusted proxy. When a request carries
// both headers, they must name the same client: a proxy that appends to
// one passes the other through as the client wrote it (nginx's default
// passes Forwarded), so when they differ neither is taken, and the client
// is the peer. A hop that is not an IP address is never taken either: the
// client is then the peer. Without trusted proxies (the default), headers
// a client can forge are never read. The result is cut to
// MaxRequestFieldBytes.
func ClientIP(r *http.Request) string { return clientIP(r, load().http.trustedProxies) }

func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	peer = requestField(peer)
	if !isTrusted(peer, trusted) {
		return peer
	}
	fwd, fok := hopClient(r.Header.Values("Forwarded"), forwardedFor, trusted)
	xff, xok := hopClient(r.Header.Values("X-Forwarded-For"), strings.TrimSpace, trusted)
	switch {
	case fok == hopsNone && xok == hopsNone:
		return peer
	case fok == hopsNone && xok == hopsFound:
		return xff
	case xok == hopsNone && fok == hopsFound:
		return fwd
	case fok == hopsFound && xok == hopsFound && fwd == xff:
		return fwd
	}
	return peer // a hop that is not an address, or two headers that disagree
}

func isTrusted(addr string, trusted []netip.Prefix) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// maxForwardedHops bounds how many hops of Forwarded and X-Forwarded-For
// are read, from the right.
const maxForwardedHops = 32

// What hopClient found in a header.
const (
	hopsNone  = iota // no hop: the header is absent or names no one
	hopsFound        // a client address
	hopsBad          // the client's hop is not an IP address
)

// hopClient walks the comma-separated hops of a header's values from the
// right (the nearest proxy's first), at most maxForwardedHops, each taken
// by hop ("" for an element that names no address), and returns the first
// that is not a trusted proxy, in canonical form; or, when all are, the
// last one read.
func hopClient(vals []string, hop func(string) string, trusted []netip.Prefix) (string, int) {
	last, n := "", 0
	for i := len(vals) - 1; i >= 0 && n < maxForwardedHops; i-- {
		v := vals[i]
		for n < maxForwardedHops {
			elem := v
			j := strings.LastIndexByte(v, ',')
			if j >= 0 {
				elem, v = v[j+1:], v[:j]
			}
			if h := hop(elem); h != "" {
				n++
				a, err := netip.ParseAddr(hostOnly(h))
				if err != nil || a.Zone() != "" {
					return "", hopsBad
				}
				last = a.Unmap().String()
				if !isTrusted(last, trusted) {
					return last, hopsFound
				}
			}
			if j < 0 {
				break
			}
		}
	}
	if last == "" {
		return "", hopsNone
	}
	return last, hopsFound
}

// forwardedFor returns the for= parameter of one element of a Forwarded
// header (RFC 7239), unquoted, or "".
func forwardedFor(elem string) string {
	for pair := range strings.SplitSeq(elem, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(pair), "="); ok && strings.EqualFold(k, "for") {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// hostOnly takes the port and brackets off an address.
func hostOnly(v string) string {
	if h, _, err := net.SplitHostPort(v); err == nil {
		return h
	}
	return strings.Trim(v, "[]")
}

// preRedacted is a string this package redacted already, part by part: a
// request's path with its query (see redactedPath). The attrMapper cuts and
// escapes it as a string but does not run the patterns over it again, which
// would find in the whole what no part holds: page_token=… is a secret
// assignment to the patterns, although page_token is an allowed key and
// its value was redacted by pattern on its own.
type preRedacted string

// preRedacted is s as a string value, cut to the size limit and escaped
// when m escapes: what str does but the patterns.
func (m *attrMapper) preRedacted(s preRedacted) slog.Value {
	t := string(s)
	if m.limit > 0 && len(t) > m.limit {
		t = truncate(t, m.limit)
	}
	t, _ = m.escapeStr(t)
	return slog.StringValue(t)
}

// queryCredentials are query parameters that carry a credential in the
// protocols that put one in a URL, though their names say nothing of it:
// OAuth 2.0's authorization code (code), CAS's ticket, SAML's messages,
// and auth (a base64 user:password some clients send). As keys in a
// record they are ordinary words; in a query string they are not.
var queryCredentials = []string{"code", "ticket", "auth", "samlresponse", "samlrequest", "samlart"}

// queryCredential reports whether the query key k is one of
// queryCredentials (in any case).
func queryCredential(k string) bool {
	return slices.ContainsFunc(queryCredentials, func(c string) bool { return strings.EqualFold(c, k) })
}

// redactedPath is the path with its query, every part redacted on its own
// as a value is: the path and the query's keys by pattern, each query value
// decoded, replaced by the marker when its key names a secret (and is not
// allowed), else redacted by pattern (a credential sent percent-encoded,
// postgres%3A%2F%2Fuser%3Apw%40db, is found as the patterns know it), then
// encoded again. Markers are written as they are, not encoded. A query
// that does not parse is replaced whole; without redaction (m nil or off)
// every value is. The result is written as a preRedacted value: an allowed
// key's value only goes through the patterns on its own.
func redactedPath(u *url.URL, m *attrMapper) string {
	on := m != nil && m.red != nil
	bud := newBudget() // the request's share, as a record's
	p := u.Path
	if on {
		p, _ = m.str(p, &bud)
	}
	if u.RawQuery == "" {
		return p
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return p + "?" + redactedMarker
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(p)
	for i, k := range keys {
		secret := !on || m.secretKey(k) || queryCredential(k) && !m.allow.has(k)
		ek := k
		if on {
			ek, _ = m.str(k, &bud)
		}
		for j, v := range q[k] {
			if i+j == 0 {
				b.WriteByte('?')
			} else {
				b.WriteByte('&')
			}
			writeQueryPart(&b, ek)
			b.WriteByte('=')
			if secret {
				b.WriteString(redactedMarker)
				continue
			}
			v, _ = m.str(v, &bud)
			writeQueryPart(&b, v)
		}
	}
	return b.String()
}

// writeQueryPart writes s query-escaped, except the well-formed markers in
// it ([REDACTED], [REDACTED:kind]), which are written as they are: they
// hold no byte that ends a value or a record.
func writeQueryPart(b *strings.Builder, s string) {
	for s != "" {
		i := strings.Index(s, "[REDACTED")
		if i < 0 {
			b.WriteString(url.QueryEscape(s))
			return
		}
		b.WriteString(url.QueryEscape(s[:i]))
		n := markerLen(s[i:])
		if n == 0 {
			n = 1 // not a marker: its '[' is escaped like any byte
			b.WriteString(url.QueryEscape(s[i : i+1]))
		} else {
			b.WriteString(s[i : i+n])
		}
		s = s[i+n:]
	}
}

// markerLen is the length of the marker s starts with, [REDACTED] or
// [REDACTED:kind] with kind of [a-z0-9-], or 0.
func markerLen(s string) int {
	const prefix = "[REDACTED"
	if !strings.HasPrefix(s, prefix) {
		return 0
	}
	j := len(prefix)
	if j < len(s) && s[j] == ']' {
		return j + 1
	}
	if j >= len(s) || s[j] != ':' {
		return 0
	}
	k := j + 1
	for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= '0' && s[k] <= '9' || s[k] == '-') {
		k++
	}
	if k == j+1 || k >= len(s) || s[k] != ']' {
		return 0
	}
	return k + 1
}

// responseRecorder records the status and the bytes written.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	hijacked    bool
}

// WriteHeader records the first final status. An informational one (1xx,
// such as 103 Early Hints) is sent before the final one and is not the
// status; 101 is final: the connection is upgraded.
func (w *responseRecorder) WriteHeader(code int) {
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	w.wroteHeader = true
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush forwards to the underlying writer if it can flush.
func (w *responseRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack forwards to the underlying writer if it can hijack.
func (w *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		w.hijacked = true
		return h.Hijack()
	}
	return nil, nil, errors.New("logging: underlying ResponseWriter cannot hijack")
}
