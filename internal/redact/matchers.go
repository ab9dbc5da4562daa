package redact

import (
	"strings"
	"unicode/utf8"
)

// Hand-written matchers for the generic rules that fire most often in real
// text, and for the rules whose regexp would cost more than a pass over the
// text. Each has a regular expression in builtinRules that documents it (and
// that the naive benchmark runs); the redactor calls these instead, because a
// regexp without a literal prefix scans the whole string slowly.
//
// Each matcher also returns how many bytes it examined, an upper bound of
// its work that tests read (see Redactor.work) to prove it linear: every
// matcher costs O(len(s)) whatever s holds, because no scan starts again
// from each candidate (a cursor resumes where the last scan stopped) and a
// backward scan never crosses the byte that ended the previous one.

const (
	letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	digits  = "0123456789"
)

// byteSet is a set of bytes, for scans.
type byteSet [256]bool

func setOf(chars string) *byteSet {
	var b byteSet
	for i := 0; i < len(chars); i++ {
		b[chars[i]] = true
	}
	return &b
}

// not returns the complement of b.
func (b *byteSet) not() *byteSet {
	var c byteSet
	for i := range c {
		c[i] = !b[i]
	}
	return &c
}

// cursor answers "where is the first byte of set at or after pos" (len(s)
// if none) for positions asked in increasing order: a scan resumes where
// the last one stopped, so that over one string each byte is examined at
// most once, however many positions are asked. (A position below the last
// one asked gets a new scan: correct, not amortized.)
type cursor struct {
	set      *byteSet
	from, at int // no byte of set in s[from:at]; s[at] is one, or at == len(s)
}

func newCursor(set *byteSet) cursor { return cursor{set: set, from: 1} } // from > at: nothing known yet

// next returns the first index i >= pos with s[i] in the set, or len(s),
// and adds the bytes it examined to *work.
func (c *cursor) next(s string, pos int, work *int) int {
	if pos >= c.from && pos <= c.at {
		return c.at
	}
	i := pos
	for i < len(s) && !c.set[s[i]] {
		i++
	}
	*work += i - pos + 1
	c.from, c.at = pos, i
	return i
}

// kvSecretKeys are the key stems whose value in key=value text is always
// secret; a key matches when, lowercased and without separators, it ends
// with one.
var kvSecretKeys = newKeySet(kvSecretStems)

var kvSecretStems = []string{
	"password", "passwd", "passphrase", "pwd", "secret", "apikey", "accesskey",
	"secretkey", "privatekey", "clientsecret", "credential", "credentials", "signature",
}

// kvTokenKeys are key stems that system logs also use for object handles
// ("token=Token{a64f992", "sessionid: 0x34ed9ac1c1e00ae"); their value is
// secret only when it looks like a credential (see findAssignments).
var kvTokenKeys = newKeySet(kvTokenStems)

var kvTokenStems = []string{"token", "accesskeyid", "sessionid", "sessiontoken", "sessionkey"}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// tokenAlphabet is what a credential-looking value is made of (see
// findAssignments): letters, digits and ._-~+/=.
var tokenAlphabet = setOf(letters + digits + "._-~+/=")

var (
	notToken   = tokenAlphabet.not()
	digitBytes = setOf(digits)
	letterByte = setOf(letters)
	valueStop  = setOf(" \t\r\n,;&\"'}<>") // ends a value without quotes
	newlines   = setOf("\r\n")
	dquote     = setOf(`"`)
	squote     = setOf("'")
)

// findAssignments finds the values of key=value, key: value, "key": "value",
// key => value and query parameters whose key is secret. The value of a key
// in kvTokenKeys is secret only when it looks like a credential: at least 8
// bytes of tokenAlphabet, with letters and digits, and not a 0x hex number.
//
// Every forward scan (a value's end, its closing quote, whether it looks
// like a credential) goes through a cursor, and the positions asked only
// grow, so that text made of one trigger repeated ("token=token=…", whose
// values all run to the end) costs one pass, not one pass per trigger. A key
// is read backwards no further than the previous = or :.
func findAssignments(s string, out [][2]int) ([][2]int, int) {
	work := len(s)
	stop, nl := newCursor(valueStop), newCursor(newlines)
	dq, sq := newCursor(dquote), newCursor(squote)
	bad, digit, letter := newCursor(notToken), newCursor(digitBytes), newCursor(letterByte)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' && c != ':' {
			continue
		}
		// The key: skip a closing quote and spaces, then key bytes.
		k := i
		for k > 0 && s[k-1] == ' ' {
			k--
		}
		if k > 0 && (s[k-1] == '"' || s[k-1] == '\'') {
			k--
		}
		end := k
		for k > 0 && isKeyByte(s[k-1]) {
			k--
		}
		work += i - k
		if k == end {
			continue
		}
		work += end - k // a key set reads at most the key
		strong := kvSecretKeys.match(s[k:end])
		if !strong {
			work += end - k
			if !kvTokenKeys.match(s[k:end]) {
				continue
			}
		}
		if k > 0 && isKeyByte(s[k-1]) {
			continue
		}
		// The value.
		v := i + 1
		if c == '=' && v < len(s) && s[v] == '>' {
			v++
		}
		if c == ':' && v < len(s) && s[v] == '/' { // scheme://, not an assignment
			continue
		}
		for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
			v++
		}
		work += v - i
		if v >= len(s) {
			continue
		}
		var vs, ve int
		if q := s[v]; q == '"' || q == '\'' {
			closing := &dq
			if q == '\'' {
				closing = &sq
			}
			vs = v + 1
			ve = min(closing.next(s, vs, &work), nl.next(s, vs, &work))
		} else {
			vs, ve = v, stop.next(s, v, &work)
		}
		if !strong && (ve-vs < 8 || s[vs] == '0' && (s[vs+1] == 'x' || s[vs+1] == 'X') ||
			bad.next(s, vs, &work) < ve || digit.next(s, vs, &work) >= ve || letter.next(s, vs, &work) >= ve) {
			continue
		}
		if ve > vs { // markers already in the value are taken out by subtractMarkers
			out = append(out, [2]int{vs, ve})
			i = ve - 1
		}
	}
	return out, work
}

// urlAuthorityEnd ends the authority of a URL.
var urlAuthorityEnd = setOf("/?# \t\r\n\"'<>")

// findURLCredentials finds the password in scheme://user:password@host. An
// authority ends at a '/', so no byte is read by two of them.
func findURLCredentials(s string, out [][2]int) ([][2]int, int) {
	work := 0
	for off := 0; ; {
		j := strings.Index(s[off:], "://")
		if j < 0 {
			return out, work + len(s) - off
		}
		p := off + j
		off = p + 3
		work += j + 3
		// A scheme: a letter, then letters, digits, + . -
		k := p
		for k > 0 && (isKeyByte(s[k-1]) || s[k-1] == '+') && s[k-1] != '_' {
			k--
		}
		work += p - k
		if k == p || !(s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z') {
			continue
		}
		// The authority ends at / ? # whitespace or a quote.
		a := off
		e := a
		for e < len(s) && !urlAuthorityEnd[s[e]] {
			e++
		}
		work += 2 * (e - a) // the scan, then at most once more for '@' and ':'
		at := strings.LastIndexByte(s[a:e], '@')
		if at < 0 {
			continue
		}
		colon := strings.IndexByte(s[a:a+at], ':')
		if colon < 0 {
			continue
		}
		vs, ve := a+colon+1, a+at
		if ve > vs {
			out = append(out, [2]int{vs, ve})
		}
		off = e
	}
}

// dsnPasswordStop ends the password of a Go DSN: \s @ / : " '.
var dsnPasswordStop = setOf("\t\n\f\r @/:\"'")

// dsnUser is what the user of a Go DSN is made of.
var dsnUser = setOf(letters + digits + "_.-")

// findDSNCredentials finds the password in user:password@tcp(host) and its
// unix, udp and tcp6 forms: the "dsn-credentials" regexp written out. That
// regexp has no literal prefix and counts up to 64 and 256 characters, so
// that the engine follows hundreds of threads per byte on long runs of
// user or password characters (a microsecond a byte); this starts from each
// '@' instead, and reads back at most to the previous one, which a password
// cannot hold.
func findDSNCredentials(s string, out [][2]int) ([][2]int, int) {
	work := 0
	for off := 0; ; {
		j := strings.IndexByte(s[off:], '@')
		if j < 0 {
			return out, work + len(s) - off
		}
		work += j + 1
		a := off + j
		off = a + 1
		end := 0
		for _, proto := range [...]string{"tcp(", "unix(", "udp(", "tcp6("} {
			if strings.HasPrefix(s[a+1:], proto) {
				end = a + 1 + len(proto)
				break
			}
		}
		if end == 0 {
			continue
		}
		// The password: 1 to 256 characters after the last ':' (more than
		// 4×256 bytes are more than 256 characters).
		c := a
		for c > 0 && a-c < 4*256 && !dsnPasswordStop[s[c-1]] {
			c--
		}
		work += 2*(a-c) + 1 // the scan, and counting its characters
		if c == a || c == 0 || s[c-1] != ':' || utf8.RuneCountInString(s[c:a]) > 256 {
			continue
		}
		// The user: 1 to 64 of [A-Za-z0-9_.-] before the colon; the match
		// starts at the leftmost.
		u := c - 1
		for u > 0 && c-1-u < 64 && dsnUser[s[u-1]] {
			u--
		}
		work += c - u
		if u == c-1 {
			continue
		}
		out = append(out, [2]int{c, a})
		off = end
	}
}

// pemRun is what lies between BEGIN or END and PRIVATE KEY in a PEM line.
var pemRun = setOf(" ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

// pemBody is what a private key cut short (no END line) is made of.
var pemBody = setOf(letters + digits + "+/=\t\n\f\r \\:,-")

// pemLine reports whether a private key's BEGIN or END line, as the
// "private-key" regexp has it, starts at s[i:]: word ("-----BEGIN" or
// "-----END"), a run of [ A-Z0-9] that ends in PRIVATE KEY or PRIVATE KEY
// BLOCK, and "-----". It returns where the line ends and how many bytes it read.
func pemLine(s string, i int, word string) (end, read int, ok bool) {
	j := i + len(word)
	k := j
	for k < len(s) && pemRun[s[k]] {
		k++
	}
	read = k - i + 5
	run := s[j:k]
	if !strings.HasPrefix(s[k:], "-----") || !strings.HasSuffix(run, "PRIVATE KEY") && !strings.HasSuffix(run, "PRIVATE KEY BLOCK") {
		return 0, read, false
	}
	return k + 5, read, true
}

// findPrivateKeys finds PEM, OpenSSH and PGP private key blocks: the
// "private-key" regexp written out. From a BEGIN line, a block runs to the
// first END line after it, or, when none follows anywhere in s, over the
// base64, blanks and escapes after it (a key cut short). The regexp looks for
// that END line from every BEGIN line, to the end of s when there is none:
// text made of BEGIN lines repeated cost it a pass per line. Here the first
// END line at or after a point is remembered, and the points asked only grow.
func findPrivateKeys(s string, out [][2]int) ([][2]int, int) {
	const begin, end = "-----BEGIN", "-----END"
	work := 0
	footFrom, footAt, footEnd := 1, 0, 0 // no END line starts in s[footFrom:footAt]; one runs over s[footAt:footEnd], or footAt == len(s)
	for off := 0; ; {
		h := strings.Index(s[off:], begin)
		if h < 0 {
			return out, work + len(s) - off
		}
		work += h + 1
		h += off
		e, read, ok := pemLine(s, h, begin)
		work += read
		if !ok {
			off = h + 1
			continue
		}
		if e < footFrom || e > footAt { // what we know does not cover e: look from e
			footFrom, footAt = e, len(s)
			for f := e; ; {
				x := strings.Index(s[f:], end)
				if x < 0 {
					work += len(s) - f
					break
				}
				work += x + 1
				x += f
				fe, read, ok := pemLine(s, x, end)
				work += read
				if ok {
					footAt, footEnd = x, fe
					break
				}
				f = x + 1
			}
		}
		if footAt < len(s) {
			e = footEnd
		} else {
			b := e
			for e < len(s) && pemBody[s[e]] {
				e++
			}
			work += e - b + 1
		}
		out = append(out, [2]int{h, e})
		off = e
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// cardEdge: a card number must not touch these (so that ids, versions,
// negative numbers and decimals are not read as cards).
func cardEdge(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == '+' || c == '-'
}

// findCards finds 13–19 digit runs, optionally separated by single spaces or
// dashes, that validCard accepts. It is the "card-number" rule's regexp,
// written out: the longest run that ends at a boundary is the candidate. A
// candidate starts at a digit that follows no digit, letter or sign, and
// reads at most 19 digits and their separators.
func findCards(s string, out [][2]int) ([][2]int, int) {
	var pos [19]int
	work := len(s)
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || i > 0 && cardEdge(s[i-1]) {
			continue
		}
		n := 0
		j := i
		for j < len(s) && n < 19 {
			if isDigit(s[j]) {
				pos[n] = j
				n++
				j++
				continue
			}
			if (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && isDigit(s[j+1]) {
				j++
				continue
			}
			break
		}
		work += j - i + 1
		found := false
		for k := n; k >= 13; k-- {
			end := pos[k-1] + 1
			work++
			if end < len(s) && cardEdge(s[end]) {
				continue
			}
			work += end - i
			if validCard(s[i:end]) {
				out = append(out, [2]int{i, end})
				i = end - 1
				found = true
			}
			break
		}
		if !found {
			for i+1 < len(s) && isDigit(s[i+1]) {
				i++ // skip the rest of this digit run
			}
		}
	}
	return out, work
}

func ssnEdge(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == ':' || c == '/' || c == '-'
}

// findSSNs finds AAA-GG-SSSS that validSSN accepts (the "us-ssn" regexp, written out).
func findSSNs(s string, out [][2]int) ([][2]int, int) {
	work := len(s)
	for i := 0; i+11 <= len(s); i++ {
		if s[i+3] != '-' || s[i+6] != '-' {
			continue
		}
		work += 11
		ok := true
		for _, k := range [...]int{0, 1, 2, 4, 5, 7, 8, 9, 10} {
			if !isDigit(s[i+k]) {
				ok = false
				break
			}
		}
		if !ok || i > 0 && ssnEdge(s[i-1]) || i+11 < len(s) && ssnEdge(s[i+11]) {
			continue
		}
		if validSSN(s[i : i+11]) {
			out = append(out, [2]int{i, i + 11})
			i += 10
		}
	}
	return out, work
}
