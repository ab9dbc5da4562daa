package logging

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// knownValue is a value in a format no rule knows: what a home-grown API
// key or a database password looks like.
func knownValue() string {
	return "zq" + redacttest.Gen("abcdefghjkmnpqrstuvwxyz23456789", 18)
}

// A registered value is masked wherever a record holds it: the message, a
// value, a key, an error's text, a struct field, a group, a value logged
// after Setup ran again; and in the encodings a client library writes it in.
func TestMaskEveryPosition(t *testing.T) {
	v := knownValue()
	require.NoError(t, Mask(v))
	type cfg struct{ DSN string }
	basic := base64.StdEncoding.EncodeToString([]byte("svc:" + v))
	cases := map[string]func(l *slog.Logger){
		"message":      func(l *slog.Logger) { l.Info("connecting with " + v) },
		"value":        func(l *slog.Logger) { l.Info("m", "note", "x"+v+"y") },
		"key":          func(l *slog.Logger) { l.Info("m", v, 1) },
		"error":        func(l *slog.Logger) { l.Error("m", "err", fmt.Errorf("pq: auth failed (dsn \"host=db pw=%s\")", v)) },
		"struct":       func(l *slog.Logger) { l.Info("m", "cfg", cfg{DSN: "db:" + v}) },
		"group":        func(l *slog.Logger) { l.Info("m", slog.Group("g", slog.String("x", v))) },
		"basic header": func(l *slog.Logger) { l.Info("m", "hdr", "Basic "+basic) },
		"query":        func(l *slog.Logger) { l.Info("m", "cb", "https://a.example/cb?k="+url.QueryEscape(v+"&")) },
		"hex":          func(l *slog.Logger) { l.Info("m", "dump", hex.EncodeToString([]byte(v))) },
	}
	hiddenOnEveryPath(t, cases, "[REDACTED", v, basic, hex.EncodeToString([]byte(v)))
	t.Run("after another Setup", func(t *testing.T) {
		buf := setup(t, WithOutputType(OutputJSON))
		Logger("m").Info("again " + v)
		assert.NotContains(t, buf.String(), v)
		assert.Contains(t, buf.String(), "[REDACTED:known-secret]")
	})
	t.Run("after Close", func(t *testing.T) {
		assert.NotContains(t, Redact("x "+v), v, "Redact and the package's own reports")
	})
	assert.GreaterOrEqual(t, Stats().Redactions["known-secret"], uint64(len(cases)))
}

// Mask refuses values too short to mask without blanking ordinary text,
// and says how many, never which.
func TestMaskRefusesShortValues(t *testing.T) {
	short := "ab" + "c"
	err := Mask(short, knownValue())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 of 2")
	assert.NotContains(t, err.Error(), short)
}

// The first masking raises one secret_exposure event that names the logger
// and the call site, never the value; later ones are counted.
func TestMaskExposureEvent(t *testing.T) {
	exposureReported.Store(false)
	t.Cleanup(func() { exposureReported.Store(false) })
	v := knownValue()
	require.NoError(t, Mask(v))
	buf := setup(t, WithOutputType(OutputJSON))
	before := Stats().Redactions["known-secret"]
	Logger("billing").Info("charged", "k", v)
	Logger("billing").Info("charged again", "k", v)
	assert.NotContains(t, buf.String(), v)
	var events []map[string]any
	for _, m := range jsonLines(t, buf.String()) {
		if m["security_event_type"] == string(SecretExposure) {
			events = append(events, m)
		}
	}
	require.Len(t, events, 1, buf.String())
	assert.Equal(t, "billing", events[0]["resource"])
	assert.Equal(t, "ERROR", events[0]["level"])
	assert.Contains(t, events[0]["call_site"], "mask_test.go:")
	assert.Equal(t, before+2, Stats().Redactions["known-secret"])
	assert.Contains(t, EventTypes(), SecretExposure)
}

// Setup masks the environment's secrets: variables named like secrets,
// passwords in URLs, files named by *_FILE variables; plain values are
// skipped and counted; CODOMYRMEX_LOG_MASK_ENV=false turns it off.
func TestMaskEnvironment(t *testing.T) {
	apiKey, dbPass, fileTok := knownValue(), knownValue(), knownValue()
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokFile, []byte(fileTok+"\n"), 0o600))
	env := []string{
		"BILLING_API_KEY=" + apiKey,
		"DATABASE_URL=postgres://app:" + dbPass + "@db:5432/main",
		"VAULT_TOKEN_FILE=" + tokFile,
		"POSTGRES_PASSWORD=postgres",
		"HOME=/home/app",
	}
	old := environ
	environ = func() []string { return env }
	t.Cleanup(func() { environ = old })

	buf := setup(t, WithOutputType(OutputJSON))
	Logger("m").Info("values "+apiKey, "dsn", "host=db password="+dbPass, "t", base64.StdEncoding.EncodeToString([]byte("u:"+fileTok)))
	Logger("m").Info("postgres is up at /home/app")
	out := buf.String()
	for _, v := range []string{apiKey, dbPass, fileTok} {
		assert.NotContains(t, out, v)
	}
	assert.Contains(t, out, "postgres is up at /home/app", "plain values are not masked")
	assert.Equal(t, 1, Stats().KnownSkipped)
	assert.GreaterOrEqual(t, Stats().KnownSecrets, 3)

	env = append(env, EnvPrefix+"MASK_ENV=false")
	buf = setup(t, WithOutputType(OutputJSON))
	Logger("m").Info("values " + apiKey)
	assert.Contains(t, buf.String(), apiKey, "masking of the environment turned off")

	t.Run("a file that cannot be read", func(t *testing.T) {
		env = []string{"API_TOKEN_FILE=" + filepath.Join(dir, "missing")}
		err := Setup(WithConsole(&syncBuffer{}))
		t.Cleanup(func() { _ = Close() })
		require.Error(t, err)
		assert.Contains(t, err.Error(), "API_TOKEN_FILE")
		var ce *ConfigError
		assert.True(t, errors.As(err, &ce))
	})
}

// Mask may be called while other goroutines log: once Mask returns, every
// record masks the value (run with -race).
func TestMaskWhileLogging(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	values := make([]string, 6)
	for i := range values {
		values[i] = knownValue()
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					Logger("w").Info("tick", "v", "clean")
				}
			}
		})
	}
	for _, v := range values {
		require.NoError(t, Mask(v))
		Logger("m").Info("after mask " + v)
	}
	close(stop)
	wg.Wait()
	out := buf.String()
	for _, v := range values {
		assert.NotContains(t, out, v)
	}
	assert.Equal(t, len(values), strings.Count(out, "after mask [REDACTED:known-secret]"))
}

// A value registered after a handler was built, or after a key was seen
// (and remembered as clean), is masked from then on: Mask reaches every
// chain, Wrap and redacting handler, and makes the caches of clean keys
// forget.
func TestMaskReachesHandlersBuiltBefore(t *testing.T) {
	v := knownValue()
	var wrapped, redacting strings.Builder
	lw := slog.New(Wrap(slog.NewJSONHandler(&wrapped, nil)))
	lr := slog.New(NewRedactingHandler(slog.NewJSONHandler(&redacting, nil)))
	buf := setup(t, WithOutputType(OutputJSON))
	key := string([]byte(v)) // the same key each time, as a constant would be
	for _, l := range []*slog.Logger{lw, lr, Logger("s")} {
		l.Info("before", key, 1)
	}
	assert.Contains(t, wrapped.String(), v, "not registered yet")
	require.NoError(t, Mask(v))
	for _, l := range []*slog.Logger{lw, lr, Logger("s")} {
		l.Info("after "+v, key, 1)
	}
	for name, out := range map[string]string{"Wrap": wrapped.String(), "redacting": redacting.String(), "Setup": buf.String()} {
		_, after, ok := strings.Cut(out, "after")
		require.True(t, ok, name)
		assert.NotContains(t, after, v, "%s: %s", name, after)
	}
}

// A value registered with Mask after a logger bound it with With (or a
// group name) is masked in that logger's later records behind Wrap and
// NewRedactingHandler too: the handler behind encoded the attrs when With
// was called, so the stage makes its chain again from the start.
func TestMaskReachesAttrsBoundBefore(t *testing.T) {
	for name, wrap := range map[string]func(slog.Handler) slog.Handler{
		"Wrap":                func(h slog.Handler) slog.Handler { return Wrap(h) },
		"NewRedactingHandler": func(h slog.Handler) slog.Handler { return NewRedactingHandler(h) },
	} {
		t.Run(name, func(t *testing.T) {
			v := knownValue()
			var buf bytes.Buffer
			l := slog.New(wrap(slog.NewJSONHandler(&buf, nil))).With("conn", "db "+v).WithGroup("g").With("k", 1)
			l.Info("before")
			require.Contains(t, buf.String(), v, "not registered yet")
			buf.Reset()
			require.NoError(t, Mask(v))
			l.Info("after")
			l.With("more", 2).Info("derived after")
			out := buf.String()
			assert.NotContains(t, out, v)
			assert.Equal(t, 2, strings.Count(out, `"conn":"db [REDACTED:known-secret]"`), out)
			assert.Equal(t, 2, strings.Count(out, `"g":{`), "the group kept: %s", out)
		})
	}
}
