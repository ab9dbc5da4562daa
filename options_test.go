package logging

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/loki"
)

// exportedOptions lists the names of the package's exported functions that
// return an Option, read from its source: the tables below must name each.
func exportedOptions(t *testing.T) []string {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var names []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !fd.Name.IsExported() || fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
				continue
			}
			if id, ok := fd.Type.Results.List[0].Type.(*ast.Ident); ok && id.Name == "Option" {
				names = append(names, fd.Name.Name)
			}
		}
	}
	slices.Sort(names)
	require.NotEmpty(t, names)
	return names
}

// A stage handler records what reaches next.
func stageOutput(h func(slog.Handler) slog.Handler, log func(*slog.Logger)) string {
	var b bytes.Buffer
	log(slog.New(h(slog.NewTextHandler(&b, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))))
	return b.String()
}

type ctxKey struct{}

// Every option is either taken by a handler constructor, with an effect a
// test can see, or refused with a panic that names the option and the
// constructor; never silently ignored.
func TestHandlerConstructorsTakeOrRefuseEveryOption(t *testing.T) {
	secretish := "acct" + "-" + "77123"
	takes := map[string]struct {
		opt Option
		// effect logs through the handler built with opt and checks what
		// opt changed; nil: the constructor refuses opt.
		effect map[string]func(t *testing.T, build func(slog.Handler) slog.Handler)
	}{}
	redactsKey := func(t *testing.T, build func(slog.Handler) slog.Handler) {
		out := stageOutput(build, func(l *slog.Logger) { l.Info("m", "tenant_pin", "4321") })
		assert.Contains(t, out, "tenant_pin=[REDACTED]")
	}
	redactsPattern := func(t *testing.T, build func(slog.Handler) slog.Handler) {
		out := stageOutput(build, func(l *slog.Logger) { l.Info("m", "v", "id "+secretish) })
		assert.NotContains(t, out, secretish)
		assert.Contains(t, out, "[REDACTED:")
	}
	cuts := func(t *testing.T, build func(slog.Handler) slog.Handler) {
		out := stageOutput(build, func(l *slog.Logger) { l.Info("m", "v", strings.Repeat("x", 40)) })
		assert.Contains(t, out, "[truncated 30 bytes]")
	}
	extracts := func(t *testing.T, build func(slog.Handler) slog.Handler) {
		out := stageOutput(build, func(l *slog.Logger) {
			l.InfoContext(context.WithValue(context.Background(), ctxKey{}, "t-1"), "m")
		})
		assert.Contains(t, out, "trace_id=t-1")
	}
	off := func(t *testing.T, build func(slog.Handler) slog.Handler) {
		out := stageOutput(build, func(l *slog.Logger) { l.Info("m", "password", "hunter2") })
		assert.Contains(t, out, "password=hunter2", "redaction turned off")
	}
	onlyWrap := func(f func(*testing.T, func(slog.Handler) slog.Handler)) map[string]func(*testing.T, func(slog.Handler) slog.Handler) {
		return map[string]func(*testing.T, func(slog.Handler) slog.Handler){"logging.Wrap": f}
	}
	add := func(name string, o Option, effect map[string]func(*testing.T, func(slog.Handler) slog.Handler)) {
		takes[name] = struct {
			opt    Option
			effect map[string]func(t *testing.T, build func(slog.Handler) slog.Handler)
		}{o, effect}
	}
	add("WithRedactKeys", WithRedactKeys("tenant_pin"), map[string]func(*testing.T, func(slog.Handler) slog.Handler){
		"logging.Wrap": redactsKey, "logging.NewRedactingHandler": redactsKey})
	add("WithRedactPatterns", WithRedactPatterns(`acct-\d+`), map[string]func(*testing.T, func(slog.Handler) slog.Handler){
		"logging.Wrap": redactsPattern, "logging.NewRedactingHandler": redactsPattern})
	add("WithRule", WithRule(Rule{Kind: "acct", Keywords: []string{"acct-"}, Pattern: regexp.MustCompile(`acct-\d+`)}),
		map[string]func(*testing.T, func(slog.Handler) slog.Handler){"logging.Wrap": redactsPattern, "logging.NewRedactingHandler": redactsPattern})
	add("WithMaxValueBytes", WithMaxValueBytes(10), map[string]func(*testing.T, func(slog.Handler) slog.Handler){
		"logging.Wrap": cuts, "logging.NewSanitizingHandler": cuts})
	add("WithRedaction", WithRedaction(false), onlyWrap(off))
	allows := func(t *testing.T, build func(slog.Handler) slog.Handler) {
		out := stageOutput(build, func(l *slog.Logger) { l.Info("m", "cursor_token", "c-42") })
		assert.Contains(t, out, "cursor_token=c-42")
	}
	add("WithRedactAllowKeys", WithRedactAllowKeys("cursorToken"), map[string]func(*testing.T, func(slog.Handler) slog.Handler){
		"logging.Wrap": allows, "logging.NewRedactingHandler": allows})
	truncates := func(t *testing.T, build func(slog.Handler) slog.Handler) {
		out := stageOutput(build, func(l *slog.Logger) { l.Info("m", "client", "203.0.113.77") })
		assert.Contains(t, out, "client=203.0.113.0")
	}
	add("WithRedactPII", WithRedactPII("ip"), map[string]func(*testing.T, func(slog.Handler) slog.Handler){
		"logging.Wrap": truncates, "logging.NewRedactingHandler": truncates})
	add("Fixed", Fixed(WithRedactKeys("tenant_pin")), map[string]func(*testing.T, func(slog.Handler) slog.Handler){
		"logging.Wrap": redactsKey, "logging.NewRedactingHandler": redactsKey})
	add("WithContextExtractor", WithContextExtractor(func(ctx context.Context) []slog.Attr {
		if v, ok := ctx.Value(ctxKey{}).(string); ok {
			return []slog.Attr{slog.String(KeyTraceID, v)}
		}
		return nil
	}), onlyWrap(extracts))
	fpOff := func(t *testing.T, build func(slog.Handler) slog.Handler) {
		out := stageOutput(build, func(l *slog.Logger) { l.Info("m", "session_id", "s-1") })
		assert.Contains(t, out, "session_id=[REDACTED]", "no fingerprint")
	}
	keyPath := filepath.Join(t.TempDir(), "fp-key")
	require.NoError(t, os.WriteFile(keyPath, []byte(strings.Repeat("q", 32)), 0o600))
	fpKeyed := func(t *testing.T, build func(slog.Handler) slog.Handler) {
		out := stageOutput(build, func(l *slog.Logger) { l.Info("m", "session_id", "s-1") })
		keyed := (&fingerprinter{mode: FingerprintSessions, key: []byte(strings.Repeat("q", 32))}).mark("s-1")
		assert.Contains(t, out, "session_id="+keyed)
		assert.NotContains(t, out, (&fingerprinter{mode: FingerprintSessions}).mark("s-1"))
	}
	add("WithFingerprint", WithFingerprint(FingerprintOff), map[string]func(*testing.T, func(slog.Handler) slog.Handler){
		"logging.Wrap": fpOff, "logging.NewRedactingHandler": fpOff})
	add("WithFingerprintKeyFile", WithFingerprintKeyFile(keyPath), map[string]func(*testing.T, func(slog.Handler) slog.Handler){
		"logging.Wrap": fpKeyed, "logging.NewRedactingHandler": fpKeyed})
	// Setup's own options: every handler constructor refuses them.
	for name, o := range map[string]Option{
		"WithLevel": WithLevel(slog.LevelDebug), "WithLoggerLevel": WithLoggerLevel("db", slog.LevelDebug),
		"WithLevels": WithLevels("INFO"), "WithOutputType": WithOutputType(OutputJSON),
		"WithJSONSchema": WithJSONSchema(SchemaCodomyrmex), "WithFormat": WithFormat("%(message)s"),
		"WithConsole": WithConsole(io.Discard), "WithFile": WithFile(filepath.Join(t.TempDir(), "x.log")),
		"WithAddSource": WithAddSource(true), "WithRotation": WithRotation(DefaultRotation()),
		"WithErrorHandler": WithErrorHandler(func(error) {}), "WithReopenOnSIGHUP": WithReopenOnSIGHUP(),
		"WithSink": WithSink("x", io.Discard), "WithSecurityFile": WithSecurityFile("s.log"),
		"WithSecurityLevel": WithSecurityLevel(slog.LevelInfo), "WithRateLimit": WithRateLimit(RateLimit{PerSecond: 1}),
		"WithMaskEnv": WithMaskEnv(false), "WithProcessAttrs": WithProcessAttrs(slog.String("a", "b")), "WithStacks": WithStacks(true), "WithHandler": WithHandler(slog.NewTextHandler(io.Discard, nil)), "WithStdLogName": WithStdLogName("legacy"),
		"WithTrustedProxies": WithTrustedProxies("10.0.0.0/8"), "WithHTTPEvents": WithHTTPEvents(false),
		"WithHTTPSkipPaths": WithHTTPSkipPaths("/healthz"), "WithHTTPEventPaths": WithHTTPEventPaths("/login"), "WithCaptureStdio": WithCaptureStdio(true),
		"WithLoki":             WithLoki(loki.Config{URL: "http://127.0.0.1:1"}),
		"WithIntegrityKeyFile": WithIntegrityKeyFile("log.key"),
	} {
		add(name, o, nil)
	}
	assert.ElementsMatch(t, exportedOptions(t), slices.Collect(func(yield func(string) bool) {
		for k := range takes {
			if !yield(k) {
				return
			}
		}
	}), "every option is classified here")

	constructors := map[string]func(slog.Handler, ...Option) slog.Handler{
		"logging.Wrap": Wrap, "logging.NewRedactingHandler": NewRedactingHandler, "logging.NewSanitizingHandler": NewSanitizingHandler,
	}
	for name, tc := range takes {
		for cname, ctor := range constructors {
			t.Run(cname+"/"+name, func(t *testing.T) {
				build := func(next slog.Handler) slog.Handler { return ctor(next, tc.opt) }
				if effect, ok := tc.effect[cname]; ok {
					require.NotPanics(t, func() { build(slog.DiscardHandler) })
					effect(t, build)
					return
				}
				assert.PanicsWithValue(t, cname+": "+name+" is not an option of "+cname, func() { build(slog.DiscardHandler) })
			})
		}
	}
}

// An invalid option makes the constructor panic at once, naming itself,
// the option and the value, as regexp.MustCompile does.
func TestHandlerConstructorsPanicOnInvalidOption(t *testing.T) {
	for _, tc := range []struct {
		ctor   func(slog.Handler, ...Option) slog.Handler
		name   string
		opt    Option
		option string
	}{
		{Wrap, "logging.Wrap", WithRedactPatterns("(bad"), `WithRedactPatterns="(bad"`},
		{NewRedactingHandler, "logging.NewRedactingHandler", WithRedactPatterns("ok", "(bad"), `WithRedactPatterns="ok;;(bad"`},
		{Wrap, "logging.Wrap", WithRule(Rule{Kind: "x"}), `WithRule="x"`},
		{NewRedactingHandler, "logging.NewRedactingHandler", WithRule(Rule{}), `WithRule=""`},
		{Wrap, "logging.Wrap", WithMaxValueBytes(-1), `WithMaxValueBytes="-1"`},
		{NewSanitizingHandler, "logging.NewSanitizingHandler", WithMaxValueBytes(-5), `WithMaxValueBytes="-5"`},
		{Wrap, "logging.Wrap", WithContextExtractor(nil), `WithContextExtractor="nil"`},
	} {
		t.Run(tc.option, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "no panic")
				msg, ok := r.(string)
				require.True(t, ok, "panic value %v", r)
				assert.True(t, strings.HasPrefix(msg, tc.name+": "+tc.option), msg)
			}()
			tc.ctor(slog.DiscardHandler, tc.opt)
		})
	}
	assert.NotPanics(t, func() { Wrap(slog.DiscardHandler, Option{}) }, "the zero Option does nothing")
}

// Setup reports an invalid option as an error naming it (and keeps logging).
func TestSetupNamesInvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		opt  Option
		want string
	}{
		{WithOutputType(OutputType(7)), `WithOutputType="7": want OutputText or OutputJSON`},
		{WithJSONSchema("ecs"), `WithJSONSchema="ecs": want slog or codomyrmex`},
		{WithRotation(Rotation{MaxSizeMB: 10, MaxBackups: -1}), "MaxBackups -1: want 0 (all) to 10000"},
		{WithRotation(Rotation{MaxSizeMB: 2 << 20}), "MaxSizeMB 2097152: want 1 to 1048576"},
		{WithRateLimit(RateLimit{PerSecond: 1, Burst: -2}), "WithRateLimit="},
		{WithContextExtractor(nil), `WithContextExtractor="nil": want a function`},
		{WithRedactPatterns("(bad"), `WithRedactPatterns="(bad"`},
	} {
		err := Setup(WithConsole(io.Discard), tc.opt)
		require.Error(t, err, tc.want)
		assert.Contains(t, err.Error(), tc.want)
	}
	require.NoError(t, Close())
}

// Every CODOMYRMEX_LOG_* variable has an option that sets the same thing:
// the configuration built from the variable equals the one built from the
// option.
func TestEveryVariableHasAnOption(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("x"), 0o600))
	keyFile := filepath.Join(dir, "fp-key")
	require.NoError(t, os.WriteFile(keyFile, []byte(strings.Repeat("k", 32)), 0o600))
	rot := DefaultRotation()
	with := func(f func(*Rotation)) Option { r := rot; f(&r); return WithRotation(r) }
	lokiWith := func(f func(*loki.Config)) Option { var c loki.Config; f(&c); return WithLoki(c) }
	cases := map[string]struct {
		value string
		opt   Option
	}{
		"LEVEL":                {"INFO,db=DEBUG", WithLevels("INFO,db=DEBUG")},
		"OUTPUT_TYPE":          {"json", WithOutputType(OutputJSON)},
		"FORMAT":               {"%(message)s", WithFormat("%(message)s")},
		"JSON_SCHEMA":          {"codomyrmex", WithJSONSchema(SchemaCodomyrmex)},
		"CONSOLE":              {"none", WithConsole(nil)},
		"FILE":                 {filepath.Join(dir, "a.log"), WithFile(filepath.Join(dir, "a.log"))},
		"ADD_SOURCE":           {"true", WithAddSource(true)},
		"MAX_VALUE_BYTES":      {"100", WithMaxValueBytes(100)},
		"REDACT":               {"false", WithRedaction(false)},
		"MASK_ENV":             {"false", WithMaskEnv(false)},
		"SECURITY_LEVEL":       {"INFO", WithSecurityLevel(slog.LevelInfo)},
		"TRUSTED_PROXIES":      {"10.0.0.0/8,192.0.2.7", WithTrustedProxies("10.0.0.0/8", "192.0.2.7")},
		"HTTP_EVENTS":          {"off", WithHTTPEvents(false)},
		"HTTP_SKIP_PATHS":      {"/healthz,/metrics", WithHTTPSkipPaths("/healthz", "/metrics")},
		"HTTP_EVENT_PATHS":     {"/login,/admin/", WithHTTPEventPaths("/login", "/admin/")},
		"REDACT_PII":           {"email,ip", WithRedactPII("email", "ip")},
		"REDACT_ALLOW_KEYS":    {"cursor_token", WithRedactAllowKeys("cursor_token")},
		"CAPTURE_STDIO":        {"true", WithCaptureStdio(true)},
		"STACKS":               {"error", WithStacks(true)},
		"ATTRS":                {"env=prod,service=api", WithProcessAttrs(slog.String("env", "prod"), slog.String("service", "api"))},
		"FINGERPRINT":          {"all", WithFingerprint(FingerprintAll)},
		"FINGERPRINT_KEY_FILE": {keyFile, WithFingerprintKeyFile(keyFile)},
		"REDACT_KEYS":          {"pin_code,tenant_key", WithRedactKeys("pin_code", "tenant_key")},
		"REDACT_PATTERNS":      {`acct-\d+;;ref-[a-z]+`, WithRedactPatterns(`acct-\d+`, `ref-[a-z]+`)},
		"MAX_SIZE_MB":          {"7", with(func(r *Rotation) { r.MaxSizeMB = 7 })},
		"MAX_BACKUPS":          {"0", with(func(r *Rotation) { r.MaxBackups = 0 })},
		"MAX_AGE_DAYS":         {"3", with(func(r *Rotation) { r.MaxAgeDays = 3 })},
		"COMPRESS":             {"false", with(func(r *Rotation) { r.Compress = false })},
		"LOCAL_TIME":           {"true", with(func(r *Rotation) { r.LocalTime = true })},
		"SECURITY_FILE":        {filepath.Join(dir, "s.log"), WithSecurityFile(filepath.Join(dir, "s.log"))},
		"RATE_LIMIT":           {"5", WithRateLimit(RateLimit{PerSecond: 5})},
		"RATE_BURST":           {"9", WithRateLimit(RateLimit{Burst: 9})},
		"RATE_KEY":             {"message", WithRateLimit(RateLimit{ByMessage: true})},

		"LOKI_URL":               {"https://loki.example", lokiWith(func(c *loki.Config) { c.URL = "https://loki.example" })},
		"LOKI_TENANT":            {"t1", lokiWith(func(c *loki.Config) { c.Tenant = "t1" })},
		"LOKI_USERNAME":          {"u", lokiWith(func(c *loki.Config) { c.Username = "u" })},
		"LOKI_PASSWORD":          {"p", lokiWith(func(c *loki.Config) { c.Password = "p" })},
		"LOKI_PASSWORD_FILE":     {secretFile, lokiWith(func(c *loki.Config) { c.PasswordFile = secretFile })},
		"LOKI_BEARER_TOKEN":      {"b", lokiWith(func(c *loki.Config) { c.BearerToken = "b" })},
		"LOKI_BEARER_TOKEN_FILE": {secretFile, lokiWith(func(c *loki.Config) { c.BearerTokenFile = secretFile })},
		"LOKI_CA_FILE":           {secretFile, lokiWith(func(c *loki.Config) { c.CAFile = secretFile })},
		"LOKI_LABELS":            {"service=api", lokiWith(func(c *loki.Config) { c.Labels = map[string]string{"service": "api"} })},
		"LOKI_BATCH_SIZE":        {"2048", lokiWith(func(c *loki.Config) { c.BatchSize = 2048 })},
		"LOKI_BATCH_WAIT":        {"2s", lokiWith(func(c *loki.Config) { c.BatchWait = 2e9 })},
		"LOKI_QUEUE_SIZE":        {"77", lokiWith(func(c *loki.Config) { c.QueueSize = 77 })},
		"LOKI_TIMEOUT":           {"3s", lokiWith(func(c *loki.Config) { c.Timeout = 3e9 })},
		"LOKI_FLUSH_TIMEOUT":     {"4s", lokiWith(func(c *loki.Config) { c.FlushTimeout = 4e9 })},
		"LOKI_ALLOW_INSECURE":    {"true", lokiWith(func(c *loki.Config) { c.AllowInsecure = true })},
		// issue #23 (Loki faults): keep at the end
		"LOKI_QUEUE_BYTES":   {"8388608", lokiWith(func(c *loki.Config) { c.QueueBytes = 8 << 20 })},
		"LOKI_MAX_TRIES":     {"5", lokiWith(func(c *loki.Config) { c.MaxTries = 5 })},
		"LOKI_MAX_RETRY_AGE": {"1m", lokiWith(func(c *loki.Config) { c.MaxRetryAge = 60e9 })},
		"INTEGRITY_KEY_FILE": {secretFile, WithIntegrityKeyFile(secretFile)},
		// issue #16 (Loki spool): keep at the end
		"LOKI_SPOOL_DIR":    {"/var/spool/app-loki", lokiWith(func(c *loki.Config) { c.SpoolDir = "/var/spool/app-loki" })},
		"LOKI_SPOOL_MAX_MB": {"64", lokiWith(func(c *loki.Config) { c.SpoolMaxBytes = 64 << 20 })},
	}
	for _, v := range envVars {
		t.Run(v.name, func(t *testing.T) {
			tc, ok := cases[v.name]
			require.True(t, ok, "CODOMYRMEX_LOG_%s has no option in this table", v.name)
			fromEnv := newConfig()
			require.Empty(t, fromEnv.fromEnv([]string{EnvPrefix + v.name + "=" + tc.value}))
			fromOpt := newConfig()
			fromOpt.apply([]Option{tc.opt}, bySetup, "Setup")
			require.Empty(t, fromOpt.errs)
			assert.Equal(t, fromEnv, fromOpt)
			assert.NotEqual(t, newConfig(), fromOpt, "the value is not the default")
		})
	}
	assert.Len(t, cases, len(envVars), "no case for a variable that does not exist")
}

// Configuration that would break every record is refused at Setup: a
// format with a line break (each record would be two lines), a rate so
// small that its interval overflows; the error names the variable.
func TestConfigurationThatBreaksRecordsIsRefused(t *testing.T) {
	for name, value := range map[string]string{
		"FORMAT":     "%(message)s\nINFO - forged - %(name)s",
		"RATE_LIMIT": "1e-12",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(EnvPrefix+name, value)
			buf := &syncBuffer{}
			err := Setup(WithConsole(buf))
			t.Cleanup(func() { _ = Close() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), EnvPrefix+name)
			Logger("x").Info("one record")
			assert.Len(t, buf.Lines(), 1, "one line per record")
		})
	}
	for _, o := range []Option{WithFormat("%(message)s\r\n"), WithFormat("%(message)s\u2028"), WithRateLimit(RateLimit{PerSecond: 1e-12})} {
		assert.Error(t, Setup(WithConsole(io.Discard), o))
	}
	require.NoError(t, Setup(WithConsole(io.Discard), WithRateLimit(RateLimit{PerSecond: minRate})), "the smallest rate")
	require.NoError(t, Close())
}

// Keys are cut at the value limit, like values, in Setup's encoder and
// behind Wrap; group names too.
func TestKeysAreCut(t *testing.T) {
	long := strings.Repeat("k", 5000)
	buf := setup(t, WithOutputType(OutputJSON), WithMaxValueBytes(100))
	Logger("k").WithGroup(long).Info("m", long, "v", slog.Group(long, "a", 1))
	line := buf.String()
	assert.Less(t, len(line), 1000, line)
	assert.Contains(t, line, "[truncated 4900 bytes]")
	jsonLines(t, line)
	var b bytes.Buffer
	slog.New(Wrap(slog.NewJSONHandler(&b, nil), WithMaxValueBytes(100))).WithGroup(long).Info("m", long, "v")
	assert.Less(t, b.Len(), 1000, b.String())
}

// Settings that contradict each other are errors, not silently without
// effect: redaction keys or patterns with redaction off, one file for both
// the log and the security events, a Loki line limit too short for a record.
func TestContradictorySettingsAreErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.log")
	for name, opts := range map[string][]Option{
		"keys with redaction off":     {WithRedaction(false), WithRedactKeys("pin2")},
		"patterns with redaction off": {WithRedaction(false), WithRedactPatterns(`acct-\d+`)},
		"one file for both":           {WithFile(file), WithSecurityFile(file)},
		"a Loki line limit of 30":     {WithLoki(loki.Config{URL: "http://127.0.0.1:1", MaxLineBytes: 30, FlushTimeout: 1})},
	} {
		err := Setup(append([]Option{WithConsole(io.Discard)}, opts...)...)
		assert.Error(t, err, name)
		require.NoError(t, Close())
	}
	assert.Panics(t, func() { Wrap(slog.DiscardHandler, WithRedaction(false), WithRedactKeys("pin2")) })
}
