package redact

import (
	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The automaton must name exactly the rules whose keywords (their first
// maxKeyword bytes) occur in a string (ASCII case-insensitive), with few
// keywords and with many, and count digit runs as the definition says, in
// strings short enough for one walk and long enough for two or four (whose
// cuts fall anywhere, in a keyword or in a run).
func TestAutomatonAgreesWithContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefgh_-.:0123 9"[rng.IntN(18)]
		}
		return string(b)
	}
	for _, tc := range []struct {
		name  string
		rules int
	}{{"few", 40}, {"many", maxRules}} {
		t.Run(tc.name, func(t *testing.T) {
			kws := make([][]string, tc.rules)
			for i := range kws {
				kws[i] = []string{word(2 + rng.IntN(4)), word(6 + rng.IntN(14))}
			}
			a := newAutomaton(kws, testRuns, nil)
			for range 3000 {
				s := word(rng.IntN(240))
				if rng.IntN(2) == 0 {
					s = strings.ToUpper(s)
				}
				got, run := a.scan(s)
				if want := reachedRef(testRuns, s); run != want {
					require.Equal(t, want, run, "digit run in %q", s)
				}
				// The reference: plain substring search in the lowercased
				// string, lowercased once. testify is called only to report a
				// disagreement: 750,000 calls of it made the test slow under
				// the race detector.
				lower := strings.ToLower(s)
				for i, ks := range kws {
					want := false
					for _, k := range ks {
						want = want || strings.Contains(lower, k[:min(len(k), maxKeyword)])
					}
					if want != got.has(i) {
						require.Equal(t, want, got.has(i), "rule %d %q in %q", i, ks, s)
					}
				}
			}
		})
	}
}

// A keyword or a digit run that a cut between scan's parts falls in, at any
// place, is still found whole: in strings of one part, two and four (one,
// two and three bytes longer in the last part).
func TestScanAcrossTheCut(t *testing.T) {
	long := strings.Repeat("q", 24) // longer than maxKeyword: its first maxKeyword bytes are looked for
	a := newAutomaton([][]string{{"ab"}, {long}, {"zz" + "9"}, nil}, testRuns, []string{3: "ddd-dd-dddd"})
	require.Equal(t, maxKeyword-1, a.overlap)
	needles := []string{"ab", long, "4111 1111-1111 11", "123456789", strings.Repeat("12 ", 15) + "3", "1-2--3" + strings.Repeat(" ", 40) + "4567890123", "123-45-6789"}
	for _, n := range []int{30, 40, 90, 4 * (a.overlap + minSplit), 157, 158, 159, 257} {
		for _, needle := range needles {
			for at := 0; at+len(needle) <= n; at++ {
				s := strings.Repeat("#", at) + needle + strings.Repeat("#", n-at-len(needle))
				cand, run := a.scan(s)
				require.Equal(t, needle == "ab", cand.has(0), "%q at %d of %d", needle, at, n)
				require.Equal(t, needle == long, cand.has(1), "%q at %d of %d", needle, at, n)
				require.Equal(t, needle == "123-45-6789", cand.has(3), "%q at %d of %d", needle, at, n)
				require.Equal(t, reachedRef(testRuns, needle), run, "%q at %d of %d", needle, at, n)
			}
		}
	}
}

// testRuns are the run lengths the tests' automata report: more, and
// closer together, than the rules need, so that a level off by one shows.
var testRuns = []uint32{2, 3, 5, 9, 10, 12, 13, 16}

// reachedRef is the longest of runs that the longest digit run in s
// (digitRunRef) reaches, 0 if none: what scan returns.
func reachedRef(runs []uint32, s string) uint32 {
	n, reached := digitRunRef(s), uint32(0)
	for _, r := range runs {
		if r <= n {
			reached = r
		}
	}
	return reached
}

// digitRunRef is the longest run of digits in s, single or repeated spaces
// and dashes between them allowed, counted the plain way.
func digitRunRef(s string) uint32 {
	var run, long uint32
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			run++
		case c == ' ' || c == '-':
		default:
			run = 0
		}
		long = max(long, run)
	}
	return long
}

func TestDigitRuns(t *testing.T) {
	a := newAutomaton([][]string{{"key"}}, []uint32{minDigitRun}, nil)
	for s, want := range map[string]bool{
		"12345678":            false,
		"123456789":           true,
		"1234 5678 9":         true,
		"123-45-6789":         true,
		"1234--56789":         true, // separators keep a run; the rules decide what is a number
		"1234x56789":          false,
		"10.1.2.3:51234":      false,
		"order 81723 of 2026": false,
	} {
		_, run := a.scan(s)
		assert.Equal(t, want, run >= minDigitRun, s)
	}
	// With no run lengths to report, digits are bytes like any other.
	none := newAutomaton([][]string{{"key"}}, nil, nil)
	cand, run := none.scan("4111 1111 1111 1111 " + strings.Repeat("1234567890", 10) + " key")
	assert.Zero(t, run)
	assert.True(t, cand.has(0))
	assert.Equal(t, 4, len(none.delta)/none.nclass, "the trie's states, no levels")
}

// The scan gives the longest run it reports that the longest run in s
// reaches, so that each digit rule runs only on a run long enough for it: a
// card needs 13 digits, an SSN 9.
func TestDigitRunLengths(t *testing.T) {
	a := newAutomaton([][]string{{"key"}}, testRuns, nil)
	for s, want := range map[string]uint32{
		"20171223-22:15:43":        10,
		"4111 1111 1111 1111 ok":   16,
		"ssn 536-22-1947 on file":  9,
		"a 12 b 123456789012 c 12": 12,
	} {
		_, run := a.scan(s)
		assert.Equal(t, want, run, s)
	}
	r := New(Config{})
	for _, ru := range r.rules {
		if ru.Kind == "card-number" {
			assert.Equal(t, uint32(13), ru.minRun)
		}
	}
	assert.Equal(t, []uint32{13}, r.runs, "cards; SSNs are found by their shape")
	for s, want := range map[string]uint32{"12345678 x": 0, "123456789012 x": 0, "4111 1111 1111 1": 13, strings.Repeat("9", 40): 13} {
		_, run := r.ac.scan(s)
		assert.Equal(t, want, run, s)
	}
}

// Redactors with the same rules share one automaton (built once: most of
// what Setup cost); other keywords get their own, and the shared one still
// finds exactly its own keywords.
func TestAutomatonShared(t *testing.T) {
	a, b := New(Config{}), New(Config{})
	assert.Same(t, a.ac, b.ac)
	custom := func() Config {
		return Config{Rules: []Rule{{Kind: "custom", Pattern: regexp.MustCompile(`acme_[a-z0-9]{20}`)}}}
	}
	c := New(custom())
	assert.NotSame(t, a.ac, c.ac)
	assert.Same(t, c.ac, New(custom()).ac)
	secret := "acme_" + strings.Repeat("q7", 10)
	out, _ := a.Redact("id " + secret)
	assert.Equal(t, "id "+secret, out, "not a built-in format")
	out, _ = c.Redact("id " + secret)
	assert.NotContains(t, out, secret)
}

// scan reads the transition table unchecked in its split loop: every entry
// must be a state's first index, so that the state plus any class stays
// inside the table. Checked for the built-in rules and for random keywords.
func TestTransitionsStayInTheTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sets := [][][]string{defaultRedactor.kws}
	for range 20 {
		kws := make([][]string, 1+rng.IntN(60))
		for i := range kws {
			b := make([]byte, 1+rng.IntN(12))
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			kws[i] = []string{string(b)}
		}
		sets = append(sets, kws)
	}
	for _, kws := range sets {
		a := newAutomaton(kws, testRuns, nil)
		for c := range 256 {
			require.Less(t, int(a.class[c]), a.nclass)
		}
		require.Zero(t, len(a.delta)%a.nclass)
		for i, v := range a.delta {
			st := v &^ hitFlag
			require.Zero(t, st%uint32(a.nclass), "entry %d", i)
			require.LessOrEqual(t, int(st)+a.nclass, len(a.delta), "entry %d", i)
		}
	}
}

// A shape names its rule exactly where the shape occurs, beside keywords
// and digit runs, in strings of one, two and four parts: on text made
// mostly of digits, dashes and spaces, against a regexp.
func TestShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	shapes := []string{1: "ddd-dd-dddd", 2: "dddd-dddd"}
	refs := []*regexp.Regexp{1: regexp.MustCompile(`[0-9]{3}-[0-9]{2}-[0-9]{4}`), 2: regexp.MustCompile(`[0-9]{4}-[0-9]{4}`)}
	a := newAutomaton([][]string{{"key-1"}, nil, nil}, []uint32{9, 13}, shapes)
	seen := [3]int{}
	for range 20000 {
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = "0123456789-- kK"[rng.IntN(15)]
		}
		s := string(b)
		cand, run := a.scan(s)
		for i := 1; i <= 2; i++ {
			if want := refs[i].MatchString(s); want != cand.has(i) {
				require.Equal(t, want, cand.has(i), "shape %q in %q", shapes[i], s)
			}
			if cand.has(i) {
				seen[i]++
			}
		}
		if want := strings.Contains(strings.ToLower(s), "key-1"); want != cand.has(0) {
			require.Equal(t, want, cand.has(0), "keyword in %q", s)
		}
		if want := reachedRef([]uint32{9, 13}, s); want != run {
			require.Equal(t, want, run, "run in %q", s)
		}
	}
	assert.Greater(t, seen[1], 500)
	assert.Greater(t, seen[2], 500)
}

// An automaton whose states would count digits in too many keyword states
// (numbers as keywords: values registered with Mask, a custom rule's) is
// blind to digits and shapes instead: no more states than its keywords
// make, and scan still names every keyword, every rule with a shape and
// the runs reached. The built-in rules' automaton is not blind.
func TestBlindAutomaton(t *testing.T) {
	require.Nil(t, defaultRedactor.ac.blind)
	rng := rand.New(rand.NewPCG(13, 14))
	kws := make([][]string, 51)
	for range 3000 {
		i := rng.IntN(50)
		kws[i] = append(kws[i], redacttest.Gen("0123456789", 6+rng.IntN(5)))
	}
	shapes := []string{50: "ddd-dd-dddd"}
	runs := []uint32{9, 13}
	a := newAutomaton(kws, runs, shapes)
	require.NotNil(t, a.blind)
	trie := newAutomaton(kws, nil, nil)
	assert.Equal(t, len(trie.delta)/trie.nclass, len(a.delta)/a.nclass, "the keywords' states only")
	for range 600 {
		b := make([]byte, rng.IntN(120))
		for i := range b {
			b[i] = "0123456789- x"[rng.IntN(13)]
		}
		s := string(b)
		cand, run := a.scan(s)
		require.True(t, cand.has(50), "a rule with a shape, on every string")
		require.Equal(t, reachedRef(runs, s), run, s)
		for i, ks := range kws[:50] {
			want := false
			for _, k := range ks {
				want = want || strings.Contains(s, k)
			}
			if want != cand.has(i) {
				require.Equal(t, want, cand.has(i), "rule %d in %q", i, s)
			}
		}
	}
}
