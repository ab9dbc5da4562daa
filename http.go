package logging

import (
	"bufio"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
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
func requestField(s string) string {
	if len(s) <= MaxRequestFieldBytes {
		return s
	}
	const before, after = "…[truncated ", " bytes]"
	keep := MaxRequestFieldBytes - len(before) - len(strconv.Itoa(len(s))) - len(after)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + before + strconv.Itoa(len(s)-keep) + after
}

// Middleware logs one access record per request under the logger
// "http.access": method, path (every query value redacted), status, bytes,
// duration, client address and user agent, with the request id. It takes the
// X-Request-ID of the request only if it is short and of safe characters
// (otherwise it makes a new one), puts it in the context (request_id) and in
// the response header. 401 and 403 responses also emit AuthnFailure and
// AuthzDenied security events. The path and the user agent are cut to
// MaxRequestFieldBytes each.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !safeRequestID(id) {
			id = NewRequestID()
		}
		ctx := ContextWithRequestID(r.Context(), id)
		w.Header().Set(RequestIDHeader, id)
		rw := &responseRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			client := r.RemoteAddr
			if host, _, err := net.SplitHostPort(client); err == nil {
				client = host
			}
			path := requestField(redactedPath(r.URL))
			ua := requestField(r.UserAgent())
			accessLogger.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("path", path),
				slog.Int("status", rw.status),
				slog.Int64("bytes", rw.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("client", client),
				slog.String("user_agent", ua),
			)
			switch rw.status {
			case http.StatusUnauthorized:
				SecurityEvent(ctx, Event{Type: AuthnFailure, IP: client, UserAgent: ua, Resource: path,
					Action: r.Method, Outcome: OutcomeFailure, Reason: "HTTP 401"})
			case http.StatusForbidden:
				SecurityEvent(ctx, Event{Type: AuthzDenied, IP: client, UserAgent: ua, Resource: path,
					Action: r.Method, Outcome: OutcomeDenied, Reason: "HTTP 403"})
			}
		}()
		next.ServeHTTP(rw, r.WithContext(ctx))
	})
}

// redactedPath is the path with every query value replaced by the marker.
func redactedPath(u *url.URL) string {
	if u.RawQuery == "" {
		return u.Path
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return u.Path + "?" + redactedMarker
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(u.Path)
	for i, k := range keys {
		for j := range q[k] {
			if i+j == 0 {
				b.WriteByte('?')
			} else {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteString("=" + redactedMarker)
		}
	}
	return b.String()
}

// responseRecorder records the status and the bytes written.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *responseRecorder) WriteHeader(code int) {
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
		return h.Hijack()
	}
	return nil, nil, errors.New("logging: underlying ResponseWriter cannot hijack")
}
