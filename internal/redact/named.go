package redact

import (
	"regexp"
	"strconv"
	"strings"
)

// Formats without a distinctive prefix (a Rollbar token is 32 hex, a Snyk
// token a UUID) are recognizable only by a name nearby: ROLLBAR_TOKEN=…,
// "snyk_token": "…". The rules for them share one shape,
//
//	(?i:name1|name2)[\w.-]{0,20}["']?\s*(?::=|=>|[:=])\s*["']?(lit[class]{a,b})(?:$|[^class])
//
// the name (possibly inside a longer key, as in MY_ROLLBAR_TOKEN), up to 20
// more key bytes, an optional quote, an assignment, an optional quote and
// the value: an optional literal start and a run of its alphabet, which
// must end there. In the regexp engine that shape costs a thread per name
// occurrence alive over the key and the value, which text made of names
// repeated multiplies; findNamed matches it by hand instead, in one pass:
// every scan (the key, the blanks, the value) goes through a cursor whose
// positions only grow, and no byte is read again from each occurrence.
// Each rule keeps the regexp, which documents it and which the tests hold
// the matcher to (TestNamedAgreesWithRegexp).

// maxNames is how many names one named rule may have.
const maxNames = 8

// namedSpec is one named format.
type namedSpec struct {
	kind    string
	pattern *regexp.Regexp // documents find
	names   []string       // lowercase ASCII; none a prefix of another
	lit     string         // the value's literal start, case-sensitive
	class   *byteSet       // the value's alphabet after lit
	notCls  *byteSet
	min     int               // fewest value bytes, lit included
	max     int               // most value bytes, lit included
	keyHas  []string          // if set, the key (lowercased) must hold one of them
	check   func(string) bool // if set, must accept the value
}

// namedSpecs records the named rules, for the tests.
var namedSpecs []*namedSpec

// regexpBlank is Go's \s, [\t\n\f\r ]: notBlank is its complement.
const regexpBlank = `\s`

var (
	notKeyByte = setOf(letters + digits + "_.-").not() // [\w.-] ends a key
	notBlank   = setOf("\t\n\f\r ").not()
)

// named returns the rule for a format recognizable only by a name nearby:
// names are |-separated lowercase literals (also the keywords), the value is
// lit and then class (a regexp character class such as `[a-f0-9]`), min to
// max bytes in all.
func named(kind, names, lit, class string, min, max int) Rule {
	return namedRule(kind, names, nil, lit, class, min, max, nil)
}

// namedCheck is named with a check of the value's structure.
func namedCheck(kind, names, lit, class string, min, max int, check func(string) bool) Rule {
	return namedRule(kind, names, nil, lit, class, min, max, check)
}

func namedRule(kind, names string, keyHas []string, lit, class string, min, max int, check func(string) bool) Rule {
	ns := strings.Split(names, "|")
	if len(ns) > maxNames || !strings.HasPrefix(class, "[") || strings.HasPrefix(class, "[^") || min < len(lit)+1 || max < min || max-len(lit) > 1000 {
		panic("redact: named rule " + kind + ": bad shape")
	}
	quoted := make([]string, len(ns))
	for i, n := range ns {
		for j, m := range ns {
			if n == "" || n != strings.ToLower(n) || i != j && strings.HasPrefix(m, n) {
				panic("redact: named rule " + kind + ": bad name " + n)
			}
		}
		quoted[i] = regexp.QuoteMeta(n)
	}
	cls := regexp.MustCompile(`^` + class + `$`)
	var set byteSet
	for c := 0; c < 128; c++ {
		set[c] = cls.MatchString(string(rune(c)))
	}
	if set['"'] || set['\''] || set[' '] || set['\t'] || set['\n'] {
		panic("redact: named rule " + kind + ": quotes or blanks in the value")
	}
	pattern := regexp.MustCompile(`(?i:` + strings.Join(quoted, "|") + `)[\w.-]{0,20}["']?` + regexpBlank + `*(?::=|=>|[:=])` + regexpBlank + `*["']?(` +
		regexp.QuoteMeta(lit) + class + `{` + strconv.Itoa(min-len(lit)) + `,` + strconv.Itoa(max-len(lit)) + `})(?:$|[^` + class[1:] + `)`)
	spec := &namedSpec{kind: kind, pattern: pattern, names: ns, lit: lit, class: &set, notCls: set.not(), min: min, max: max, keyHas: keyHas, check: check}
	namedSpecs = append(namedSpecs, spec)
	return Rule{Kind: kind, Keywords: ns, Pattern: pattern, Validate: check, find: spec.find}
}

// find is the matcher of a named rule (see the top of this file).
func (n *namedSpec) find(s string, out [][2]int) ([][2]int, int) {
	work := 0
	var at [maxNames]int // next occurrence of name k at or after off; -1: none
	for k := range n.names {
		at[k] = -2
	}
	keyEnd, blank, valEnd := newCursor(notKeyByte), newCursor(notBlank), newCursor(n.notCls)
	for off := 0; off < len(s); {
		p, name := -1, ""
		for k, nm := range n.names {
			if at[k] == -1 {
				continue
			}
			if at[k] < off {
				i := indexFold(s, off, nm, &work)
				if i < 0 {
					at[k] = -1
					continue
				}
				at[k] = i
			}
			if p < 0 || at[k] < p {
				p, name = at[k], nm
			}
		}
		if p < 0 {
			break
		}
		// The key: up to 20 more key bytes after the name.
		k := p + len(name)
		q := keyEnd.next(s, k, &work)
		if q-k > 20 {
			off = p + 1
			continue
		}
		j := q
		if j < len(s) && (s[j] == '"' || s[j] == '\'') {
			j++
		}
		j = blank.next(s, j, &work)
		// The assignment: := or =>, else : or =, in the regexp's order.
		var alts [2]int
		na := 0
		if strings.HasPrefix(s[j:], ":=") || strings.HasPrefix(s[j:], "=>") {
			alts[na] = 2
			na++
		}
		if j < len(s) && (s[j] == ':' || s[j] == '=') {
			alts[na] = 1
			na++
		}
		vs, ve, ok := 0, 0, false
		for _, a := range alts[:na] {
			v := blank.next(s, j+a, &work)
			if v < len(s) && (s[v] == '"' || s[v] == '\'') {
				v++
			}
			work += len(n.lit)
			if !strings.HasPrefix(s[v:], n.lit) {
				continue
			}
			e := valEnd.next(s, v+len(n.lit), &work)
			if e-v >= n.min && e-v <= n.max {
				vs, ve, ok = v, e, true
				break
			}
		}
		if !ok {
			off = p + 1
			continue
		}
		// As the regexp, the match ends after the byte that ends the value.
		off = min(ve+1, len(s))
		if n.keyHas != nil {
			work += q - p
			key := s[p:q]
			if !containsAnyFold(key, n.keyHas) {
				continue
			}
		}
		if n.check != nil {
			work += ve - vs
			if !safeValidate(n.check, s[vs:ve]) {
				continue
			}
		}
		out = append(out, [2]int{vs, ve})
	}
	return out, work
}

// containsAnyFold reports whether s holds one of words (lowercase ASCII),
// ASCII case-insensitively.
func containsAnyFold(s string, words []string) bool {
	for _, w := range words {
		var read int
		if indexFold(s, 0, w, &read) >= 0 {
			return true
		}
	}
	return false
}

// isUUID accepts 8-4-4-4-12 hex digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
