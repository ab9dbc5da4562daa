package logging

import (
	"fmt"
	"log/slog"
	"regexp"
	"sync"

	"github.com/codomyrmex/logging/internal/redact"
)

// redactedMarker replaces values redacted because of their key, their struct
// tag or their type ([Secret]).
const redactedMarker = redact.Marker

// Rule is one credential format the redactor recognizes.
type Rule struct {
	// Kind names the format; the marker is [REDACTED:Kind].
	Kind string
	// Keywords: the Pattern runs only on strings that contain one of them
	// (ASCII case-insensitive). A rule without keywords runs on every string.
	Keywords []string
	// Pattern finds the format. If it has a capturing group, the first group
	// is the secret that is replaced; otherwise the whole match is.
	Pattern *regexp.Regexp
	// Validate, if set, must accept the secret for it to be replaced.
	Validate func(secret string) bool
}

// Rules returns a copy of the built-in rules, in the order they run.
func Rules() []Rule {
	b := redact.Builtin()
	out := make([]Rule, 0, len(b))
	for _, r := range b {
		out = append(out, Rule{Kind: r.Kind, Keywords: r.Keywords, Pattern: r.Pattern, Validate: r.Validate})
	}
	return out
}

// newRedactor compiles the redacting stage of c: the built-in rules, c's
// patterns (kind "custom") and rules, and the default keys with c's.
func newRedactor(c *config) *redact.Redactor {
	var rules []redact.Rule
	for _, re := range c.redactPatterns {
		rules = append(rules, redact.Rule{Kind: "custom", Pattern: re})
	}
	for _, r := range c.rules {
		rules = append(rules, redact.Rule{Kind: r.Kind, Keywords: r.Keywords, Pattern: r.Pattern, Validate: r.Validate})
	}
	return redact.New(redact.Config{Rules: rules, Keys: c.redactKeys, Count: countRedaction, PII: c.pii})
}

var (
	defaultMapper       *attrMapper
	defaultRedactorOnce sync.Once
)

// Redact returns s with every secret the built-in rules recognize replaced by
// a marker that names its kind, such as [REDACTED:github-token]. A string
// without a secret is returned as is, without allocating.
func Redact(s string) string {
	out, _ := defaultRedact().Redact(s)
	return out
}

// defaultRedact is the redactor of Redact and IsSecretKey: the default
// rules and keys, and the values registered with Mask.
func defaultRedact() *redact.Redactor {
	defaultRedactorOnce.Do(func() {
		defaultMapper = track(&attrMapper{red: newRedactor(newConfig())}) // held here: Mask reaches it
	})
	return defaultMapper.red
}

// IsSecretKey reports whether an attribute with this key has its whole value
// redacted by default ("password", "db_password", "X-Api-Key", "apiKey",
// and session ids: "session_id", "connect.sid", "PHPSESSID", …).
func IsSecretKey(key string) bool {
	return defaultRedact().SecretKey(key) || sessionCookieKey(key)
}

// Secret is a string the program knows is secret. However it is logged or
// formatted (slog, fmt with any verb, JSON, text) it shows only the marker
// [REDACTED]; Reveal returns the value.
type Secret string

// LogValue returns the marker.
func (Secret) LogValue() slog.Value { return slog.StringValue(redactedMarker) }

// String returns the marker.
func (Secret) String() string { return redactedMarker }

// GoString returns the marker.
func (Secret) GoString() string { return redactedMarker }

// Format writes the marker for every verb.
func (Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, redactedMarker) }

// MarshalJSON returns the marker as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redactedMarker + `"`), nil }

// MarshalText returns the marker.
func (Secret) MarshalText() ([]byte, error) { return []byte(redactedMarker), nil }

// Reveal returns the secret value itself.
func (s Secret) Reveal() string { return string(s) }

// compile-time checks
var (
	_ slog.LogValuer = Secret("")
	_ fmt.Formatter  = Secret("")
)
