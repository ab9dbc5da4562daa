package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact"
	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// everyPath runs log with a logger of each path a record can take (Setup's
// encoder in TEXT and JSON, Wrap in front of slog's TEXT and JSON
// handlers) and gives check what each wrote.
func everyPath(t *testing.T, log func(l *slog.Logger), check func(t *testing.T, out string)) {
	t.Helper()
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run("setup-"+out.String(), func(t *testing.T) {
			buf := setup(t, WithOutputType(out))
			log(Logger("side"))
			check(t, buf.String())
		})
		t.Run("wrap-"+out.String(), func(t *testing.T) {
			var b bytes.Buffer
			var h slog.Handler = slog.NewJSONHandler(&b, nil)
			if out == OutputText {
				h = slog.NewTextHandler(&b, nil)
			}
			log(slog.New(Wrap(h)))
			check(t, b.String())
		})
	}
}

// hiddenOnEveryPath runs each case on every path and checks that none of
// the secrets is written and that marker is.
func hiddenOnEveryPath(t *testing.T, cases map[string]func(l *slog.Logger), marker string, secrets ...string) {
	t.Helper()
	for name, log := range cases {
		t.Run(name, func(t *testing.T) {
			everyPath(t, log, func(t *testing.T, out string) {
				for _, s := range secrets {
					assert.NotContains(t, out, s, out)
				}
				assert.Contains(t, out, marker, out)
			})
		})
	}
}

// A group's name is part of its members' keys: the members of a group
// named like a secret are redacted, whether the group is an attr or the
// logger's (WithGroup), and whatever the members' own names; groups with
// ordinary names leave their members alone.
func TestSecretGroupNames(t *testing.T) {
	pw := redacttest.Gen(redacttest.AlnumChars, 14)
	cases := map[string]func(l *slog.Logger){
		"group attr": func(l *slog.Logger) { l.Info("changed", slog.Group("password", slog.String("current", pw))) },
		"nested group attr": func(l *slog.Logger) {
			l.Info("changed", slog.Group("password", slog.Group("old", slog.String("v", pw))))
		},
		"inside other group": func(l *slog.Logger) { l.Info("changed", slog.Group("db", slog.Group("credentials", "primary", pw))) },
		"WithGroup":          func(l *slog.Logger) { l.WithGroup("api_key").Info("rotated", "primary", pw) },
		"WithGroup then With": func(l *slog.Logger) {
			l.WithGroup("api_key").With("primary", pw).Info("rotated")
		},
		"WithGroup then group": func(l *slog.Logger) {
			l.WithGroup("client_secret").Info("rotated", slog.Group("new", "v", pw))
		},
		"struct under group": func(l *slog.Logger) {
			l.Info("rotated", slog.Group("token", slog.Any("v", struct{ Value string }{pw})))
		},
	}
	hiddenOnEveryPath(t, cases, "[REDACTED]", pw)
	t.Run("ordinary names kept", func(t *testing.T) {
		everyPath(t, func(l *slog.Logger) {
			l.WithGroup("request").Info("done", slog.Group("user", slog.String("name", pw)), "pinned", pw)
		}, func(t *testing.T, out string) {
			assert.Equal(t, 2, bytes.Count([]byte(out), []byte(pw)), out)
			assert.NotContains(t, out, "REDACTED", out)
		})
	})
	t.Run("context attrs of Setup stay outside the group", func(t *testing.T) {
		buf := setup(t, WithOutputType(OutputJSON))
		ctx := ContextWithRequestID(t.Context(), "req-1")
		Logger("side").WithGroup("token").InfoContext(ctx, "rotated", "v", pw)
		assert.NotContains(t, buf.String(), pw)
		assert.Contains(t, buf.String(), `"request_id":"req-1"`)
	})
}

// A key can itself be a credential (a map of user input turned into attrs,
// a token used as a map key): keys go through the pattern redactor like
// values, as attr keys, group names and map keys. Ordinary keys are left
// as they are.
func TestKeysArePatternRedacted(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	cases := map[string]func(l *slog.Logger){
		"attr key":   func(l *slog.Logger) { l.Info("m", tok, 1) },
		"group name": func(l *slog.Logger) { l.Info("m", slog.Group(tok, "a", 1)) },
		"WithGroup":  func(l *slog.Logger) { l.WithGroup(tok).Info("m", "a", 1) },
		"With":       func(l *slog.Logger) { l.With(tok, 1).Info("m") },
		"map key":    func(l *slog.Logger) { l.Info("m", "seen", map[string]int{tok: 1}) },
		"key=value":  func(l *slog.Logger) { l.Info("m", "password="+tok[4:], 1) },
	}
	hiddenOnEveryPath(t, cases, "[REDACTED", tok[4:])
	t.Run("ordinary keys", func(t *testing.T) {
		everyPath(t, func(l *slog.Logger) {
			l.Info("m", "user_id", 7, "request.path", "/a", "durationMs", 3)
		}, func(t *testing.T, out string) {
			assert.NotContains(t, out, "REDACTED", out)
			assert.Contains(t, out, "user_id")
			assert.Contains(t, out, "request.path")
			assert.Contains(t, out, "durationMs")
		})
	})
	t.Run("a remembered key is still redacted with another value", func(t *testing.T) {
		// The cache remembers clean keys; a clean key at a new address,
		// then a secret one, each get their own treatment.
		buf := setup(t, WithOutputType(OutputJSON))
		for range 3 {
			k := string([]byte("plain_key"))
			Logger("side").Info("m", k, 1, string([]byte(tok)), 2)
		}
		assert.NotContains(t, buf.String(), tok[4:])
		assert.Equal(t, 3, bytes.Count([]byte(buf.String()), []byte("plain_key")))
	})
}

// A card number is as secret as a number as it is as a string: integers,
// unsigned integers, floats without a fraction and json.Number values are
// checked by the card rule, as attrs and inside values. Other numbers,
// timestamps in milliseconds included, are left as they are.
func TestCardNumbersAsNumbers(t *testing.T) {
	card := redacttest.LuhnComplete("411111" + redacttest.Gen(redacttest.DigitChars, 9))
	n, err := strconv.ParseInt(card, 10, 64)
	require.NoError(t, err)
	cases := map[string]func(l *slog.Logger){
		"Int64":       func(l *slog.Logger) { l.Info("paid", slog.Int64("n", n)) },
		"Int":         func(l *slog.Logger) { l.Info("paid", "n", int(n)) },
		"Uint64":      func(l *slog.Logger) { l.Info("paid", slog.Uint64("n", uint64(n))) },
		"Float64":     func(l *slog.Logger) { l.Info("paid", slog.Float64("n", float64(n))) },
		"json.Number": func(l *slog.Logger) { l.Info("paid", "n", json.Number(card)) },
		"in a struct": func(l *slog.Logger) { l.Info("paid", "order", struct{ Ref int64 }{n}) },
		"in a slice":  func(l *slog.Logger) { l.Info("paid", "refs", []uint64{1, uint64(n)}) },
		"in a group":  func(l *slog.Logger) { l.Info("paid", slog.Group("g", slog.Int64("n", n))) },
	}
	hiddenOnEveryPath(t, cases, "[REDACTED:card-number]", card)
	t.Run("other numbers", func(t *testing.T) {
		ms := int64(1764612345678) // a time in milliseconds: 13 digits, no card prefix
		everyPath(t, func(l *slog.Logger) {
			l.Info("m", "ms", ms, "f", 1.5e13+0.5, "neg", -n+1, "small", 4111)
		}, func(t *testing.T, out string) {
			assert.NotContains(t, out, "REDACTED", out)
			assert.Contains(t, out, "1764612345678")
		})
	})
}

// Values of the types that carry credentials are written in a redacted
// form wherever they appear: a URL (as a value or a pointer, inside a
// struct too) without its password, a Userinfo as its user name, a
// cookie without its value, a request's headers by their names.
func TestKnownTypesRedacted(t *testing.T) {
	pw := redacttest.Gen(redacttest.AlnumChars, 14)
	sess := redacttest.Gen(redacttest.AlnumChars, 24)
	u, err := url.Parse("https://ann:" + pw + "@api.example.com/v1?x=1")
	require.NoError(t, err)
	req := httptest.NewRequest("GET", "https://api.example.com/v1", nil)
	req.Header.Set("Authorization", "Token "+pw)
	req.Header.Set("Proxy-Authorization", "Basic "+pw)
	req.Header.Set("Cookie", "sid="+sess)
	req.Header.Set("Accept", "text/plain")
	cookie := &http.Cookie{Name: "sid", Value: sess, Path: "/", HttpOnly: true}
	type withURL struct {
		Endpoint url.URL
		Link     *url.URL
	}
	cases := map[string]struct {
		log  func(l *slog.Logger)
		keep []string
	}{
		"*url.URL":          {func(l *slog.Logger) { l.Info("m", "u", u) }, []string{"ann", "api.example.com"}},
		"url.URL in struct": {func(l *slog.Logger) { l.Info("m", "cfg", withURL{Endpoint: *u, Link: u}) }, []string{"ann", "api.example.com"}},
		"url.Userinfo":      {func(l *slog.Logger) { l.Info("m", "user", u.User) }, []string{"ann"}},
		"url.Userinfo value": {func(l *slog.Logger) { l.Info("m", "user", []url.Userinfo{*u.User}) },
			[]string{"ann"}},
		"*http.Cookie":   {func(l *slog.Logger) { l.Info("m", "c", cookie) }, []string{"sid=", "HttpOnly"}},
		"[]*http.Cookie": {func(l *slog.Logger) { l.Info("m", "c", []*http.Cookie{cookie}) }, []string{"sid="}},
		"*http.Request":  {func(l *slog.Logger) { l.Info("m", "req", req) }, []string{"GET", "api.example.com", "text/plain"}},
		"http.Header":    {func(l *slog.Logger) { l.Info("m", "h", req.Header) }, []string{"text/plain"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			everyPath(t, c.log, func(t *testing.T, out string) {
				assert.NotContains(t, out, pw, out)
				assert.NotContains(t, out, sess, out)
				for _, k := range c.keep {
					assert.Contains(t, out, k, out)
				}
			})
		})
	}
}

// Configuration errors never repeat a credential: not the value of a
// variable the package does not know (a misspelled LOKI_PASSWORD is as
// secret as the real one), not the user information of a URL with or
// without a scheme, not a secret the patterns know, in the value or in
// the text of the problem.
func TestConfigErrorsRepeatNoSecret(t *testing.T) {
	pw := redacttest.Gen(redacttest.AlnumChars, 14)
	tok := redacttest.GHToken("gh" + "p")
	cases := map[string]struct{ name, value string }{
		"misspelled password":  {"LOKI_PASWORD", pw},
		"misspelled level":     {"LEVELL", pw},
		"URL without a scheme": {"LOKI_URL", "app:" + pw + "@loki.internal:3100"},
		"URL with a scheme":    {"LOKI_URL", "ftp://app:" + pw + "@loki.internal:3100"},
		"token in a value":     {"FILE", "/dev/null/" + tok},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv(EnvPrefix+c.name, c.value)
			buf := &syncBuffer{}
			err := Setup(WithConsole(buf))
			t.Cleanup(func() { _ = Close() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), EnvPrefix+c.name)
			assert.NotContains(t, err.Error(), pw)
			assert.NotContains(t, err.Error(), tok[4:])
			assert.NotContains(t, buf.String(), pw)
		})
	}
	// A URL password holding a '/', a blank or a quote (issue 19): no part
	// of it in the error, with the redactor or with the scrub alone.
	for _, sep := range []string{"/", " ", "'", `"`} {
		a, b := redacttest.Gen(redacttest.AlnumChars, 8), redacttest.Gen(redacttest.AlnumChars, 8)
		t.Run("URL password with "+sep, func(t *testing.T) {
			t.Setenv(EnvPrefix+"LOKI_URL", "https://svc:"+a+sep+b+"@loki.internal:99999")
			err := Setup(WithConsole(&syncBuffer{}))
			t.Cleanup(func() { _ = Close() })
			require.Error(t, err)
			assert.NotContains(t, err.Error(), a)
			assert.NotContains(t, err.Error(), b)
		})
	}
	t.Run("scrub without a redactor", func(t *testing.T) {
		for in, want := range map[string]string{
			`parse "https://svc:` + pw[:6] + "/" + pw[6:] + `@loki.internal:99999": bad`: `parse "https://[REDACTED]@loki.internal:99999": bad`,
			"https://host:8080/users/@me":  "https://host:8080/users/@me",
			"https://host/users/@me":       "https://host/users/@me",
			"https://host/a/b:c/ann@x.com": "https://host/a/b:c/ann@x.com",
			"/var/log/a@b.log and x:y/z@w": "/var/log/a@b.log and x:y/z@w",
		} {
			assert.Equal(t, want, scrubWith(nil, in), in)
		}
	})
	t.Run("scrub", func(t *testing.T) {
		for in, want := range map[string]string{
			"app:" + pw + "@host:1":                "[REDACTED]@host:1",
			`parse "u:` + pw + `@h": bad`:          `parse "[REDACTED]@h": bad`,
			"mail me at ann@example.com":           "mail me at ann@example.com",
			"/var/log/a@b.log and x:y/z@w":         "/var/log/a@b.log and x:y/z@w",
			"two a:" + pw + "@h and b:" + pw + "@": "two [REDACTED]@h and [REDACTED]@",
		} {
			assert.Equal(t, want, scrub(in), in)
		}
	})
}

// One redaction configuration holds from the first record to the last:
// after Close, records of loggers still in use (shutdown paths) get the
// keys and patterns Setup installed, not just the defaults.
func TestRedactionAfterClose(t *testing.T) {
	ref := redacttest.Gen(redacttest.AlnumChars, 12)
	code := "INT-" + redacttest.Gen(redacttest.DigitChars, 8)
	stderr := os.Stderr
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	os.Stderr = f
	t.Cleanup(func() { os.Stderr = stderr; _ = Close() })

	setup(t, WithRedactKeys("customer_ref"), WithRedactPatterns(`INT-\d{8}`))
	l := Logger("shutdown")
	require.NoError(t, Close())
	l.Info("draining "+code, "customer_ref", ref)
	slog.Info("via slog "+code, "customer_ref", ref)

	b, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	out := string(b)
	assert.Contains(t, out, "draining")
	assert.Contains(t, out, "via slog")
	assert.NotContains(t, out, ref, out)
	assert.NotContains(t, out, code, out)
}

// Before Setup, records get at least the redaction the environment asks
// for. This runs in a child process, whose chain is the one built before
// any Setup.
func TestRedactionBeforeSetup(t *testing.T) {
	ref := "r" + redacttest.Gen(redacttest.AlnumChars, 12)
	out := inChild(t, func(w io.Writer) {
		os.Setenv(EnvPrefix+"REDACT_KEYS", "customer_ref")
		os.Setenv(EnvPrefix+"REDACT_PATTERNS", `INT-\d{8}`)
		os.Setenv(EnvPrefix+"REDACT", "false") // before Setup, redaction is never off
		os.Stderr = os.Stdout
		Logger("early").Info("starting INT-"+"12345678", "customer_ref", os.Getenv("REF"), "password", os.Getenv("REF"))
	}, "REF="+ref)
	assert.Contains(t, out, "starting")
	assert.NotContains(t, out, ref, out)
	assert.NotContains(t, out, "12345678", out)
}

// Before Setup, the environment's secrets are masked as Setup masks them
// (CODOMYRMEX_LOG_MASK_ENV is on by default), but for the files *_FILE
// variables name, which are read only by Setup; MASK_ENV=false turns it
// off here too.
func TestEnvironmentMaskedBeforeSetup(t *testing.T) {
	pw := "Zq7" + redacttest.Gen(redacttest.AlnumChars, 14)
	inFile := "Xk9" + redacttest.Gen(redacttest.AlnumChars, 14)
	path := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(path, []byte(inFile), 0o600))
	log := func(w io.Writer) {
		os.Stderr = os.Stdout
		os.Setenv(EnvPrefix+"MASK_ENV", os.Getenv("MASK")) // TestMain clears CODOMYRMEX_LOG_*
		Logger("early").Info("connecting with " + os.Getenv("DB_PASSWORD") + " and " + os.Getenv("IN_FILE"))
	}
	out := inChild(t, log, "DB_PASSWORD="+pw, "API_TOKEN_FILE="+path, "IN_FILE="+inFile)
	assert.Contains(t, out, "connecting with [REDACTED:known-secret] and "+inFile, "a file is read by Setup only")
	assert.NotContains(t, out, pw)
	out = inChild(t, log, "DB_PASSWORD="+pw, "IN_FILE=x", "MASK=false")
	assert.Contains(t, out, "connecting with "+pw)
}

// Every string the package writes on its own behalf goes through the same
// redactor as records: the rate-limit summary, which names dropped
// messages as keys; a sink's failure, reported on the console and to the
// error handler, whose text may quote a URL with its password or a token.
func TestOwnReportsRedacted(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	pw := redacttest.Gen(redacttest.AlnumChars, 14)
	t.Run("rate-limit summary by message", func(t *testing.T) {
		buf := setup(t, WithOutputType(OutputJSON), WithRateLimit(RateLimit{PerSecond: 1, Burst: 1, ByMessage: true}))
		for range 5 {
			Logger("a").Info("login with " + tok)
		}
		require.NoError(t, Close()) // the last summary
		out := buf.String()
		assert.Contains(t, out, "rate limit dropped 4 records")
		assert.NotContains(t, out, tok[4:], out)
	})
	t.Run("sink failure", func(t *testing.T) {
		console := &syncBuffer{}
		var handled []string
		var mu sync.Mutex
		fail := &failingWriter{err: fmt.Errorf("post https://app:%s@logs.example/in: token %s refused", pw, tok)}
		fail.fail.Store(true)
		require.NoError(t, Setup(WithConsole(console), WithSink("remote", fail), WithErrorHandler(func(err error) {
			mu.Lock()
			handled = append(handled, err.Error())
			mu.Unlock()
		})))
		t.Cleanup(func() { _ = Close() })
		Logger("a").Info("one")
		require.NoError(t, Close())
		out := console.String()
		assert.Contains(t, out, "remote sink")
		mu.Lock()
		defer mu.Unlock()
		require.NotEmpty(t, handled)
		for _, s := range append(handled, out) {
			assert.NotContains(t, s, pw, s)
			assert.NotContains(t, s, tok[4:], s)
		}
	})
}

// The README names every built-in format and every variable, so that what
// it says is covered stays what the code covers.
func TestReadmeListsEveryFormatAndVariable(t *testing.T) {
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	readme := string(b)
	for _, r := range redact.Builtin() {
		assert.Contains(t, readme, "`"+r.Kind+"`", "README lists the format")
	}
	for _, e := range EventTypes() {
		assert.Contains(t, readme, "`"+string(e)+"`", "README lists the event type")
	}
	for _, v := range envVars {
		short := "`…_" + strings.TrimPrefix(v.name, "LOKI_") + "`" // the table shortens LOKI_USERNAME's siblings
		assert.True(t, strings.Contains(readme, "`"+EnvPrefix+v.name+"`") || strings.Contains(readme, short),
			"README documents %s", v.name)
	}
}

// Keys whose words sound secret but are not (pagination cursors, by
// default; others by CODOMYRMEX_LOG_REDACT_ALLOW_KEYS) keep their values;
// patterns still apply to them.
func TestAllowedKeys(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	t.Setenv(EnvPrefix+"REDACT_ALLOW_KEYS", "csrf_token_name")
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("api").Info("page", "nextPageToken", "CiAKGjBpNDd2Nmp", "page_token", "p-2", "csrf_token_name", "X-CSRF",
		"continuation_token", "tok "+tok, "token", "t-secret-1", "NextToken", "n-3", "next_token", "n-4", "resumeToken", "r-5")
	m := lastJSON(t, buf)
	assert.Equal(t, "n-3", m["NextToken"], "AWS")
	assert.Equal(t, "n-4", m["next_token"])
	assert.Equal(t, "r-5", m["resumeToken"], "MongoDB change streams")
	assert.Equal(t, "CiAKGjBpNDd2Nmp", m["nextPageToken"])
	assert.Equal(t, "p-2", m["page_token"])
	assert.Equal(t, "X-CSRF", m["csrf_token_name"])
	assert.Equal(t, "tok [REDACTED:github-token]", m["continuation_token"], "patterns still apply")
	assert.Equal(t, "[REDACTED]", m["token"])
}

// A logger's name is written on every record and is a Loki label: it is
// redacted as a value is, by pattern and by the values registered with
// Mask, also when Mask comes after the logger wrote its first record.
func TestLoggerNameRedacted(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	for _, out := range []OutputType{OutputJSON, OutputText} {
		buf := setup(t, WithOutputType(out))
		Logger("svc-" + tok).Info("m")
		assert.NotContains(t, buf.String(), tok, out)
		assert.Contains(t, buf.String(), "svc-[REDACTED:github-token]", out)
	}
	v := knownValue()
	buf := setup(t, WithOutputType(OutputJSON))
	l := Logger("svc-" + v)
	l.Info("before")
	require.Contains(t, buf.String(), v, "not registered yet")
	buf.Reset()
	require.NoError(t, Mask(v))
	l.Info("after")
	assert.NotContains(t, buf.String(), v)
	assert.Contains(t, buf.String(), "svc-[REDACTED:known-secret]")
}

// A secret name split between a group (or an attr holding a struct or a
// map) and a member's key is written as the flat key that names it,
// api.key, and is redacted as that key is, on every path; a plain pair
// stays.
func TestSecretNameAcrossGroupAndKey(t *testing.T) {
	v := redacttest.Gen(redacttest.AlnumChars, 20)
	type holder struct{ Key string }
	cases := map[string]func(l *slog.Logger){
		"group":            func(l *slog.Logger) { l.Info("m", slog.Group("api", "key", v)) },
		"nested group":     func(l *slog.Logger) { l.Info("m", slog.Group("private", slog.Group("key", "pem", v))) },
		"WithGroup":        func(l *slog.Logger) { l.WithGroup("private").Info("m", "key", v) },
		"WithGroup + With": func(l *slog.Logger) { l.WithGroup("access").With("key", v).Info("m") },
		"struct":           func(l *slog.Logger) { l.Info("m", "api", holder{Key: v}) },
		"map":              func(l *slog.Logger) { l.Info("m", "cfg", map[string]any{"api": map[string]string{"key": v}}) },
	}
	hiddenOnEveryPath(t, cases, "[REDACTED", v)
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("p").Info("m", slog.Group("user", "name", "ann"), slog.Group("api", "version", "v2"))
	assert.Contains(t, buf.String(), `"user":{"name":"ann"}`)
	assert.Contains(t, buf.String(), `"api":{"version":"v2"}`)
}
