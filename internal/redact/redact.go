// Package redact is the redaction engine: the credential rules, the keyword
// automaton that decides which of them run on a string, the hand-written
// matchers, and the sensitive keys. It knows nothing of slog: the root
// package walks values and calls [Redactor.Redact] on each string and
// [Redactor.SecretKey] on each key.
package redact

import (
	"slices"
	"strings"
)

// Marker replaces values redacted because of their key, their struct tag or
// their type (the root package's Secret).
const Marker = "[REDACTED]"

// MarkerPrefix starts every marker; a match that starts with it is already redacted.
const MarkerPrefix = "[REDACTED"

// defaultSecretKeys are the key stems whose values are always redacted. A
// key matches when, lowercased and with its separators (_ - . space)
// removed, it ends with a stem: "db_password", "X-Api-Key" and "apiKey" all do.
var defaultSecretKeys = []string{
	"password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "accesskey",
	"secretkey", "privatekey", "clientsecret", "authorization", "cookie", "setcookie",
	"session", "sessionid", "credential", "credentials", "cardnumber", "creditcard",
	"cvv", "cvc", "ssn", "pin", "signature",
}

// DefaultKeys returns a copy of the default sensitive key stems.
func DefaultKeys() []string { return slices.Clone(defaultSecretKeys) }

// keySet matches keys by suffix: a reverse trie of the normalized stems,
// walked from the key's last byte, so most keys are rejected after one or
// two bytes without allocating.
type keySet struct {
	next [][36]int32 // node → child per letter or digit (0: none; the root is node 0)
	end  []bool      // a stem ends here
}

func newKeySet(keys []string) *keySet {
	ks := &keySet{next: make([][36]int32, 1), end: make([]bool, 1)}
	for _, k := range keys {
		n := normalizeKey(k)
		node := int32(0)
		ok := n != ""
		for i := len(n) - 1; i >= 0 && ok; i-- {
			x := keyIndex(n[i])
			if x < 0 {
				ok = false // such a key can never be matched: it is left out
				break
			}
			if ks.next[node][x] == 0 {
				ks.next = append(ks.next, [36]int32{})
				ks.end = append(ks.end, false)
				ks.next[node][x] = int32(len(ks.next) - 1)
			}
			node = ks.next[node][x]
		}
		if ok {
			ks.end[node] = true
		}
	}
	return ks
}

// keyIndex maps a lowercased key byte to its trie slot, or -1.
func keyIndex(c byte) int {
	switch {
	case c >= 'a' && c <= 'z':
		return int(c - 'a')
	case c >= '0' && c <= '9':
		return 26 + int(c-'0')
	}
	return -1
}

func normalizeKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		if isKeySep(c) {
			continue
		}
		b.WriteByte(lower(c))
	}
	return b.String()
}

// match reports whether key, lowercased and without separators, ends with
// one of the stems. It does not allocate.
func (ks *keySet) match(key string) bool {
	node := int32(0)
	for i := len(key) - 1; i >= 0; i-- {
		c := key[i]
		if isKeySep(c) {
			continue
		}
		x := keyIndex(lower(c))
		if x < 0 {
			return false
		}
		node = ks.next[node][x]
		if node == 0 {
			return false
		}
		if ks.end[node] {
			return true
		}
	}
	return false
}

func isKeySep(c byte) bool { return c == '_' || c == '-' || c == '.' || c == ' ' }

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Config is what a [Redactor] is built from, on top of the built-in rules
// and the default keys.
type Config struct {
	// Rules run after the built-in ones, in this order. A custom pattern is
	// Rule{Kind: "custom", Pattern: re}.
	Rules []Rule
	// Keys are sensitive key stems added to [DefaultKeys].
	Keys []string
	// Count, if set, is called once for every span redacted, with its kind.
	Count func(kind string)
}

// Redactor is the compiled redacting stage: rules, their keyword automaton,
// and the sensitive keys. It is safe for concurrent use; so must Count be.
type Redactor struct {
	rules  []Rule
	always []int // rules without keywords: run on every string
	digits []int // rules triggered by a run of digits
	ac     *automaton
	keys   *keySet
	count  func(kind string) // nil: not counted
}

// New compiles the built-in rules followed by c.Rules, and the default keys
// with c.Keys.
func New(c Config) *Redactor {
	r := &Redactor{count: c.Count}
	r.rules = append(r.rules, builtinRules...)
	r.rules = append(r.rules, c.Rules...)
	var kws [][]string
	for i, ru := range r.rules {
		switch {
		case ru.digits:
			r.digits = append(r.digits, i)
		case len(ru.Keywords) == 0:
			r.always = append(r.always, i)
		}
		kws = append(kws, ru.Keywords)
	}
	r.ac = newAutomaton(kws)
	r.keys = newKeySet(append(DefaultKeys(), c.Keys...))
	return r
}

// SecretKey reports whether key, lowercased and without separators, ends
// with one of the sensitive stems. It does not allocate.
func (r *Redactor) SecretKey(key string) bool { return r.keys.match(key) }

type span struct {
	start, end int
	kind       string
	rule       int // index of the rule: on a tie the earlier, more specific rule names the marker
}

// minDigitRun is how many digits in a row (spaces and dashes between them
// allowed) wake the digit rules: an SSN has 9.
const minDigitRun = 9

// Redact replaces every secret in s with its marker, and reports whether it
// replaced any. A string with no keyword, no long digit run and no always-on
// rule is returned as is, without allocating.
func (r *Redactor) Redact(s string) (string, bool) {
	cand, digits := r.ac.scan(s)
	if cand.empty() && !digits && len(r.always) == 0 {
		return s, false
	}
	var spanBuf [4]span
	spans := spanBuf[:0]
	for i := range r.rules {
		if cand.has(i) {
			spans = r.try(i, s, spans)
		}
	}
	for _, i := range r.always {
		spans = r.try(i, s, spans)
	}
	if digits {
		for _, i := range r.digits {
			spans = r.try(i, s, spans)
		}
	}
	spans = subtractMarkers(s, spans)
	if len(spans) == 0 {
		return s, false
	}
	return r.applySpans(s, spans), true
}

// try runs rule i on s and appends the secrets it finds to spans.
func (r *Redactor) try(i int, s string, spans []span) []span {
	ru := &r.rules[i]
	if ru.find != nil {
		for _, m := range ru.find(s, nil) { // allocates only when something is found
			spans = append(spans, span{m[0], m[1], ru.Kind, i})
		}
		return spans
	}
	g := 0
	if ru.Pattern.NumSubexp() > 0 {
		g = 1
	}
	for _, m := range ru.Pattern.FindAllStringSubmatchIndex(s, -1) {
		st, en := m[2*g], m[2*g+1]
		if st < 0 || st == en {
			continue
		}
		sec := s[st:en]
		if ru.Validate != nil && !safeValidate(ru.Validate, sec) {
			continue
		}
		spans = append(spans, span{st, en, ru.Kind, i})
	}
	return spans
}

// safeValidate runs a validator, treating a panic as "not a secret".
func safeValidate(f func(string) bool, s string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f(s)
}

// markerAt reports whether a well-formed marker, [REDACTED] or
// [REDACTED:kind] with kind of [a-z0-9-], starts at s[i:], and where it ends.
// Only well-formed markers count, so that text with a stray "[REDACTED"
// cannot shield a secret that follows it.
func markerAt(s string, i int) (end int, ok bool) {
	if !strings.HasPrefix(s[i:], MarkerPrefix) {
		return 0, false
	}
	j := i + len(MarkerPrefix)
	if j < len(s) && s[j] == ']' {
		return j + 1, true
	}
	if j >= len(s) || s[j] != ':' {
		return 0, false
	}
	j++
	k := j
	for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= '0' && s[k] <= '9' || s[k] == '-') {
		k++
	}
	if k == j || k >= len(s) || s[k] != ']' {
		return 0, false
	}
	return k + 1, true
}

// subtractMarkers removes from the spans the markers already in s, so that
// redacting twice changes nothing, yet a marker inside a secret's span (say
// "session=abc [REDACTED]") cannot shield the rest of it: what is left of a
// span outside the markers is still redacted, unless it is only blanks.
func subtractMarkers(s string, spans []span) []span {
	if len(spans) == 0 || !strings.Contains(s, MarkerPrefix) {
		return spans
	}
	var marks [][2]int
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], MarkerPrefix)
		if i < 0 {
			break
		}
		st := off + i
		if end, ok := markerAt(s, st); ok {
			marks = append(marks, [2]int{st, end})
			off = end
		} else {
			off = st + 1
		}
	}
	if len(marks) == 0 {
		return spans
	}
	var out []span
	for _, sp := range spans {
		start := sp.start
		for _, m := range marks {
			if m[1] <= start || m[0] >= sp.end {
				continue
			}
			if m[0] > start {
				out = appendFragment(out, s, sp, start, m[0])
			}
			start = max(start, m[1])
		}
		if start < sp.end {
			out = appendFragment(out, s, sp, start, sp.end)
		}
	}
	return out
}

// appendFragment keeps s[start:end] of sp unless it is only blanks.
func appendFragment(out []span, s string, sp span, start, end int) []span {
	if strings.TrimSpace(s[start:end]) == "" {
		return out
	}
	sp.start, sp.end = start, end
	return append(out, sp)
}

// applySpans merges overlapping spans and replaces each with its marker.
func (r *Redactor) applySpans(s string, spans []span) string {
	slices.SortFunc(spans, func(a, b span) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.end != b.end {
			return b.end - a.end
		}
		return a.rule - b.rule
	})
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i := 0; i < len(spans); {
		sp := spans[i]
		j := i + 1
		for ; j < len(spans) && spans[j].start < sp.end; j++ {
			sp.end = max(sp.end, spans[j].end)
		}
		b.WriteString(s[last:sp.start])
		b.WriteString("[REDACTED:")
		b.WriteString(sp.kind)
		b.WriteByte(']')
		if r.count != nil {
			r.count(sp.kind)
		}
		last = sp.end
		i = j
	}
	b.WriteString(s[last:])
	return b.String()
}
