package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

func TestKeyBasedRedaction(t *testing.T) {
	for _, k := range []string{"password", "PASSWORD", "passwd", "pwd", "secret", "token", "api_key", "apikey", "apiKey", "API-KEY", "x-api-key",
		"access_key", "secret_key", "private_key", "client_secret", "authorization", "Authorization", "cookie", "set-cookie", "Set-Cookie",
		"session", "credentials", "card_number", "cvv", "ssn", "db_password", "DB.PASSWORD", "refresh_token"} {
		assert.True(t, IsSecretKey(k), k)
	}
	for _, k := range []string{"user", "path", "tokens_used", "key", "keyboard", "sessions_count", "status", "password_policy"} {
		assert.False(t, IsSecretKey(k), k)
	}
}

// structs for the deep tests
type dbConfig struct {
	Host     string
	Password string `json:"pw"`
	APIKey   string `json:"api_key"`
	Note     string `log:"redact"`
	Internal string `log:"-"`
	Port     int
	Nested   *dbConfig
}

type wrappedErr struct{ err error }

func (w wrappedErr) Error() string { return "query failed: " + w.err.Error() }
func (w wrappedErr) Unwrap() error { return w.err }

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type valuer struct{ s string }

func (v valuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token", v.s), slog.String("ok", "yes"))
}

type panicky struct{}

func (panicky) String() string { panic("boom") }

func TestDeepRedaction(t *testing.T) {
	pw := redacttest.Gen(redacttest.AlnumChars, 12)
	url := "postgres://app:" + pw + "@db/main"
	tok := redacttest.GHToken("gh" + "p")
	cases := map[string]any{
		"struct":       dbConfig{Host: "db", Password: pw, APIKey: pw, Note: pw, Internal: pw, Port: 5432},
		"pointer":      &dbConfig{Host: url, Nested: &dbConfig{Password: pw}},
		"map":          map[string]any{"user": "ann", "Password": pw, "inner": map[string]string{"token": pw}},
		"map-int-keys": map[int]string{1: url},
		"slice":        []string{"a", url},
		"array":        [2]string{"b", "token=" + tok},
		"error":        wrappedErr{errors.New("dial " + url)},
		"joined-error": fmt.Errorf("outer: %w", errors.New("inner "+url)),
		"stringer":     stringer{"conn " + url},
		"bytes":        []byte("body password=" + pw),
		"raw-json":     json.RawMessage(`{"user":"ann","password":"` + pw + `"}`),
		"logvaluer":    valuer{pw},
		"secret-type":  Secret(pw),
		"any-of-group": []any{map[string]any{"secret": pw}},
	}
	for name, v := range cases {
		for _, out := range []OutputType{OutputText, OutputJSON} {
			t.Run(name+"/"+out.String(), func(t *testing.T) {
				buf := setup(t, WithOutputType(out))
				Logger("deep").Info("value", "v", v, slog.Group("g", slog.Any("inner", v)))
				line := buf.String()
				assert.NotContains(t, line, pw, line)
				assert.NotContains(t, line, tok[4:], line)
				assert.Contains(t, line, "REDACTED")
				assert.NotContains(t, line, "Internal")
				assert.Equal(t, 1, strings.Count(line, "\n"))
			})
			t.Run(name+"/wrap-"+out.String(), func(t *testing.T) {
				var b bytes.Buffer
				var h slog.Handler = slog.NewJSONHandler(&b, nil)
				if out == OutputText {
					h = slog.NewTextHandler(&b, nil)
				}
				slog.New(Wrap(h)).Info("value", "v", v)
				assert.NotContains(t, b.String(), pw)
				assert.Contains(t, b.String(), "REDACTED")
			})
		}
	}
}

func TestKeyBasedAtEveryDepth(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	l := Logger("k").With("api_key", "with-attrs-value").WithGroup("g1")
	l.Info("m", slog.Group("g2", slog.Group("g3", "password", "deep-value", "user", "ann")), "X-Api-Key", "top-value")
	line := buf.String()
	for _, s := range []string{"with-attrs-value", "deep-value", "top-value"} {
		assert.NotContains(t, line, s)
	}
	assert.Contains(t, line, `"user":"ann"`)
	assert.Equal(t, float64(3), float64(strings.Count(line, redactedMarker)))
}

func TestMessageRedacted(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	tok := redacttest.GHToken("gh" + "p")
	Logger("m").Info("using " + tok)
	assert.Equal(t, "using [REDACTED:github-token]", lastJSON(t, buf)["msg"])
}

func TestPanickingValue(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	assert.NotPanics(t, func() { Logger("p").Info("x", "v", panicky{}) })
	assert.Contains(t, lastJSON(t, buf)["v"], "PANIC")
}

func TestCyclesAndDepth(t *testing.T) {
	type node struct {
		Name string
		Next *node
	}
	a := &node{Name: "a"}
	a.Next = &node{Name: "b", Next: a}
	var deep any = "bottom"
	for range 100 {
		deep = []any{deep}
	}
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("c").Info("x", "cycle", a, "deep", deep)
	line := buf.String()
	assert.Contains(t, line, "CYCLE")
	assert.Contains(t, line, "DEPTH")
	jsonLines(t, line)
}

func TestCustomKeysAndPatterns(t *testing.T) {
	t.Setenv(EnvPrefix+"REDACT_KEYS", "tenant_pin,otp2")
	t.Setenv(EnvPrefix+"REDACT_PATTERNS", `acct-\d{6};;ref-[a-z]{5}`)
	buf := setup(t, WithOutputType(OutputJSON), WithRedactKeys("favorite_color"), WithRedactPatterns(`emp#\d+`))
	Logger("c").Info("acct-123456 ref-abcde emp#42", "TenantPin", "1234", "favoriteColor", "blue", "user_otp2", "991")
	m := lastJSON(t, buf)
	assert.Equal(t, "[REDACTED:custom] [REDACTED:custom] [REDACTED:custom]", m["msg"])
	assert.Equal(t, redactedMarker, m["TenantPin"])
	assert.Equal(t, redactedMarker, m["favoriteColor"])
	assert.Equal(t, redactedMarker, m["user_otp2"])
}

func TestCustomRuleOption(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON), WithRule(Rule{Kind: "employee-id", Keywords: []string{"emp"}, Pattern: mustRe(`EMP-(\d{4})`)}))
	Logger("c").Info("EMP-1234 joined")
	assert.Equal(t, "EMP-[REDACTED:employee-id] joined", lastJSON(t, buf)["msg"])
	assert.Error(t, Setup(WithConsole(&syncBuffer{}), WithRule(Rule{Kind: "x"})))
}

func TestBadPatternIsSetupError(t *testing.T) {
	t.Setenv(EnvPrefix+"REDACT_PATTERNS", `ok-\d+;;(bad`)
	err := Setup(WithConsole(&syncBuffer{}))
	t.Cleanup(func() { _ = Close() })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CODOMYRMEX_LOG_REDACT_PATTERNS")
	assert.Error(t, Setup(WithConsole(&syncBuffer{}), WithRedactPatterns("(bad")))
}

func TestRedactionOffWarnsOnce(t *testing.T) {
	redactionOffWarned.Store(false)
	buf := setup(t, WithOutputType(OutputJSON), WithRedaction(false))
	Logger("x").Info("x", "password", "visible")
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, 2)
	assert.Equal(t, "WARN", lines[0]["level"])
	assert.Contains(t, lines[0]["msg"], "redaction is turned off")
	assert.Equal(t, "visible", lines[1]["password"])
	buf2 := setup(t, WithOutputType(OutputJSON), WithRedaction(false))
	assert.Empty(t, buf2.Lines(), "warned only once")
}

func TestSecretType(t *testing.T) {
	s := Secret("hunter2")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %q %x %#v %+v %d", s, s, s, s, s, s, s), s.String()} {
		assert.NotContains(t, out, "hunter2")
		assert.NotContains(t, out, "68756e74657232")
	}
	b, err := json.Marshal(map[string]any{"s": s})
	require.NoError(t, err)
	assert.JSONEq(t, `{"s":"[REDACTED]"}`, string(b))
	assert.Equal(t, "hunter2", s.Reveal())
}

func TestStatsCountRedactions(t *testing.T) {
	before := Stats().Redactions["aws-access-key-id"]
	beforeKey := Stats().Redactions["key"]
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("s").Info("k "+redacttest.Join("AK", "IA", redacttest.Gen(redacttest.B32Chars, 16)), "password", "x")
	require.NotEmpty(t, buf.Lines())
	after := Stats()
	assert.Equal(t, before+1, after.Redactions["aws-access-key-id"])
	assert.Equal(t, beforeKey+1, after.Redactions["key"])
}

func mustRe(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// Issue 19: a key with a secret word in any segment, or the plural of one,
// is secret on every path a key takes: attrs, struct fields (by name and by
// JSON tag), map keys; a key that describes a secret is not.
func TestSecretWordKeysEveryPath(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	type creds struct {
		PasswordCurrent string
		Tokens          []string
		APIKeys         map[string]string `json:"api_keys"`
		TokenCount      int
	}
	v := func() string { return redacttest.Gen(redacttest.AlnumChars, 16) }
	secrets := []string{v(), v(), v(), v(), v(), v(), v()}
	Logger("k").Info("m",
		"password.current", secrets[0],
		"passwords", []string{secrets[1]},
		"c", creds{PasswordCurrent: secrets[2], Tokens: []string{secrets[3]}, APIKeys: map[string]string{"a": secrets[4]}, TokenCount: 7},
		"m", map[string]any{"private_keys": secrets[5], "api_key.primary": secrets[6], "password_policy": "strict"},
		"prompt_tokens", 12,
	)
	line := buf.String()
	for _, s := range secrets {
		assert.NotContains(t, line, s)
	}
	assert.Contains(t, line, `"password_policy":"strict"`)
	assert.Contains(t, line, `"prompt_tokens":12`)
	assert.Contains(t, line, `"TokenCount":7`)
}
