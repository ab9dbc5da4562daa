// Package testutil holds what the tests of several packages share: a
// buffer safe for concurrent writers, the tests' own definition of what
// must never reach a log line, and a realistic record. Only tests import it.
package testutil

import (
	"bytes"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// UnsetEnv unsets every environment variable whose name starts with prefix.
func UnsetEnv(prefix string) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, prefix) {
			os.Unsetenv(k)
		}
	}
}

// SyncBuffer is a bytes.Buffer safe for concurrent use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns what was written, split into lines.
func (b *SyncBuffer) Lines() []string {
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Reset empties the buffer.
func (b *SyncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// Dangerous is the tests' own definition of what must never reach a log
// line, independent of the code under test: every rune that is not
// printable in the sense of unicode.IsPrint (letters, marks, numbers,
// punctuation and symbols of every script, and the ASCII space). The cases
// named first are all outside it; they say what the rule is for.
func Dangerous(r rune) bool {
	switch {
	case unicode.Is(unicode.Cc, r): // C0, DEL, C1 (NEL), so CR, LF, ESC
		return true
	case unicode.Is(unicode.Cf, r): // bidi controls and marks, zero-width characters, BOM, soft hyphen, tags
		return true
	case r >= 0xe0000 && r <= 0xe007f: // the tag block, assigned or not
		return true
	case unicode.In(r, unicode.Zl, unicode.Zp), unicode.Is(unicode.Zs, r) && r != ' ':
		return true // U+2028, U+2029, and spaces that pass for U+0020 or for nothing
	}
	return !unicode.IsPrint(r)
}

// NoDangerous fails t if s is invalid UTF-8 or holds a dangerous rune
// (newline allowed only as the line terminator, checked by the caller).
func NoDangerous(t testing.TB, s, what string) {
	if !utf8.ValidString(s) {
		t.Helper()
		t.Errorf("%s: invalid UTF-8: %q", what, s)
		return
	}
	for _, r := range s {
		if Dangerous(r) {
			t.Helper()
			t.Errorf("%s: dangerous rune %U in %q", what, r, s)
			return
		}
	}
}

// RealisticAttrs is a clean access-log-like record of 10 attrs.
func RealisticAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("method", "GET"),
		slog.String("path", "/api/v1/orders/81723"),
		slog.Int("status", 200),
		slog.Int("bytes", 5123),
		slog.Duration("duration", 1234*time.Microsecond),
		slog.String("user_id", "u-28371"),
		slog.String("remote_addr", "10.1.2.3:51234"),
		slog.String("user_agent", "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/131.0"),
		slog.String("request_id", "req-5f2c9a7e1b"),
		slog.Bool("cache_hit", false),
	}
}

// NaiveReplaceAttr is what a user would write without this library: one
// regular expression per credential format, run over every string value in
// slog's ReplaceAttr; the benchmarks' baseline.
func NaiveReplaceAttr(res []*regexp.Regexp) func([]string, slog.Attr) slog.Attr {
	return func(_ []string, a slog.Attr) slog.Attr {
		if a.Value.Kind() != slog.KindString {
			return a
		}
		s := a.Value.String()
		for _, re := range res {
			s = re.ReplaceAllString(s, "[REDACTED]")
		}
		return slog.String(a.Key, s)
	}
}
