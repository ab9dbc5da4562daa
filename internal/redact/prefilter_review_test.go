package redact

// An adversarial review of the prefilter (prefilter.go): the automaton's
// keywords, shapes and digit levels, against plain references, in every
// path of scan (one part, two, four) and at every cut, with random
// automata (keywords holding digits, spaces, dashes, capitals and bytes
// above 0x7f; many rules, past maxRules; empty or absent runs and shapes),
// and the automaton the registered values (Mask) build. Fixed seeds.
//
// Also: notSecretKey and keySet's new shortcuts against what they did
// before. The tests named TestReviewBug… fail: each describes the bug.

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reviewSpec is what an automaton is built from.
type reviewSpec struct {
	kws    [][]string
	runs   []uint32
	shapes []string
}

// asciiLowerReview lowercases the ASCII capitals only, byte by byte (as the
// automaton folds case): strings.ToLower would rewrite bytes above 0x7f.
func asciiLowerReview(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lower(c)
	}
	return string(b)
}

// hasShapeReview reports whether shape ('d' a digit, anything else a dash)
// occurs in s, the plain way.
func hasShapeReview(s, shape string) bool {
	for p := 0; p+len(shape) <= len(s); p++ {
		ok := true
		for j := 0; j < len(shape) && ok; j++ {
			if shape[j] == 'd' {
				ok = s[p+j] >= '0' && s[p+j] <= '9'
			} else {
				ok = s[p+j] == '-'
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// refScanReview is what scan must return for s: the rules (below maxRules)
// one of whose keywords (its first maxKeyword bytes, not empty) occurs in s
// in any ASCII case, or whose shape occurs in s; and the longest of runs
// that the longest digit run in s reaches.
func refScanReview(sp reviewSpec, s string) (ruleSet, uint32) {
	var want ruleSet
	low := asciiLowerReview(s)
	for i, ks := range sp.kws {
		if i >= maxRules {
			break
		}
		for _, k := range ks {
			k = k[:min(len(k), maxKeyword)]
			if k != "" && strings.Contains(low, asciiLowerReview(k)) {
				want.add(i)
				break
			}
		}
	}
	for i, sh := range sp.shapes {
		if i < maxRules && sh != "" && hasShapeReview(s, sh) {
			want.add(i)
		}
	}
	return want, reachedRef(sp.runs, s)
}

// checkScanReview compares scan(s), and the two-part path called directly
// where it applies, with the reference.
func checkScanReview(t *testing.T, a *automaton, sp reviewSpec, s string, what func() string) {
	t.Helper()
	want, wantRun := refScanReview(sp, s)
	got, run := a.scan(s)
	if got != want || run != wantRun {
		path := "1 part"
		switch {
		case len(s) >= 4*(a.overlap+minSplit):
			path = "4 parts"
		case len(s) >= 2*a.overlap+minSplit:
			path = "2 parts"
		}
		require.Equal(t, fmt.Sprintf("rules %v run %d", want, wantRun), fmt.Sprintf("rules %v run %d", got, run),
			"%s: scan (%s, overlap %d, len %d) of %q", what(), path, a.overlap, len(s), s)
	}
	// scan2 is exact for any string scan would give it, and longer ones.
	if len(s) >= 4*(a.overlap+minSplit) {
		got, run = a.scan2(s)
		require.Equal(t, fmt.Sprintf("rules %v run %d", want, wantRun), fmt.Sprintf("rules %v run %d", got, run),
			"%s: scan2 called directly (overlap %d, len %d) of %q", what(), a.overlap, len(s), s)
	}
}

// randomSpecReview draws keywords, runs and shapes for nrules rules.
func randomSpecReview(rng *rand.Rand, nrules int) reviewSpec {
	const kwBytes = "abcdeqXYZ0189 -_.\x80\xfe"
	anyByte := rng.IntN(4) == 0 // keywords of any bytes: up to 230 classes
	sp := reviewSpec{kws: make([][]string, nrules)}
	for i := range sp.kws {
		for range rng.IntN(4) { // 0 to 3 keywords; a rule may have none
			b := make([]byte, 1+rng.IntN(16)) // up to 16: longer than maxKeyword
			for j := range b {
				b[j] = kwBytes[rng.IntN(len(kwBytes))]
				if anyByte {
					b[j] = byte(rng.IntN(256))
				}
			}
			if rng.IntN(20) == 0 {
				b = b[:0] // an empty keyword names nothing
			}
			sp.kws[i] = append(sp.kws[i], string(b))
		}
	}
	if rng.IntN(4) > 0 {
		for range rng.IntN(maxRuns + 1) {
			sp.runs = append(sp.runs, uint32(1+rng.IntN(24)))
		}
		slices.Sort(sp.runs)
		sp.runs = slices.Compact(sp.runs)
	}
	if rng.IntN(3) > 0 {
		sp.shapes = make([]string, nrules+rng.IntN(3)) // may name rules without keywords past kws
		for range 1 + rng.IntN(4) {
			b := make([]byte, 1+rng.IntN(15)) // longer than maxKeyword too: shapes are whole
			for j := range b {
				b[j] = "dd-"[rng.IntN(3)]
			}
			sp.shapes[rng.IntN(len(sp.shapes))] = string(b)
		}
	}
	return sp
}

// randomTextReview builds a string of exactly n bytes from keywords (in
// random case, whole, truncated or cut short), shapes filled in, digit runs
// with separators, and random bytes.
func randomTextReview(rng *rand.Rand, sp reviewSpec, n int) string {
	const noise = "abcdeqXYZ0123456789 -  --_.#\t\x80\xfe"
	var b []byte
	for len(b) < n {
		switch rng.IntN(7) {
		case 0: // a keyword, or the start of one
			ks := sp.kws[rng.IntN(len(sp.kws))]
			if len(ks) == 0 {
				continue
			}
			k := []byte(ks[rng.IntN(len(ks))])
			if len(k) > 1 && rng.IntN(3) == 0 {
				k = k[:1+rng.IntN(len(k)-1)]
			}
			for j, c := range k {
				if rng.IntN(2) == 0 && c >= 'a' && c <= 'z' {
					k[j] = c - 'a' + 'A'
				}
			}
			b = append(b, k...)
		case 1: // a shape, filled in (sometimes with a digit or a dash wrong)
			if len(sp.shapes) == 0 {
				continue
			}
			sh := sp.shapes[rng.IntN(len(sp.shapes))]
			for j := 0; j < len(sh); j++ {
				c := byte('-')
				if sh[j] == 'd' {
					c = byte('0' + rng.IntN(10))
				}
				if rng.IntN(30) == 0 {
					c = " -5x"[rng.IntN(4)]
				}
				b = append(b, c)
			}
		case 2: // a digit run, with separators
			m := rng.IntN(30)
			if rng.IntN(20) == 0 {
				m = n // longer than a part: it crosses every cut
			}
			for range m {
				b = append(b, byte('0'+rng.IntN(10)))
				if rng.IntN(4) == 0 {
					b = append(b, " -"[rng.IntN(2)])
				}
			}
		case 3:
			for range 1 + rng.IntN(8) {
				b = append(b, byte(rng.IntN(256)))
			}
		default:
			for range 1 + rng.IntN(8) {
				b = append(b, noise[rng.IntN(len(noise))])
			}
		}
	}
	return string(b[:n])
}

// lengthsReview are the lengths to try for an automaton: short ones, each
// threshold of scan and a few bytes around it (the last part of four is up
// to three bytes longer), and long ones.
func lengthsReview(rng *rand.Rand, a *automaton) []int {
	t2, t4 := 2*a.overlap+minSplit, 4*(a.overlap+minSplit)
	ls := []int{0, 1, 2, rng.IntN(t2), rng.IntN(t2)}
	for d := -2; d <= 4; d++ {
		ls = append(ls, max(0, t2+d), t4+d)
	}
	for range 6 {
		ls = append(ls, t2+rng.IntN(t4-t2), t4+rng.IntN(500))
	}
	return ls
}

// Random automata (1 to 260 rules; keywords with digits, spaces, dashes,
// capitals and high bytes, some longer than maxKeyword, some empty; 0 to 8
// runs, or none; 0 to 4 shapes up to 15 long), each on random text at and
// around scan's thresholds: scan names exactly the reference's rules and
// run, and no bit at or above maxRules.
func TestReviewRandomAutomataAgreeWithReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(0x5eed, 1))
	sizes := []int{1, 2, 3, 7, 20, 60, maxRules - 1, maxRules, maxRules + 1, 260}
	strs := 0
	for it := range 16 {
		sp := randomSpecReview(rng, sizes[it%len(sizes)])
		a := newAutomaton(sp.kws, sp.runs, sp.shapes)
		for _, n := range lengthsReview(rng, a) {
			for range 4 {
				s := randomTextReview(rng, sp, n)
				checkScanReview(t, a, sp, s, func() string { return fmt.Sprintf("automaton %d", it) })
				strs++
			}
		}
	}
	t.Logf("%d strings", strs)
}

// Every needle (a keyword in either case, a shape, a digit run one short
// of, at or one past each run length, with or without separators, a run as
// long as the string) at every position, in strings of each threshold's
// length and a few bytes around it, over two of the fillers that reset runs
// ('#'), keep them (' ', '-') or are digits themselves: each cut falls at
// every place in each needle.
func TestReviewEveryCutPosition(t *testing.T) {
	rng := rand.New(rand.NewPCG(0xc07, 2))
	specs := []reviewSpec{
		{kws: [][]string{{"ab"}, {strings.Repeat("q", 24)}, {"zz9"}, nil, {"1 2-3"}}, runs: testRuns, shapes: []string{3: "ddd-dd-dddd"}},
		{kws: [][]string{{"k"}, nil}, runs: []uint32{1, 2}, shapes: []string{1: "d-d"}},                    // overlap 2: short parts
		{kws: [][]string{{"x"}}, runs: []uint32{3, 30}},                                                    // overlap 0
		{kws: [][]string{{"pw"}, nil}, shapes: []string{1: "dddd-dddd-dddd-dddd"}},                         // no runs; overlap from the shape
		{kws: [][]string{{"9-9"}, {"0 0"}, {"--"}}, runs: []uint32{4, 5, 6, 7, 8, 9, 10, 11}, shapes: nil}, // separators in keywords
	}
	scans := 0
	for si, sp := range specs {
		a := newAutomaton(sp.kws, sp.runs, sp.shapes)
		var needles []string
		for _, ks := range sp.kws {
			for _, k := range ks {
				if rng.IntN(2) == 0 {
					k = strings.ToUpper(k)
				}
				needles = append(needles, k)
			}
		}
		for _, sh := range sp.shapes {
			if sh != "" {
				needles = append(needles, strings.ReplaceAll(sh, "d", "7"))
			}
		}
		for _, r := range sp.runs {
			plain := strings.Repeat("5", int(r)-1+rng.IntN(3))
			switch rng.IntN(3) {
			case 0:
				needles = append(needles, plain)
			case 1:
				needles = append(needles, strings.Join(strings.Split(plain, ""), " -"[rng.IntN(2):][:1]))
			default:
				needles = append(needles, " "+plain+"--")
			}
		}
		t2, t4 := 2*a.overlap+minSplit, 4*(a.overlap+minSplit)
		for _, n := range []int{t2 - 1, t2, t4 - 1, t4, t4 + 1, t4 + 3} {
			ns := append(slices.Clone(needles), strings.Repeat("4", n), strings.Repeat("4 ", n/2), "1"+strings.Repeat(" ", n-2)+"2")
			for _, needle := range ns {
				fills := []byte{'#', ' ', '-', '3'}
				rng.Shuffle(len(fills), func(i, j int) { fills[i], fills[j] = fills[j], fills[i] })
				for _, fill := range fills[:2] {
					for at := 0; at+len(needle) <= n; at++ {
						s := strings.Repeat(string(fill), at) + needle + strings.Repeat(string(fill), n-at-len(needle))
						checkScanReview(t, a, sp, s, func() string { return fmt.Sprintf("spec %d, %q at %d over %q", si, needle, at, fill) })
						scans++
					}
				}
			}
		}
	}
	t.Logf("%d strings", scans)
}

// Runs that cross one, two or three cuts, begin or end at a cut, or where
// the next part begins (overlap bytes early), in four-part strings whose
// last part is 0 to 3 bytes longer: the level a part reaches is joined on
// across every later cut.
func TestReviewRunsAcrossSeveralCuts(t *testing.T) {
	rng := rand.New(rand.NewPCG(0xc075, 3))
	a := newAutomaton([][]string{{"key"}}, testRuns, []string{0: "ddd-dd-dddd"})
	sp := reviewSpec{kws: [][]string{{"key"}}, runs: testRuns, shapes: []string{"ddd-dd-dddd"}}
	ov := a.overlap
	near := func(lo, hi int) []int {
		var ds []int
		for d := lo - 2; d <= lo+1; d++ {
			ds = append(ds, d)
		}
		for d := hi - 1; d <= hi+2; d++ {
			ds = append(ds, d)
		}
		return ds
	}
	scans := 0
	for n := 4 * (ov + minSplit); n < 4*(ov+minSplit)+4; n++ {
		q := (n + 3*ov) / 4
		cuts := []int{q, 2*q - ov, 3*q - 2*ov}
		for _, c := range cuts {
			for _, c2 := range cuts {
				for _, d1 := range near(-ov, 0) {
					for _, d2 := range near(0, ov) {
						from, to := c+d1, c2+d2
						if from < 0 || to > n || from >= to {
							continue
						}
						seps := []string{"", " ", "-", "- "}
						rng.Shuffle(len(seps), func(i, j int) { seps[i], seps[j] = seps[j], seps[i] })
						for _, sep := range seps[:2] {
							b := []byte(strings.Repeat("x", n))
							for i, k := from, 0; i < to; i, k = i+1, k+1 {
								b[i] = '8'
								if sep != "" && k%3 == 2 {
									b[i] = sep[k%len(sep)]
								}
							}
							checkScanReview(t, a, sp, string(b), func() string { return fmt.Sprintf("run [%d,%d) cuts %v", from, to, cuts) })
							scans++
						}
					}
				}
			}
		}
	}
	t.Logf("%d strings", scans)
}

// Rules past maxRules are named by nothing (they run on every string), and
// the run bits above maxRules never show among the rules scan returns: with
// keywords on rules maxRules-1 and maxRules (and shapes), and every run.
func TestReviewRuleBitsAtMaxRules(t *testing.T) {
	kws := make([][]string, maxRules+8)
	shapes := make([]string, maxRules+8)
	for i := range kws {
		kws[i] = []string{fmt.Sprintf("w%03dz", i)}
	}
	shapes[maxRules-1] = "d-d"
	shapes[maxRules] = "d--d"
	sp := reviewSpec{kws, testRuns, shapes}
	a := newAutomaton(kws, testRuns, shapes)
	var all strings.Builder
	for i := range kws {
		fmt.Fprintf(&all, "W%03dZ 1-2 3--4 ", i)
	}
	all.WriteString(strings.Repeat("9", 40))
	for _, s := range []string{all.String(), all.String()[:200], all.String()[:40], "w247z 9-9 1234567890123456"} {
		got, run := a.scan(s)
		want, wantRun := refScanReview(sp, s)
		require.Equal(t, want, got, "%q", s)
		require.Equal(t, wantRun, run, "%q", s)
		for i := maxRules; i < 256; i++ {
			require.False(t, got.has(i), "bit %d", i)
		}
	}
}

// An automaton with no runs and no shapes (nil or all empty) counts nothing:
// digits, spaces and dashes are bytes like any other, also in keywords.
func TestReviewEmptyRunsAndShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, shapes := range [][]string{nil, {"", "", ""}} {
		for _, runs := range [][]uint32{nil, {}} {
			sp := reviewSpec{kws: [][]string{{"1-2"}, {"a 9"}, {"--"}}, runs: runs, shapes: shapes}
			a := newAutomaton(sp.kws, sp.runs, sp.shapes)
			for _, n := range lengthsReview(rng, a) {
				for range 8 {
					checkScanReview(t, a, sp, randomTextReview(rng, sp, n), func() string { return "no runs, no shapes" })
				}
			}
		}
	}
}

// The unchecked loads of scan2 and scan4 stay in the table for automata
// with runs and shapes too (TestTransitionsStayInTheTable builds none with
// shapes): every entry is a state's first index, below hitFlag.
func TestReviewTransitionsStayInTheTableWithShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for it := range 6 {
		sp := randomSpecReview(rng, []int{3, 40, maxRules + 2}[it%3])
		if it%2 == 0 {
			sp.shapes = []string{"ddd-dd-dddd", "", "d", "-", "dddd-dddd-dddd-dddd"}
			sp.runs = testRuns
		}
		a := newAutomaton(sp.kws, sp.runs, sp.shapes)
		require.Less(t, len(a.delta), hitFlag)
		require.Equal(t, len(a.delta)/a.nclass, len(a.out))
		require.Equal(t, len(a.out), len(a.level))
		for c := range 256 {
			require.Less(t, int(a.class[c]), a.nclass)
		}
		for i, v := range a.delta {
			st := v &^ hitFlag
			if st%uint32(a.nclass) != 0 || int(st) >= len(a.delta) || (v&hitFlag != 0) != (a.out[st/uint32(a.nclass)] != 0) {
				require.Failf(t, "entry out of the table", "entry %d: %#x (nclass %d, %d entries)", i, v, a.nclass, len(a.delta))
			}
		}
	}
}

// The built-in automaton (and with all the PII kinds: IBAN's run of 9) on
// random text at its thresholds: its keywords, the SSN's shape, the card's
// run of 13.
func TestReviewBuiltinAutomaton(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []Config{{}, {PII: PIIKinds}} {
		r := New(c)
		sp := reviewSpec{r.kws, r.runs, r.shapes}
		for _, n := range lengthsReview(rng, r.ac) {
			for range 20 {
				checkScanReview(t, r.ac, sp, randomTextReview(rng, sp, n), func() string { return fmt.Sprintf("built-in %v", c.PII) })
			}
		}
	}
}

// The automaton of the registered values (Mask) holds the rules' keywords,
// runs and shapes and, as one more rule, the anchors of every encoding of
// each value: it names exactly what the reference names, the rules' bits as
// the plain automaton does, on text with the values (digits, dashes and
// spaces in them) planted at each cut; and Redact leaves none of them.
func TestReviewKnownAutomaton(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	r := New(Config{})
	values := []string{
		redacttest.Gen(redacttest.DigitChars, 14),
		redacttest.Join(redacttest.Gen(redacttest.DigitChars, 3), "-", redacttest.Gen(redacttest.DigitChars, 2), "-", redacttest.Gen(redacttest.DigitChars, 6)),
		redacttest.Join(redacttest.Gen(redacttest.AlnumChars, 5), " ", redacttest.Gen(redacttest.DigitChars, 9)),
		redacttest.Gen(redacttest.URLChars, 24),
	}
	added, _ := r.Mask(values...)
	require.Equal(t, len(values), added)
	k := r.known.Load()
	require.GreaterOrEqual(t, k.bit, 0)
	var anchors []string
	for _, v := range values {
		for _, nd := range needles(v) {
			anchors = append(anchors, strings.ToLower(nd.text[:min(anchorLen, len(nd.text))]))
		}
	}
	sp := reviewSpec{append(slices.Clip(r.kws), anchors), r.runs, r.shapes}
	plain := reviewSpec{r.kws, r.runs, r.shapes}
	for _, n := range lengthsReview(rng, k.ac) {
		for range 15 {
			s := randomTextReview(rng, sp, n)
			checkScanReview(t, k.ac, sp, s, func() string { return "known" })
			got, run := k.ac.scan(s)
			want, wantRun := r.ac.scan(s)
			got[k.bit>>6] &^= 1 << (k.bit & 63)
			require.Equal(t, want, got, "the rules' bits in %q", s)
			require.Equal(t, wantRun, run, "%q", s)
			wantPlain, _ := refScanReview(plain, s)
			require.Equal(t, wantPlain, want, "the plain automaton on %q", s)
		}
	}
	t2, t4 := 2*k.ac.overlap+minSplit, 4*(k.ac.overlap+minSplit)
	for _, n := range []int{t2 - 1, t2, t4 - 1, t4, t4 + 3} {
		for _, v := range values {
			for at := 0; at+len(v) <= n; at++ {
				s := strings.Repeat(".", at) + v + strings.Repeat(".", n-at-len(v))
				out, _, known := r.RedactKnown(s)
				require.True(t, known, "%d at %d of %d", len(v), at, n)
				require.NotContains(t, out, v)
			}
		}
	}
}

// Redact finds an SSN (now woken by its shape, not a run of 9) and a card
// (a run of 13) wherever it is in strings at the built-in automaton's
// thresholds, over fillers that keep or reset runs.
func TestReviewRedactDigitSecretsAtEveryCut(t *testing.T) {
	r := New(Config{})
	samples := redacttest.RuleSamples()
	ov := r.ac.overlap
	t2, t4 := 2*ov+minSplit, 4*(ov+minSplit)
	for _, kind := range []string{"us-ssn", "card-number"} {
		sm := samples[kind]
		for _, n := range []int{t2 - 1, t2, t2 + 1, t4 - 1, t4, t4 + 1, t4 + 3} {
			for _, fill := range []string{"#", " ", "x"} {
				pad := " " + sm.Text + " "
				for at := 0; at+len(pad) <= n; at++ {
					s := strings.Repeat(fill, at) + pad + strings.Repeat(fill, n-at-len(pad))
					out, changed := r.Redact(s)
					require.True(t, changed, "%s at %d of %d", kind, at, n)
					require.NotContains(t, out, sm.Secret, "%s at %d of %d", kind, at, n)
				}
			}
		}
	}
}

// notSecretKey (now the last four bytes) against what it did before (the
// last word, after a space or tab, is "PWD").
func TestReviewNotSecretKeyAgreesWithLastWord(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	old := func(key string) bool {
		if i := strings.LastIndexAny(key, " \t"); i >= 0 {
			key = key[i+1:]
		}
		return key == "PWD"
	}
	pieces := []string{"P", "W", "D", "PWD", " ", "\t", "x", "pwd", "OLD", "_", "\n"}
	for range 50000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		key := b.String()
		if old(key) != notSecretKey(key) {
			require.Equal(t, old(key), notSecretKey(key), "%q", key)
		}
	}
}

// keySet.match with its new shortcuts (inner, last) against the same set
// without them (matchInner tried at every segment end, as before): random
// keys of stems, plurals, separators, camelCase, descriptors and digits,
// with the default keys and with custom ones.
func TestReviewKeySetShortcutsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	pieces := []string{"pass", "word", "Password", "PASSWORD", "_", ".", "-", " ", "s", "S", "es", "token", "Token", "TOKENS",
		"api", "Key", "key", "id", "Id", "type", "current", "Current", "2", "PWD", "secret", "Secrets", "max", "x", "credential",
		"Credentials", "cookie", "Cookies", "count", "policy", "new", "private", "Access", "pin", "Session", "AppWindow", "phrase"}
	for _, keys := range [][]string{DefaultKeys(), append(DefaultKeys(), "hunter2", "x-auth", "Tokens", "pin2")} {
		ks := newKeySet(keys)
		ref := *ks
		ref.inner = true
		for i := range ref.last {
			ref.last[i] = true
		}
		for range 20000 {
			var b strings.Builder
			for range 1 + rng.IntN(5) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			key := b.String()
			if ks.match(key) != ref.match(key) {
				require.Equal(t, ref.match(key), ks.match(key), "%q", key)
			}
		}
	}
}

// Found in review: a.out held each state's index into a.outs as a uint16,
// unchecked (now a uint32, and an automaton that would count digits in too
// many keyword states is blind to them instead: see TestBlindAutomaton).
// The automaton's states are now keyword state × digit level × shape state,
// and each names its keyword rules plus the run length its level is, so the
// distinct rule sets multiply (by up to len(runs)+1 and the shape sets):
// past 65,535 the index wraps and states name another state's rules, so a
// keyword is missed (its rule never runs: a missed redaction) or a rule
// named wrongly. At 06bb0f9 a.outs held one entry per keyword node with
// outputs: here 8,190 (all binary strings of 1 to 12 digits as keywords,
// over 248 rules); with the eight runs 13..20 they make 70,875 sets.
// Held: the automaton builds, and scan agrees with the reference.
func TestReviewManyRuleSetsKeepTheirIndex(t *testing.T) {
	kws := make([][]string, maxRules)
	h := uint32(7)
	for l := 1; l <= maxKeyword; l++ {
		for v := 0; v < 1<<l; v++ {
			b := make([]byte, l)
			for j := range b {
				b[j] = byte('0' + (v>>j)&1)
			}
			h = h*1103515245 + 12345
			kws[int(h>>8)%maxRules] = append(kws[int(h>>8)%maxRules], string(b))
		}
	}
	sp := reviewSpec{kws: kws, runs: []uint32{13, 14, 15, 16, 17, 18, 19, 20}}
	a := newAutomaton(sp.kws, sp.runs, nil)
	t.Logf("%d states, %d distinct rule sets, blind to digits: %v", len(a.out), len(a.outs), a.blind != nil)
	rng := rand.New(rand.NewPCG(71, 72))
	for range 300 {
		b := make([]byte, 40)
		for j := range b {
			b[j] = "01"[rng.IntN(2)]
		}
		checkScanReview(t, a, sp, string(b), func() string { return "numeric keywords, runs 13..20" })
	}
}

// Found in review (the same, through New and Redact): custom rules whose keywords are
// numbers (here 39,523: every number of 1 to 9 digits 0-2, and 10,000 of
// 10, over the 76 rules left below maxRules) give 69,166 distinct rule sets
// with the default runs ({13}) and the SSN's shape, where 06bb0f9 stored
// 39,040 (and redacts the line below): a.out wraps, and a rule whose
// keyword is in the string does not run, so its secret stays, as in
// "1252xx21121012122115 121 1 010 zqla=" and a value (rule 183). It builds in about a second (fourteen under
// the race detector): skipped with -race and -short.
func TestReviewNumericKeywordsThroughNew(t *testing.T) {
	if raceDetector || testing.Short() {
		t.Skip("builds a 240,000-state automaton: about 1 s, 14 s under -race")
	}
	ncust := maxRules - len(builtinRules)
	code := func(i int) string { return string(rune('a'+i%26)) + string(rune('a'+i/26)) }
	rules := make([]Rule, ncust)
	for i := range rules {
		rules[i] = Rule{Kind: "cust-" + code(i), Pattern: regexp.MustCompile(`zq` + code(i) + `=([a-z]{8,})`)}
	}
	h := uint32(7)
	add := func(s string) {
		h = h*1103515245 + 12345
		r := int(h>>8) % ncust
		rules[r].Keywords = append(rules[r].Keywords, s)
	}
	var gen func(prefix string, l int)
	gen = func(prefix string, l int) {
		if len(prefix) == l {
			add(prefix)
			return
		}
		for _, c := range "012" {
			gen(prefix+string(c), l)
		}
	}
	for l := 1; l <= 9; l++ {
		gen("", l)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 10000 {
		b := make([]byte, 10)
		for j := range b {
			b[j] = "012"[rng.IntN(3)]
		}
		add(string(b))
	}
	r := New(Config{Rules: rules})
	t.Logf("%d states, %d distinct rule sets", len(r.ac.out), len(r.ac.outs))
	byKeyword := map[string][]int{} // the reference: every substring looked up
	for i, ru := range rules {
		for _, k := range ru.Keywords {
			byKeyword[k] = append(byKeyword[k], len(builtinRules)+i)
		}
	}
	value := redacttest.Gen(redacttest.LowerChars, 12)
	for range 5000 {
		b := make([]byte, 30)
		for j := range b {
			b[j] = "0120125 x"[rng.IntN(9)]
		}
		s := string(b)
		var want ruleSet
		for p := range s {
			for q := p + 1; q <= min(len(s), p+maxKeyword); q++ {
				for _, i := range byKeyword[s[p:q]] {
					want.add(i)
				}
			}
		}
		got, _ := r.ac.scan(s)
		for i := len(builtinRules); i < maxRules; i++ {
			if want.has(i) && !got.has(i) {
				line := s + " zq" + code(i-len(builtinRules)) + "=" + value
				out, _ := r.Redact(line)
				require.NotContains(t, out, value, "rule %d's keyword is in %q, but scan does not name it (rules %v): its secret stays", i, s, got)
			}
		}
	}
}

// Found in review (latent: New gives runs of 9 and 13 only): newAutomaton takes run
// lengths of any size, but keeps each state's digit level, for joinRun at
// scan's cuts, as a uint8. With a run length over 254, a part that reaches
// a cut at level 256 or more hands joinRun its level modulo 256, which
// counts the run on from there: a run of 310 digits that a cut of four
// parts divides 284 + 26 was reported as none, not as 300. Held:
// newAutomaton panics on a run length its levels cannot hold, and with the
// longest they hold (maxRunLength) scan agrees with the reference across
// the same cut.
func TestReviewLongRunLengths(t *testing.T) {
	sp := reviewSpec{kws: [][]string{{"key"}}, runs: []uint32{300}}
	require.Panics(t, func() { newAutomaton(sp.kws, sp.runs, nil) }, "a run length over maxRunLength")
	sp.runs = []uint32{maxRunLength} // the longest it holds, across the same cut
	a := newAutomaton(sp.kws, sp.runs, nil)
	s := strings.Repeat("x", 20) + strings.Repeat("7", 310) + strings.Repeat("x", 880)
	checkScanReview(t, a, sp, s, func() string { return "a run of 310 across the first cut" })
}

// Found in review (the same at 06bb0f9; known.go compileKnown): the
// anchor of each encoding of a registered value joins the keyword
// automaton as strings.ToLower of its first anchorLen bytes, but the
// automaton folds ASCII capitals only. A non-ASCII capital ("Ä", "É") in
// those bytes is lowered to other bytes, and an invalid UTF-8 byte becomes
// U+FFFD: the anchor never occurs in text, the exact matcher never runs,
// and the value is never redacted ("x Ärgerlich… y" stays as it is).
// Held (the anchors are lowered byte by byte, ASCII only: lowerASCII):
// every registered value is replaced wherever it occurs.
func TestReviewMaskNonASCIICapitals(t *testing.T) {
	r := New(Config{})
	tail := redacttest.Gen(redacttest.AlnumChars, 10)
	values := []string{"\u00c4" + tail, "x\u00c9" + tail, "ab\x80" + tail}
	added, _ := r.Mask(values...)
	require.Equal(t, len(values), added)
	for _, v := range values {
		out, _, known := r.RedactKnown("x " + v + " y")
		assert.True(t, known, "%q registered, not found", v)
		assert.NotContains(t, out, v)
	}
}
