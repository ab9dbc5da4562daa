package logging

import "strings"

// defaultAllowKeys are keys that look secret by their words but are not:
// pagination cursors, opaque positions in a list that grant nothing
// (Google's pageToken/nextPageToken, AWS's NextToken, MongoDB's change
// streams' resumeToken, …).
var defaultAllowKeys = []string{"page_token", "next_page_token", "prev_page_token", "previous_page_token",
	"continuation_token", "sync_token", "next_token", "resume_token"}

// allowSet holds keys whose values are not redacted by key (patterns still
// apply to them), normalized: lower case, without _ - . and spaces, so that
// nextPageToken, next_page_token and NEXT-PAGE-TOKEN are one key.
type allowSet map[string]bool

func newAllowSet(keys []string) allowSet {
	s := allowSet{}
	for _, k := range keys {
		if n := normalizeAllowKey(k); n != "" {
			s[n] = true
		}
	}
	return s
}

func (s allowSet) has(k string) bool {
	if len(s) == 0 || len(k) > 128 {
		return false
	}
	return s[normalizeAllowKey(k)]
}

func normalizeAllowKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case c == '_' || c == '-' || c == '.' || c == ' ':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// WithRedactAllowKeys names keys whose values are not redacted by key,
// although their words sound secret (CODOMYRMEX_LOG_REDACT_ALLOW_KEYS,
// comma-separated), matched in any case and with any separator. Patterns
// still apply to their values: a token inside one is redacted by its
// format. Pagination cursors (page_token, next_page_token,
// continuation_token, NextToken, resumeToken, …) are allowed by default. Wrap and
// NewRedactingHandler take it too.
func WithRedactAllowKeys(keys ...string) Option {
	return option("WithRedactAllowKeys", byWrap|byRedacting, func(c *config) error {
		c.allowKeys = append(c.allowKeys, keys...)
		return nil
	})
}

// allowSet is c's allowed keys, the defaults first.
func (c *config) allowSet() allowSet {
	return newAllowSet(append(append([]string(nil), defaultAllowKeys...), c.allowKeys...))
}

// WithRedactPII redacts personal data too (CODOMYRMEX_LOG_REDACT_PII, a
// comma-separated list; off by default): "email" (e-mail addresses),
// "phone" (E.164 numbers, +4915…), "iban" (IBANs whose mod-97 check
// holds), "ip" (IP addresses truncated, not removed: an IPv4 address to its
// /24, 203.0.113.0; an IPv6 address to its /48). An unknown kind is an
// error. Wrap and NewRedactingHandler take it too.
func WithRedactPII(kinds ...string) Option {
	return option("WithRedactPII", byWrap|byRedacting, func(c *config) error {
		return optErr("WithRedactPII", strings.Join(kinds, ","), c.setPII(kinds))
	})
}
