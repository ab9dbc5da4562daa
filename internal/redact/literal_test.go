package redact

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLiteralKeywords(t *testing.T) {
	for _, c := range []struct {
		pattern string
		want    []string // nil: no usable literal
	}{
		{`acct-\d+`, []string{"acct-"}},
		{`INT-\d{8}`, []string{"int-"}},
		{`\bemp#\d{4,}\b`, []string{"emp#"}},
		{`sk_(?:live|test)_[0-9a-z]{24}`, []string{"sk_live_", "sk_test_"}},
		{`(?:ghp|gho)_[A-Za-z0-9]{36}`, []string{"ghp_", "gho_"}},
		{`token=([A-Za-z0-9]{16})`, []string{"token="}},
		{`[a-z]+\.internal\.example\.com`, []string{".internal.example.com"}},
		{`(?i)ref:[a-z]+`, []string{"ref:"}},
		// Case-insensitive s and k also match ſ and the Kelvin sign.
		{`(?i)secret-\d+`, []string{"secret-", "ſecret-"}},
		{`(?i)kx-\d+`, []string{"kx-", "\u212ax-"}},
		{`(?:abc|xyz)\d+`, []string{"abc", "xyz"}},
		{`abc\d+|xyz`, []string{"abc", "xyz"}},
		// A required middle, after something repeated.
		{`\d+-PRIV-\d+`, []string{"-priv-"}},
		// No literal of 3 bytes every match must contain.
		{`\d{3}-[a-z]{4}`, nil},
		{`ab\d+`, nil},
		{`(?:abc)?\d+`, nil},
		{`abc|\d+`, nil},
		{`(?:abc)*x`, nil},
		{`.+`, nil},
		// U+FFFD in a pattern also matches any invalid byte: never a literal.
		{"\ufffd\ufffd\\d+", nil},
		{"[\ufffda]bcd", []string{"bcd"}},
	} {
		t.Run(c.pattern, func(t *testing.T) {
			got := literalKeywords(regexp.MustCompile(c.pattern))
			assert.ElementsMatch(t, c.want, got)
		})
	}
}

// customPatterns are 50 patterns of the usual shape (a literal prefix and
// a character class), and a few with no literal at all.
func customPatterns(withLiteral, without int) []Rule {
	var rs []Rule
	for i := range withLiteral {
		p := fmt.Sprintf(`%s%02d-[A-Za-z0-9]{%d,}`, []string{"acct", "INT", "emp", "ref", "(?i)tok"}[i%5], i, 8+i%5)
		rs = append(rs, Rule{Kind: "custom", Pattern: regexp.MustCompile(p)})
	}
	noLit := []string{`\d{3}-[a-z]{4}-\d{3}`, `(?i)[xy]\d{5}z`, `[XY]\d{3}Q`, `\b[A-F0-9]{12}\b`}
	for i := range without {
		rs = append(rs, Rule{Kind: "custom", Pattern: regexp.MustCompile(noLit[i%len(noLit)])})
	}
	return rs
}

// reference builds the redactor with every custom pattern on every string.
func reference(t testing.TB, c Config) *Redactor {
	literalPrefilter = false
	defer func() { literalPrefilter = true }()
	return New(c)
}

// customInputs are lines that hold custom secrets in many forms (cases,
// positions, near misses), and the benign corpus.
func customInputs(t *testing.T) []string {
	in := []string{
		"account acct07-Ab3dE5fG9 closed", "ACCT07-ab3de5fg9x", "acct07-short", "int01-zzzzzzzzz", "INT01-zzzzzzzzz",
		"emp02-12345678 and emp07-abcdefghijk", "ref03-XXXXXXXXXXX;", "TOK04-abcdefghijklm", "tok04-abcdefghijklm",
		"ſtok", "\u212a", "Tok49-abcdefghijkl", "tok49-abcdefghijkl", "123-abcd-456", "x12345z", "X12345Z", "x123Q", "X123Q",
		"id 0A1B2C3D4E5F end", "0a1b2c3d4e5f", "[REDACTED:custom] acct07-Ab3dE5fG9", "acct07-\xffAb3dE5fG9",
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "benign", "*.log"))
	for _, f := range files {
		in = append(in, redacttest.ReadLines(t, f)...)
	}
	return in
}

// TestCustomPatternsSameAsEveryString: with the literals in the automaton
// and the combined pass, custom patterns redact exactly what they redact
// when each runs over every string.
func TestCustomPatternsSameAsEveryString(t *testing.T) {
	for _, n := range [][2]int{{50, 0}, {50, 4}, {0, 4}, {0, 1}, {5, 1}} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			c := Config{Rules: customPatterns(n[0], n[1])}
			got, want := New(c), reference(t, c)
			assert.Empty(t, want.gated)
			redacted := 0
			for _, s := range customInputs(t) {
				w, wc := want.Redact(s)
				g, gc := got.Redact(s)
				require.Equal(t, w, g, s)
				require.Equal(t, wc, gc, s)
				if wc {
					redacted++
				}
			}
			assert.Positive(t, redacted)
		})
	}
}

func TestCustomPatternsKeywordsAndGate(t *testing.T) {
	r := New(Config{Rules: customPatterns(50, 4)})
	first := len(builtinRules)
	for i := first; i < first+50; i++ {
		assert.NotEmpty(t, r.rules[i].Keywords, r.rules[i].Pattern.String())
	}
	assert.Equal(t, []int{first + 50, first + 51, first + 52, first + 53}, r.gated)
	assert.NotContains(t, r.always, first+50)
	// The caller's rules are not changed.
	c := customPatterns(1, 0)
	New(Config{Rules: c})
	assert.Empty(t, c[0].Keywords)
}

// TestCombinedPassKeepsFlags: in the combined pass each pattern keeps its
// own flags: (?i) of one does not make the next case-insensitive.
func TestCombinedPassKeepsFlags(t *testing.T) {
	r := New(Config{Rules: []Rule{
		{Kind: "custom", Pattern: regexp.MustCompile(`(?i)[xy]\d{5}z`)},
		{Kind: "custom", Pattern: regexp.MustCompile(`[XY]\d{3}Q`)},
	}})
	require.NotNil(t, r.gate)
	s, c := r.Redact("x123q y12345Z")
	assert.True(t, c)
	assert.Equal(t, "x123q [REDACTED:custom]", s)
	s, c = r.Redact("x123q")
	assert.False(t, c)
	assert.Equal(t, "x123q", s)
}

// TestManyRules: rules past what the automaton can name still run (on
// every string), and nothing panics.
func TestManyRules(t *testing.T) {
	var rules []Rule
	for i := range 300 {
		rules = append(rules, Rule{Kind: "custom", Pattern: regexp.MustCompile(fmt.Sprintf(`zq%03d-\d+`, i)), Keywords: []string{fmt.Sprintf("zq%03d-", i)}})
	}
	r := New(Config{Rules: rules})
	for _, i := range []int{0, 50, 299} {
		s, c := r.Redact(fmt.Sprintf("x zq%03d-123 y", i))
		assert.True(t, c, i)
		assert.Equal(t, "x [REDACTED:custom] y", s)
	}
	s, c := r.Redact("nothing here")
	assert.False(t, c)
	assert.Equal(t, "nothing here", s)
}

func TestCustomCleanStringAllocatesNothing(t *testing.T) {
	r := New(Config{Rules: customPatterns(50, 0)})
	s := strings.Repeat("GET /api/v1/orders/81723 200 5123 ", 4)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = r.Redact(s) }))
}

// TestManyCustomPatterns: 100 custom patterns without keywords (272 rules
// with the built-in ones) redact on every string, with their literals and
// without (a redactor built so once indexed past the automaton's rule set).
func TestManyCustomPatterns(t *testing.T) {
	var rules []Rule
	for i := range 100 {
		rules = append(rules, Rule{Kind: "custom", Pattern: regexp.MustCompile(fmt.Sprintf(`zq%03d-\d+`, i))})
	}
	for name, r := range map[string]*Redactor{"literals": New(Config{Rules: rules}), "every string": reference(t, Config{Rules: rules})} {
		for _, i := range []int{0, 83, 84, 99} {
			s, c := r.Redact(fmt.Sprintf("x zq%03d-123 y", i))
			assert.True(t, c, "%s %d", name, i)
			assert.Equal(t, "x [REDACTED:custom] y", s, name)
		}
	}
}
