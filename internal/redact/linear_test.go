package redact

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// Redaction must cost O(len(s)) whatever s holds: a client controls the
// headers and paths that get logged, and Go's HTTP server accepts 1 MiB of
// headers. The worst inputs are triggers repeated: every rule, every keyword
// of the automaton, wakes on each copy. TestRedactIsLinear repeats each
// trigger, generated from the rule list, to 16 KiB and to 64 KiB, and
// requires the larger to cost at most maxGrowth times the smaller: linear is
// 4×, quadratic 16×.
const (
	smallInput = 16 << 10
	largeInput = 64 << 10
	maxGrowth  = 6.0
)

// trigger is a unit that TestRedactIsLinear repeats.
type trigger struct{ name, unit string }

// linearTriggers generates the units from the rules themselves, so that a
// new rule or keyword is covered without editing the test:
//   - every keyword the automaton is built from (the rules' keywords): as
//     written, in capitals before = (most patterns are case-sensitive, the
//     keywords are not; = and : make an assignment of it), and before :;
//   - each rule's sample: whole (many secrets, so many spans), after a
//     marker ("[REDACTED:x]" next to each secret), cut in the middle of its
//     secret (a match begun and never finished), cut there and quoted (as
//     in JSON: a quote ends what a pattern's classes would run on), and cut
//     there and followed by the rule's near miss;
//   - the keys of assignments, and those that almost match (a byte short, a
//     byte more), as key=, key: and "key": "; the runs of digits that wake
//     the card and SSN rules; markers alone, well-formed or not.
func linearTriggers(rules []Rule) []trigger {
	samples := redacttest.RuleSamples()
	var out []trigger
	seen := map[string]bool{}
	add := func(name, unit string) {
		if unit != "" && !seen[unit] {
			seen[unit] = true
			out = append(out, trigger{name, unit})
		}
	}
	for _, ru := range rules {
		for _, k := range ru.Keywords {
			add("keyword of "+ru.Kind, k)
			add("keyword= of "+ru.Kind, strings.ToUpper(k)+"=")
			add("keyword: of "+ru.Kind, k+":")
		}
		sm := samples[ru.Kind]
		cut := strings.Index(sm.Text, sm.Secret) + len(sm.Secret)/2
		add("sample of "+ru.Kind, sm.Text)
		add("marker beside the sample of "+ru.Kind, "[REDACTED:x]"+sm.Text)
		add("sample cut of "+ru.Kind, sm.Text[:cut])
		add("sample cut and quoted of "+ru.Kind, `"`+sm.Text[:cut]+`",`)
		add("sample cut and near miss of "+ru.Kind, sm.Text[:cut]+sm.NearMiss)
	}
	for _, k := range slices.Concat(kvSecretStems, kvTokenStems, kvSessionIDStems, DefaultKeys()) {
		for _, key := range []string{k, k[:len(k)-1], k + "s"} {
			add("key", key+"=")
			add("key", key+":")
			add("key", `"`+key+`": "`)
		}
	}
	run := strings.Repeat("1", minDigitRun)
	add("digit run", run+" ")
	add("digit run", "1 ")
	add("digit run", "1-")
	add("digit run", run+"-"+run[:2]+"-")
	add("marker", MarkerPrefix)
	add("marker", Marker)
	add("marker", "[REDACTED:x]")
	add("marker", MarkerPrefix+":x")
	add("marker beside secret", "password="+"ab [REDACTED:x] ")
	return out
}

// repeatTo repeats unit to n bytes or a little more: whole copies, so that
// the two sizes end alike (a cut copy can hold a match that the other size
// lacks), and four times as many at 64 KiB as at 16 KiB.
func repeatTo(unit string, n int) string {
	return strings.Repeat(unit, (smallInput+len(unit)-1)/len(unit)*(n/smallInput))
}

// cost is what Redact costs on an input: the bytes examined outside the
// regexp engine (Redactor.work, deterministic) and the thread's CPU time.
type cost struct {
	work int64
	cpu  time.Duration
}

// measure redacts s runs times in a row and returns the cost of one. With
// collect, it starts with a collection, so that none runs during the
// measure (a collection charges the allocating thread with assists).
func measure(r *Redactor, s string, runs int, collect bool) cost {
	if collect {
		runtime.GC()
		r.Redact(s) // warm: the collection left the caches cold, a cost that does not grow with s
	}
	r.work.Store(0)
	cpu := cpuTime(func() {
		for range runs {
			r.Redact(s)
		}
	})
	return cost{r.work.Load() / int64(runs), cpu / time.Duration(runs)}
}

// TestRedactIsLinear checks, for every trigger, two measures of the cost of
// Redact at 16 KiB and at 64 KiB:
//
//   - the bytes examined by the keyword scan, the hand-written matchers, the
//     validators and the passes over markers and spans, and the input of
//     each regexp call (Redactor.work): a count, so exact on any machine;
//   - the CPU time of the thread, for what that count takes on trust: that
//     a regexp call costs time linear in its input. Thread CPU time leaves out the waits for a core of a loaded
//     machine, but not all interference (a busy sibling hyperthread, the
//     caches, a collection): a trigger whose first measure exceeds the bound
//     is measured again, as the minimum of interleaved runs of each size,
//     each after a collection, where a run of the small input is four in a
//     row, as long as one of the large, so that bursts of load cannot favour
//     one size; interference only slows runs down, so a minimum cannot fake
//     a ratio. If the whole call still grows past the bound, each rule the
//     trigger wakes is timed alone on both sizes, and it is their growth
//     that must stay within it: the rest of the call is counted in work,
//     and its time also holds what grows a little faster than the input on
//     a loaded machine without being work (a large output's allocation,
//     cold caches after a collection).
//
// The race detector slows both sizes alike, so that the ratios hold under
// it; but it slows the regexps tenfold, so that under it the test measures
// one trigger in three (which still covers every rule and every kind of
// trigger): 14 s of CPU instead of 42.
func TestRedactIsLinear(t *testing.T) {
	const timingRounds = 8
	r := New(Config{PII: PIIKinds}) // the opt-in personal-data rules too
	r.work = new(atomic.Int64)
	triggers := linearTriggers(r.rules)
	assert.Greater(t, len(triggers), 600)
	for i, tr := range triggers {
		if raceDetector && i%3 != 0 {
			continue
		}
		small, large := repeatTo(tr.unit, smallInput), repeatTo(tr.unit, largeInput)
		a, b := measure(r, small, 1, false), measure(r, large, 1, false)
		if float64(b.work) > maxGrowth*float64(a.work) || a.work == 0 && b.work != 0 {
			t.Errorf("%s %q: %d bytes examined at %d KiB, %d at %d KiB", tr.name, tr.unit, a.work, len(small)>>10, b.work, len(large)>>10)
		}
		if float64(b.cpu) > maxGrowth*float64(a.cpu) {
			a.cpu, b.cpu = measure(r, small, 4, true).cpu, measure(r, large, 1, true).cpu
			for i := 1; i < timingRounds && float64(b.cpu) > maxGrowth*float64(a.cpu); i++ {
				if i%2 == 0 {
					a.cpu, b.cpu = min(a.cpu, measure(r, small, 4, true).cpu), min(b.cpu, measure(r, large, 1, true).cpu)
				} else {
					b.cpu, a.cpu = min(b.cpu, measure(r, large, 1, true).cpu), min(a.cpu, measure(r, small, 4, true).cpu)
				}
			}
		}
		if float64(b.cpu) > maxGrowth*float64(a.cpu) {
			// What grows past the bound outside the rules is counted in
			// work, exactly, above (a large output's allocation, collected
			// memory, a busy cache make the whole call's time grow a little
			// faster than linear on a loaded machine): it is the rules',
			// each timed alone, that must stay in bounds.
			if by, worst := ruleGrowth(r, small, large); worst > maxGrowth {
				t.Errorf("%s %q: %v at %d KiB, %v at %d KiB (%.1f×); by rule: %s", tr.name, tr.unit,
					a.cpu, len(small)>>10, b.cpu, len(large)>>10, float64(b.cpu)/float64(a.cpu), by)
			}
		}
	}
}

// ruleGrowth times each rule that the automaton wakes on both inputs
// (the least of five interleaved runs of each) and returns their growths,
// named, and the largest.
func ruleGrowth(r *Redactor, small, large string) (string, float64) {
	cand, run := r.ac.scan(small)
	digits := run >= minDigitRun
	var out []string
	worst := 0.0
	for i, ru := range r.rules {
		if !cand.has(i) && !(digits && ru.digits) && !(len(ru.Keywords) == 0 && !ru.digits) {
			continue
		}
		a, b := time.Duration(1<<62), time.Duration(1<<62)
		for range 5 {
			a = min(a, cpuTime(func() { r.try(i, small, found{}) }))
			b = min(b, cpuTime(func() { r.try(i, large, found{}) }))
		}
		g := float64(b) / float64(max(a, 1))
		worst = max(worst, g)
		out = append(out, fmt.Sprintf("%s %.1f×", ru.Kind, g))
	}
	return strings.Join(out, ", "), worst
}

// The timing of rules alone tells a rule whose time grows with the square
// of its input: one that looks at every later byte from every byte (and
// reports less work than it does, so that only its time shows it).
func TestRuleGrowthCatchesQuadratic(t *testing.T) {
	r := New(Config{})
	var sinkN int
	r.rules = append(r.rules, Rule{Kind: "quadratic", find: func(s string, out [][2]int) ([][2]int, int) {
		for i := range len(s) {
			for j := i; j < len(s); j++ {
				sinkN += int(s[j])
			}
		}
		return out, len(s)
	}})
	small, large := strings.Repeat("ab ", 700), strings.Repeat("ab ", 2800) // 4×
	by, worst := ruleGrowth(r, small, large)
	assert.Greater(t, worst, maxGrowth, by)
	assert.Contains(t, by, "quadratic")
}
