package redact

// The prefilter decides, in one pass over a string, which rules could match:
// an Aho–Corasick automaton over every rule's keywords (ASCII
// case-insensitive), compiled to a dense table over byte classes, whose
// states also count the current run of digits, so that the digit rules
// (cards, SSNs) wake on a run long enough for them. Only the rules it names
// run their regular expressions, as gitleaks does with rule keywords.

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"unsafe"
)

// ruleSet is a bitset of rule indices.
type ruleSet [4]uint64 // up to 256 rules

func (s *ruleSet) add(i int)      { s[i>>6] |= 1 << (i & 63) }
func (s *ruleSet) has(i int) bool { return s[i>>6]&(1<<(i&63)) != 0 }
func (s *ruleSet) or(t *ruleSet)  { s[0] |= t[0]; s[1] |= t[1]; s[2] |= t[2]; s[3] |= t[3] }
func (s *ruleSet) empty() bool    { return s[0]|s[1]|s[2]|s[3] == 0 }

// maxRules is how many rules the prefilter can name. The bits above it, in
// the sets the automaton builds, stand for the digit-run lengths it
// reports (runBit); scan takes them out before it returns.
const maxRules = 256 - maxRuns

// maxRuns is how many digit-run lengths an automaton can report.
const maxRuns = 8

// maxKeyword is the most bytes of a keyword that the automaton looks for.
const maxKeyword = 12

// runBit is the bit that stands for the automaton's j-th run length.
func runBit(j int) int { return maxRules + j }

type automaton struct {
	class [256]uint8 // byte → class: its keyword class and whether it is a digit, a separator or neither
	// inc and keep count a digit run the plain way: a digit adds one, a
	// space or dash keeps the run, anything else resets it. Only scan's
	// join at its cuts, and a blind automaton's count, use them.
	inc, keep [256]uint32
	nclass    int
	// The transition table: entry state+class is the next state,
	// premultiplied by nclass (so no multiplication per byte), with the top
	// bit set when that state names rules or a run length. States are
	// numbered breadth first, so the shallow states that clean text visits
	// share cache lines.
	delta []uint32
	out   []uint32 // state index → index into outs (0: none)
	outs  []ruleSet
	// level is, for each state, the digits in the current run (see runs),
	// for scan's join at its cut.
	level []uint8
	// runs are the run lengths scan reports, ascending. A state is a
	// keyword state, a shape state and a level: the digits in the current
	// run, 0 to the longest of runs, then one level more for "longer,
	// already reported".
	// Entering level runs[j] (from the level below, on a digit) names
	// runBit(j); the longest run after that costs nothing more.
	runs []uint32
	// overlap is the longest keyword's length less one: a scan begun that
	// many bytes before a position is in the right keyword state there.
	overlap int
	// blind, when set, says that the states count no digits and find no
	// shapes: counting them would have made too many (see newAutomaton);
	// scan then counts the runs in a pass of its own and names the shapes'
	// rules on every string.
	blind *blindScan
}

// blindScan is what an automaton whose states count no digits reports
// apart from them: the run lengths it counts, and the rules with a shape.
type blindScan struct {
	runs   []uint32
	shapes ruleSet
}

// newAutomaton builds the automaton; kws[i] are the keywords of rule i,
// runs the digit-run lengths it reports (ascending, at most maxRuns), and
// shapes[i], if there is one, the shape of rule i's secrets: 'd' for a
// digit, '-' for a dash ("ddd-dd-dddd": an SSN), which names the rule
// wherever it occurs, as a keyword does.
func newAutomaton(kws [][]string, runs []uint32, shapes []string) *automaton {
	if len(runs) > maxRuns {
		panic("redact: more digit-run lengths than the automaton reports")
	}
	for i, r := range runs {
		if r == 0 || r > maxRunLength || i > 0 && r <= runs[i-1] {
			panic("redact: the digit-run lengths must ascend, from 1 to maxRunLength")
		}
	}
	a := &automaton{runs: runs}
	for c := '0'; c <= '9'; c++ {
		a.inc[c], a.keep[c] = 1, ^uint32(0)
	}
	a.keep[' '], a.keep['-'] = ^uint32(0), ^uint32(0)
	// The keywords, by their first maxKeyword bytes, over byte classes:
	// one per distinct lowercased keyword byte (uppercase ASCII letters
	// share their lowercase class), 0 for bytes in no keyword.
	nkw := 1
	words := make([][]string, len(kws))
	for i, ks := range kws {
		for _, k := range ks {
			k = k[:min(len(k), maxKeyword)]
			for j := 0; j < len(k); j++ {
				if c := lower(k[j]); a.class[c] == 0 {
					a.class[c] = uint8(nkw)
					nkw++
				}
			}
			words[i] = append(words[i], k)
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		a.class[c] = a.class[c+'a'-'A']
	}
	ac, acOut, long := ahoCorasick(words, func(c byte) uint32 { return uint32(a.class[lower(c)]) }, nkw)
	// The shapes, over the kinds of byte below.
	anyShape := false
	shapeWords := make([][]string, len(shapes))
	for i, sh := range shapes {
		if sh != "" {
			shapeWords[i], anyShape = []string{sh}, true
		}
	}
	sh, shOut, shLong := ahoCorasick(shapeWords, func(c byte) uint32 {
		if c == 'd' {
			return kindDigit
		}
		return kindDash
	}, 4)
	a.overlap = max(long, shLong, 1) - 1
	// The states count digits and find shapes unless that makes more than
	// a few times the keyword states: digits in keywords (the anchors of
	// numeric values registered with Mask, a custom rule's numbers) pair
	// each keyword state with each level. Past that, the automaton is
	// blind to digits and shapes, and scan counts them apart.
	kwClass := a.class
	limit := 4*len(acOut) + 4096
	if a.digitStates(ac, nkw)*(maxLevel(runs)+1) > limit || !a.product(ac, nkw, acOut, sh, shOut, anyShape, limit) {
		var shaped ruleSet
		for _, o := range shOut {
			shaped.or(&o)
		}
		a.class, a.runs = kwClass, nil
		a.blind = &blindScan{runs: runs, shapes: shaped}
		a.product(ac, nkw, acOut, make([]uint32, 4), []ruleSet{{}}, false, -1) // no shapes
	}
	return a
}

// digitStates counts the keyword states that a digit leads to, other than
// the root: each may be paired with every level, so that their number,
// times the levels, foretells the states that counting digits adds.
func (a *automaton) digitStates(ac []uint32, nkw int) int {
	var digit [256]bool // the classes of digits
	for c := '0'; c <= '9'; c++ {
		digit[a.class[c]] = true
	}
	seen := make([]bool, len(ac)/nkw)
	n := 0
	for i, t := range ac {
		if t != 0 && digit[i%nkw] && !seen[t] {
			seen[t] = true
			n++
		}
	}
	return n
}

// maxLevel is the highest digit level of an automaton reporting runs: one
// past the longest (0 for none).
func maxLevel(runs []uint32) int {
	if len(runs) == 0 {
		return 0
	}
	return int(runs[len(runs)-1]) + 1
}

// maxRunLength is the longest digit run an automaton's levels can count.
const maxRunLength = 254

// product builds the automaton's classes and states from the keyword
// automaton (ac, nkw classes, acOut) and the shapes' (sh, shOut), with a
// digit level for each of a.runs, and reports false, having built nothing
// usable, if it would have more than limit states (limit < 0: no limit).
func (a *automaton) product(ac []uint32, nkw int, acOut []ruleSet, sh []uint32, shOut []ruleSet, anyShape bool, limit int) bool {
	runs := a.runs
	// Byte classes: the keyword class and the kind of each byte, numbered
	// in byte order.
	kind := func(b int) uint32 {
		switch {
		case a.inc[b] != 0 && (len(runs) > 0 || anyShape):
			return kindDigit
		case b == '-' && anyShape:
			return kindDash
		case a.keep[b] != 0 && len(runs) > 0:
			return kindSpace // a separator: a space, or a dash no shape needs
		}
		return kindOther
	}
	type pair struct{ kw, kind uint32 }
	var pairs []pair
	for b := range 256 {
		p := pair{uint32(a.class[b]), kind(b)}
		c := len(pairs)
		for i, q := range pairs {
			if q == p {
				c = i
			}
		}
		if c == len(pairs) {
			pairs = append(pairs, p)
		}
		a.class[b] = uint8(c)
	}
	a.nclass = len(pairs)
	// The states: a keyword state, a level and a shape state each, breadth
	// first from the root.
	longer := uint32(maxLevel(runs)) // the level past the longest run
	type state struct{ kw, level, shape uint32 }
	id := map[state]uint32{{}: 0}
	order := []state{{}}
	var next []uint32 // by state id and class
	for q := 0; q < len(order); q++ {
		st := order[q]
		for _, p := range pairs {
			nx := state{ac[int(st.kw)*nkw+int(p.kw)], st.level, sh[int(st.shape)*4+int(p.kind)]}
			switch {
			case len(runs) == 0 || p.kind == kindOther:
				nx.level = 0
			case p.kind == kindDigit:
				nx.level = min(st.level+1, longer)
			}
			i, ok := id[nx]
			if !ok {
				if limit >= 0 && len(order) >= limit {
					return false
				}
				i = uint32(len(order))
				id[nx] = i
				order = append(order, nx)
			}
			next = append(next, i)
		}
	}
	// What each state names: its keywords' and its shape's rules, and the
	// run length its level is, if it is one of runs.
	a.out = make([]uint32, len(order))
	a.level = make([]uint8, len(order))
	a.outs = []ruleSet{{}}
	index := map[ruleSet]uint32{{}: 0}
	for i, st := range order {
		set := acOut[st.kw]
		set.or(&shOut[st.shape])
		for j, r := range runs {
			if st.level == r {
				set.add(runBit(j))
			}
		}
		o, ok := index[set]
		if !ok {
			o = uint32(len(a.outs))
			index[set] = o
			a.outs = append(a.outs, set)
		}
		a.out[i] = o
		a.level[i] = uint8(st.level)
	}
	a.delta = make([]uint32, len(next))
	for i, nx := range next {
		a.delta[i] = nx * uint32(a.nclass)
		if a.out[nx] != 0 {
			a.delta[i] |= hitFlag
		}
	}
	return true
}

// The kinds of byte that digit runs and shapes tell apart.
const (
	kindOther = iota
	kindDigit
	kindSpace // or a dash, when no shape needs dashes
	kindDash
)

// ahoCorasick builds the Aho–Corasick automaton of words (words[i]: those
// of rule i, the rules below maxRules only) over nclass classes, class
// giving each byte's. It returns the transitions (by state and class,
// states numbered breadth first from the root, 0), the rules each state
// names, and the longest word's length.
func ahoCorasick(words [][]string, class func(byte) uint32, nclass int) (next []uint32, out []ruleSet, long int) {
	type node struct {
		child map[uint32]int
		fail  int
		out   ruleSet
	}
	nodes := []node{{child: map[uint32]int{}}}
	for ri, ks := range words {
		if ri >= maxRules {
			break
		}
		for _, k := range ks {
			s := 0
			for i := 0; i < len(k); i++ {
				c := class(k[i])
				nx, ok := nodes[s].child[c]
				if !ok {
					nodes = append(nodes, node{child: map[uint32]int{}})
					nx = len(nodes) - 1
					nodes[s].child[c] = nx
				}
				s = nx
			}
			if len(k) > 0 {
				nodes[s].out.add(ri)
				long = max(long, len(k))
			}
		}
	}
	// Failure links and the transitions, breadth first; id renumbers the
	// nodes in that order.
	n := len(nodes)
	id := make([]int, n)
	order := []int{0}
	byNode := make([]int, n*nclass) // by old node number
	for q := 0; q < len(order); q++ {
		s := order[q]
		id[s] = q
		if s != 0 {
			nodes[s].out.or(&nodes[nodes[s].fail].out)
		}
		for c := 0; c < nclass; c++ {
			nx, ok := nodes[s].child[uint32(c)]
			if !ok { // follow the failure link (the root stays at the root)
				if s != 0 {
					byNode[s*nclass+c] = byNode[nodes[s].fail*nclass+c]
				}
				continue
			}
			if s != 0 { // the root's children fail to the root, node 0
				nodes[nx].fail = byNode[nodes[s].fail*nclass+c]
			}
			byNode[s*nclass+c] = nx
			order = append(order, nx)
		}
	}
	next = make([]uint32, n*nclass)
	out = make([]ruleSet, n)
	for old := range nodes {
		out[id[old]] = nodes[old].out
		for c := 0; c < nclass; c++ {
			next[id[old]*nclass+c] = uint32(id[byNode[old*nclass+c]])
		}
	}
	return next, out, long
}

// sharedAutomaton is newAutomaton, built once for each set of keywords
// and shared: an automaton is never changed once built, and building one
// for the built-in rules (1,300 states, 2,600 allocations, 1.4 MB) was
// most of what each Setup cost. It keeps the last few sets (a program
// that sets up with one configuration after another builds each once).
func sharedAutomaton(kws [][]string, runs []uint32, shapes []string) *automaton {
	key := binary.AppendUvarint(nil, uint64(len(runs)))
	for _, r := range runs {
		key = binary.AppendUvarint(key, uint64(r))
	}
	key = binary.AppendUvarint(key, uint64(len(shapes)))
	for _, sh := range shapes {
		key = binary.AppendUvarint(key, uint64(len(sh)))
		key = append(key, sh...)
	}
	for _, ks := range kws {
		key = binary.AppendUvarint(key, uint64(len(ks)))
		for _, k := range ks {
			key = binary.AppendUvarint(key, uint64(len(k)))
			key = append(key, k...)
		}
	}
	automata.Lock()
	defer automata.Unlock()
	if a, ok := automata.m[string(key)]; ok {
		return a
	}
	if len(automata.m) >= maxSharedAutomata {
		clear(automata.m)
	}
	a := newAutomaton(kws, runs, shapes)
	automata.m[string(key)] = a
	return a
}

// automata holds the automata sharedAutomaton built, by their keywords.
var automata = struct {
	sync.Mutex
	m map[string]*automaton
}{m: map[string]*automaton{}}

const maxSharedAutomata = 8

// scan returns the rules one of whose keywords (its first maxKeyword
// bytes) occurs in s, and the longest of the automaton's runs that the
// longest run of digits in s (spaces and dashes between them allowed)
// reaches, 0 if none: for each of runs, run >= it exactly when such a run
// holds that many digits.
//
// Its loop is one dependent load per byte (the next state): the states
// count the digits too. A string long enough is scanned as two parts, or
// four, at once, so that their chains of dependent loads overlap in the
// processor: each part after the first begins overlap bytes early, where
// the automaton reaches the right keyword state by the part's first byte.
// A part reports no keyword that is not in s (every state is a suffix of
// what it read), and each reports every keyword that ends in it, so the
// union is exact. A digit run that crosses a cut is counted on from the
// level of the part it began in (joinRun).
func (a *automaton) scan(s string) (cand ruleSet, run uint32) {
	switch {
	case len(s) >= 4*(a.overlap+minSplit):
		cand, run = a.scan4(s)
	case len(s) >= 2*a.overlap+minSplit:
		cand, run = a.scan2(s)
	default:
		cand, run = a.scan1(s)
	}
	if a.blind != nil {
		run = a.blind.add(&cand, s, a)
	}
	return cand, run
}

// scan1 is scan in one part.
func (a *automaton) scan1(s string) (cand ruleSet, run uint32) {
	var state uint32
	for i := 0; i < len(s); i++ {
		state = a.delta[state+uint32(a.class[s[i]])]
		if state&hitFlag != 0 { // hit, inline: a short string is most strings
			state &^= hitFlag
			cand.or(&a.outs[a.out[state/uint32(a.nclass)]])
		}
	}
	return cand, a.takeRuns(&cand)
}

// add is what a blind automaton's scan adds to the keywords its states
// found: the rules with a shape, whatever s holds, and the run lengths,
// counted in a pass of its own over s with a's inc and keep (it returns
// the longest reached, 0 if none).
func (b *blindScan) add(cand *ruleSet, s string, a *automaton) (run uint32) {
	cand.or(&b.shapes)
	var n, long uint32
	for i := 0; i < len(s); i++ {
		n = (n + a.inc[s[i]]) & a.keep[s[i]]
		long = max(long, n)
	}
	for _, r := range b.runs {
		if r <= long {
			run = r
		}
	}
	return run
}

// scan2 is scan in two parts: s[:m], and s[m:] begun overlap bytes early.
func (a *automaton) scan2(s string) (cand ruleSet, run uint32) {
	m := (len(s) + a.overlap) / 2 // the first part is s[:m]
	sa, sb := s[:m], s[m-a.overlap:]
	sb = sb[:len(sa)] // its last byte, if it has one more, is read below
	// Every entry of delta is a state plus a class, within delta: the
	// loop reads it unchecked, which leaves it one value fewer to hold.
	d := unsafe.Pointer(unsafe.SliceData(a.delta)) // TestTransitionsStayInTheTable
	var st1, st2 uint32
	for i := 0; i < len(sa); i++ {
		st1 = *(*uint32)(unsafe.Add(d, 4*uintptr(st1+uint32(a.class[sa[i]]))))
		st2 = *(*uint32)(unsafe.Add(d, 4*uintptr(st2+uint32(a.class[sb[i]]))))
		if (st1|st2)&hitFlag != 0 {
			st1 = a.hit(&cand, st1)
			st2 = a.hit(&cand, st2)
		}
	}
	if len(s)-(m-a.overlap) > len(sa) { // the second part is one byte longer
		a.hit(&cand, a.delta[st2+uint32(a.class[s[len(s)-1]])])
	}
	if a.keep[s[m-1]] != 0 {
		a.joinRun(&cand, s, m, st1)
	}
	return cand, a.takeRuns(&cand)
}

// scan4 is scan in four parts of n bytes each, the last up to three bytes
// longer: s[:c1], and s[c1:c2], s[c2:c3] and s[c3:], each begun overlap
// bytes early.
func (a *automaton) scan4(s string) (cand ruleSet, run uint32) {
	ov := a.overlap
	n := (len(s) + 3*ov) / 4
	c1, c2, c3 := n, 2*n-ov, 3*n-2*ov
	s0, s1, s2, s3 := s[:n], s[c1-ov:], s[c2-ov:], s[c3-ov:]
	s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)] // for the compiler: no bounds checks below
	d := unsafe.Pointer(unsafe.SliceData(a.delta))        // TestTransitionsStayInTheTable
	var st0, st1, st2, st3 uint32
	for i := 0; i < len(s0); i++ {
		st0 = *(*uint32)(unsafe.Add(d, 4*uintptr(st0+uint32(a.class[s0[i]]))))
		st1 = *(*uint32)(unsafe.Add(d, 4*uintptr(st1+uint32(a.class[s1[i]]))))
		st2 = *(*uint32)(unsafe.Add(d, 4*uintptr(st2+uint32(a.class[s2[i]]))))
		st3 = *(*uint32)(unsafe.Add(d, 4*uintptr(st3+uint32(a.class[s3[i]]))))
		if (st0|st1|st2|st3)&hitFlag != 0 {
			st0 = a.hit(&cand, st0)
			st1 = a.hit(&cand, st1)
			st2 = a.hit(&cand, st2)
			st3 = a.hit(&cand, st3)
		}
	}
	for j := c3 - ov + n; j < len(s); j++ { // the last part's extra bytes
		st3 = a.hit(&cand, a.delta[st3+uint32(a.class[s[j]])])
	}
	// A part that ends in a run ends with a digit, space or dash.
	if a.keep[s[c1-1]] != 0 {
		a.joinRun(&cand, s, c1, st0)
	}
	if a.keep[s[c2-1]] != 0 {
		a.joinRun(&cand, s, c2, st1)
	}
	if a.keep[s[c3-1]] != 0 {
		a.joinRun(&cand, s, c3, st2)
	}
	return cand, a.takeRuns(&cand)
}

// joinRun counts on, from s[m], the digit run that a part of scan ended in
// (in state, without its hit flag), and adds the run lengths it reaches to
// cand: the next part saw that run only from where it began. The part the
// run began in saw it whole until m, so that this is its exact length.
func (a *automaton) joinRun(cand *ruleSet, s string, m int, state uint32) {
	level := uint32(a.level[state/uint32(a.nclass)])
	if level == 0 || level >= a.runs[len(a.runs)-1] {
		return // no run, or one past the longest length: reported
	}
	n := level
	for j := m; j < len(s) && a.keep[s[j]] != 0; j++ {
		n += a.inc[s[j]]
	}
	for j, r := range a.runs {
		if level < r && r <= n {
			cand.add(runBit(j))
		}
	}
}

// takeRuns takes the run-length bits out of cand and returns the longest
// of runs they name, 0 if none.
func (a *automaton) takeRuns(cand *ruleSet) uint32 {
	b := cand[3] >> (maxRules - 192)
	if b == 0 {
		return 0
	}
	cand[3] &^= b << (maxRules - 192)
	return a.runs[bits.Len64(b)-1]
}

// hitFlag marks, in a transition, a state that names rules.
const hitFlag = 1 << 31

// hit adds the rules that state names, if its flag is set, to cand, and
// returns state without the flag. It is not inlined: out of scan's loops,
// it leaves them fewer values to hold.
//
//go:noinline
func (a *automaton) hit(cand *ruleSet, state uint32) uint32 {
	if state&hitFlag != 0 {
		state &^= hitFlag
		cand.or(&a.outs[a.out[state/uint32(a.nclass)]])
	}
	return state
}

// minSplit is the least length of each part, beyond the overlap, for which
// scan splits a string in parts.
const minSplit = 16
