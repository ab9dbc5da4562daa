package redact

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// regexpSpans is what try takes from a rule's regexp: the first group of
// each match (or the match), when not empty.
func regexpSpans(ru *Rule, s string) [][2]int {
	g := min(ru.Pattern.NumSubexp(), 1)
	var out [][2]int
	for _, m := range ru.Pattern.FindAllStringSubmatchIndex(s, -1) {
		if st, en := m[2*g], m[2*g+1]; st >= 0 && st < en {
			out = append(out, [2]int{st, en})
		}
	}
	return out
}

func builtinRule(t testing.TB, kind string) *Rule {
	for i := range builtinRules {
		if builtinRules[i].Kind == kind {
			return &builtinRules[i]
		}
	}
	t.Fatalf("no rule %s", kind)
	return nil
}

// The matchers written out from a regexp (private keys, DSNs) find exactly
// what the regexp finds, on text assembled at random from the pieces that
// the regexp cares about: whole lines and credentials, parts of them, and
// the bytes around them.
func TestMatchersAgreeWithTheirRegexps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	private := "PRIVATE" + " KEY"
	pemLine := func(word string) string {
		return "-----" + word + pick("", " RSA", " OPENSSH", " EC", " ENCRYPTED", "rsa") + pick(" ", "") + private + pick("", "", " BLOCK", "S") + pick("-----", "-----", "----", "------")
	}
	hex := func(n int) string { return redacttest.Gen(redacttest.HexChars+"ABCDEF", n) }
	pieces := map[string]func() string{
		"twilio-api-key": func() string {
			return pick("", " ", "x", "_", "task", "SK", "sk", "\n", "é") + pick("SK", "SK", "Sk") + hex([]int{32, 32, 31, 33, 40}[rng.IntN(5)]) + pick("", " ", "g", "_", ".")
		},
		"private-key": func() string {
			switch rng.IntN(3) {
			case 0:
				return pemLine(pick("BEGIN", "BEGIN", "END"))
			case 1:
				return pemLine(pick("END", "END", "BEGIN"))
			}
			return pick("\n", "\\n", " ", ".", "\"", "ab", "Z9+/", "=", ":", ",", "\t", "\f", "\v", "é", "\xff", "-", "-----")
		},
		"dsn-credentials": func() string {
			if rng.IntN(4) == 0 {
				return pick("@", "tcp(", ":", "(", " ", "/", "\"", "@tcp(", "é", "\xff")
			}
			n := func(c string, ns ...int) string { return strings.Repeat(c, ns[rng.IntN(len(ns))]) }
			return pick("", " ", "(", "/") + pick("app", "a.b-c_d", n("u", 1, 63, 64, 65, 70), "") + pick(":", ":", "", "::") +
				pick("pw", "p@ss", "é", "\xff\xfe", n("p", 1, 255, 256, 257), n("é", 255, 256, 257), "p p", "p/p", "p\vp", "") +
				pick("@", "@", "") + pick("tcp(", "unix(", "udp(", "tcp6(", "tcp6", "TCP(", "")
		},
	}
	for kind, piece := range pieces {
		t.Run(kind, func(t *testing.T) {
			ru := builtinRule(t, kind)
			require.NotNil(t, ru.find)
			sm := redacttest.RuleSamples()[kind]
			texts := []string{"", sm.Text, sm.NearMiss, sm.Text + sm.Text, sm.NearMiss + sm.Text}
			for range 3000 {
				var b strings.Builder
				for range rng.IntN(8) {
					b.WriteString(piece())
				}
				texts = append(texts, b.String())
			}
			matched := 0
			for _, s := range texts {
				got, _ := ru.find(s, nil)
				if want := regexpSpans(ru, s); !equalSpans(got, want) {
					require.Equal(t, want, got, "%q", s)
				}
				if len(got) > 0 {
					matched++
				}
			}
			t.Logf("%d of %d texts hold a match", matched, len(texts))
			require.Greater(t, matched, len(texts)/10, "the pieces make matches")
		})
	}
}

func equalSpans(a, b [][2]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// findCards, which reads one byte in 13 and reads a region whole only
// around one that can be in a long number, and skips a number whose first
// digit no issuer's prefix has, finds what trying every position with
// validCard finds (cardsIn's loop before that skip, kept here as the
// reference), on text made at random of card numbers of every issuer
// (valid or not, with separators), near misses and the bytes around.
func TestFindCardsAgreesWithEveryPosition(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	digits := func(n int) string { return redacttest.Gen("0123456789", n) }
	card := func() string {
		d := redacttest.LuhnComplete(pick("4", "51", "55", "2221", "2720", "34", "37", "6011", "65", "644", "3528", "36", "300", "62", "5018", "6304", "1", "0", "7", "8", "9") + digits(11+rng.IntN(7)))
		if rng.IntN(3) > 0 {
			return d
		}
		sep := pick(" ", "-")
		var b strings.Builder
		for i := 0; i < len(d); i += 4 {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(d[i:min(i+4, len(d))])
		}
		return b.String()
	}
	agreeOnPieces(t, rng, func() string {
		switch rng.IntN(3) {
		case 0:
			return pick("", " ", "-", "a", ":", "_", ".", "9", "+") + card() + pick("", " ", "-", "x", "0", ".", "  ")
		case 1:
			return digits(10 + rng.IntN(12))
		}
		return pick("-", "--", " ", "  ", "1 ", "12-", "a", "é", "word ", digits(1+rng.IntN(4)))
	}, func(s string) [][2]int { got, _ := findCards(s, nil); return got }, everyCard)
}

// everyCard is cardsIn's loop over every position of s before it skipped
// the numbers no issuer's prefix starts: the reference.
func everyCard(s string) (out [][2]int) {
	var pos [19]int
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || i > 0 && cardEdge(s[i-1]) {
			continue
		}
		n, j := 0, i
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
		for k := n; k >= cardMin; k-- {
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
				i++
			}
		}
	}
	return out
}

// agreeOnPieces checks that find finds what want finds in 20,000 strings
// of up to 7 pieces each, and that at least 500 of them hold a match.
func agreeOnPieces(t *testing.T, rng *rand.Rand, piece func() string, find, want func(string) [][2]int) {
	t.Helper()
	matched := 0
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(piece())
		}
		s := b.String()
		got, w := find(s), want(s)
		require.True(t, equalSpans(got, w), "%q: got %v, want %v", s, got, w)
		if len(got) > 0 {
			matched++
		}
	}
	require.Greater(t, matched, 500, "the pieces make matches")
}

// findSSNs, which jumps from dash to dash, finds what trying every
// position finds (its former loop, kept here as the reference), on text
// made at random of SSN-shaped pieces, near misses and the bytes around.
func TestFindSSNsAgreesWithEveryPosition(t *testing.T) {
	every := func(s string) (out [][2]int) {
		for i := 0; i+11 <= len(s); i++ {
			if s[i+3] != '-' || s[i+6] != '-' {
				continue
			}
			ok := true
			for _, k := range [...]int{0, 1, 2, 4, 5, 7, 8, 9, 10} {
				ok = ok && isDigit(s[i+k])
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
	rng := rand.New(rand.NewPCG(5, 6))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	digits := func(n int) string { return redacttest.Gen("0123456789", n) }
	agreeOnPieces(t, rng, func() string {
		switch rng.IntN(3) {
		case 0:
			return pick("", " ", "-", "a", ":", "/", ".", "9") + digits(3) + "-" + digits(2) + "-" + digits(4) + pick("", " ", "-", "x", "0", ".")
		case 1:
			return pick("123-45-6789", "000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000", "12-34-5678", "1234-56-7890", "123-45-67890")
		}
		return pick("-", "--", "1-", "12-", "-1-", " ", "a", "é", digits(1+rng.IntN(4)))
	}, func(s string) [][2]int { got, _ := findSSNs(s, nil); return got }, every)
}
