package redact

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// defaultRedactor is the engine as the root package's Redact uses it: the
// built-in rules and the default keys.
var defaultRedactor = New(Config{})

// redactString is what the root package's Redact returns for s.
func redactString(s string) string {
	out, _ := defaultRedactor.Redact(s)
	return out
}

func TestEveryRuleHasSamples(t *testing.T) {
	samples := redacttest.RuleSamples()
	kinds := map[string]bool{}
	for _, r := range builtinRules {
		kinds[r.Kind] = true
	}
	assert.GreaterOrEqual(t, len(kinds), 120, "at least 120 credential formats")
	t.Logf("%d rules, %d kinds", len(builtinRules), len(kinds))
	assert.Less(t, len(builtinRules), 200, "room for custom rules in the prefilter's %d", maxRules)
	for k := range kinds {
		assert.Contains(t, samples, k, "rule %s has no test sample", k)
	}
	for k := range samples {
		assert.Contains(t, kinds, k, "sample for unknown rule %s", k)
	}
}

func TestRulePositives(t *testing.T) {
	for kind, s := range redacttest.RuleSamples() {
		t.Run(kind, func(t *testing.T) {
			out := redactString(s.Text)
			assert.Contains(t, out, "[REDACTED:"+kind+"]", "text: %q\nout:  %q", s.Text, out)
			assert.NotContains(t, out, s.Secret)
			assert.Equal(t, out, redactString(out), "idempotent")
		})
	}
}

func TestRuleNearMisses(t *testing.T) {
	for kind, s := range redacttest.RuleSamples() {
		t.Run(kind, func(t *testing.T) {
			assert.Equal(t, s.NearMiss, redactString(s.NearMiss))
		})
	}
}

func TestNotSecretsByThemselves(t *testing.T) {
	for _, s := range []string{
		"sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"uuid 123e4567-e89b-12d3-a456-426614174000",
		"blob aGVsbG8gd29ybGQgdGhpcyBpcyBhIGJhc2U2NCBibG9iIG9mIHRleHQ=",
		"client 192.168.10.1:8080 and fe80::1ff:fe23:4567:890a",
		"block blk_-1608999687919862906 of 1234567890123456789",
		"took 1234567890123 ns; order 4111111111111112",
		"token count 12 for session started",
		"Failed password for invalid user admin from 10.0.0.1 port 22 ssh2",
		"GET https://example.com/search?q=hello&page=2 200",
	} {
		assert.Equal(t, s, redactString(s))
	}
}

func TestCardValidation(t *testing.T) {
	visa := redacttest.LuhnComplete("4" + redacttest.Gen(redacttest.DigitChars, 14))
	amex := redacttest.LuhnComplete("37" + redacttest.Gen(redacttest.DigitChars, 12))
	mc := redacttest.LuhnComplete("52" + redacttest.Gen(redacttest.DigitChars, 13))
	for _, c := range []string{visa, amex, mc, visa[:4] + "-" + visa[4:8] + "-" + visa[8:12] + "-" + visa[12:]} {
		assert.Contains(t, redactString("card "+c), "[REDACTED:card-number]", c)
	}
	notLuhn := visa[:15] + string('0'+(visa[15]-'0'+5)%10)
	unknownIssuer := redacttest.LuhnComplete("9" + redacttest.Gen(redacttest.DigitChars, 14))
	mixed := visa[:4] + " " + visa[4:8] + "-" + visa[8:12] + " " + visa[12:]
	for _, c := range []string{notLuhn, unknownIssuer, mixed, "-" + visa, visa + ".5"} {
		assert.Equal(t, "id "+c, redactString("id "+c), c)
	}
}

// A GitHub token whose checksum is broken (one character off) is redacted
// all the same: the prefix is enough.
func TestGitHubChecksumNotRequired(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	flipped := tok[:10] + string(rune(tok[10]^1)) + tok[11:]
	for _, s := range []string{tok, flipped} {
		assert.Equal(t, "token [REDACTED:github-token] used", redactString("token "+s+" used"), s)
	}
}

func TestRedactCleanStringAllocatesNothing(t *testing.T) {
	s := "GET /api/v1/orders/81723 200 5123 bytes in 1.2ms from 10.1.2.3"
	redactString(s)
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { _ = redactString(s) }))
}

// loghubFiles lists the shared Loghub samples, or skips the test.
func loghubFiles(t testing.TB) []string {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "testdata", "loghub", "*.log"))
	if len(files) == 0 {
		t.Skip("../shared/testdata/loghub beside the module not present (a fresh clone); the corpus in testdata/ still runs")
	}
	return files
}

// checkBenign asserts that at most 0.1% of the lines change under the engine.
func checkBenign(t *testing.T, files []string) {
	total, changed := 0, 0
	for _, f := range files {
		for _, l := range redacttest.ReadLines(t, f) {
			total++
			if r := redactString(l); r != l {
				changed++
				t.Logf("%s: changed\n  %s\n  %s", filepath.Base(f), l, r)
			}
		}
	}
	require.Greater(t, total, 0)
	t.Logf("%d of %d lines changed", changed, total)
	assert.LessOrEqual(t, float64(changed), float64(total)*0.001)
}

func TestLoghubNoFalsePositives(t *testing.T) {
	checkBenign(t, loghubFiles(t))
}

func TestBenignCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "benign", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	checkBenign(t, files)
}

func TestStrayMarkerDoesNotShield(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	for _, s := range []string{"[REDACTED " + tok, "[REDACTED:" + tok, "password=[REDACTEDhunter2x", "[REDACTED:x " + tok + "]",
		"Cookie: session=hunter2x [REDACTED]", "password=hunter2x[REDACTED]", "password=[REDACTED]hunter2x"} {
		out := redactString(s)
		assert.NotContains(t, out, tok[4:], s)
		assert.NotContains(t, out, "hunter2x", s)
	}
}

func FuzzRedact(f *testing.F) {
	samples := redacttest.RuleSamples()
	var kinds []string
	for k := range samples {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	f.Add("plain text", uint(0), uint8(0))
	f.Add("password=x [REDACTED:key] https://u:p@h", uint(5), uint8(3))
	f.Add("\x00\xff[REDACTED", uint(2), uint8(7))
	f.Fuzz(func(t *testing.T, s string, pos uint, kind uint8) {
		out := redactString(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from valid input %q → %q", s, out)
		}
		if again := redactString(out); again != out {
			t.Fatalf("not idempotent:\n%q\n%q\n%q", s, out, again)
		}
		// A secret planted anywhere (as a separate word) never survives.
		sm := samples[kinds[int(kind)%len(kinds)]]
		p := int(pos % uint(len(s)+1))
		planted := s[:p] + " " + sm.Text + " " + s[p:]
		if got := redactString(planted); strings.Contains(got, sm.Secret) {
			t.Fatalf("secret survived (%s):\n%q\n%q", kinds[int(kind)%len(kinds)], planted, got)
		}
	})
}
