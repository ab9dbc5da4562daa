package redact

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// changeOne returns tok with one letter or digit near its end replaced by
// another that occurs in tok (so of the same alphabet): a checksum, if any,
// no longer holds.
func changeOne(tok string) string {
	isAlnum := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for i := len(tok) - 3; i > 0; i-- {
		if !isAlnum(tok[i]) {
			continue
		}
		for j := len(tok) - 1; j >= 0; j-- {
			if isAlnum(tok[j]) && tok[j] != tok[i] {
				return tok[:i] + string(tok[j]) + tok[i+1:]
			}
		}
	}
	panic("no letter or digit to change in " + tok)
}

func prefixedKindList() []string {
	var kinds []string
	for _, p := range prefixSpecs {
		if !slices.Contains(kinds, p.kind) {
			kinds = append(kinds, p.kind)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// For every format with a distinctive prefix, the sample token one
// character off (its checksum broken), cut short by three characters, or
// cut at the end of the string is still redacted, as its own kind; the
// prefix inside a longer word is not that kind.
func TestPrefixedNearMissesRedacted(t *testing.T) {
	samples := redacttest.RuleSamples()
	kinds := prefixedKindList()
	require.Greater(t, len(kinds), 80)
	for _, kind := range kinds {
		s, ok := samples[kind]
		require.True(t, ok, kind)
		i := strings.Index(s.Text, s.Secret)
		require.GreaterOrEqual(t, i, 0, kind)
		t.Run(kind, func(t *testing.T) {
			marker := "[REDACTED:" + kind + "]"
			changed := changeOne(s.Secret)
			cut := s.Secret[:len(s.Secret)-3]
			for name, text := range map[string]string{
				"changed":          s.Text[:i] + changed + s.Text[i+len(s.Secret):],
				"cut":              s.Text[:i] + cut + s.Text[i+len(s.Secret):],
				"cut at the end":   s.Text[:i+len(cut)],
				"changed and cut":  s.Text[:i] + changeOne(cut) + " next",
				"in JSON":          `{"k":"` + cut + `"}`,
				"after a newline":  "line one\n" + changed,
				"after a bracket":  "[" + changed + "]",
				"the valid sample": s.Text,
			} {
				out := redactString(text)
				assert.Contains(t, out, marker, "%s: %q → %q", name, text, out)
				assert.NotContains(t, out, cut[len(cut)-8:], "%s: %q → %q", name, text, out)
			}
			for _, text := range []string{"x" + s.Secret, "9" + s.Secret, "my_" + s.Secret} {
				assert.NotContains(t, redactString(text), marker, "prefix inside a word: %q", text)
			}
		})
	}
}

// A prefix followed by a body one byte shorter than its rule's minimum is
// not that kind, at the end of the string or before a space.
func TestPrefixedShortBodyUntouched(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, p := range prefixSpecs {
		var alphabet []byte
		for c := 0; c < 128; c++ {
			if p.body[c] && c != '=' && c != '-' && c != '.' {
				alphabet = append(alphabet, byte(c))
			}
		}
		for _, pre := range p.prefixes {
			b := []byte(pre)
			for range p.min - 1 {
				b = append(b, alphabet[rng.IntN(len(alphabet))])
			}
			for _, text := range []string{"id " + string(b), "id " + string(b) + " next"} {
				assert.NotContains(t, redactString(text), "[REDACTED:"+p.kind+"]", text)
			}
		}
	}
}

// Each prefixed rule's matcher finds exactly what its documenting regexp
// (and its check, as the redactor applies a Validate) finds, on the samples
// and on random strings made of its prefixes, its alphabet and separators.
func TestPrefixedAgreesWithRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	samples := redacttest.RuleSamples()
	viaRegexp := func(p *prefixSpec, s string) [][2]int {
		var out [][2]int
		for _, m := range p.pattern.FindAllStringSubmatchIndex(s, -1) {
			if p.check == nil || p.check(s[m[2]:m[3]]) {
				out = append(out, [2]int{m[2], m[3]})
			}
		}
		return out
	}
	found := 0
	for _, p := range prefixSpecs {
		var alphabet []byte
		for c := 0; c < 128; c++ {
			if p.body[c] {
				alphabet = append(alphabet, byte(c))
			}
		}
		pieces := slices.Concat(p.prefixes, []string{" ", "x", "_", "-", ".", "=", "\n", `"`})
		word := func() string {
			var b strings.Builder
			for range 1 + rng.IntN(8) {
				if rng.IntN(3) == 0 {
					b.WriteString(pieces[rng.IntN(len(pieces))])
				} else {
					for range rng.IntN(2 * p.min) {
						b.WriteByte(alphabet[rng.IntN(len(alphabet))])
					}
				}
			}
			return b.String()
		}
		s := samples[p.kind]
		inputs := []string{s.Text, s.NearMiss, s.Text + s.Text, s.Text[:len(s.Text)/2], "x" + s.Secret, strings.Repeat(p.prefixes[0], 5)}
		for range 300 {
			inputs = append(inputs, word())
		}
		for _, in := range inputs {
			got, _ := p.find(in, nil)
			want := viaRegexp(p, in)
			if !slices.Equal(got, want) {
				require.Equal(t, want, got, "%s on %q", p.kind, in)
			}
			found += len(got)
		}
	}
	t.Logf("%d tokens found in random strings", found)
	assert.Greater(t, found, 10*len(prefixSpecs), "the random strings hold tokens")
}

// The AWS secret access key is redacted beside an access key id even when
// no name is next to it; without a key id in the string, or when the 40
// characters are a hex digest, a word run or the end of longer base64, it
// is not.
func TestAWSSecretBesideKeyID(t *testing.T) {
	g := redacttest.Gen
	id := redacttest.Join("AK", "IA", g(redacttest.B32Chars, 16))
	secret := g(redacttest.UpperChars, 10) + g(redacttest.LowerChars, 10) + g(redacttest.DigitChars, 10) + g(redacttest.B64Chars, 10)
	for _, s := range []string{
		"key " + id + " secret " + secret,
		secret + " and " + id,
		`{"id":"` + id + `","s":"` + secret + `"}`,
		"creds " + id + ":" + secret,
	} {
		out := redactString(s)
		assert.NotContains(t, out, secret, s)
		assert.Contains(t, out, "[REDACTED:aws-secret-access-key]", s)
	}
	hex := g(redacttest.HexChars, 40)
	for _, s := range []string{
		"secret " + secret + " without a key id",
		"key " + id + " commit " + hex,
		"key " + id + " blob " + secret + "=",
		"key " + id + " body " + secret + g(redacttest.AlnumChars, 4),
		"key " + id + " path " + strings.Repeat("Abcdefgh/", 4) + "Abcd",
	} {
		assert.NotContains(t, redactString(s), "[REDACTED:aws-secret-access-key]", s)
	}
}

// Every named format also fires with the name in other spellings (JSON,
// YAML, := in Go), and not on the name alone.
func TestNamedFormatsSpellings(t *testing.T) {
	samples := redacttest.RuleSamples()
	tested := 0
	for _, r := range namedSpecs {
		s := samples[r.kind]
		name, _, ok := strings.Cut(s.Text, "=")
		if !ok || !strings.HasSuffix(s.Text, s.Secret+" loaded") {
			continue
		}
		for _, text := range []string{
			`{"` + strings.ToLower(name) + `": "` + s.Secret + `"}`,
			strings.ToLower(name) + ": " + s.Secret,
			name + " := \"" + s.Secret + "\"",
		} {
			out := redactString(text)
			assert.NotContains(t, out, s.Secret, "%s: %q → %q", r.kind, text, out)
			assert.Contains(t, out, "[REDACTED:"+r.kind+"]", "%s: %q → %q", r.kind, text, out)
		}
		assert.Equal(t, name+" is set", redactString(name+" is set"), r.kind)
		tested++
	}
	assert.Greater(t, tested, 25)
}

// The base64 JWT rule accepts only base64 whose text is a JWT.
func TestJWTBase64(t *testing.T) {
	s := redacttest.RuleSamples()["jwt-base64"].Secret
	assert.True(t, validJWTBase64(s))
	assert.True(t, validJWTBase64(s[:60]), "cut short")
	// The base64 of "eyJ" followed by text that is not a JWT header.
	notJWT := "ZXlK" + "aGVsbG8gd29ybGQgdGhpcyBpcyBub3QgYSBqd3QgYXQgYWxs"
	assert.False(t, validJWTBase64(notJWT))
	assert.Equal(t, "blob "+notJWT, redactString("blob "+notJWT))
}

// Each named rule's matcher finds exactly what its documenting regexp (with
// its check, and its key condition) finds, on the samples and on random
// strings made of its names, key bytes, assignments, blanks, quotes and its
// value's alphabet.
func TestNamedAgreesWithRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	samples := redacttest.RuleSamples()
	viaRegexp := func(n *namedSpec, s string) [][2]int {
		var out [][2]int
		for _, m := range n.pattern.FindAllStringSubmatchIndex(s, -1) {
			if n.keyHas != nil && !containsAnyFold(s[m[0]:m[2]], n.keyHas) {
				continue
			}
			if n.check == nil || n.check(s[m[2]:m[3]]) {
				out = append(out, [2]int{m[2], m[3]})
			}
		}
		return out
	}
	found := 0
	for _, n := range namedSpecs {
		var alphabet []byte
		for c := 0; c < 128; c++ {
			if n.class[c] {
				alphabet = append(alphabet, byte(c))
			}
		}
		pieces := []string{"_", "-", ".", "=", ":", ":=", "=>", " ", "\t", `"`, "'", "x", "KEY", "token", n.lit, "\n"}
		for _, nm := range n.names {
			pieces = append(pieces, nm, strings.ToUpper(nm))
		}
		word := func() string {
			var b strings.Builder
			pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
			for range 1 + rng.IntN(10) {
				switch rng.IntN(5) {
				case 4: // an assignment, most of the time well-formed
					b.WriteString(pick(n.names...))
					b.WriteString(pick("", "_token", "_API_KEY", ".secret", strings.Repeat("k", 19+rng.IntN(3))))
					b.WriteString(pick("", `"`, "'"))
					b.WriteString(pick("", " ", "\t", "  "))
					b.WriteString(pick("=", ":", ":=", "=>", "==", "::"))
					b.WriteString(pick("", " ", "\n"))
					b.WriteString(pick("", `"`, "'"))
					b.WriteString(n.lit)
					for range n.min - len(n.lit) + rng.IntN(n.max-n.min+3) - 1 {
						b.WriteByte(alphabet[rng.IntN(len(alphabet))])
					}
				case 0, 1:
					b.WriteString(pieces[rng.IntN(len(pieces))])
				case 2:
					for range rng.IntN(n.max + 4) {
						b.WriteByte(alphabet[rng.IntN(len(alphabet))])
					}
				default:
					b.WriteString(n.lit)
					for range n.min - len(n.lit) + rng.IntN(3) - 1 {
						b.WriteByte(alphabet[rng.IntN(len(alphabet))])
					}
				}
			}
			return b.String()
		}
		s := samples[n.kind]
		inputs := []string{s.Text, s.NearMiss, s.Text + s.Text, s.Text[:len(s.Text)/2], strings.Repeat(n.names[0]+"=", 5)}
		for range 400 {
			inputs = append(inputs, word())
		}
		for _, in := range inputs {
			got, _ := n.find(in, nil)
			want := viaRegexp(n, in)
			if !slices.Equal(got, want) {
				require.Equal(t, want, got, "%s on %q", n.kind, in)
			}
			found += len(got)
		}
	}
	t.Logf("%d values found in random strings", found)
	assert.Greater(t, found, 5*len(namedSpecs), "the random strings hold values")
}

// The kinds that more than one rule recognizes: the second shape of each
// (the sample tests the first) is redacted as the same kind, and its near
// miss is not that kind (a generic rule may still take a token= value).
func TestSecondShapes(t *testing.T) {
	g, j := redacttest.Gen, redacttest.Join
	uuid := func() string {
		h := redacttest.HexChars
		return j(g(h, 8), "-", g(h, 4), "-", g(h, 4), "-", g(h, 4), "-", g(h, 12))
	}
	for _, c := range []struct{ kind, text, secret, nearMiss string }{
		{"heroku-api-key", "HEROKU_API_KEY=", uuid(), "heroku dyno restarted"},
		{"netlify-token", "NETLIFY_AUTH_TOKEN: ", g(redacttest.URLChars, 43), "netlify build 12 ready"},
		{"supabase-token", "using ", j("sb_", "secret_", g(redacttest.URLChars, 32)), "sb_secret_x"},
		{"honeycomb-api-key", "HONEYCOMB_API_KEY=", g(redacttest.AlnumChars, 22), "honeycomb dataset created"},
		{"honeycomb-api-key", `"honeycomb_key": "`, g(redacttest.HexChars, 32), `"honeycomb_key": "` + g(redacttest.AlnumChars, 32) + `"`},
		{"splunk-hec-token", "SPLUNK_HEC_TOKEN=", uuid(), "splunk_hec_token=" + g(redacttest.HexChars, 36)},
		{"contentful-token", "CONTENTFUL_DELIVERY_TOKEN=", g(redacttest.URLChars, 43), "contentful space loaded"},
		{"facebook-access-token", "page token ", j("EA", "AG", g(redacttest.AlnumChars, 160)), "EAAG" + g(redacttest.AlnumChars, 60)},
		{"jfrog-token", "X-JFrog-Art-Api ", j("cmVm", "dGtu", g(redacttest.AlnumChars, 56)), "cmVmdGtu"},
		{"bitbucket-token", "app password ", j("AT", "BB", g(redacttest.AlnumChars, 32)), "ATBB" + g(redacttest.AlnumChars, 10)},
		{"grafana-token", "key ", j("gl", "c_", g(redacttest.B64Chars, 80), "=="), "glc_x"},
		{"grafana-token", "key ", j("eyJr", "Ijoi", g(redacttest.B64Chars, 70)), "eyJrIjoi"},
		{"codecov-token", "CODECOV_TOKEN=", g(redacttest.HexChars, 32), "codecov_token=" + g(redacttest.AlnumChars, 32)},
	} {
		out := redactString(c.text + c.secret + " end")
		assert.NotContains(t, out, c.secret, c.kind)
		assert.Contains(t, out, "[REDACTED:"+c.kind+"]", "%s: %q", c.kind, out)
		assert.NotContains(t, redactString(c.nearMiss), "[REDACTED:"+c.kind+"]", c.nearMiss)
	}
}
