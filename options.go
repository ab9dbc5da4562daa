package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/codomyrmex/logging/loki"
)

// Option changes one setting. [Setup] takes every option, applied after the
// CODOMYRMEX_LOG_* variables so that it wins over them, and returns an
// error naming each one that is invalid. [Wrap], [NewRedactingHandler] and
// [NewSanitizingHandler] take the options their documentation lists, and
// panic at construction, naming the option, on an invalid one or on one
// they do not take (as regexp.MustCompile does): a setting that would
// silently do nothing is a bug.
type Option struct {
	name  string
	takes takers // which constructors besides Setup take it
	set   func(*config) error
	fixed []Option // Fixed: these, applied after the variables
}

// takers is a set of the constructors that take an option besides Setup.
type takers uint8

const (
	byWrap takers = 1 << iota
	byRedacting
	bySanitizing
	bySetup takers = 0 // Setup takes every option
)

func option(name string, t takers, set func(*config) error) Option {
	return Option{name: name, takes: t, set: set}
}

// optErr is the error of an option given a bad value.
func optErr(name, value string, err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{Name: name, Value: value, Err: err}
}

// apply runs the options in order for the constructor who (by: its bit;
// bySetup for Setup), collecting in c.errs every option that is invalid or
// that who does not take. The zero Option does nothing.
func (c *config) apply(opts []Option, by takers, who string) {
	for _, o := range opts {
		switch {
		case o.set == nil:
		case by != bySetup && o.takes&by == 0:
			c.errs = append(c.errs, fmt.Errorf("%s is not an option of %s", o.name, who))
		default:
			if err := o.set(c); err != nil {
				c.errs = append(c.errs, err)
			}
		}
	}
}

// mustConfig is the configuration of a handler constructor: the defaults
// and opts, without the environment. It panics on any error, naming the
// constructor and the option.
func mustConfig(opts []Option, by takers, who string) *config {
	c := newConfig()
	c.apply(opts, by, who)
	c.errs = append(c.errs, c.check()...)
	if len(c.errs) > 0 {
		panic(who + ": " + errors.Join(c.errs...).Error())
	}
	return c
}

// WithLevel sets the minimum level of every logger without its own level
// (CODOMYRMEX_LOG_LEVEL=INFO).
func WithLevel(l slog.Level) Option {
	return option("WithLevel", bySetup, func(c *config) error { c.levels.def = l; return nil })
}

// WithLoggerLevel sets the minimum level of the logger name and of the
// loggers below it in the dotted hierarchy: name "db" covers "db.pool"
// (CODOMYRMEX_LOG_LEVEL=db=DEBUG).
func WithLoggerLevel(name string, l slog.Level) Option {
	return option("WithLoggerLevel", bySetup, func(c *config) error {
		if name == "" {
			return optErr("WithLoggerLevel", name, errors.New("empty logger name"))
		}
		c.levels.set(name, l)
		return nil
	})
}

// WithLevels parses a level specification as CODOMYRMEX_LOG_LEVEL does,
// such as "INFO,db=DEBUG,http.client=ERROR": a default level and levels per
// logger.
func WithLevels(spec string) Option {
	return option("WithLevels", bySetup, func(c *config) error { return optErr("WithLevels", spec, c.setLevels(spec)) })
}

// WithOutputType selects TEXT or JSON (CODOMYRMEX_LOG_OUTPUT_TYPE).
func WithOutputType(t OutputType) Option {
	return option("WithOutputType", bySetup, func(c *config) error {
		if t != OutputText && t != OutputJSON {
			return optErr("WithOutputType", strconv.Itoa(int(t)), errors.New("want OutputText or OutputJSON"))
		}
		c.output = t
		return nil
	})
}

// WithJSONSchema selects the keys of JSON records: [SchemaSlog] or
// [SchemaCodomyrmex] (CODOMYRMEX_LOG_JSON_SCHEMA).
func WithJSONSchema(schema string) Option {
	return option("WithJSONSchema", bySetup, func(c *config) error {
		return optErr("WithJSONSchema", schema, c.setSchema(schema))
	})
}

// WithFormat sets the Python-style TEXT format, such as
// "%(asctime)s %(levelname)-8s %(name)s: %(message)s", or the preset
// "DETAILED" (CODOMYRMEX_LOG_FORMAT).
func WithFormat(format string) Option {
	return option("WithFormat", bySetup, func(c *config) error { return optErr("WithFormat", format, c.setFormat(format)) })
}

// WithConsole sets the console writer; nil turns the console off
// (CODOMYRMEX_LOG_CONSOLE). Writes to it are serialized, one Write per
// record, and the package's own reports go through the same lock.
func WithConsole(w io.Writer) Option {
	return option("WithConsole", bySetup, func(c *config) error { c.console = w; return nil })
}

// WithFile sets the path of the rotating log file; "" turns the file off
// (CODOMYRMEX_LOG_FILE).
func WithFile(path string) Option {
	return option("WithFile", bySetup, func(c *config) error { c.file = path; return nil })
}

// WithAddSource adds the caller's file, line and function to each record
// (CODOMYRMEX_LOG_ADD_SOURCE).
func WithAddSource(on bool) Option {
	return option("WithAddSource", bySetup, func(c *config) error { c.addSource = on; return nil })
}

// WithMaxValueBytes cuts any single message or value longer than n bytes,
// marking how much was cut; 0 means no limit (CODOMYRMEX_LOG_MAX_VALUE_BYTES).
// Wrap and NewSanitizingHandler take it too.
func WithMaxValueBytes(n int) Option {
	return option("WithMaxValueBytes", byWrap|bySanitizing, func(c *config) error {
		if n < 0 {
			return optErr("WithMaxValueBytes", strconv.Itoa(n), errors.New("want 0 or more"))
		}
		c.maxValueBytes = n
		return nil
	})
}

// WithRedaction turns redaction on or off (CODOMYRMEX_LOG_REDACT; it is on
// by default, and turning it off is reported once as a warning record).
// Wrap takes it too.
func WithRedaction(on bool) Option {
	return option("WithRedaction", byWrap, func(c *config) error { c.redact = on; return nil })
}

// WithMaskEnv turns off (or on) the masking of the environment's secrets
// at Setup (CODOMYRMEX_LOG_MASK_ENV, on by default): the values of
// variables named like secrets (PASSWORD, TOKEN, SECRET, API_KEY,
// CREDENTIAL, PRIVATE_KEY, …), the passwords in *_URL and *_DSN values,
// and the contents of the files *_FILE variables of such names point at,
// are masked like values given to [Mask]. Values shorter than 8 bytes, or
// too plain to mask without blanking ordinary words (postgres, changeme,
// admin123), are skipped and counted in Stats().KnownSkipped.
func WithMaskEnv(on bool) Option {
	return option("WithMaskEnv", bySetup, func(c *config) error { c.maskEnv = on; return nil })
}

// WithRedactKeys adds attribute keys whose values are always redacted
// (CODOMYRMEX_LOG_REDACT_KEYS). Keys match in any case and with any
// separator ("apiKey" matches "API-KEY"). Wrap and NewRedactingHandler take
// it too.
func WithRedactKeys(keys ...string) Option {
	return option("WithRedactKeys", byWrap|byRedacting, func(c *config) error {
		c.redactKeys = append(c.redactKeys, keys...)
		return nil
	})
}

// WithRedactPatterns adds regular expressions whose matches are redacted,
// reported as kind "custom" (CODOMYRMEX_LOG_REDACT_PATTERNS). A pattern
// that does not compile is an error. Wrap and NewRedactingHandler take it too.
func WithRedactPatterns(patterns ...string) Option {
	return option("WithRedactPatterns", byWrap|byRedacting, func(c *config) error {
		return optErr("WithRedactPatterns", strings.Join(patterns, ";;"), c.addPatterns(patterns))
	})
}

// WithRule adds a custom redaction rule. Wrap and NewRedactingHandler take it too.
func WithRule(r Rule) Option {
	return option("WithRule", byWrap|byRedacting, func(c *config) error {
		if r.Kind == "" || r.Pattern == nil {
			return optErr("WithRule", r.Kind, errors.New("a rule needs a Kind and a Pattern"))
		}
		c.rules = append(c.rules, r)
		return nil
	})
}

// Rotation configures how the file sinks rotate (lumberjack underneath).
// Start from [DefaultRotation] and change what you need.
type Rotation struct {
	// MaxSizeMB is the size in megabytes at which the file rotates, 1 to
	// 1048576 (CODOMYRMEX_LOG_MAX_SIZE_MB; default 10).
	MaxSizeMB int
	// MaxBackups is how many rotated files are kept; 0 keeps all
	// (CODOMYRMEX_LOG_MAX_BACKUPS; default 5).
	MaxBackups int
	// MaxAgeDays is how many days rotated files are kept; 0 keeps them
	// forever (CODOMYRMEX_LOG_MAX_AGE_DAYS; default 30).
	MaxAgeDays int
	// Compress gzips rotated files (CODOMYRMEX_LOG_COMPRESS; default true).
	Compress bool
	// LocalTime names rotated files by local time instead of UTC
	// (CODOMYRMEX_LOG_LOCAL_TIME; default false).
	LocalTime bool
}

// DefaultRotation returns the rotation used when none is set.
func DefaultRotation() Rotation {
	return Rotation{MaxSizeMB: 10, MaxBackups: 5, MaxAgeDays: 30, Compress: true}
}

// check names the first field of r that is out of range.
func (r Rotation) check() error {
	switch {
	case r.MaxSizeMB < 1 || r.MaxSizeMB > maxRotationMB:
		return fmt.Errorf("MaxSizeMB %d: want 1 to %d", r.MaxSizeMB, maxRotationMB)
	case r.MaxBackups < 0 || r.MaxBackups > maxRotationBackups:
		return fmt.Errorf("MaxBackups %d: want 0 (all) to %d", r.MaxBackups, maxRotationBackups)
	case r.MaxAgeDays < 0 || r.MaxAgeDays > maxRotationDays:
		return fmt.Errorf("MaxAgeDays %d: want 0 (forever) to %d", r.MaxAgeDays, maxRotationDays)
	}
	return nil
}

// Limits of the rotation settings.
const (
	maxRotationMB      = 1 << 20
	maxRotationBackups = 10000
	maxRotationDays    = 36500
)

// WithRotation sets how the file sinks rotate.
func WithRotation(r Rotation) Option {
	return option("WithRotation", bySetup, func(c *config) error {
		if err := r.check(); err != nil {
			return optErr("WithRotation", fmt.Sprintf("%+v", r), err)
		}
		c.rotation = r
		return nil
	})
}

// WithErrorHandler sets a function called with every error a sink reports
// (a failed write, a refused reopen, a failed push to Loki), as a
// [*SinkError]. It must not block or log through this package.
func WithErrorHandler(f func(error)) Option {
	return option("WithErrorHandler", bySetup, func(c *config) error { c.onError = f; return nil })
}

// WithReopenOnSIGHUP makes the file sinks reopen their paths when the
// process gets SIGHUP, as after logrotate moved the files.
func WithReopenOnSIGHUP() Option {
	return option("WithReopenOnSIGHUP", bySetup, func(c *config) error { c.reopenHUP = true; return nil })
}

// WithSink adds w as one more sink: it receives every record, encoded as the
// console's, in one Write call per record (serialized). Failures are
// reported like those of the built-in sinks, under name.
func WithSink(name string, w io.Writer) Option {
	return option("WithSink", bySetup, func(c *config) error {
		if w == nil || name == "" {
			return optErr("WithSink", name, errors.New("want a name and a writer"))
		}
		c.sinks = append(c.sinks, extraSink{name, w})
		return nil
	})
}

// WithSecurityFile also writes security events to their own file, with the
// same protections and rotation as the main file (CODOMYRMEX_LOG_SECURITY_FILE).
func WithSecurityFile(path string) Option {
	return option("WithSecurityFile", bySetup, func(c *config) error { c.securityFile = path; return nil })
}

// WithSecurityLevel sets the level from which security events go to the
// console, the main file and WithSink writers
// (CODOMYRMEX_LOG_SECURITY_LEVEL). Without it, events of WARNING and above
// always go there, even when CODOMYRMEX_LOG_LEVEL is higher, and lower ones
// as the level of the logger "security" lets them. The security file and
// Loki keep every security event, whatever its level and these settings.
func WithSecurityLevel(l slog.Level) Option {
	return option("WithSecurityLevel", bySetup, func(c *config) error { c.securityLevel = &l; return nil })
}

// RateLimit limits how many records each call site (or each message) may
// log. Dropped records are counted ([Stats]) and summarized in a WARNING
// record every few seconds; security events are never limited.
type RateLimit struct {
	// PerSecond is the records per second each key may log, 0.001 to 1e9;
	// 0 turns limiting off (CODOMYRMEX_LOG_RATE_LIMIT).
	PerSecond float64
	// Burst is how many records a key may log at once; 0 means the rate,
	// at least 1 (CODOMYRMEX_LOG_RATE_BURST).
	Burst int
	// ByMessage keys the limit by message instead of by call site
	// (CODOMYRMEX_LOG_RATE_KEY=message).
	ByMessage bool
}

// WithRateLimit sets the rate limit.
func WithRateLimit(l RateLimit) Option {
	return option("WithRateLimit", bySetup, func(c *config) error {
		err := checkRate(l.PerSecond)
		if err == nil && (l.Burst < 0 || l.Burst > maxBurst) {
			err = fmt.Errorf("burst %d: want 0 (the rate) to %d", l.Burst, maxBurst)
		}
		if err != nil {
			return optErr("WithRateLimit", fmt.Sprintf("%+v", l), err)
		}
		c.rate = l
		return nil
	})
}

// Limits of the rate limit settings: below minRate the interval between
// tokens would overflow (and let every record through).
const (
	minRate  = 0.001 // one record per 1000 s
	maxRate  = 1e9
	maxBurst = 1 << 20
)

// checkRate checks a rate in records per second: 0 (off) or minRate to maxRate.
func checkRate(perSecond float64) error {
	if perSecond == 0 || perSecond >= minRate && perSecond <= maxRate {
		return nil
	}
	return fmt.Errorf("rate %g: want 0 (off) or %g to %g records per second", perSecond, float64(minRate), float64(maxRate))
}

// WithContextExtractor adds a function that turns a context into attrs for
// every record logged with it, such as trace_id and span_id from an
// OpenTelemetry span, so that this package need not import OpenTelemetry.
// Wrap takes it too.
//
//	logging.WithContextExtractor(func(ctx context.Context) []slog.Attr {
//		sc := trace.SpanContextFromContext(ctx)
//		if !sc.IsValid() {
//			return nil
//		}
//		return []slog.Attr{
//			slog.String("trace_id", sc.TraceID().String()),
//			slog.String("span_id", sc.SpanID().String()),
//		}
//	})
func WithContextExtractor(f func(context.Context) []slog.Attr) Option {
	return option("WithContextExtractor", byWrap, func(c *config) error {
		if f == nil {
			return optErr("WithContextExtractor", "nil", errors.New("want a function"))
		}
		c.extractors = append(c.extractors, f)
		return nil
	})
}

// WithLoki sends every record also to Grafana Loki (see the loki package
// for the fields); it is what the CODOMYRMEX_LOG_LOKI_* variables set.
func WithLoki(cfg loki.Config) Option {
	return option("WithLoki", bySetup, func(c *config) error { c.loki = cfg; return nil })
}

// WithProcessAttrs puts attrs on every record of the chain, first among
// its attrs (CODOMYRMEX_LOG_ATTRS=service=api,env=prod, whose names follow
// Loki's label-name rules): the labels that say which service and
// environment wrote a record, as the security audit asks. A record's own
// attr of the same key is written as key#2. They replace those of the
// variable, and of an earlier WithProcessAttrs. A name must not be empty
// nor one of a security event's labels (security_event_type, user_id,
// ip_address, user_agent, resource, action, outcome, severity,
// threat_level, reason): written first,
// it would take the label's name and push the event's own value to
// label#2, where alert rules do not look; Setup refuses it.
func WithProcessAttrs(attrs ...slog.Attr) Option {
	return option("WithProcessAttrs", bySetup, func(c *config) error {
		if err := checkProcessAttrs(attrs); err != nil {
			return err
		}
		c.attrs = slices.Clone(attrs)
		return nil
	})
}

// checkProcessAttrs refuses process attrs without a name or named after a
// security event's label.
func checkProcessAttrs(attrs []slog.Attr) error {
	for _, a := range attrs {
		if a.Key == "" {
			return errors.New("a process attr needs a name")
		}
		if slices.Contains(securityLabels[:], a.Key) {
			return fmt.Errorf("%q is a security event's label; a process attr of that name would take it from every event", a.Key)
		}
	}
	return nil
}

// WithIntegrityKeyFile turns on the MAC chain of the file sinks
// (CODOMYRMEX_LOG_INTEGRITY_KEY_FILE): path names a regular file, not a
// symbolic link, of mode 0600 or stricter, owned by the process's user,
// that holds the initial key, 32 random bytes as 64 hex digits or raw.
// Every line the file sinks write then carries a sequence number and a
// MAC chaining it to the line before, under a key that evolves one way at
// every epoch; cmd/logverify and [VerifyLogFiles] check the files. A key
// file that is refused is a Setup error, and the files are written
// without the chain. See the README's "Tamper evidence".
func WithIntegrityKeyFile(path string) Option {
	return option("WithIntegrityKeyFile", bySetup, func(c *config) error {
		if path == "" {
			return optErr("WithIntegrityKeyFile", path, errors.New("want a path"))
		}
		c.integrityKeyFile = path
		return nil
	})
}
