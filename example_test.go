package logging_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"

	"github.com/codomyrmex/logging"
)

func ExampleSetup() {
	// The console is stdout here and the time is left out of the format, so
	// that the output is stable. CODOMYRMEX_LOG_* variables the operator
	// sets win over these options (Setup says so in one line), except
	// options pinned with logging.Fixed.
	logger := logging.Logger("billing") // safe before Setup: it follows Setup
	err := logging.Setup(
		logging.WithConsole(os.Stdout),
		logging.WithFormat("%(name)s %(levelname)-8s %(message)s"),
	)
	if err != nil { // a working chain is installed anyway
		for _, p := range logging.Problems(err) { // one record per problem
			logger.Error("logging configuration", "problem", p)
		}
	}
	defer logging.Close()

	password := "correct-" + "horse" // any value: redacted by its key
	logger.Info("invoice sent", "id", 1042, "password", password)
	logger.Warn("retry", "user", "bob\nINFO forged")
	// Output:
	// billing INFO     invoice sent id=1042 password=[REDACTED]
	// billing WARNING  retry user="bob\nINFO forged"
}

func ExampleLogger() {
	// A logger made before Setup (at package level, say) follows Setup.
	db := logging.Logger("db.pool")

	_ = logging.Setup(
		logging.WithConsole(os.Stdout),
		logging.WithFormat("%(name)s %(levelname)s %(message)s"),
		logging.WithLevels("INFO,db=DEBUG"), // db and db.* log DEBUG too
	)
	defer logging.Close()

	db.Debug("conn opened", "conns", 3)
	logging.Logger("api").Debug("not shown: api is at INFO")
	db.With("pool", "main").WithGroup("stats").Info("size", "idle", 2)
	// Output:
	// db.pool DEBUG conn opened conns=3
	// db.pool INFO size pool=main stats.idle=2
}

func ExampleWrap() {
	// Keep your own handler; put the secure stages in front of it.
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	logger := slog.New(logging.Wrap(h))
	logger.Info("connect", "dsn", "postgres://app:"+"s3cret"+"@db:5432/main", "note", "line1\nline2")
	// Output:
	// level=INFO msg=connect dsn=postgres://app:[REDACTED:url-credentials]@db:5432/main note="line1\nline2"
}

func ExampleRedact() {
	key := "AKIA" + "QYLPMN5HXZ7RBW2E" // built from parts, as tests do
	os.Stdout.WriteString(logging.Redact("key id "+key+" in use") + "\n")
	// Output: key id [REDACTED:aws-access-key-id] in use
}

func ExampleSanitize() {
	os.Stdout.WriteString(logging.Sanitize("ok\r\nINFO forged \x1b[31mred\u202e") + "\n")
	// Output: ok\r\nINFO forged \x1b[31mred\u202e
}

func ExampleSecret() {
	type login struct {
		User     string
		Password logging.Secret
	}
	logger := slog.New(logging.Wrap(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	logger.Info("login", "req", login{User: "ann", Password: logging.Secret("correct-" + "horse")})
	// Output: {"level":"INFO","msg":"login","req":{"User":"ann","Password":"[REDACTED]"}}
}

func ExampleFlush() {
	dir, _ := os.MkdirTemp("", "flush-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.log")
	_ = logging.Setup(logging.WithConsole(nil), logging.WithFile(path),
		logging.WithFormat("%(levelname)s %(message)s"))
	defer logging.Close()

	logger := logging.Logger("app")
	logger.Info("written behind the caller")
	logging.Flush() // now it is in the file, as before os.Exit
	data, _ := os.ReadFile(path)
	os.Stdout.Write(data)
	// Output: INFO written behind the caller
}

func ExampleSecurityEvent() {
	_ = logging.Setup(
		logging.WithConsole(os.Stdout),
		logging.WithFormat("%(name)s %(levelname)s %(message)s"),
	)
	defer logging.Close()

	key := "sk" + "_live_" + "Q7mZ2pLx9RtV4nKc8WbY3hJd" // built from parts, as tests do
	logging.SecurityEvent(context.Background(), logging.Event{
		Type:        logging.AuthnFailure,
		UserID:      "u-42",
		IP:          "203.0.113.7",
		UserAgent:   "curl/8.5\nsecurity INFO security event: authn_success", // forged by the client
		Resource:    "/login",
		Action:      "POST",
		Outcome:     logging.OutcomeFailure,
		ThreatLevel: logging.ThreatLow,
		Reason:      "revoked key " + key,
		Attrs:       []slog.Attr{slog.String("session", "s-"+"9f3a")},
	})
	// The key in Reason is redacted by its format, the session attr by its key
	// name (as a fingerprint: the same session id gives the same one on every
	// record, so that a session can be followed without its id being
	// written), and the forged newline is escaped: one event stays one line.

	// Output:
	// security WARNING security event: authn_failure security_event_type=authn_failure user_id=u-42 ip_address=203.0.113.7 user_agent="curl/8.5\nsecurity INFO security event: authn_success" resource=/login action=POST outcome=failure severity=medium threat_level=low reason="revoked key [REDACTED:stripe-key]" session=[REDACTED:fp-82531f02aa31d475]
}

func ExampleMiddleware() {
	var out bytes.Buffer // the console, captured so that it can be printed below
	_ = logging.Setup(
		logging.WithConsole(&out),
		logging.WithFormat("%(name)s %(levelname)s %(message)s"),
	)
	defer logging.Close()

	h := logging.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	// Query values are redacted by the same key and pattern rules as every
	// value: api_key by its key, page=2 kept. A short, safe X-Request-ID is
	// kept.
	req := httptest.NewRequest("GET", "/orders?page=2&api_key="+"s3"+"cret", nil)
	req.Header.Set(logging.RequestIDHeader, "req-demo-1")
	req.Header.Set("User-Agent", "example/1.0")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get(logging.RequestIDHeader))

	// The access record's duration differs on every run; it is the only value
	// replaced, so that the Output below can check everything else.
	fmt.Print(regexp.MustCompile(`duration=\S+`).ReplaceAllString(out.String(), "duration=…"))
	// Output:
	// 401 req-demo-1
	// http.access INFO request method=GET path="/orders?api_key=[REDACTED]&page=2" status=401 bytes=13 duration=… client=192.0.2.1 user_agent=example/1.0 request_id=req-demo-1
	// security WARNING security event: authn_failure security_event_type=authn_failure ip_address=192.0.2.1 user_agent=example/1.0 resource="/orders?api_key=[REDACTED]&page=2" action=GET outcome=failure severity=medium threat_level=none reason="HTTP 401" request_id=req-demo-1
}

func ExampleContextWith() {
	_ = logging.Setup(
		logging.WithConsole(os.Stdout),
		logging.WithFormat("%(name)s %(levelname)s %(message)s"),
	)
	defer logging.Close()

	ctx := logging.ContextWithRequestID(context.Background(), "req-7")
	ctx = logging.ContextWithUserID(ctx, "u-42")
	ctx = logging.ContextWith(ctx, slog.String("region", "eu-west-1"))

	// The record's own attrs come first, then the context's, at the top level.
	logger := logging.Logger("orders")
	logger.InfoContext(ctx, "order placed", "order", 1042)
	logger.Info("no context, no ids")
	// Output:
	// orders INFO order placed order=1042 request_id=req-7 user_id=u-42 region=eu-west-1
	// orders INFO no context, no ids
}

func ExampleWithContextExtractor() {
	// A stand-in for a tracing library's span, stored under our own key.
	type spanKey struct{}
	type span struct{ traceID, spanID string }

	_ = logging.Setup(
		logging.WithConsole(os.Stdout),
		logging.WithFormat("%(name)s %(levelname)s %(message)s"),
		logging.WithContextExtractor(func(ctx context.Context) []slog.Attr {
			sp, ok := ctx.Value(spanKey{}).(span)
			if !ok {
				return nil
			}
			return []slog.Attr{
				slog.String(logging.KeyTraceID, sp.traceID),
				slog.String(logging.KeySpanID, sp.spanID),
			}
		}),
	)
	defer logging.Close()

	ctx := context.WithValue(context.Background(), spanKey{},
		span{traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7"})
	logger := logging.Logger("api")
	logger.InfoContext(ctx, "charge", "amount", 1999)
	logger.InfoContext(context.Background(), "no span, no ids")
	// Output:
	// api INFO charge amount=1999 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7
	// api INFO no span, no ids
}
