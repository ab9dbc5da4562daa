package redact

// The prefilter decides, in one pass over a string, which rules could match:
// an Aho–Corasick automaton over every rule's keywords (ASCII
// case-insensitive), compiled to a dense table over byte classes, plus a
// counter of digit runs for the digit rules (cards, SSNs). Only the rules it
// names run their regular expressions, as gitleaks does with rule keywords.

import (
	"encoding/binary"
	"sync"
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
	class  [256]uint8 // byte → class; 0 for bytes in no keyword
	nclass int
	// The transition table: entry state+class is the next state,
	// premultiplied by nclass (so no multiplication per byte), with the top
	// bit set when that state names rules. States are numbered breadth
	// first, so the shallow states that clean text visits share cache lines.
	// delta16 is used when every entry fits 15 bits (the built-in rules need
	// 57 KiB that way instead of 114), else delta32.
	delta16 []uint16
	delta32 []uint32
	out     []uint16 // state index → index into outs (0: none)
	outs    []ruleSet
}

// newAutomaton builds the automaton; kws[i] are the keywords of rule i.
func newAutomaton(kws [][]string) *automaton {
	a := &automaton{}
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
			v |= 1 << 31
		}
		return v
	}
	small := n*a.nclass < 1<<15
	if small {
		a.delta16 = make([]uint16, len(next))
	} else {
		a.delta32 = make([]uint32, len(next))
	}
	for old := range nodes {
		for c := 0; c < a.nclass; c++ {
			v := entry(next[old*a.nclass+c])
			i := id[old]*a.nclass + c
			if small {
				a.delta16[i] = uint16(v&^(1<<31)) | uint16(v>>31)<<15
			} else {
				a.delta32[i] = v
			}
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
func (a *automaton) scan(s string) (cand ruleSet, digits uint32) {
	if a.delta16 != nil {
		return scanWith(a, a.delta16, 1<<15, s)
	}
	return scanWith(a, a.delta32, 1<<31, s)
}

// scanWith is scan over a table of either width; flag is its top bit. Its
// loop is one dependent load per byte (the next state), plus a branch-free
// digit-run counter.
func scanWith[T uint16 | uint32](a *automaton, delta []T, flag uint32, s string) (cand ruleSet, digits uint32) {
	var state, run, longest uint32
	class := &a.class
	nc := uint32(a.nclass)
	for i := 0; i < len(s); i++ {
		b := s[i]
		state = uint32(delta[state+uint32(class[b])])
		if state&flag != 0 {
			state &^= flag
			cand.or(&a.outs[a.out[state/nc]])
		}
		// A digit adds one, a space or dash keeps the run, anything else
		// resets it.
		run = (run + digitInc[b]) & digitKeep[b]
		longest = max(longest, run)
	}
	return cand, longest
}

// digitInc and digitKeep drive the branch-free digit-run counter of scan.
var digitInc, digitKeep = func() (inc, keep [256]uint32) {
	for c := '0'; c <= '9'; c++ {
		inc[c], keep[c] = 1, ^uint32(0)
	}
	keep[' '], keep['-'] = ^uint32(0), ^uint32(0)
	return
}()
