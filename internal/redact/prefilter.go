package redact

// The prefilter decides, in one pass over a string, which rules could match:
// an Aho–Corasick automaton over every rule's keywords (ASCII
// case-insensitive), compiled to a dense table over byte classes, plus a
// counter of digit runs for the digit rules (cards, SSNs). Only the rules it
// names run their regular expressions, as gitleaks does with rule keywords.

import (
	"encoding/binary"
	"sync"
	"unsafe"
)

// ruleSet is a bitset of rule indices.
type ruleSet [4]uint64 // up to 256 rules

func (s *ruleSet) add(i int)      { s[i>>6] |= 1 << (i & 63) }
func (s *ruleSet) has(i int) bool { return s[i>>6]&(1<<(i&63)) != 0 }
func (s *ruleSet) or(t *ruleSet)  { s[0] |= t[0]; s[1] |= t[1]; s[2] |= t[2]; s[3] |= t[3] }
func (s *ruleSet) empty() bool    { return s[0]|s[1]|s[2]|s[3] == 0 }

// maxRules is how many rules the prefilter can name.
const maxRules = 256

type automaton struct {
	class [256]uint8 // byte → class; 0 for bytes in no keyword
	// inc and keep drive scan's branch-free digit-run counter: a digit adds
	// one, a space or dash keeps the run, anything else resets it. They are
	// here, beside class, so that scan reaches all three from one pointer.
	inc, keep [256]uint32
	nclass    int
	// The transition table: entry state+class is the next state,
	// premultiplied by nclass (so no multiplication per byte), with the top
	// bit set when that state names rules. States are numbered breadth
	// first, so the shallow states that clean text visits share cache lines.
	delta []uint32
	out   []uint16 // state index → index into outs (0: none)
	outs  []ruleSet
	// overlap is the longest keyword's length less one: a scan begun that
	// many bytes before a position is in the right state there.
	overlap int
}

// newAutomaton builds the automaton; kws[i] are the keywords of rule i.
func newAutomaton(kws [][]string) *automaton {
	a := &automaton{}
	for c := '0'; c <= '9'; c++ {
		a.inc[c], a.keep[c] = 1, ^uint32(0)
	}
	a.keep[' '], a.keep['-'] = ^uint32(0), ^uint32(0)
	// Byte classes: one per distinct lowercased keyword byte; uppercase
	// ASCII letters share their lowercase class.
	a.nclass = 1
	for _, ks := range kws {
		for _, k := range ks {
			for i := 0; i < len(k); i++ {
				c := lower(k[i])
				if a.class[c] == 0 {
					a.class[c] = uint8(a.nclass)
					a.nclass++
				}
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		a.class[c] = a.class[c+'a'-'A']
	}
	// Trie.
	type node struct {
		child map[uint8]int
		fail  int
		out   ruleSet
	}
	nodes := []node{{child: map[uint8]int{}}}
	for ri, ks := range kws {
		if ri >= maxRules {
			break
		}
		for _, k := range ks {
			s := 0
			for i := 0; i < len(k); i++ {
				c := a.class[lower(k[i])]
				nx, ok := nodes[s].child[c]
				if !ok {
					nodes = append(nodes, node{child: map[uint8]int{}})
					nx = len(nodes) - 1
					nodes[s].child[c] = nx
				}
				s = nx
			}
			if len(k) > 0 {
				nodes[s].out.add(ri)
				a.overlap = max(a.overlap, len(k)-1)
			}
		}
	}
	// Failure links and the dense transition table, breadth first; id
	// renumbers the nodes in that order.
	n := len(nodes)
	id := make([]int, n)
	order := []int{0}
	next := make([]int, n*a.nclass) // by old node number
	for q := 0; q < len(order); q++ {
		s := order[q]
		id[s] = q
		if s != 0 {
			nodes[s].out.or(&nodes[nodes[s].fail].out)
		}
		for c := 1; c < a.nclass; c++ {
			nx, ok := nodes[s].child[uint8(c)]
			if !ok { // follow the failure link (the root stays at the root)
				if s != 0 {
					next[s*a.nclass+c] = next[nodes[s].fail*a.nclass+c]
				}
				continue
			}
			if s != 0 { // the root's children fail to the root, node 0
				nodes[nx].fail = next[nodes[s].fail*a.nclass+c]
			}
			next[s*a.nclass+c] = nx
			order = append(order, nx)
		}
	}
	a.out = make([]uint16, n)
	a.outs = []ruleSet{{}}
	for s := range nodes {
		if !nodes[s].out.empty() {
			a.outs = append(a.outs, nodes[s].out)
			a.out[id[s]] = uint16(len(a.outs) - 1)
		}
	}
	entry := func(old int) uint32 {
		v := uint32(id[old]) * uint32(a.nclass)
		if !nodes[old].out.empty() {
			v |= hitFlag
		}
		return v
	}
	a.delta = make([]uint32, len(next))
	for old := range nodes {
		for c := 0; c < a.nclass; c++ {
			a.delta[id[old]*a.nclass+c] = entry(next[old*a.nclass+c])
		}
	}
	return a
}

// sharedAutomaton is newAutomaton, built once for each set of keywords
// and shared: an automaton is never changed once built, and building one
// for the built-in rules (1,300 states, 2,600 allocations, 1.4 MB) was
// most of what each Setup cost. It keeps the last few sets (a program
// that sets up with one configuration after another builds each once).
func sharedAutomaton(kws [][]string) *automaton {
	var key []byte
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
	a := newAutomaton(kws)
	automata.m[string(key)] = a
	return a
}

// automata holds the automata sharedAutomaton built, by their keywords.
var automata = struct {
	sync.Mutex
	m map[string]*automaton
}{m: map[string]*automaton{}}

const maxSharedAutomata = 8

// scan returns the rules whose keywords occur in s, and the longest run of
// digits in s (single spaces or dashes between them allowed).
//
// Its loop is one dependent load per byte (the next state), plus a
// branch-free digit-run counter. A string long enough is scanned as two
// halves at once, so that the two chains of dependent loads overlap in the
// processor: the second half begins overlap bytes early, where the
// automaton reaches the right state by the half's first byte. A half
// reports no keyword that is not in s (every state is a suffix of what it
// read), the first half reports every keyword ending in it and the second
// every one ending after, so the union is exact. Digit runs are counted per
// half and joined at the cut.
func (a *automaton) scan(s string) (cand ruleSet, digits uint32) {
	var long uint32
	if len(s) < 2*a.overlap+minSplit {
		var state, run uint32
		for i := 0; i < len(s); i++ {
			b := s[i]
			state = a.delta[state+uint32(a.class[b])]
			run = (run + a.inc[b]) & a.keep[b]
			long = max(long, run)
			if state&hitFlag != 0 { // hit, inline: a short string is most strings
				state &^= hitFlag
				cand.or(&a.outs[a.out[state/uint32(a.nclass)]])
			}
		}
		return cand, long
	}
	m := (len(s) + a.overlap) / 2 // the first half is s[:m]
	sa, sb := s[:m], s[m-a.overlap:]
	sb = sb[:len(sa)] // its last byte, if it has one more, is read below
	// Every entry of delta is a state plus a class, within delta: the
	// loop reads it unchecked, which leaves it one value fewer to hold.
	d := unsafe.Pointer(unsafe.SliceData(a.delta)) // TestTransitionsStayInTheTable
	var st1, st2, run1, run2 uint32
	for i := 0; i < len(sa); i++ {
		b1, b2 := sa[i], sb[i]
		st1 = *(*uint32)(unsafe.Add(d, 4*uintptr(st1+uint32(a.class[b1]))))
		st2 = *(*uint32)(unsafe.Add(d, 4*uintptr(st2+uint32(a.class[b2]))))
		run1 = (run1 + a.inc[b1]) & a.keep[b1]
		run2 = (run2 + a.inc[b2]) & a.keep[b2]
		long = max(long, run1, run2)
		if (st1|st2)&hitFlag != 0 {
			st1 = a.hit(&cand, st1)
			st2 = a.hit(&cand, st2)
		}
	}
	if len(s)-(m-a.overlap) > len(sa) { // the second half is one byte longer
		b := s[len(s)-1]
		a.hit(&cand, a.delta[st2+uint32(a.class[b])])
		run2 = (run2 + a.inc[b]) & a.keep[b]
		long = max(long, run2)
	}
	// The second half saw any run that crosses the cut only from where it
	// began; the run that reaches the cut goes on until the next reset.
	if run1 > 0 {
		for j := m; j < len(s) && a.keep[s[j]] != 0; j++ {
			run1 += a.inc[s[j]]
		}
	}
	return cand, max(long, run1)
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

// minSplit is the least length of each half, beyond the overlap, for which
// scan splits a string in two.
const minSplit = 16
