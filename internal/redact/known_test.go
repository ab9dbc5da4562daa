package redact

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// knownRNG draws the registered values of the tests: random strings of an
// alphabet, in formats that no rule knows.
var (
	knownMu  sync.Mutex
	knownRNG = rand.New(rand.NewPCG(2024, 11))
)

const (
	alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	// escapes holds the bytes that the quoted and percent encodings change.
	escapes = `&<>"\ /+=?%#`
)

func randomValue(alphabet string, n int) string {
	knownMu.Lock()
	defer knownMu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[knownRNG.IntN(len(alphabet))]
	}
	return string(b)
}

// escapedValue is a random value that holds each byte that an encoding
// escapes, between random letters and digits.
func escapedValue() string {
	var b strings.Builder
	for i := 0; i < len(escapes); i++ {
		b.WriteString(randomValue(alnum, 2))
		b.WriteByte(escapes[i])
	}
	return b.String()
}

func jsonString(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestKnownEncodingsInText registers random values, one of letters and
// digits and one with every byte that the encodings escape, and finds each
// encoding inside longer text: exactly that encoding is replaced, the text
// around it is kept, and the same text is left alone by a redactor that
// does not know the value (no rule knows its format).
func TestKnownEncodingsInText(t *testing.T) {
	for _, v := range []string{randomValue(alnum, 20), escapedValue()} {
		plain := New(Config{})
		r := New(Config{})
		added, refused := r.Mask(v)
		require.Equal(t, 1, added)
		require.Equal(t, 0, refused)
		m := KnownMarker
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(v))
		cases := []struct{ name, text, want string }{
			{"raw in a message", "login failed for " + v + " (retrying)", "login failed for " + m + " (retrying)"},
			{"raw twice, at the edges", v + " and " + v, m + " and " + m},
			{"query escape in a URL query", "GET /callback?state=ok&code=" + url.QueryEscape(v) + "&page=2 200", "GET /callback?state=ok&code=" + m + "&page=2 200"},
			{"path escape in a URL path", "GET /files/" + url.PathEscape(v) + "/meta 404", "GET /files/" + m + "/meta 404"},
			{"hex, lower case", "digest " + hex.EncodeToString([]byte(v)) + " ok", "digest " + m + " ok"},
			{"hex, upper case", "digest " + strings.ToUpper(hex.EncodeToString([]byte(v))) + " ok", "digest " + m + " ok"},
			{"JSON text", jsonString(t, map[string]string{"note": v}), `{"note":"` + m + `"}`},
			{"JSON text, no HTML escapes", `{"note":` + strings.TrimSpace(buf.String()) + `}`, `{"note":"` + m + `"}`},
			{"strconv.Quote", "config " + strconv.Quote(v) + " loaded", `config "` + m + `" loaded`},
			{"strconv.QuoteToASCII", "config " + strconv.QuoteToASCII(v) + " loaded", `config "` + m + `" loaded`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				out, ok := r.Redact(tc.text)
				assert.True(t, ok)
				assert.Equal(t, tc.want, out)
				again, _ := r.Redact(out)
				assert.Equal(t, out, again, "idempotent")
				if tc.name != "JSON text" && tc.name != "JSON text, no HTML escapes" {
					same, _ := plain.Redact(tc.text)
					assert.Equal(t, tc.text, same, "no rule knows the value")
				}
			})
		}
	}
}

// TestKnownBase64 embeds a registered value in base64 text at each offset
// mod 3 (0 to 5 bytes before it, 0 to 2 after), standard and URL-safe,
// padded and not: the whole base64 run is replaced, and the text around it
// is kept.
func TestKnownBase64(t *testing.T) {
	v := randomValue(alnum, 20)
	r := New(Config{})
	r.Mask(v)
	plain := New(Config{})
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		for before := range 6 {
			for after := range 3 {
				// The bytes around the value are chosen so that the
				// encodings hold + / - _ (0xfb 0xff encode to +/ and -_).
				data := strings.Repeat("\xfb\xff", 3)[:before] + v + strings.Repeat("\xff", after)
				b64 := enc.EncodeToString([]byte(data))
				text := "payload " + b64 + " end"
				out, ok := r.Redact(text)
				assert.True(t, ok, "%d+%d", before, after)
				assert.Equal(t, "payload "+KnownMarker+" end", out, "%d+%d", before, after)
				same, _ := plain.Redact(text)
				assert.Equal(t, text, same)
			}
		}
	}
}

// TestKnownBasicHeader: the Basic credentials of a header hold
// base64("user:" + secret), the secret at offset 5 (2 mod 3); the header
// rule redacts them too, and the hit is reported.
func TestKnownBasicHeader(t *testing.T) {
	v := randomValue(alnum, 20)
	var hits atomic.Int32
	r := New(Config{OnKnown: func() { hits.Add(1) }})
	r.Mask(v)
	for _, user := range []string{"u", "ab", "svc", "deploy", "admin-x"} {
		b64 := base64.StdEncoding.EncodeToString([]byte(user + ":" + v))
		text := "upstream header X-Forward-Auth: Basic " + b64
		out, _ := r.Redact(text)
		assert.NotContains(t, out, b64)
		assert.True(t, strings.HasPrefix(out, "upstream header X-Forward-Auth: "), out)
		// Without the scheme, no rule knows it: only the value's base64 middle does.
		out, _ = r.Redact("cached " + b64 + ".")
		assert.Equal(t, "cached "+KnownMarker+".", out)
	}
	assert.Equal(t, int32(10), hits.Load())
}

// TestKnownMiddleOfBase64Run: a base64 middle found in a run redacts the
// whole run and only it, and two values in one run make one marker.
func TestKnownMiddleOfBase64Run(t *testing.T) {
	v1, v2 := randomValue(alnum, 16), randomValue(alnum, 24)
	r := New(Config{})
	added, _ := r.Mask(v1, v2)
	require.Equal(t, 2, added)
	b64 := base64.StdEncoding.EncodeToString([]byte("x" + v1 + "yz" + v2 + "!"))
	out, _ := r.Redact("a=" + b64 + ";b=" + b64)
	assert.Equal(t, "a="+KnownMarker+";b="+KnownMarker, out)
}

// TestKnownCaseSensitive: the automaton folds case, the match does not:
// the value with its case changed is left alone (hex matches in both cases,
// not mixed). Each half of the value holds a 'z' (0x7a), so that each half
// of its hex holds a letter and changing its case changes it: with random
// letters only, about one value in five had a half of digits only, and the
// mixed hex was the lower- or the upper-case one.
func TestKnownCaseSensitive(t *testing.T) {
	v := "Az" + randomValue(alnum, 8) + "z" + randomValue(alnum, 9)
	r := New(Config{})
	r.Mask(v)
	for _, s := range []string{strings.ToLower(v), strings.ToUpper(v), "x" + v[1:]} {
		out, ok := r.Redact("value " + s)
		assert.False(t, ok)
		assert.Equal(t, "value "+s, out)
	}
	h := hex.EncodeToString([]byte(v))
	mixed := strings.ToUpper(h[:len(h)/2]) + h[len(h)/2:]
	out, _ := r.Redact(mixed)
	assert.NotEqual(t, KnownMarker, out)
}

// TestKnownCountAndOnKnown: each span is counted with the kind
// known-secret, OnKnown is called once per Redact that found a value, and a
// value already behind a marker is not found again.
func TestKnownCountAndOnKnown(t *testing.T) {
	v := randomValue(alnum, 20)
	var kinds []string
	hits := 0
	r := New(Config{Count: func(k string) { kinds = append(kinds, k) }, OnKnown: func() { hits++ }})
	r.Mask(v)
	out, ok := r.Redact(v + " " + v + " " + hex.EncodeToString([]byte(v)))
	assert.True(t, ok)
	assert.Equal(t, KnownMarker+" "+KnownMarker+" "+KnownMarker, out)
	assert.Equal(t, []string{KnownKind, KnownKind, KnownKind}, kinds)
	assert.Equal(t, 1, hits)
	r.Redact(out)
	r.Redact("nothing here")
	assert.Equal(t, 1, hits)
	assert.Len(t, kinds, 3)
}

// TestMaskRefusesAndDedups: short, long and blank values are refused,
// duplicates are not added twice, and only counts come out.
func TestMaskRefusesAndDedups(t *testing.T) {
	r := New(Config{})
	v := randomValue(alnum, 12)
	added, refused := r.Mask(v, v, "short", "", "        ", strings.Repeat("x", MaxKnownLen+1))
	assert.Equal(t, 1, added)
	assert.Equal(t, 4, refused)
	assert.Equal(t, 1, r.KnownCount())
	added, refused = r.Mask(v)
	assert.Equal(t, 0, added)
	assert.Equal(t, 0, refused)
	assert.Equal(t, 1, r.KnownCount())
	out, _ := r.Redact("the word short stays")
	assert.Equal(t, "the word short stays", out)
	assert.Equal(t, 0, New(Config{}).KnownCount())
}

// TestKnownShortValueNoBase64: a value of MinKnownLen to
// MinKnownBase64Len-1 bytes is found raw, not in base64.
func TestKnownShortValueNoBase64(t *testing.T) {
	v := randomValue(alnum, MinKnownLen)
	r := New(Config{})
	r.Mask(v)
	out, _ := r.Redact("id " + v)
	assert.Equal(t, "id "+KnownMarker, out)
	b := base64.StdEncoding.EncodeToString([]byte(v))
	out, _ = r.Redact("blob " + b)
	assert.Equal(t, "blob "+b, out)
}

// TestKnownWithRules: a known value next to a rule's secret, and inside
// one: both are redacted, each span once.
func TestKnownWithRules(t *testing.T) {
	v := randomValue(alnum, 20)
	r := New(Config{})
	r.Mask(v)
	out, _ := r.Redact("password=" + v)
	assert.NotContains(t, out, v)
	out, _ = r.Redact("user " + v + " token=" + randomValue(alnum, 20))
	assert.True(t, strings.HasPrefix(out, "user "+KnownMarker+" token=[REDACTED:"), out)
}

// TestMaskConcurrentWithRedact: under -race, one goroutine registers
// values while others redact; once Mask returns, its values are masked
// by every goroutine.
func TestMaskConcurrentWithRedact(t *testing.T) {
	r := New(Config{})
	vals := make([]string, 40)
	for i := range vals {
		vals[i] = randomValue(alnum, 20)
	}
	var registered atomic.Int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, v := range vals {
			r.Mask(v)
			registered.Store(int32(i + 1))
		}
	}()
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 400; j++ {
				n := int(registered.Load())
				if n == 0 {
					continue
				}
				v := vals[j%n]
				out, _ := r.Redact("seen " + v + " " + base64.StdEncoding.EncodeToString([]byte("k:"+v)))
				if !assert.Equal(t, "seen "+KnownMarker+" "+KnownMarker, out) {
					return
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, len(vals), r.KnownCount())
}

// cleanLine is a ~300-byte record line with nothing to redact.
const cleanLine = `time=2025-01-07T10:12:33.512Z level=INFO msg="request served" method=GET path=/api/v1/orders/81723/items ` +
	`status=200 bytes=5123 duration=1.23ms user_id=u-28371 remote_addr=10.1.2.3:51234 ` +
	`user_agent="Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/131.0" request_id=req-5f2c9a7e1b cache=hit region=eu-west-1`

// knownRedactor returns a redactor with n random values registered.
func knownRedactor(n int) *Redactor {
	r := New(Config{})
	vals := make([]string, n)
	for i := range vals {
		vals[i] = randomValue(alnum+"-_.!", 16+i%16)
	}
	r.Mask(vals...)
	return r
}

func TestRedactCleanStringAllocatesNothingWithKnownValues(t *testing.T) {
	r := knownRedactor(100)
	require.Equal(t, 100, r.KnownCount())
	for _, s := range []string{cleanLine, "GET /api/v1/orders/81723 200 5123 bytes in 1.2ms from 10.1.2.3"} {
		out, ok := r.Redact(s)
		require.False(t, ok)
		require.Equal(t, s, out)
		assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { r.Redact(s) }))
	}
}

// TestKnownIsLinear: strings made of a registered value's prefix (an
// anchor of the automaton, a match begun and never finished), of the value
// itself (a span per copy), of a base64 middle's prefix and of base64 runs
// each holding it cost at most maxGrowth times more at 64 KiB than at 16
// KiB, in bytes examined (an exact count: no timing, which a loaded
// machine makes flaky).
func TestKnownIsLinear(t *testing.T) {
	r := knownRedactor(100)
	v := randomValue(alnum, 40)
	r.Mask(v, v[:20]+"#"+v[20:], v[:30])
	r.work = new(atomic.Int64)
	mid := base64Middles(v, base64.RawStdEncoding)[1]
	units := []string{
		v[:12], v[:20], v[:39], v, v + " ", v[:39] + "\"",
		mid[:len(mid)/2], mid, mid + "/", hex.EncodeToString([]byte(v))[:30],
		base64.StdEncoding.EncodeToString([]byte("x" + v)),
		base64.StdEncoding.EncodeToString([]byte("x"+v)) + " ",
	}
	for _, u := range units {
		small, large := repeatTo(u, smallInput), repeatTo(u, largeInput)
		a, b := measure(r, small, 1, false), measure(r, large, 1, false)
		assert.LessOrEqual(t, float64(b.work), maxGrowth*float64(a.work), "%q: %d bytes examined at 16 KiB, %d at 64 KiB", u, a.work, b.work)
		assert.Positive(t, a.work)
	}
}

// TestKnownNeedlesAreStableMiddles checks base64Middles against the
// definition: for each offset, the middle occurs in the encoding of the
// value between any bytes.
func TestKnownNeedlesAreStableMiddles(t *testing.T) {
	v := randomValue(alnum, 9)
	mids := base64Middles(v, base64.RawStdEncoding)
	for k := range 3 {
		for range 20 {
			pre, post := randomValue(alnum+"\x00\xff", k+3*int(knownRNG.Uint32()%3)), randomValue(alnum, int(knownRNG.Uint32()%4))
			e := base64.StdEncoding.EncodeToString([]byte(pre + v + post))
			assert.Contains(t, e, mids[k], fmt.Sprintf("offset %d", k))
		}
		assert.GreaterOrEqual(t, len(mids[k]), 10)
	}
}
