package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// EnvPrefix starts the name of every environment variable the package reads.
const EnvPrefix = "CODOMYRMEX_LOG_"

// config is everything Setup builds a pipeline from.
type config struct {
	levels        levelSet
	output        OutputType
	format        string
	py            *pyFormat
	schema        string
	console       io.Writer
	file          string
	addSource     bool
	maxValueBytes int

	redact         bool
	redactKeys     []string
	redactPatterns []*regexp.Regexp
	rules          []Rule

	rotation  rotation
	onError   func(error)
	reopenHUP bool
	sinks     []extraSink

	extractors    []func(context.Context) []slog.Attr
	securityFile  string
	securityLevel *slog.Level
	rateLimit     float64
	rateBurst     int
	rateByMessage bool

	loki lokiSettings

	errs []error // problems found while applying options
}

// rotation configures the file sink's lumberjack.Logger.
type rotation struct {
	maxSizeMB, maxBackups, maxAgeDays int
	compress, localTime               bool
}

func newConfig() *config {
	py, _ := parsePyFormat(DefaultFormat)
	return &config{
		levels:        levelSet{def: slog.LevelInfo},
		format:        DefaultFormat,
		py:            py,
		schema:        schemaSlog,
		console:       os.Stderr,
		maxValueBytes: 64 << 10,
		redact:        true,
		rotation:      rotation{maxSizeMB: 10, maxBackups: 5, maxAgeDays: 30, compress: true},
	}
}

// apply runs the options in order, collecting their errors in c.errs.
func (c *config) apply(opts []Option) {
	for _, o := range opts {
		if o != nil {
			if err := o(c); err != nil {
				c.errs = append(c.errs, err)
			}
		}
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

// Error returns VARIABLE="value": problem.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s=%q: %v", e.Name, e.Value, e.Err)
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
	{"OUTPUT_TYPE", false, choice(map[string]func(*config){
		"text": func(c *config) { c.output = OutputText },
		"json": func(c *config) { c.output = OutputJSON },
	}, "want TEXT or JSON")},
	{"FORMAT", false, func(c *config, v string) error { return c.setFormat(v) }},
	{"JSON_SCHEMA", false, func(c *config, v string) error {
		switch s := strings.ToLower(strings.TrimSpace(v)); s {
		case schemaSlog, schemaCodomyrmex:
			c.schema = s
			return nil
		}
		return errors.New("want slog or codomyrmex")
	}},
	{"CONSOLE", false, choice(map[string]func(*config){
		"stderr": func(c *config) { c.console = os.Stderr },
		"stdout": func(c *config) { c.console = os.Stdout },
		"none":   func(c *config) { c.console = nil },
	}, "want stderr, stdout or none")},
	{"FILE", false, func(c *config, v string) error { c.file = v; return nil }},
	{"ADD_SOURCE", false, boolVar(func(c *config) *bool { return &c.addSource })},
	{"MAX_VALUE_BYTES", false, intVar(func(c *config) *int { return &c.maxValueBytes }, 0, 1<<30)},
	{"REDACT", false, boolVar(func(c *config) *bool { return &c.redact })},
	{"REDACT_KEYS", false, func(c *config, v string) error {
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.redactKeys = append(c.redactKeys, k)
			}
		}
		return nil
	}},
	{"REDACT_PATTERNS", false, func(c *config, v string) error { return c.addPatterns(splitPatterns(v)) }},
	{"MAX_SIZE_MB", false, intVar(func(c *config) *int { return &c.rotation.maxSizeMB }, 1, 1<<20)},
	{"MAX_BACKUPS", false, intVar(func(c *config) *int { return &c.rotation.maxBackups }, 0, 10000)},
	{"MAX_AGE_DAYS", false, intVar(func(c *config) *int { return &c.rotation.maxAgeDays }, 0, 36500)},
	{"COMPRESS", false, boolVar(func(c *config) *bool { return &c.rotation.compress })},
	{"LOCAL_TIME", false, boolVar(func(c *config) *bool { return &c.rotation.localTime })},
	{"SECURITY_FILE", false, func(c *config, v string) error { c.securityFile = v; return nil }},
	{"RATE_LIMIT", false, func(c *config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1e9 || f != f {
			return errors.New("want records per second, 0 (off) or more")
		}
		c.rateLimit = f
		return nil
	}},
	{"RATE_BURST", false, intVar(func(c *config) *int { return &c.rateBurst }, 0, 1<<20)},
	{"RATE_KEY", false, choice(map[string]func(*config){
		"site":    func(c *config) { c.rateByMessage = false },
		"message": func(c *config) { c.rateByMessage = true },
	}, "want site or message")},
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
			errs = append(errs, &ConfigError{Name: k, Value: v, Err: errors.New("unknown variable (a typo?)")})
			continue
		}
		if err := envVars[i].set(c, v); err != nil {
			shown := v
			if envVars[i].secret {
				shown = "(not shown)"
			}
			errs = append(errs, &ConfigError{Name: k, Value: shown, Err: err})
		}
	}
	return errs
}

func (c *config) setFormat(v string) error {
	py, err := parsePyFormat(v)
	if err != nil {
		return err
	}
	c.format, c.py = v, py
	return nil
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

// Option changes one setting of [Setup], [Wrap] or a stage. Options are
// applied after the environment, so they win over it.
type Option func(*config) error

func optErr(name, value string, err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{Name: name, Value: value, Err: err}
}

// WithLevel sets the minimum level of every logger without its own level.
func WithLevel(l slog.Level) Option {
	return func(c *config) error { c.levels.def = l; return nil }
}

// WithLoggerLevel sets the minimum level of the logger name and of the
// loggers below it in the dotted hierarchy (name "db" covers "db.pool").
func WithLoggerLevel(name string, l slog.Level) Option {
	return func(c *config) error {
		if name == "" {
			return optErr("WithLoggerLevel", name, errors.New("empty logger name"))
		}
		c.levels.set(name, l)
		return nil
	}
}

// WithLevels parses a level specification as CODOMYRMEX_LOG_LEVEL does,
// such as "INFO,db=DEBUG,http.client=ERROR".
func WithLevels(spec string) Option {
	return func(c *config) error { return optErr("WithLevels", spec, c.setLevels(spec)) }
}

// WithOutputType selects TEXT or JSON.
func WithOutputType(t OutputType) Option {
	return func(c *config) error { c.output = t; return nil }
}

// WithJSON is WithOutputType(OutputJSON).
func WithJSON() Option { return WithOutputType(OutputJSON) }

// WithCodomyrmexSchema makes JSON output use the Python Codomyrmex module's
// field names (timestamp, level, name, message, module, function, line).
func WithCodomyrmexSchema() Option {
	return func(c *config) error { c.schema = schemaCodomyrmex; return nil }
}

// WithFormat sets the Python-style TEXT format, such as
// "%(asctime)s %(levelname)-8s %(name)s: %(message)s", or the preset "DETAILED".
func WithFormat(format string) Option {
	return func(c *config) error { return optErr("WithFormat", format, c.setFormat(format)) }
}

// WithConsole sets the console writer; nil turns the console off. Writes to
// it are serialized, one Write per record.
func WithConsole(w io.Writer) Option {
	return func(c *config) error { c.console = w; return nil }
}

// WithFile sets the path of the rotating log file; "" turns the file off.
func WithFile(path string) Option {
	return func(c *config) error { c.file = path; return nil }
}

// WithAddSource adds the caller's file, line and function to each record.
func WithAddSource(on bool) Option {
	return func(c *config) error { c.addSource = on; return nil }
}

// WithMaxValueBytes cuts any single message or value longer than n bytes,
// marking how much was cut; 0 means no limit.
func WithMaxValueBytes(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return optErr("WithMaxValueBytes", strconv.Itoa(n), errors.New("want 0 or more"))
		}
		c.maxValueBytes = n
		return nil
	}
}

// WithRedaction turns the redacting stage on or off (it is on by default;
// turning it off is reported once as a warning record).
func WithRedaction(on bool) Option {
	return func(c *config) error { c.redact = on; return nil }
}

// WithRedactKeys adds attribute keys whose values are always redacted. Keys
// match in any case and with any separator ("apiKey" matches "API-KEY").
func WithRedactKeys(keys ...string) Option {
	return func(c *config) error { c.redactKeys = append(c.redactKeys, keys...); return nil }
}

// WithRedactPatterns adds regular expressions whose matches are redacted,
// reported as kind "custom".
func WithRedactPatterns(patterns ...string) Option {
	return func(c *config) error {
		return optErr("WithRedactPatterns", strings.Join(patterns, ";;"), c.addPatterns(patterns))
	}
}

// WithRule adds a custom redaction rule.
func WithRule(r Rule) Option {
	return func(c *config) error {
		if r.Kind == "" || r.Pattern == nil {
			return optErr("WithRule", r.Kind, errors.New("a rule needs a Kind and a Pattern"))
		}
		c.rules = append(c.rules, r)
		return nil
	}
}

// WithRotation sets the file sink's rotation: the size in megabytes at which
// the file rotates, how many backups and how many days to keep (0 keeps
// all), and whether backups are gzip-compressed.
func WithRotation(maxSizeMB, maxBackups, maxAgeDays int, compress bool) Option {
	return func(c *config) error {
		if maxSizeMB < 1 || maxBackups < 0 || maxAgeDays < 0 {
			return optErr("WithRotation", fmt.Sprint(maxSizeMB, maxBackups, maxAgeDays), errors.New("want a size of 1 MB or more and no negative counts"))
		}
		c.rotation = rotation{maxSizeMB, maxBackups, maxAgeDays, compress, c.rotation.localTime}
		return nil
	}
}

// WithErrorHandler sets a function called with every error a sink reports
// (a failed write, a refused reopen). It must not block or log through this package.
func WithErrorHandler(f func(error)) Option {
	return func(c *config) error { c.onError = f; return nil }
}

// WithReopenOnSIGHUP makes the file sink reopen its path when the process
// gets SIGHUP, as after logrotate moved the file.
func WithReopenOnSIGHUP() Option {
	return func(c *config) error { c.reopenHUP = true; return nil }
}

// WithSink adds w as one more sink: it receives every record, encoded as the
// console's, in one Write call per record (serialized). Failures are
// reported like those of the built-in sinks, under name.
func WithSink(name string, w io.Writer) Option {
	return func(c *config) error {
		if w == nil || name == "" {
			return optErr("WithSink", name, errors.New("want a name and a writer"))
		}
		c.sinks = append(c.sinks, extraSink{name, w})
		return nil
	}
}

// WithSecurityFile also writes security events to their own file, with the
// same protections and rotation as the main file sink.
func WithSecurityFile(path string) Option {
	return func(c *config) error { c.securityFile = path; return nil }
}
