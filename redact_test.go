package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

func TestEveryRuleHasSamples(t *testing.T) {
	samples := redacttest.RuleSamples()
	kinds := map[string]bool{}
	for _, r := range builtinRules {
		kinds[r.Kind] = true
	}
	assert.GreaterOrEqual(t, len(kinds), 50, "at least 50 credential formats")
	for k := range kinds {
		assert.Contains(t, samples, k, "rule %s has no test sample", k)
	}
	for k := range samples {
		assert.Contains(t, kinds, k, "sample for unknown rule %s", k)
	}
}

func TestRulePositives(t *testing.T) {
	for kind, s := range redacttest.RuleSamples() {
		t.Run(kind, func(t *testing.T) {
			out := Redact(s.Text)
			assert.Contains(t, out, "[REDACTED:"+kind+"]", "text: %q\nout:  %q", s.Text, out)
			assert.NotContains(t, out, s.Secret)
			assert.Equal(t, out, Redact(out), "idempotent")
		})
	}
}

func TestRuleNearMisses(t *testing.T) {
	for kind, s := range redacttest.RuleSamples() {
		t.Run(kind, func(t *testing.T) {
			assert.Equal(t, s.NearMiss, Redact(s.NearMiss))
		})
	}
}

func TestNotSecretsByThemselves(t *testing.T) {
	for _, s := range []string{
		"sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"uuid 123e4567-e89b-12d3-a456-426614174000",
		"blob aGVsbG8gd29ybGQgdGhpcyBpcyBhIGJhc2U2NCBibG9iIG9mIHRleHQ=",
		"client 192.168.10.1:8080 and fe80::1ff:fe23:4567:890a",
		"block blk_-1608999687919862906 of 1234567890123456789",
		"took 1234567890123 ns; order 4111111111111112",
		"token count 12 for session started",
		"Failed password for invalid user admin from 10.0.0.1 port 22 ssh2",
		"GET https://example.com/search?q=hello&page=2 200",
	} {
		assert.Equal(t, s, Redact(s))
	}
}

func TestCardValidation(t *testing.T) {
	visa := redacttest.LuhnComplete("4" + redacttest.Gen(redacttest.DigitChars, 14))
	amex := redacttest.LuhnComplete("37" + redacttest.Gen(redacttest.DigitChars, 12))
	mc := redacttest.LuhnComplete("52" + redacttest.Gen(redacttest.DigitChars, 13))
	for _, c := range []string{visa, amex, mc, visa[:4] + "-" + visa[4:8] + "-" + visa[8:12] + "-" + visa[12:]} {
		assert.Contains(t, Redact("card "+c), "[REDACTED:card-number]", c)
	}
	notLuhn := visa[:15] + string('0'+(visa[15]-'0'+5)%10)
	unknownIssuer := redacttest.LuhnComplete("9" + redacttest.Gen(redacttest.DigitChars, 14))
	mixed := visa[:4] + " " + visa[4:8] + "-" + visa[8:12] + " " + visa[12:]
	for _, c := range []string{notLuhn, unknownIssuer, mixed, "-" + visa, visa + ".5"} {
		assert.Equal(t, "id "+c, Redact("id "+c), c)
	}
}

func TestGitHubChecksum(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	assert.True(t, githubChecksum(tok))
	flipped := tok[:10] + string(rune(tok[10]^1)) + tok[11:]
	assert.False(t, githubChecksum(flipped))
}

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
	buf := setup(t, WithJSON())
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
	buf := setup(t, WithJSON())
	tok := redacttest.GHToken("gh" + "p")
	Logger("m").Info("using " + tok)
	assert.Equal(t, "using [REDACTED:github-token]", lastJSON(t, buf)["msg"])
}

func TestPanickingValue(t *testing.T) {
	buf := setup(t, WithJSON())
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
	buf := setup(t, WithJSON())
	Logger("c").Info("x", "cycle", a, "deep", deep)
	line := buf.String()
	assert.Contains(t, line, "CYCLE")
	assert.Contains(t, line, "DEPTH")
	jsonLines(t, line)
}

func TestCustomKeysAndPatterns(t *testing.T) {
	t.Setenv(EnvPrefix+"REDACT_KEYS", "tenant_pin,otp2")
	t.Setenv(EnvPrefix+"REDACT_PATTERNS", `acct-\d{6};;ref-[a-z]{5}`)
	buf := setup(t, WithJSON(), WithRedactKeys("favorite_color"), WithRedactPatterns(`emp#\d+`))
	Logger("c").Info("acct-123456 ref-abcde emp#42", "TenantPin", "1234", "favoriteColor", "blue", "user_otp2", "991")
	m := lastJSON(t, buf)
	assert.Equal(t, "[REDACTED:custom] [REDACTED:custom] [REDACTED:custom]", m["msg"])
	assert.Equal(t, redactedMarker, m["TenantPin"])
	assert.Equal(t, redactedMarker, m["favoriteColor"])
	assert.Equal(t, redactedMarker, m["user_otp2"])
}

func TestCustomRuleOption(t *testing.T) {
	buf := setup(t, WithJSON(), WithRule(Rule{Kind: "employee-id", Keywords: []string{"emp"}, Pattern: mustRe(`EMP-(\d{4})`)}))
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
	buf := setup(t, WithJSON(), WithRedaction(false))
	Logger("x").Info("x", "password", "visible")
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, 2)
	assert.Equal(t, "WARNING", lines[0]["level"])
	assert.Contains(t, lines[0]["msg"], "redaction is turned off")
	assert.Equal(t, "visible", lines[1]["password"])
	buf2 := setup(t, WithJSON(), WithRedaction(false))
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
	buf := setup(t, WithJSON())
	Logger("s").Info("k "+redacttest.Join("AK", "IA", redacttest.Gen(redacttest.B32Chars, 16)), "password", "x")
	require.NotEmpty(t, buf.Lines())
	after := Stats()
	assert.Equal(t, before+1, after.Redactions["aws-access-key-id"])
	assert.Equal(t, beforeKey+1, after.Redactions["key"])
}

func TestRedactCleanStringAllocatesNothing(t *testing.T) {
	s := "GET /api/v1/orders/81723 200 5123 bytes in 1.2ms from 10.1.2.3"
	Redact(s)
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { _ = Redact(s) }))
}

// loghubFiles lists the shared Loghub samples, or skips the test.
func loghubFiles(t testing.TB) []string {
	files, _ := filepath.Glob(filepath.Join("..", "shared", "testdata", "loghub", "*.log"))
	if len(files) == 0 {
		t.Skip("../shared/testdata/loghub not present (a fresh clone); the corpus in testdata/ still runs")
	}
	return files
}

// checkBenign asserts that at most 0.1% of the lines change under Redact.
func checkBenign(t *testing.T, files []string) {
	total, changed := 0, 0
	for _, f := range files {
		for _, l := range redacttest.ReadLines(t, f) {
			total++
			if r := Redact(l); r != l {
				changed++
				t.Logf("%s: changed\n  %s\n  %s", filepath.Base(f), l, r)
			}
		}
	}
	require.Greater(t, total, 0)
	t.Logf("%d of %d lines changed", changed, total)
	assert.LessOrEqual(t, float64(changed), float64(total)*0.001)
}

func TestLoghubNoFalsePositives(t *testing.T) {
	checkBenign(t, loghubFiles(t))
}

func TestBenignCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "benign", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	checkBenign(t, files)
}

func mustRe(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func TestStrayMarkerDoesNotShield(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	for _, s := range []string{"[REDACTED " + tok, "[REDACTED:" + tok, "password=[REDACTEDhunter2x", "[REDACTED:x " + tok + "]",
		"Cookie: session=hunter2x [REDACTED]", "password=hunter2x[REDACTED]", "password=[REDACTED]hunter2x"} {
		out := Redact(s)
		assert.NotContains(t, out, tok[4:], s)
		assert.NotContains(t, out, "hunter2x", s)
	}
}

func FuzzRedact(f *testing.F) {
	samples := redacttest.RuleSamples()
	var kinds []string
	for k := range samples {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	f.Add("plain text", uint(0), uint8(0))
	f.Add("password=x [REDACTED:key] https://u:p@h", uint(5), uint8(3))
	f.Add("\x00\xff[REDACTED", uint(2), uint8(7))
	f.Fuzz(func(t *testing.T, s string, pos uint, kind uint8) {
		out := Redact(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from valid input %q → %q", s, out)
		}
		if again := Redact(out); again != out {
			t.Fatalf("not idempotent:\n%q\n%q\n%q", s, out, again)
		}
		// A secret planted anywhere (as a separate word) never survives.
		sm := samples[kinds[int(kind)%len(kinds)]]
		p := int(pos % uint(len(s)+1))
		planted := s[:p] + " " + sm.Text + " " + s[p:]
		if got := Redact(planted); strings.Contains(got, sm.Secret) {
			t.Fatalf("secret survived (%s):\n%q\n%q", kinds[int(kind)%len(kinds)], planted, got)
		}
	})
}
