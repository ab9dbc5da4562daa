package redact

import "strings"

// Hand-written matchers for the generic rules that fire most often in real
// text. Each has a regular expression in builtinRules that documents it (and
// that the naive benchmark runs); the redactor calls these instead, because a
// regexp without a literal prefix scans the whole string slowly.

// kvSecretKeys are the key stems whose value in key=value text is always
// secret; a key matches when, lowercased and without separators, it ends
// with one.
var kvSecretKeys = newKeySet([]string{
	"password", "passwd", "passphrase", "pwd", "secret", "apikey", "accesskey",
	"secretkey", "privatekey", "clientsecret", "credential", "credentials", "signature",
})

// kvTokenKeys are key stems that system logs also use for object handles
// ("token=Token{a64f992", "sessionid: 0x34ed9ac1c1e00ae"); their value is
// secret only when it looks like a credential (see tokenLike).
var kvTokenKeys = newKeySet([]string{
	"token", "accesskeyid", "sessionid", "sessiontoken", "sessionkey",
})

// tokenLike reports whether v looks like a credential: at least 8
// characters of the base64/hex/JWT alphabet, with letters and digits, and
// not a 0x hex number.
func tokenLike(v string) bool {
	if len(v) < 8 || strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X") {
		return false
	}
	var letter, digit bool
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		case c == '.', c == '_', c == '-', c == '~', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return letter && digit
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// findAssignments finds the values of key=value, key: value, "key": "value",
// key => value and query parameters whose key is secret.
func findAssignments(s string, out [][2]int) [][2]int {
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
		if k == end {
			continue
		}
		strong := kvSecretKeys.match(s[k:end])
		if !strong && !kvTokenKeys.match(s[k:end]) {
			continue
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
		if v >= len(s) {
			continue
		}
		var vs, ve int
		if q := s[v]; q == '"' || q == '\'' {
			j := strings.IndexByte(s[v+1:], q)
			if j < 0 {
				j = len(s) - v - 1
			}
			vs, ve = v+1, v+1+j
			if nl := strings.IndexAny(s[vs:ve], "\r\n"); nl >= 0 {
				ve = vs + nl
			}
		} else {
			ve = v
			for ve < len(s) && !strings.ContainsRune(" \t\r\n,;&\"'}<>", rune(s[ve])) {
				ve++
			}
			vs = v
		}
		if !strong && !tokenLike(s[vs:ve]) {
			continue
		}
		if ve > vs { // markers already in the value are taken out by subtractMarkers
			out = append(out, [2]int{vs, ve})
			i = ve - 1
		}
	}
	return out
}

// findURLCredentials finds the password in scheme://user:password@host.
func findURLCredentials(s string, out [][2]int) [][2]int {
	for off := 0; ; {
		j := strings.Index(s[off:], "://")
		if j < 0 {
			return out
		}
		p := off + j
		off = p + 3
		// A scheme: a letter, then letters, digits, + . -
		k := p
		for k > 0 && (isKeyByte(s[k-1]) || s[k-1] == '+') && s[k-1] != '_' {
			k--
		}
		if k == p || !(s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z') {
			continue
		}
		// The authority ends at / ? # whitespace or a quote.
		a := off
		e := a
		for e < len(s) && !strings.ContainsRune("/?# \t\r\n\"'<>", rune(s[e])) {
			e++
		}
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

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// cardEdge: a card number must not touch these (so that ids, versions,
// negative numbers and decimals are not read as cards).
func cardEdge(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == '+' || c == '-'
}

// findCards finds 13–19 digit runs, optionally separated by single spaces or
// dashes, that validCard accepts. It is the "card-number" rule's regexp,
// written out: the longest run that ends at a boundary is the candidate.
func findCards(s string, out [][2]int) [][2]int {
	var pos [19]int
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
		found := false
		for k := n; k >= 13; k-- {
			end := pos[k-1] + 1
			if end < len(s) && cardEdge(s[end]) {
				continue
			}
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
	return out
}

func ssnEdge(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == ':' || c == '/' || c == '-'
}

// findSSNs finds AAA-GG-SSSS that validSSN accepts (the "us-ssn" regexp, written out).
func findSSNs(s string, out [][2]int) [][2]int {
	for i := 0; i+11 <= len(s); i++ {
		if s[i+3] != '-' || s[i+6] != '-' {
			continue
		}
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
	return out
}
