package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/codomyrmex/logging/internal/redact"
	"github.com/codomyrmex/logging/loki"
)

// EnvPrefix starts the name of every environment variable the package reads.
const EnvPrefix = "CODOMYRMEX_LOG_"

// config is everything Setup builds a pipeline from.
type config struct {
	levels        levelSet
	output        OutputType
	py            *pyFormat
	schema        string
	console       io.Writer
	file          string
	addSource     bool
	maxValueBytes int

	redact         bool
	maskEnv        bool // register the environment's secrets (Setup only)
	fingerprint    Fingerprint
	fingerprintKey []byte
	environ        []string // the environment Setup read
	maskNoFiles    bool     // maskEnv reads no *_FILE file (the chain before Setup)
	redactKeys     []string
	allowKeys      []string // keys not redacted by key (REDACT_ALLOW_KEYS), after the defaults
	pii            []string // kinds of personal data redacted too (REDACT_PII)
	redactPatterns []*regexp.Regexp
	rules          []Rule

	rotation  Rotation
	onError   func(error)
	reopenHUP bool
	sinks     []extraSink

	extractors    []func(context.Context) []slog.Attr
	attrs         []slog.Attr    // on every record (CODOMYRMEX_LOG_ATTRS, WithProcessAttrs)
	stacks        bool           // Exception adds the stack (CODOMYRMEX_LOG_STACKS=error)
	captureStdio  bool           // os.Stdout and os.Stderr through the chain
	handlers      []slog.Handler // sinks that take records (WithHandler)
	stdLogName    string         // the logger of the standard log package's records
	http          httpConfig     // Middleware's settings
	securityFile  string
	securityLevel *slog.Level
	rate          RateLimit

	loki  loki.Config
	clock clock

	integrityKeyFile string // the MAC chain's initial key (filechain.go)

	errs []error // problems found while applying options
}

func newConfig() *config {
	py, _ := parsePyFormat(DefaultFormat)
	return &config{
		levels:        levelSet{def: slog.LevelInfo},
		py:            py,
		schema:        SchemaSlog,
		console:       stderrFile(),
		maxValueBytes: 64 << 10,
		redact:        true,
		maskEnv:       true,
		fingerprint:   FingerprintSessions,
		stdLogName:    "root",
		http:          httpConfig{events: true},
		rotation:      DefaultRotation(),
		clock:         systemClock{},
	}
}

// extraSink is a writer added with WithSink.
type extraSink struct {
	name string
	w    io.Writer
}

// ConfigError is one bad setting: the variable or option, and the value.
type ConfigError struct {
	Name  string // CODOMYRMEX_LOG_… or the option's name
	Value string // the value as given (never for secret variables)
	Err   error  // what is wrong with it
}

// Error returns VARIABLE="value": problem. The value and the problem are
// written as a record's strings are: redacted by pattern, with the user
// information of anything URL-like replaced (user:password@host, with or
// without a scheme), so that a configuration error never repeats a
// credential.
func (e *ConfigError) Error() string {
	if e.Value == notShown {
		return fmt.Sprintf("%s (value not shown): %s", e.Name, scrub(fmt.Sprint(e.Err)))
	}
	return fmt.Sprintf("%s=%q: %s", e.Name, scrub(e.Value), scrub(fmt.Sprint(e.Err)))
}

// notShown stands for the value of a variable that holds a credential, or
// of one the package does not know (a misspelled LOKI_PASSWORD is as
// secret as the real one).
const notShown = "(not shown)"

// scrub is s redacted by the default rules and the values registered with
// Mask, with the user information of every URL-like word replaced by
// [REDACTED] (see scrubWith).
func scrub(s string) string { return scrubWith(defaultRedact(), s) }

// scrubWith is what the package does to a string it writes on its own
// behalf (a configuration error, a sink's failure, a summary): s redacted
// by red (nil: not redacted), with the user information of every URL-like
// word replaced by [REDACTED]: "user:pass@host" has no scheme, which the
// patterns need.
func scrubWith(red *redact.Redactor, s string) string {
	if red != nil {
		s, _ = red.Redact(s)
	}
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return s
	}
	var b strings.Builder
	last := 0 // s[:last] is written
	for ; at >= 0; at = nextAt(s, at) {
		start := at
		for start > last && !userinfoStop(s[start-1]) {
			start--
		}
		if strings.IndexByte(s[start:at], ':') > 0 {
			b.WriteString(s[last:start])
			b.WriteString(redactedMarker)
			last = at
		} else if u := schemeUserinfo(s, last, start, at); u >= 0 {
			b.WriteString(s[last:u])
			b.WriteString(redactedMarker)
			last = at
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// schemeUserinfo returns where the user information that ends at s[at]
// ('@') starts when it holds a '/' (a password pasted unencoded:
// https://svc:ab/cd@host), or -1: s[start:at], the word before the '@',
// follows a '/', and before it, on the same word since from, is
// scheme://user:word where word, up to the first '/', is not a port (so
// that https://host:8080/users/@me is a path). It reads at most 512 bytes
// back: a string of many '@' costs no more than linear time.
func schemeUserinfo(s string, from, start, at int) int {
	if start == from || s[start-1] != '/' {
		return -1
	}
	q := start
	for q > from && start-q < 512 && s[q-1] > ' ' && strings.IndexByte("\"'`<>", s[q-1]) < 0 {
		q--
	}
	p := strings.LastIndex(s[q:start], "://")
	if p < 0 {
		return -1
	}
	u := q + p + 3
	user, rest, ok := strings.Cut(s[u:at], ":")
	if !ok || user == "" || strings.ContainsAny(user, "/?#") {
		return -1
	}
	word, _, _ := strings.Cut(rest, "/")
	if strings.Trim(word, "0123456789") == "" {
		return -1
	}
	return u
}

// nextAt returns the index of the next '@' after i, or -1.
func nextAt(s string, i int) int {
	if j := strings.IndexByte(s[i+1:], '@'); j >= 0 {
		return i + 1 + j
	}
	return -1
}

// userinfoStop reports whether c ends the word before an '@' that could be
// user:password: a space, a quote, a slash (the end of a scheme's //) or
// a separator.
func userinfoStop(c byte) bool {
	return c <= ' ' || strings.IndexByte("\"'`/=,;()[]{}<>", c) >= 0
}

// Unwrap returns the underlying problem.
func (e *ConfigError) Unwrap() error { return e.Err }

// envVar is one row of the environment table.
type envVar struct {
	name   string
	secret bool // the value is never quoted in errors
	set    func(c *config, v string) error
}

// envVars is every CODOMYRMEX_LOG_* variable the package reads.
var envVars = []envVar{
	{"LEVEL", false, func(c *config, v string) error { return c.setLevels(v) }},
	{"ATTRS", false, func(c *config, v string) error {
		m, err := loki.ParseLabels(v)
		if err != nil {
			return err
		}
		var attrs []slog.Attr
		for _, k := range slices.Sorted(maps.Keys(m)) {
			attrs = append(attrs, slog.String(k, m[k]))
		}
		if err := checkProcessAttrs(attrs); err != nil {
			return err
		}
		c.attrs = attrs
		return nil
	}},
	{"STACKS", false, choice(map[string]func(*config){
		"error": func(c *config) { c.stacks = true },
		"off":   func(c *config) { c.stacks = false },
	}, "want error or off")},
	{"CAPTURE_STDIO", false, boolVar(func(c *config) *bool { return &c.captureStdio })},
	{"TRUSTED_PROXIES", false, func(c *config, v string) error { return c.setTrustedProxies(strings.Split(v, ",")) }},
	{"HTTP_EVENTS", false, boolVar(func(c *config) *bool { return &c.http.events })},
	{"HTTP_SKIP_PATHS", false, func(c *config, v string) error { return setPaths(&c.http.skipPaths, strings.Split(v, ",")) }},
	{"HTTP_EVENT_PATHS", false, func(c *config, v string) error { return setPaths(&c.http.eventPaths, strings.Split(v, ",")) }},
	{"SECURITY_LEVEL", false, func(c *config, v string) error {
		l, err := ParseLevel(v)
		if err != nil {
			return err
		}
		c.securityLevel = &l
		return nil
	}},
	{"OUTPUT_TYPE", false, choice(map[string]func(*config){
		"text": func(c *config) { c.output = OutputText },
		"json": func(c *config) { c.output = OutputJSON },
	}, "want TEXT or JSON")},
	{"FORMAT", false, func(c *config, v string) error { return c.setFormat(v) }},
	{"JSON_SCHEMA", false, func(c *config, v string) error { return c.setSchema(v) }},
	{"CONSOLE", false, choice(map[string]func(*config){
		"stderr": func(c *config) { c.console = stderrFile() },
		"stdout": func(c *config) { c.console = stdoutFile() },
		"none":   func(c *config) { c.console = nil },
	}, "want stderr, stdout or none")},
	{"FILE", false, func(c *config, v string) error { c.file = v; return nil }},
	{"ADD_SOURCE", false, boolVar(func(c *config) *bool { return &c.addSource })},
	{"MAX_VALUE_BYTES", false, intVar(func(c *config) *int { return &c.maxValueBytes }, 0, 1<<30)},
	{"REDACT", false, boolVar(func(c *config) *bool { return &c.redact })},
	{"MASK_ENV", false, boolVar(func(c *config) *bool { return &c.maskEnv })},
	{"FINGERPRINT", false, func(c *config, v string) error { return c.setFingerprint(v) }},
	{"FINGERPRINT_KEY_FILE", false, func(c *config, v string) error { return c.setFingerprintKey(v) }},
	{"REDACT_KEYS", false, func(c *config, v string) error {
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.redactKeys = append(c.redactKeys, k)
			}
		}
		return nil
	}},
	{"REDACT_ALLOW_KEYS", false, func(c *config, v string) error {
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.allowKeys = append(c.allowKeys, k)
			}
		}
		return nil
	}},
	{"REDACT_PII", false, func(c *config, v string) error {
		var kinds []string
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
				kinds = append(kinds, k)
			}
		}
		return c.setPII(kinds)
	}},
	{"REDACT_PATTERNS", false, func(c *config, v string) error { return c.addPatterns(splitPatterns(v)) }},
	{"MAX_SIZE_MB", false, intVar(func(c *config) *int { return &c.rotation.MaxSizeMB }, 1, maxRotationMB)},
	{"MAX_BACKUPS", false, intVar(func(c *config) *int { return &c.rotation.MaxBackups }, 0, maxRotationBackups)},
	{"MAX_AGE_DAYS", false, intVar(func(c *config) *int { return &c.rotation.MaxAgeDays }, 0, maxRotationDays)},
	{"COMPRESS", false, boolVar(func(c *config) *bool { return &c.rotation.Compress })},
	{"LOCAL_TIME", false, boolVar(func(c *config) *bool { return &c.rotation.LocalTime })},
	{"SECURITY_FILE", false, func(c *config, v string) error { c.securityFile = v; return nil }},
	{"RATE_LIMIT", false, func(c *config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return errors.New("want records per second")
		}
		if err := checkRate(f); err != nil {
			return err
		}
		c.rate.PerSecond = f
		return nil
	}},
	{"RATE_BURST", false, intVar(func(c *config) *int { return &c.rate.Burst }, 0, maxBurst)},
	{"RATE_KEY", false, choice(map[string]func(*config){
		"site":    func(c *config) { c.rate.ByMessage = false },
		"message": func(c *config) { c.rate.ByMessage = true },
	}, "want site or message")},
	{"INTEGRITY_KEY_FILE", false, func(c *config, v string) error { c.integrityKeyFile = v; return nil }},
}

// choice parses one of a fixed set of words, in any case.
func choice(set map[string]func(*config), want string) func(*config, string) error {
	return func(c *config, v string) error {
		f, ok := set[strings.ToLower(strings.TrimSpace(v))]
		if !ok {
			return errors.New(want)
		}
		f(c)
		return nil
	}
}

// boolVar parses true/false/1/0/yes/no/on/off, in any case.
func boolVar(field func(*config) *bool) func(*config, string) error {
	return func(c *config, v string) error {
		b, err := parseBool(v)
		if err != nil {
			return err
		}
		*field(c) = b
		return nil
	}
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("want true/false, 1/0, yes/no or on/off")
}

// intVar parses a whole number within [lo, hi].
func intVar(field func(*config) *int, lo, hi int) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return errors.New("want a whole number")
		}
		if n < lo || n > hi {
			return fmt.Errorf("want a number from %d to %d", lo, hi)
		}
		*field(c) = n
		return nil
	}
}

// fromEnv applies every CODOMYRMEX_LOG_* variable of environ ("K=V" pairs).
// A bad value keeps the default and is reported; so is an unknown variable.
func (c *config) fromEnv(environ []string) []error {
	var errs []error
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		name, ok := strings.CutPrefix(k, EnvPrefix)
		if !ok {
			continue
		}
		i := slices.IndexFunc(envVars, func(e envVar) bool { return e.name == name })
		if i < 0 {
			msg := "unknown variable (a typo?)"
			if near := nearestVariable(name); near != "" {
				msg = "unknown variable; did you mean " + EnvPrefix + near + "?"
			}
			errs = append(errs, &ConfigError{Name: k, Value: notShown, Err: errors.New(msg)})
			continue
		}
		if err := envVars[i].set(c, v); err != nil {
			shown := v
			if envVars[i].secret {
				shown = notShown
			}
			errs = append(errs, &ConfigError{Name: k, Value: shown, Err: err})
		}
	}
	return errs
}

// check reports settings that contradict each other, so that none is
// silently without effect.
func (c *config) check() []error {
	var errs []error
	if err := c.checkFingerprint(); err != nil {
		errs = append(errs, err)
	}
	if !c.redact && (len(c.redactKeys) > 0 || len(c.redactPatterns) > 0 || len(c.rules) > 0) {
		errs = append(errs, errors.New("redaction is off (CODOMYRMEX_LOG_REDACT or WithRedaction(false)), so the redaction keys, patterns and rules given have no effect"))
	}
	if c.file != "" && c.file == c.securityFile {
		errs = append(errs, &ConfigError{Name: EnvPrefix + "SECURITY_FILE", Value: c.securityFile,
			Err: errors.New("the same file as CODOMYRMEX_LOG_FILE: security events would be written twice")})
	}
	return errs
}

func (c *config) setFormat(v string) error {
	py, err := parsePyFormat(v)
	if err != nil {
		return err
	}
	c.py = py
	return nil
}

func (c *config) setSchema(v string) error {
	switch s := strings.ToLower(strings.TrimSpace(v)); s {
	case SchemaSlog, SchemaCodomyrmex:
		c.schema = s
		return nil
	}
	return errors.New("want slog or codomyrmex")
}

// splitPatterns splits CODOMYRMEX_LOG_REDACT_PATTERNS: patterns are separated
// by a newline or by ";;" (a regexp rarely needs two semicolons in a row).
func splitPatterns(v string) []string {
	var out []string
	for line := range strings.SplitSeq(v, "\n") {
		for p := range strings.SplitSeq(line, ";;") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (c *config) addPatterns(ps []string) error {
	var errs []error
	for _, p := range ps {
		re, err := regexp.Compile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("pattern %q: %w", p, err))
			continue
		}
		c.redactPatterns = append(c.redactPatterns, re)
	}
	return errors.Join(errs...)
}

// setPII sets the kinds of personal data to redact, refusing an unknown one.
func (c *config) setPII(kinds []string) error {
	for _, k := range kinds {
		if !slices.Contains(redact.PIIKinds, k) {
			return fmt.Errorf("unknown kind %q: want a list of %s", k, strings.Join(redact.PIIKinds, ", "))
		}
	}
	c.pii = kinds
	return nil
}
