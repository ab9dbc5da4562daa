package logging

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// The order of configuration: the defaults, then the options the program
// passes to Setup, then the CODOMYRMEX_LOG_* variables, which override
// them (the operator has the last word: a program that passes
// WithLevel(slog.LevelInfo) still logs at ERROR when the operator sets
// CODOMYRMEX_LOG_LEVEL=ERROR), then the options the program pins with
// Fixed, which no variable changes (settings an operator must not loosen).
// When a variable overrides an option (it says something else than the
// option), or is ignored because the option is fixed, Setup says so in one
// line on the console (as the package's own reports are written, whatever
// the level) naming both. The variables that add to the redaction
// (REDACT_KEYS, REDACT_PATTERNS) always add, even to a fixed option;
// REDACT_ALLOW_KEYS, which loosens it, is ignored when the program fixed
// WithRedactAllowKeys.

// Fixed pins opts: Setup applies them after the CODOMYRMEX_LOG_*
// variables, so that no variable changes what they set:
//
//	logging.Setup(logging.Fixed(logging.WithRedaction(true), logging.WithSecurityFile(path)))
//
// The variables that add redaction (CODOMYRMEX_LOG_REDACT_KEYS,
// CODOMYRMEX_LOG_REDACT_PATTERNS) still add to a fixed WithRedactKeys or
// WithRedactPatterns: a pin never takes away what the operator redacts.
//
// Wrap and the other handler constructors read no variables; for them a
// fixed option is the option itself.
func Fixed(opts ...Option) Option {
	var t takers = byWrap | byRedacting | bySanitizing
	for _, o := range opts {
		t &= o.takes
	}
	return Option{name: "Fixed", takes: t, fixed: opts,
		set: func(c *config) error {
			for _, o := range opts {
				if o.set != nil {
					if err := o.set(c); err != nil {
						return err
					}
				}
			}
			return nil
		}}
}

// optionVars names, for each option that has variables, the variables
// that set the same thing (without the prefix).
var optionVars = map[string][]string{
	"WithLevel": {"LEVEL"}, "WithLevels": {"LEVEL"}, "WithLoggerLevel": {"LEVEL"},
	"WithOutputType": {"OUTPUT_TYPE"}, "WithJSONSchema": {"JSON_SCHEMA"}, "WithFormat": {"FORMAT"},
	"WithConsole": {"CONSOLE"}, "WithFile": {"FILE"}, "WithAddSource": {"ADD_SOURCE"},
	"WithMaxValueBytes": {"MAX_VALUE_BYTES"}, "WithRedaction": {"REDACT"}, "WithMaskEnv": {"MASK_ENV"},
	"WithRedactKeys": {"REDACT_KEYS"}, "WithRedactPatterns": {"REDACT_PATTERNS"},
	"WithRotation":     {"MAX_SIZE_MB", "MAX_BACKUPS", "MAX_AGE_DAYS", "COMPRESS", "LOCAL_TIME"},
	"WithSecurityFile": {"SECURITY_FILE"}, "WithSecurityLevel": {"SECURITY_LEVEL"},
	"WithRateLimit": {"RATE_LIMIT", "RATE_BURST", "RATE_KEY"},
	"WithLoki": {"LOKI_URL", "LOKI_TENANT", "LOKI_USERNAME", "LOKI_PASSWORD", "LOKI_PASSWORD_FILE",
		"LOKI_BEARER_TOKEN", "LOKI_BEARER_TOKEN_FILE", "LOKI_CA_FILE", "LOKI_LABELS", "LOKI_BATCH_SIZE",
		"LOKI_BATCH_WAIT", "LOKI_QUEUE_SIZE", "LOKI_TIMEOUT", "LOKI_FLUSH_TIMEOUT", "LOKI_ALLOW_INSECURE",
		"LOKI_QUEUE_BYTES", "LOKI_MAX_TRIES", "LOKI_MAX_RETRY_AGE", "LOKI_SPOOL_DIR", "LOKI_SPOOL_MAX_MB"},
	"WithProcessAttrs": {"ATTRS"}, "WithFingerprint": {"FINGERPRINT"},
	"WithFingerprintKeyFile": {"FINGERPRINT_KEY_FILE"}, "WithStacks": {"STACKS"},
	"WithCaptureStdio": {"CAPTURE_STDIO"}, "WithRedactAllowKeys": {"REDACT_ALLOW_KEYS"},
	"WithRedactPII": {"REDACT_PII"}, "WithTrustedProxies": {"TRUSTED_PROXIES"},
	"WithHTTPEvents": {"HTTP_EVENTS"}, "WithHTTPSkipPaths": {"HTTP_SKIP_PATHS"},
	"WithHTTPEventPaths":   {"HTTP_EVENT_PATHS"},
	"WithIntegrityKeyFile": {"INTEGRITY_KEY_FILE"},
}

// additiveVars add to what the options gave instead of replacing it: both
// apply, and nothing is overridden. Those that add redaction apply even
// when the program fixed the option (a pin cannot take away what the
// operator redacts); REDACT_ALLOW_KEYS, which loosens redaction, does not:
// a fixed WithRedactAllowKeys wins, and Setup says the variable is ignored.
var additiveVars = map[string]bool{"REDACT_KEYS": true, "REDACT_PATTERNS": true, "REDACT_ALLOW_KEYS": true}

// loosening are the additive variables that a fixed option stops.
var loosening = map[string]bool{"REDACT_ALLOW_KEYS": true}

// pinnedBy reports whether a fixed option stops the variable v.
func pinnedBy(v string) bool { return !additiveVars[v] || loosening[v] }

// overrides reports whether the variable kv changes what the option o
// sets: o applied alone, then kv on top, differs from o applied alone. A
// variable that says what the option says (LEVEL=info with
// WithLevel(slog.LevelInfo)) overrides nothing.
func overrides(o Option, kv string) bool {
	a, b := newConfig(), newConfig()
	a.apply([]Option{o}, bySetup, "Setup")
	b.apply([]Option{o}, bySetup, "Setup")
	if errs := b.fromEnv([]string{kv}); len(errs) > 0 {
		return true
	}
	return !reflect.DeepEqual(a, b)
}

// configure builds Setup's configuration in the documented order and
// returns it, the problems found, and one notice per variable that
// overrides an option or is ignored because the option is fixed.
func configure(environ []string, opts []Option) (*config, []error, []string) {
	var loose, fixed []Option
	for _, o := range opts {
		if o.fixed != nil {
			fixed = append(fixed, o.fixed...)
		} else {
			loose = append(loose, o)
		}
	}
	c := newConfig()
	c.environ = environ
	c.apply(loose, bySetup, "Setup")
	var env, pinned []string // the known variables in the environment; those a fixed option pins
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		name, ok := strings.CutPrefix(k, EnvPrefix)
		if ok && slices.ContainsFunc(envVars, func(e envVar) bool { return e.name == name }) {
			env = append(env, name)
		}
	}
	for _, o := range fixed {
		for _, v := range optionVars[o.name] {
			if pinnedBy(v) {
				pinned = append(pinned, v)
			}
		}
	}
	var applied []string
	given := map[string]string{} // a known variable's name: its NAME=value
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		name, ok := strings.CutPrefix(k, EnvPrefix)
		if ok {
			given[name] = kv
		}
		if ok && slices.Contains(pinned, name) {
			continue // pinned by the program: reported below
		}
		applied = append(applied, kv)
	}
	errs := c.fromEnv(applied)
	c.apply(fixed, bySetup, "Setup")
	env = slices.DeleteFunc(env, func(name string) bool { // a variable that failed overrides nothing
		return slices.ContainsFunc(errs, func(err error) bool {
			ce, ok := err.(*ConfigError)
			return ok && ce.Name == EnvPrefix+name
		})
	})
	var notices []string
	for _, o := range opts {
		isFixed := o.fixed != nil
		group := []Option{o}
		if isFixed {
			group = o.fixed
		}
		for _, g := range group {
			for _, v := range optionVars[g.name] {
				if !slices.Contains(env, v) {
					continue
				}
				switch {
				case isFixed && pinnedBy(v):
					notices = append(notices, fmt.Sprintf("%s%s is ignored: the program fixed %s", EnvPrefix, v, g.name))
				case !isFixed && !additiveVars[v] && overrides(g, given[v]):
					notices = append(notices, fmt.Sprintf("%s%s overrides %s given by the program", EnvPrefix, v, g.name))
				}
			}
		}
	}
	return c, errs, notices
}
