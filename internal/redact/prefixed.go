package redact

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Most credential formats are a distinctive literal prefix followed by a
// body from one alphabet: ghp_ and 36 letters or digits, glpat- and 20 or
// more of [A-Za-z0-9_-], and so on. For those the shape alone is enough to
// redact: a token one character off (its checksum broken) or cut short (a
// line truncated by a log pipeline) is still a leaked credential, so the
// rules accept any body of at least a minimum length instead of the exact
// length and checksum of a valid token. They are all matched by one
// table-driven matcher, findPrefixed, without the regexp engine; each rule
// keeps the regexp that documents it,
//
//	\b(?:prefix1|prefix2)[body]{min,}
//
// (the body is the longest run of its alphabet, so the regexp's greedy
// repetition and the matcher agree: TestPrefixedAgreesWithRegexp), and a
// prefix must start a word, so that the prefix inside a longer word is not
// a token.

// maxPrefixes is how many prefixes one table rule may have.
const maxPrefixes = 12

// prefixSpec is one row of the table.
type prefixSpec struct {
	kind     string
	pattern  *regexp.Regexp // documents find
	prefixes []string       // case-sensitive; each starts with a word byte [A-Za-z0-9_]
	body     *byteSet       // the body's alphabet
	notBody  *byteSet
	min      int               // fewest body bytes
	check    func(string) bool // optional: must accept the whole token
}

// prefixSpecs records the rows built by prefixed, for the tests: near
// misses (a token one character off or cut short) and the agreement of
// each matcher with its regexp.
var prefixSpecs []*prefixSpec

// prefixed returns the rule for a format that starts with one of prefixes
// and goes on with at least min bytes of class, a regexp character class
// such as `[A-Za-z0-9_-]`. Its keywords are the prefixes.
func prefixed(kind, class string, min int, prefixes ...string) Rule {
	return prefixedCheck(kind, class, min, nil, prefixes...)
}

// prefixedCheck is prefixed with a check that the whole token must pass,
// for prefixes too short to be distinctive alone.
func prefixedCheck(kind, class string, min int, check func(string) bool, prefixes ...string) Rule {
	if len(prefixes) == 0 || len(prefixes) > maxPrefixes {
		panic("redact: prefixed rule " + kind + ": 1 to 12 prefixes")
	}
	alts := make([]string, len(prefixes))
	kws := make([]string, len(prefixes))
	for i, p := range prefixes {
		if p == "" || !isWordByte(p[0]) {
			panic("redact: prefixed rule " + kind + ": a prefix must start with a word byte")
		}
		alts[i] = regexp.QuoteMeta(p)
		kws[i] = strings.ToLower(p)
	}
	// The longest prefix first, as the matcher prefers it at one position.
	slices.SortStableFunc(alts, func(a, b string) int { return len(b) - len(a) })
	cls := regexp.MustCompile(`^` + class + `$`)
	var body byteSet
	for c := 0; c < 128; c++ {
		body[c] = cls.MatchString(string(rune(c)))
	}
	pattern := regexp.MustCompile(`\b((?:` + strings.Join(alts, "|") + `)` + class + `{` + strconv.Itoa(min) + `,})`)
	spec := &prefixSpec{kind: kind, pattern: pattern, prefixes: prefixes, body: &body, notBody: body.not(), min: min, check: check}
	prefixSpecs = append(prefixSpecs, spec)
	return Rule{Kind: kind, Keywords: kws, Pattern: pattern, Validate: check, find: spec.find}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// find is the matcher of a prefixed rule. It looks for the leftmost
// occurrence of any prefix (each prefix's next occurrence is remembered
// until the search passes it, so that each is searched for once per byte),
// checks that it starts a word, and reads the body through a cursor (the
// positions asked only grow): O(len(s)) for each prefix, whatever s holds.
// After a token it resumes at the token's end; after a prefix that is not
// one, at the next byte.
func (p *prefixSpec) find(s string, out [][2]int) ([][2]int, int) {
	work := 0
	var at [maxPrefixes]int // next occurrence of prefix k at or after off; -1: none
	for k := range p.prefixes {
		at[k] = -2 // not searched yet
	}
	end := newCursor(p.notBody)
	for off := 0; off < len(s); {
		best, bk := -1, -1
		for k, pre := range p.prefixes {
			if at[k] == -1 {
				continue
			}
			if at[k] < off {
				i := strings.Index(s[off:], pre)
				if i < 0 {
					work += len(s) - off
					at[k] = -1
					continue
				}
				work += i + len(pre)
				at[k] = off + i
			}
			if best < 0 || at[k] < best || at[k] == best && len(pre) > len(p.prefixes[bk]) {
				best, bk = at[k], k
			}
		}
		if best < 0 {
			break
		}
		work++
		if best > 0 && isWordByte(s[best-1]) {
			off = best + 1
			continue
		}
		bs := best + len(p.prefixes[bk])
		be := end.next(s, bs, &work)
		if be-bs < p.min {
			off = best + 1
			continue
		}
		if p.check != nil {
			work += be - best
			if !safeValidate(p.check, s[best:be]) {
				off = be // as the regexp and its validator: the match is consumed
				continue
			}
		}
		out = append(out, [2]int{best, be})
		off = be
	}
	return out, work
}
