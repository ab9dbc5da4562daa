package redact

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Custom patterns through the prefilter. A rule given without keywords (a
// pattern of WithRedactPatterns, a Rule of WithRules with none) would run
// its regular expression over every string. Instead, what every match of
// the pattern must contain literally is taken from its syntax tree (a
// prefix such as "acct-", a required middle, or a small set of
// alternatives such as "sk_live_" or "sk_test_") and becomes the rule's
// keywords, so that the pattern runs only where one of them occurs. The
// automaton compares keywords ASCII case-insensitively: a literal of a
// case-sensitive pattern is a weaker, still sound, prefilter. A pattern
// with (?i) gets every case form of its letters that is not ASCII
// (K and the Kelvin sign, s and the long s) as further alternatives.
//
// The patterns with no usable literal are combined into one regular
// expression, their alternation, that runs once over each string; only
// when it matches do the patterns run one by one. Correctness first: a
// pattern is never skipped on a string where it could match.

// literalPrefilter turns the literals and the combined pass on; tests turn
// them off to build the reference: every such pattern on every string.
var literalPrefilter = true

// minLiteral is the shortest literal worth a keyword: shorter ones occur in
// most text and would wake the pattern anyway; such patterns join the
// combined pass instead.
const minLiteral = 3

// maxLiteralSet bounds the alternatives kept for one pattern (the cross
// product of small classes and alternations grows fast).
const maxLiteralSet = 32

// maxClassRunes is the largest character class expanded into alternatives.
const maxClassRunes = 8

// literalKeywords returns strings one of which every match of re contains,
// lowercased (ASCII), or nil when none is at least minLiteral bytes long.
func literalKeywords(re *regexp.Regexp) []string {
	t, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	set := required(t.Simplify())
	if len(set) == 0 || minLen(set) < minLiteral {
		return nil
	}
	return set
}

// required returns strings one of which every match of t contains, or nil.
func required(t *syntax.Regexp) []string {
	if set, ok := exact(t); ok {
		return set
	}
	switch t.Op {
	case syntax.OpCapture:
		return required(t.Sub[0])
	case syntax.OpPlus:
		return required(t.Sub[0])
	case syntax.OpRepeat:
		if t.Min >= 1 {
			return required(t.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, s := range t.Sub {
			r := required(s)
			if r == nil {
				return nil
			}
			out = union(out, r)
			if len(out) > maxLiteralSet {
				return nil
			}
		}
		return out
	case syntax.OpConcat:
		// The best of: each child's own requirement, and each run of
		// consecutive children with exact sets, concatenated.
		var best []string
		consider := func(set []string) {
			if len(set) > 0 && better(set, best) {
				best = set
			}
		}
		var run []string
		inRun := false
		for _, s := range t.Sub {
			if set, ok := exact(s); ok {
				if !inRun {
					run, inRun = set, true
				} else if run = product(run, set); run == nil {
					inRun = false // too many: start again from this child
					run, inRun = set, true
				}
				consider(run)
				continue
			}
			inRun = false
			consider(required(s))
		}
		return best
	}
	return nil
}

// exact returns every string t matches, when they are few, lowercased.
func exact(t *syntax.Regexp) ([]string, bool) {
	switch t.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, true
	case syntax.OpLiteral:
		set := []string{""}
		for _, r := range t.Rune {
			forms := []rune{r}
			if t.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					forms = append(forms, f)
				}
			}
			rs, ok := runeSet(forms)
			if !ok {
				return nil, false
			}
			if set = product(set, rs); set == nil {
				return nil, false
			}
		}
		return set, true
	case syntax.OpCharClass:
		var forms []rune
		for i := 0; i+1 < len(t.Rune); i += 2 {
			if t.Rune[i+1]-t.Rune[i] >= maxClassRunes || len(forms) > maxClassRunes {
				return nil, false
			}
			for r := t.Rune[i]; r <= t.Rune[i+1]; r++ {
				forms = append(forms, r)
			}
		}
		if len(forms) == 0 || len(forms) > maxClassRunes {
			return nil, false
		}
		return runeSet(forms)
	case syntax.OpCapture:
		return exact(t.Sub[0])
	case syntax.OpQuest:
		set, ok := exact(t.Sub[0])
		if !ok {
			return nil, false
		}
		return union([]string{""}, set), true
	case syntax.OpConcat:
		set := []string{""}
		for _, s := range t.Sub {
			e, ok := exact(s)
			if !ok {
				return nil, false
			}
			if set = product(set, e); set == nil {
				return nil, false
			}
		}
		return set, true
	case syntax.OpAlternate:
		var set []string
		for _, s := range t.Sub {
			e, ok := exact(s)
			if !ok {
				return nil, false
			}
			if set = union(set, e); len(set) > maxLiteralSet {
				return nil, false
			}
		}
		return set, true
	}
	return nil, false
}

// runeSet is the one-rune strings of rs, lowercased (ASCII) and without
// repeats. A rune the regexp engine also matches where the text is not
// valid UTF-8 (utf8.RuneError stands for every invalid byte) cannot be a
// literal.
func runeSet(rs []rune) ([]string, bool) {
	var out []string
	for _, r := range rs {
		if r == utf8.RuneError || r > unicode.MaxRune || r < 0 {
			return nil, false
		}
		out = union(out, []string{lowerASCII(string(r))})
	}
	return out, true
}

// product is every a+b, or nil when there would be more than maxLiteralSet.
func product(as, bs []string) []string {
	if len(as)*len(bs) > maxLiteralSet {
		return nil
	}
	out := make([]string, 0, len(as)*len(bs))
	for _, a := range as {
		for _, b := range bs {
			out = union(out, []string{a + b})
		}
	}
	return out
}

// union adds the strings of b not in a.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

func minLen(set []string) int {
	n := -1
	for _, s := range set {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

// better reports whether set is a better prefilter than best: its shortest
// string is longer, or as long with fewer strings.
func better(set, best []string) bool {
	if best == nil {
		return true
	}
	a, b := minLen(set), minLen(best)
	return a > b || a == b && len(set) < len(best)
}

// lowerASCII lowercases the ASCII letters of s, byte by byte, as the
// automaton compares: every other byte stays (a non-ASCII capital, invalid
// UTF-8).
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lower(c)
	}
	return string(b)
}

// customKeywords gives the rules from first on that have neither keywords
// nor a matcher of their own the literals of their patterns as keywords
// (the rules below maxRules only: the automaton names no more), and
// returns the indices of those left with none.
func customKeywords(rules []Rule, first int) (rest []int) {
	if !literalPrefilter {
		return nil
	}
	for i := first; i < len(rules); i++ {
		ru := &rules[i]
		if len(ru.Keywords) > 0 || ru.digits || ru.find != nil || ru.Pattern == nil {
			continue
		}
		if i < maxRules {
			if kw := literalKeywords(ru.Pattern); kw != nil {
				ru.Keywords = kw
				continue
			}
		}
		rest = append(rest, i)
	}
	return rest
}

// combine returns one regular expression that matches wherever any of the
// patterns of rules[is] matches: their alternation, each in a group of its
// own so that its flags stay its own. Nil when there are fewer than two or
// the alternation does not compile.
func combine(rules []Rule, is []int) *regexp.Regexp {
	if len(is) < 2 {
		return nil
	}
	parts := make([]string, len(is))
	for k, i := range is {
		parts[k] = "(?:" + rules[i].Pattern.String() + ")"
	}
	re, err := regexp.Compile(strings.Join(parts, "|"))
	if err != nil {
		return nil
	}
	return re
}
