// Package redact is the redaction engine: the credential rules, the keyword
// automaton that decides which of them run on a string, the hand-written
// matchers, and the sensitive keys. It knows nothing of slog: the root
// package walks values and calls [Redactor.Redact] on each string and
// [Redactor.SecretKey] on each key.
package redact

import (
	mathbits "math/bits"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Marker replaces values redacted because of their key, their struct tag or
// their type (the root package's Secret).
const Marker = "[REDACTED]"

// MarkerPrefix starts every marker; a match that starts with it is already redacted.
const MarkerPrefix = "[REDACTED"

// defaultSecretKeys are the key stems whose values are always redacted. A
// key matches when it ends with a stem (or holds one, see keySet), compared in any case and across the
// separators _ - . and space ("db_password", "X-Api-Key", "apiKey" and
// "DB.PASSWORD" all do); see keySet for where a stem may start and which
// suffixes may follow it.
var defaultSecretKeys = []string{
	"password", "passwd", "passphrase", "pass", "pwd", "secret", "token", "apikey", "accesskey",
	"secretkey", "privatekey", "clientsecret", "authorization", "cookie", "setcookie",
	"session", "sessionid", "sessid", "credential", "credentials", "cardnumber", "creditcard",
	"cvv", "cvc", "ssn", "pin", "signature", "passcode", "signingkey", "encryptionkey", "masterkey",
	"hmackey",
}

// DefaultKeys returns a copy of the default sensitive key stems.
func DefaultKeys() []string { return slices.Clone(defaultSecretKeys) }

// keySet matches keys by suffix: a reverse trie of the normalized stems
// (lowercased, separators removed), walked from the key's last byte, so
// most keys are rejected after one or two bytes without allocating.
//
// Where a stem may start in the key:
//   - a short stem (shortStem bytes or fewer: "pass", "pwd", "pin", "ssn",
//     "cvv") only at the start of a segment of the key: after a separator
//     or any byte that is not a letter or digit, at a camelCase boundary
//     ("dbPwd", "DBPwd"), or after digits ("1pass"). So "spin", "hairpin",
//     "bypass", "compass" and the shell's OLDPWD (a directory) do not match;
//   - a longer stem anywhere, also inside a segment: keys run together in
//     lowercase or capitals are common ("csrftoken", "JSESSIONID",
//     "newpassword", "MYSQLPASSWORD") and cannot be split without a
//     dictionary, and a longer stem is rarely the end of an unrelated word.
//
// What may follow the stem: the key may end with digits ("password2",
// Django's password1/password2 fields; "cvv2") and with one of keySuffixes
// ("password_confirmation", Rails' confirmation field; "password_hint"),
// each after the stem or the other. The stems that name the secret itself
// (innerStems: password, secret, token, apikey, privatekey…) make the key
// secret before other segments too ("password.current", "api_key.primary",
// a flat key of nested configuration), unless one of those segments
// describes the secret (descriptorWords: "password_policy", "token_type",
// "secret_name", "api_key_id"); and so does their plural (pluralStems:
// "passwords", "api_keys", "apiKeys"), unless a count word precedes it
// (countWords: "prompt_tokens", "max_tokens") or a descriptor follows it
// ("tokens_used"). After the other stems, anything else makes the key
// something else: "sessions_count", "session_user", "cookie_domain".
//
// The key "PWD" exactly, in capitals, is the shell's working directory, not
// a password: environment dumps log it (see notSecretKey).
type keySet struct {
	next  [][36]int32 // node → child per letter or digit (0: none; the root is node 0)
	end   []uint8     // endAnywhere or endSegment when a stem ends here, else 0
	inner bool        // a stem is of innerStems or pluralStems: matchInner may find one
	last  [256]bool   // the bytes (both cases) that end such a stem, and s for a plural
}

const (
	endAnywhere = 1 // a long stem: it may start inside a segment of the key
	endSegment  = 2 // a short stem: it must start a segment of the key
	endInner    = 4 // the stem makes the key secret before other segments too (innerStems)
	endPlural   = 8 // the stem's plural is secret too (pluralStems)
	// shortStem: stems of at most this many bytes (normalized) must start a segment.
	shortStem = 4
)

// keySuffixes may follow a stem in a key that is still secret (in this
// order: cutKeySuffix picks them by their last byte). A password
// hint is secret: people write the password, or most of it, in the hint
// (the 2013 Adobe breach exposed millions of such hints). A hash or digest
// of a password or token can be cracked or replayed offline.
var keySuffixes = []string{"confirmation", "confirm", "hint", "hash", "digest"}

func newKeySet(keys []string) *keySet {
	ks := &keySet{next: make([][36]int32, 1), end: make([]uint8, 1)}
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
				ks.end = append(ks.end, 0)
				ks.next[node][x] = int32(len(ks.next) - 1)
			}
			node = ks.next[node][x]
		}
		if ok {
			e := uint8(endAnywhere)
			if len(n) <= shortStem {
				e = endSegment
			}
			if ks.end[node] == 0 || e == endAnywhere { // a stem given twice: the laxer wins
				ks.end[node] = e | ks.end[node]&(endInner|endPlural)
			}
			if slices.Contains(innerStems, n) {
				ks.end[node] |= endInner
				ks.inner = true
				ks.last[n[len(n)-1]], ks.last[n[len(n)-1]-'a'+'A'] = true, true // a letter
			}
			if slices.Contains(pluralStems, n) {
				ks.end[node] |= endPlural
				ks.inner = true
				ks.last['s'], ks.last['S'] = true, true
			}
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

// match reports whether key names a secret, as keySet describes. It does
// not allocate. It runs on every attribute key: the common case, a key that
// no stem ends and that ends with no suffix, costs one walk of a byte or two
// and a table lookup, then a walk of a byte or two from each segment's end.
func (ks *keySet) match(key string) bool {
	if len(key) == 0 || notSecretKey(key) {
		return false
	}
	if _, ok := ks.matchEnd(key, key, 0); ok {
		return true
	}
	if mayHaveSuffix[key[len(key)-1]] {
		if end := cutKeySuffix(key); end < len(key) {
			if _, ok := ks.matchEnd(key[:end], key, 0); ok {
				return true
			}
		}
	}
	return ks.inner && ks.matchInner(key)
}

// matchFinal is match without matchInner: a stem at the end of key only
// (with its digits and suffixes). Two words read from text ("Client
// Secret = …") must end with the stem: "password x=1" is not a key.
func (ks *keySet) matchFinal(key string) bool {
	if len(key) == 0 || notSecretKey(key) {
		return false
	}
	if _, ok := ks.matchEnd(key, key, 0); ok {
		return true
	}
	if end := cutKeySuffix(key); end < len(key) {
		_, ok := ks.matchEnd(key[:end], key, 0)
		return ok
	}
	return false
}

// matchInner reports whether a stem of innerStems ends a segment of key
// that other segments follow, none of them a descriptorWord
// ("password.current", "api_key.primary", "apiKeyPrimary"; not
// "password_policy", "token_type", "secret.name"), or whether the plural
// of one of pluralStems does, at the end of key or before such segments,
// after no countWord ("passwords", "api_keys", "apiKeys"; not
// "prompt_tokens", "maxTokens", "tokens_used").
//
// A capitalized word followed by a dot is a type's name before a member
// ("AppWindowToken.destroySurfaces"): not a key of nested configuration.
//
// Its cost is linear in len(key): the walk back from each segment's end
// reads at most as many letters as the longest stem, and the separators
// between them (which each walk of at most that many crosses).
func (ks *keySet) matchInner(key string) bool {
	desc := -2 // where the last descriptor word starts (-1: none), once a stem is found
	described := func(e int) bool {
		if desc == -2 {
			desc = lastDescriptor(key)
		}
		return desc >= e
	}
	for e := 1; e <= len(key); e++ {
		if !ks.last[key[e-1]] || !segmentEnd(key, e) || e < len(key) && key[e] == '.' && typeName(key, e) {
			continue
		}
		if e < len(key) {
			if _, ok := ks.matchEnd(key[:e], key, endInner); ok && !described(e) {
				return true
			}
		}
		if c := key[e-1]; (c == 's' || c == 'S') && e > 1 {
			need := uint8(endPlural)
			if e < len(key) {
				need |= endInner
			}
			if st, ok := ks.matchEnd(key[:e-1], key, need); ok && !countBefore(key[:st]) && !described(e) {
				return true
			}
		}
	}
	return false
}

// typeName reports whether the word of letters and digits that ends at
// key[e] starts with a capital: a type's name, as in a stack frame's
// "AppWindowToken.destroySurfaces:374" (Android), not a key.
func typeName(key string, e int) bool {
	t := e
	for t > 0 && (isLetterByte(key[t-1]) || isDigit(key[t-1])) {
		t--
	}
	return key[t] >= 'A' && key[t] <= 'Z'
}

// segmentEnd reports whether a segment of key ends before key[e]: a letter
// followed by the end, a byte that is not a letter or digit, or a capital
// after a lowercase letter ("passwordCurrent").
func segmentEnd(key string, e int) bool {
	p := key[e-1]
	if !isLetterByte(p) {
		return false
	}
	if e == len(key) {
		return true
	}
	c := key[e]
	return !isLetterByte(c) && !isDigit(c) || p >= 'a' && p <= 'z' && c >= 'A' && c <= 'Z'
}

// innerStems are the stems that name the secret itself, so that a key is
// secret when other segments follow them too: a flat key of nested
// configuration ("password.current", "api_key.primary") or a qualifier
// ("token_value", "secretKeyBackup"). The other stems are more often the
// subject of a key that holds something else, which descriptorWords could
// not all name: "session_user", "cookie_domain", "pass_rate",
// "authorization_status", "signature_algorithm", "pin_attempts".
var innerStems = []string{
	"password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
	"secretkey", "privatekey", "clientsecret", "credential", "credentials",
}

// pluralStems are the stems whose plural is secret: a list of the
// secrets ("passwords", "api_keys", "cookies").
var pluralStems = []string{
	"password", "passphrase", "secret", "token", "apikey", "accesskey",
	"secretkey", "privatekey", "clientsecret", "cookie",
}

// descriptorWords are the segments that, after a stem, make the key hold
// something about the secret rather than the secret: its rules, size,
// count, kind, name, identifier, lifetime, state, location and checks
// ("password_policy", "token_count", "tokens_used", "secret_name",
// "api_key_id", "token_expires_at", "password_file", "token_endpoint",
// "signature_valid"). Any of them, anywhere after the stem, is enough:
// "password.min_length", "token.ttl_seconds". A key that ends with a
// stem is secret whatever precedes it ("token_count_secret").
var descriptorWords = []string{
	"policy", "policies", "length", "len", "count", "counts", "size", "min", "max", "minimum", "maximum",
	"limit", "limits", "budget", "used", "usage", "remaining", "left", "per", "rate", "total", "bits",
	"type", "types", "kind", "name", "names", "id", "ids", "label", "description", "desc", "prefix", "last",
	"expiry", "expires", "expired", "expiration", "exp", "ttl", "timeout", "lifetime", "age", "duration",
	"created", "updated", "changed", "modified", "rotated", "rotation", "issued", "revoked", "refreshed",
	"at", "time", "timestamp", "date", "ts", "seconds", "secs", "ms",
	"valid", "validity", "invalid", "required", "enabled", "disabled", "present", "provided", "missing",
	"empty", "set", "reset", "error", "errors", "err", "status", "state", "ok", "fail", "failed",
	"failure", "failures", "attempts", "attempt", "retries", "tries", "locked", "lockout",
	"version", "format", "algorithm", "alg", "algo", "method", "scheme", "strength", "score", "complexity",
	"rule", "rules", "pattern", "regex", "scope", "scopes", "audience", "aud", "issuer", "iss", "subject",
	"claims", "owner", "endpoint", "url", "uri", "path", "file", "dir", "location", "source", "ref",
	"arn", "store", "provider", "manager", "mode", "header", "field", "param", "env", "var",
	"result", "response", "match", "mismatch", "check", "checked", "verified", "verification",
}

// countWords, before a plural stem, make it a number of tokens (a language
// model's "prompt_tokens", "max_tokens", "maxOutputTokens"), not a list of
// secrets.
var countWords = []string{
	"max", "min", "total", "num", "number", "count", "prompt", "completion", "input", "output", "cached",
	"cache", "reasoning", "remaining", "used", "generated", "new", "context", "text", "image", "audio",
	"prediction", "accepted", "rejected", "estimated", "billed", "batch", "request", "response",
}

// lastDescriptor returns where the last segment of key that is one of
// descriptorWords (in any case) starts, or -1. Segments are split at
// separators, other bytes that are not letters, and camelCase boundaries.
func lastDescriptor(key string) int {
	last := -1
	for i, j := nextSegment(key, 0); i < len(key); i, j = nextSegment(key, j) {
		if j-i <= 12 && containsFold(descriptorWords, key[i:j]) {
			last = i
		}
	}
	return last
}

// nextSegment returns the bounds of the first segment of key at or after
// from: a run of letters, ended by any other byte or by a camelCase
// boundary; (len(key), len(key)) when there is none.
func nextSegment(key string, from int) (i, j int) {
	i = from
	for i < len(key) && !isLetterByte(key[i]) {
		i++
	}
	if i == len(key) {
		return i, i
	}
	j = i + 1
	for j < len(key) && isLetterByte(key[j]) && !(key[j] >= 'A' && key[j] <= 'Z' && key[j-1] >= 'a' && key[j-1] <= 'z') {
		j++
	}
	return i, j
}

// countBefore reports whether before (what precedes a plural stem in a
// key), without its trailing separators, ends with one of countWords.
func countBefore(before string) bool {
	before = strings.TrimRight(before, "_-. ")
	for _, w := range countWords {
		if hasSuffixFold(before, w) {
			return true
		}
	}
	return false
}

// containsFold reports whether words (lowercase) holds w in any case.
func containsFold(words []string, w string) bool {
	for _, x := range words {
		if len(x) == len(w) && hasSuffixFold(w, x) {
			return true
		}
	}
	return false
}

// matchEnd reports whether k, a prefix of key, ends with a stem that may
// start where it does in key and whose flags hold need, and where that stem
// starts. A stem that ends here but may not start there does not stop the
// walk: a longer one may.
func (ks *keySet) matchEnd(k, key string, need uint8) (int, bool) {
	node := int32(0)
	for i := len(k) - 1; i >= 0; i-- {
		c := k[i]
		if isKeySep(c) {
			continue
		}
		x := keyIndex(lower(c))
		if x < 0 {
			return 0, false
		}
		node = ks.next[node][x]
		if node == 0 {
			return 0, false
		}
		if e := ks.end[node]; e&(endAnywhere|endSegment) != 0 && e&need == need && (e&endAnywhere != 0 || segmentStart(key, i)) {
			return i, true
		}
	}
	return 0, false
}

// mayHaveSuffix: the last bytes of the keys that cutKeySuffix may cut: a
// digit, a separator, the last letter of one of keySuffixes.
var mayHaveSuffix = func() (t [256]bool) {
	for _, c := range []byte("0123456789_-. nmthNMTH") {
		t[c] = true
	}
	return t
}()

// notSecretKey: keys that end with a stem yet never hold a secret. "PWD",
// spelled so, is the shell's working directory.
//
// A key read across a blank ("cwd PWD") is its last word. It runs on every
// key: it reads the last four bytes at most.
func notSecretKey(key string) bool {
	n := len(key)
	return n >= 3 && key[n-3:] == "PWD" && (n == 3 || key[n-4] == ' ' || key[n-4] == '\t')
}

// cutKeySuffix returns where key ends without its trailing digits and then
// one of keySuffixes (and the separators before each), or len(key). It runs
// on every key that no stem ends, so that it looks at the last byte first.
func cutKeySuffix(key string) int {
	e := len(key)
	if e == 0 {
		return 0
	}
	if isDigit(key[e-1]) {
		d := e - 1
		for d > 0 && isDigit(key[d-1]) {
			d--
		}
		if d == 0 {
			return len(key)
		}
		e = d
	}
	for e > 0 && isKeySep(key[e-1]) {
		e--
	}
	if e == 0 {
		return len(key)
	}
	var sufs []string
	switch lower(key[e-1]) { // the last bytes of keySuffixes: most keys stop here
	case 'n':
		sufs = keySuffixes[0:1]
	case 'm':
		sufs = keySuffixes[1:2]
	case 't':
		sufs = keySuffixes[2:3] // hint, or digest
		if hasSuffixFold(key[:e], keySuffixes[4]) {
			sufs = keySuffixes[4:5]
		}
	case 'h':
		sufs = keySuffixes[3:4]
	default:
		return e
	}
	if suf := sufs[0]; hasSuffixFold(key[:e], suf) && len(suf) < e {
		e -= len(suf)
		for e > 0 && isKeySep(key[e-1]) {
			e--
		}
	}
	return e
}

// hasSuffixFold reports whether s ends with suf (lowercase ASCII) in any case.
func hasSuffixFold(s, suf string) bool {
	if len(s) < len(suf) {
		return false
	}
	s = s[len(s)-len(suf):]
	for i := 0; i < len(suf); i++ {
		if lower(s[i]) != suf[i] {
			return false
		}
	}
	return true
}

// segmentStart reports whether a segment of key starts at key[i]: at its
// start, after a byte that is not a letter or digit, at a lower-to-upper or
// digit-to-letter boundary ("dbPwd", "1pass"), or at the last capital of a
// run of capitals followed by a lowercase letter ("DBPwd").
func segmentStart(key string, i int) bool {
	if i == 0 {
		return true
	}
	p, c := key[i-1], key[i]
	switch {
	case !isDigit(p) && !isLetterByte(p):
		return true
	case isDigit(p):
		return isLetterByte(c)
	case c >= 'A' && c <= 'Z':
		if p >= 'a' && p <= 'z' {
			return true
		}
		return i+1 < len(key) && key[i+1] >= 'a' && key[i+1] <= 'z'
	}
	return false
}

func isLetterByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

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
	// PII names the kinds of personal data to redact too (see PIIKinds);
	// New panics on an unknown one (the root package checks them first).
	PII []string
	// OnKnown, if set, is called once by each call of Redact that found a
	// value registered with [Redactor.Mask] in its string (and redacted it).
	OnKnown func()
}

// Redactor is the compiled redacting stage: rules, their keyword automaton,
// and the sensitive keys. It is safe for concurrent use; so must Count be.
type Redactor struct {
	rules  []Rule
	always []int // rules without keywords: run on every string
	// gated are custom rules without keywords or a literal of their own:
	// they run only where gate, their alternation, matches (literal.go).
	gated  []int
	gate   *regexp.Regexp
	digits []int // rules triggered by a run of digits
	ac     *automaton
	keys   *keySet
	count  func(kind string) // nil: not counted
	kws    [][]string        // the rules' keywords, that ac is built from
	runs   []uint32          // the digit-run lengths that wake digit rules, that ac reports
	shapes []string          // the rules' shapes (Rule.shape), that ac is built from too
	// known is the registered values (nil: none); Mask replaces it under
	// maskMu, Redact loads it once per call.
	known   atomic.Pointer[knownSet]
	maskMu  sync.Mutex
	onKnown func() // nil: not reported
	// work, when a test sets it, adds up the bytes that each Redact
	// examined: the keyword scan, the hand-written matchers, the
	// validators, the markers and the spans, and for each regexp call the
	// string it was given (Go's regexp engine runs in time linear in it, so
	// that the count is its cost up to a constant). Tests read it to prove
	// that redaction is linear in the input; TestRedactIsLinear times the
	// regexps too.
	work *atomic.Int64
}

// New compiles the built-in rules followed by c.Rules, and the default keys
// with c.Keys.
func New(c Config) *Redactor {
	r := &Redactor{count: c.Count, onKnown: c.OnKnown}
	r.rules = append(r.rules, builtinRules...)
	r.rules = append(r.rules, c.Rules...)
	rest := customKeywords(r.rules, len(builtinRules))
	if r.gate = combine(r.rules, rest); r.gate != nil {
		r.gated = rest
	}
	pii, err := piiRules(c.PII) // after the custom rules: they have keywords or matchers of their own
	if err != nil {
		panic("redact.New: " + err.Error())
	}
	r.rules = append(r.rules, pii...)
	var kws [][]string
	for i, ru := range r.rules {
		switch {
		case ru.digits:
			r.digits = append(r.digits, i)
		case r.gate != nil && slices.Contains(r.gated, i):
		case len(ru.Keywords) == 0 && ru.shape == "" || i >= maxRules: // the automaton names no more
			r.always = append(r.always, i)
		}
		kws = append(kws, ru.Keywords)
		r.shapes = append(r.shapes, ru.shape)
	}
	for _, i := range r.digits {
		r.runs = append(r.runs, max(r.rules[i].minRun, minDigitRun))
	}
	slices.Sort(r.runs)
	r.runs = slices.Compact(r.runs)
	r.ac = sharedAutomaton(kws, r.runs, r.shapes)
	r.kws = kws
	r.keys = newKeySet(append(DefaultKeys(), c.Keys...))
	return r
}

// SecretKey reports whether key names a secret: whether it ends with one of
// the sensitive stems, in any case and across separators, or holds one that
// names the secret itself, or its plural, before segments that do not
// describe it, as keySet describes ("db_password", "X-Api-Key", "apiKey",
// "password_confirmation", "password.current", "api_keys"; not "spin",
// "OLDPWD", "password_policy" or "prompt_tokens"). It does not allocate.
func (r *Redactor) SecretKey(key string) bool { return r.keys.match(key) }

type span struct {
	start, end int
	kind       string
	rule       int // index of the rule: on a tie the earlier, more specific rule names the marker
}

// minDigitRun is how many digits in a row (spaces and dashes between them
// allowed) wake the digit rules: an SSN has 9.
const minDigitRun = 9

// Redact replaces every secret in s with its marker, and every value
// registered with [Redactor.Mask] (raw or encoded) with [KnownMarker], and
// reports whether it replaced any. A string with no keyword, no long digit run and no always-on
// rule is returned as is, without allocating.
//
// Its cost is linear in len(s): one keyword scan, then each rule that may
// match (a regexp or a hand-written matcher, each linear), then the markers
// already in s taken out of each rule's spans and the spans merged in order,
// in time proportional to the spans and markers, not to their product.
func (r *Redactor) Redact(s string) (string, bool) {
	out, changed, _ := r.RedactKnown(s)
	return out, changed
}

// RedactKnown is Redact, also reporting whether a value registered with
// [Redactor.Mask] was among what it replaced.
func (r *Redactor) RedactKnown(s string) (out string, changed, known bool) {
	return r.redact(s, true)
}

// Finds reports whether Redact would change s, without changing it or
// counting anything: for a caller that passes s on as it is when it holds
// nothing to redact, and redacts it otherwise.
func (r *Redactor) Finds(s string) bool {
	_, changed, _ := r.redact(s, false)
	return changed
}

// redact is RedactKnown; with apply false it only reports whether it
// would change s (out is s), replacing and counting nothing. One body for
// both, inline: a clean string costs one keyword scan either way.
func (r *Redactor) redact(s string, apply bool) (out string, changed, known bool) {
	ac, k := r.ac, r.known.Load()
	if k != nil {
		ac = k.ac
	}
	cand, run := ac.scan(s)
	digits := run >= minDigitRun
	maybe := k != nil && (k.bit < 0 || cand.has(k.bit))
	gated := r.gate != nil && r.gate.MatchString(s)
	if cand.empty() && !digits && len(r.always) == 0 && !maybe && !gated {
		return s, false, false
	}
	var spanBuf, tmpBuf [4]span
	f := found{spans: spanBuf[:0], tmp: tmpBuf[:0], work: len(s)}
	if r.gate != nil {
		f.work += len(s) // the gate's regexp read s
	}
	for w, bits := range cand { // the candidates' bits, lowest first
		for ; bits != 0; bits &= bits - 1 {
			if i := w<<6 | mathbits.TrailingZeros64(bits); i < len(r.rules) { // not the known values' bit
				f = r.try(i, s, f)
			}
		}
	}
	for _, i := range r.always {
		f = r.try(i, s, f)
	}
	if gated {
		for _, i := range r.gated {
			f = r.try(i, s, f)
		}
	}
	if digits {
		for _, i := range r.digits {
			if run >= max(r.rules[i].minRun, minDigitRun) {
				f = r.try(i, s, f)
			}
		}
	}
	hit := false
	if maybe {
		f, hit = r.tryKnown(k, s, f)
	}
	if len(f.spans) == 0 || !apply {
		r.addWork(f.work)
		return s, len(f.spans) > 0, false
	}
	out = r.applySpans(s, f.spans, &f.work)
	r.addWork(f.work)
	if hit && r.onKnown != nil {
		r.onKnown()
	}
	return out, true, hit
}

func (r *Redactor) addWork(n int) {
	if r.work != nil {
		r.work.Add(int64(n))
	}
}

// found is what Redact has found in s so far: spans sorted by spanCmp, from
// which the markers already in s are taken out. It goes by value (in and
// out of try and add), and holds no pointer that escapes (not s, which the
// regexps keep), so that its buffers stay on Redact's stack.
type found struct {
	spans  []span
	tmp    []span   // scratch for a rule's spans
	marks  [][2]int // the well-formed markers in s, in order
	marked bool     // marks is known
	work   int      // bytes examined (Redactor.work)
}

// try runs rule i on s and adds the secrets it finds to f.
func (r *Redactor) try(i int, s string, f found) found {
	ru := &r.rules[i]
	n := len(f.spans)
	if ru.find != nil {
		ms, w := ru.find(s, nil) // allocates only when something is found
		f.work += w
		for _, m := range ms {
			f.spans = append(f.spans, span{m[0], m[1], ru.Kind, i})
		}
	} else {
		g := 0
		if ru.Pattern.NumSubexp() > 0 {
			g = 1
		}
		f.work += len(s) // the regexp reads s: in time linear in it (RE2), a call
		for _, m := range ru.Pattern.FindAllStringSubmatchIndex(s, -1) {
			st, en := m[2*g], m[2*g+1]
			if st < 0 || st == en {
				continue
			}
			sec := s[st:en]
			if ru.Validate != nil {
				f.work += len(sec)
				if !safeValidate(ru.Validate, sec) {
					continue
				}
			}
			f.spans = append(f.spans, span{st, en, ru.Kind, i})
		}
	}
	if len(f.spans) > n {
		f = f.add(s, n)
	}
	return f
}

// spanCmp orders spans by start, the longer first, then by rule: on a tie
// the earlier, more specific rule names the marker.
func spanCmp(a, b span) int {
	if a.start != b.start {
		return a.start - b.start
	}
	if a.end != b.end {
		return b.end - a.end
	}
	return a.rule - b.rule
}

// add takes the spans of one rule, f.spans[n:], takes the markers already in
// s out of them, and merges them into f.spans[:n]. A rule's spans come in
// order and do not overlap (FindAll and the matchers resume after a match),
// so that each marker meets at most one span of each rule, and the merge is
// linear: no sort of everything found so far.
func (f found) add(s string, n int) found {
	run := f.spans[n:]
	f.work += len(run)
	if !slices.IsSortedFunc(run, spanCmp) { // not for the built-in rules: kept for safety
		slices.SortFunc(run, spanCmp)
	}
	if !f.marked {
		f.marked = true
		f.marks = findMarkers(s, &f.work)
	}
	if len(f.marks) > 0 {
		f.tmp = subtractMarkers(s, run, f.marks, f.tmp[:0], &f.work)
	} else if n == 0 || spanCmp(f.spans[n-1], run[0]) <= 0 {
		return f // already in order
	} else {
		f.tmp = append(f.tmp[:0], run...)
	}
	// Merge f.tmp into f.spans[:n], from the end.
	f.spans = slices.Grow(f.spans[:n], len(f.tmp))[:n+len(f.tmp)]
	i, j := n-1, len(f.tmp)-1
	for k := len(f.spans) - 1; j >= 0; k-- {
		if i >= 0 && spanCmp(f.spans[i], f.tmp[j]) > 0 {
			f.spans[k] = f.spans[i]
			i--
		} else {
			f.spans[k] = f.tmp[j]
			j--
		}
	}
	f.work += len(f.spans)
	return f
}

// safeValidate runs a validator, treating a panic as "not a secret".
func safeValidate(fn func(string) bool, s string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return fn(s)
}

// markerAt reports whether a well-formed marker, [REDACTED] or
// [REDACTED:kind] with kind of [a-z0-9-], starts at s[i:], and where it ends.
// Only well-formed markers count, so that text with a stray "[REDACTED"
// cannot shield a secret that follows it. When none starts there, end is
// where it stopped reading.
func markerAt(s string, i int) (end int, ok bool) {
	if !strings.HasPrefix(s[i:], MarkerPrefix) {
		return i, false
	}
	j := i + len(MarkerPrefix)
	if j < len(s) && s[j] == ']' {
		return j + 1, true
	}
	if j >= len(s) || s[j] != ':' {
		return j, false
	}
	j++
	k := j
	for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= '0' && s[k] <= '9' || s[k] == '-') {
		k++
	}
	if k == j || k >= len(s) || s[k] != ']' {
		return k, false
	}
	return k + 1, true
}

// findMarkers returns the well-formed markers in s, in order. After a
// malformed one the search goes on from its second byte, but what markerAt
// read of it holds no other '[': no byte is read more than twice.
func findMarkers(s string, work *int) [][2]int {
	var marks [][2]int
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], MarkerPrefix)
		if i < 0 {
			*work += len(s) - off
			break
		}
		st := off + i
		end, ok := markerAt(s, st)
		*work += i + end - st + 1
		if ok {
			marks = append(marks, [2]int{st, end})
			off = end
		} else {
			off = st + 1
		}
	}
	return marks
}

// subtractMarkers appends to out what is left of the spans of one rule (in
// order, not overlapping) outside the markers already in s, so that
// redacting twice changes nothing, yet a marker inside a secret's span (say
// "session=abc [REDACTED]") cannot shield the rest of it: what is left of a
// span outside the markers is still redacted, unless it is only blanks. Both
// lists are in order: one pass over each.
func subtractMarkers(s string, spans []span, marks [][2]int, out []span, work *int) []span {
	m := sort.Search(len(marks), func(k int) bool { return marks[k][1] > spans[0].start })
	for _, sp := range spans {
		for m < len(marks) && marks[m][1] <= sp.start {
			m++
			*work++
		}
		start := sp.start
		for k := m; k < len(marks) && marks[k][0] < sp.end; k++ {
			*work++
			if marks[k][0] > start {
				out = appendFragment(out, s, sp, start, marks[k][0])
			}
			start = max(start, marks[k][1])
		}
		if start < sp.end {
			out = appendFragment(out, s, sp, start, sp.end)
		}
		*work += sp.end - sp.start + 1 // appendFragment reads at most the span
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

// applySpans merges the overlapping spans, which are in order, and replaces
// each with its marker.
// replacer is the replace function of rule i, nil for a rule without one
// and for the known-secret pseudo-rule (i == len(r.rules)).
func (r *Redactor) replacer(i int) func(string) string {
	if i < len(r.rules) {
		return r.rules[i].replace
	}
	return nil
}

func (r *Redactor) applySpans(s string, spans []span, work *int) string {
	*work += len(s) + len(spans)
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
		if rep := r.replacer(sp.rule); rep != nil && j == i+1 {
			b.WriteString(rep(s[sp.start:sp.end])) // alone: truncated, not replaced (ip)
		} else {
			b.WriteString("[REDACTED:")
			b.WriteString(sp.kind)
			b.WriteByte(']')
		}
		if r.count != nil {
			r.count(sp.kind)
		}
		last = sp.end
		i = j
	}
	b.WriteString(s[last:])
	return b.String()
}
