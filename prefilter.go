package logging

// The prefilter decides, in one pass over a string, which rules could match:
// an Aho–Corasick automaton over every rule's keywords (ASCII
// case-insensitive), compiled to a dense table over byte classes, plus a
// counter of digit runs for the digit rules (cards, SSNs). Only the rules it
// names run their regular expressions, as gitleaks does with rule keywords.

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
	// delta[state + class] is the next state, premultiplied by nclass (so no
	// multiplication per byte), with outFlag set when the state names rules.
	delta []uint32
	out   []uint16 // state index → index into outs (0: none)
	outs  []ruleSet
}

const outFlag = 1 << 31

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
	// Failure links (BFS) and the dense transition table.
	n := len(nodes)
	next := make([]uint16, n*a.nclass)
	queue := []int{}
	for c := 1; c < a.nclass; c++ {
		if nx, ok := nodes[0].child[uint8(c)]; ok {
			next[c] = uint16(nx)
			nodes[nx].fail = 0
			queue = append(queue, nx)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		nodes[s].out.or(&nodes[nodes[s].fail].out)
		for c := 1; c < a.nclass; c++ {
			if nx, ok := nodes[s].child[uint8(c)]; ok {
				nodes[nx].fail = int(next[nodes[s].fail*a.nclass+c])
				next[s*a.nclass+c] = uint16(nx)
				queue = append(queue, nx)
			} else {
				next[s*a.nclass+c] = next[nodes[s].fail*a.nclass+c]
			}
		}
	}
	a.out = make([]uint16, n)
	a.outs = []ruleSet{{}}
	for s := range nodes {
		if !nodes[s].out.empty() {
			a.outs = append(a.outs, nodes[s].out)
			a.out[s] = uint16(len(a.outs) - 1)
		}
	}
	a.delta = make([]uint32, len(next))
	for i, t := range next {
		v := uint32(t) * uint32(a.nclass)
		if a.out[t] != 0 {
			v |= outFlag
		}
		a.delta[i] = v
	}
	return a
}

// scan returns the rules whose keywords occur in s, and whether s has a run
// of at least minDigitRun digits (single spaces or dashes between them allowed).
func (a *automaton) scan(s string) (cand ruleSet, digits bool) {
	var state uint32
	var run, longest uint32
	delta, class := a.delta, &a.class
	nc := uint32(a.nclass)
	for i := 0; i < len(s); i++ {
		b := s[i]
		state = delta[state+uint32(class[b])]
		if state&outFlag != 0 {
			state &^= outFlag
			cand.or(&a.outs[a.out[state/nc]])
		}
		// Digit runs without a branch: a digit adds one, a space or dash
		// keeps the run, anything else resets it.
		run = (run + digitInc[b]) & digitKeep[b]
		longest = max(longest, run)
	}
	return cand, longest >= minDigitRun
}

// digitInc and digitKeep drive the branch-free digit-run counter of scan.
var digitInc, digitKeep = func() (inc, keep [256]uint32) {
	for c := '0'; c <= '9'; c++ {
		inc[c], keep[c] = 1, ^uint32(0)
	}
	keep[' '], keep['-'] = ^uint32(0), ^uint32(0)
	return
}()
