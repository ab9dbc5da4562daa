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
	next   []uint16 // state*nclass + class → state
	out    []uint16 // state → index into outs (0: none)
	outs   []ruleSet
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
	// Failure links (BFS) and the dense transition table.
	n := len(nodes)
	a.next = make([]uint16, n*a.nclass)
	queue := []int{}
	for c := 1; c < a.nclass; c++ {
		if nx, ok := nodes[0].child[uint8(c)]; ok {
			a.next[c] = uint16(nx)
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
				nodes[nx].fail = int(a.next[nodes[s].fail*a.nclass+c])
				a.next[s*a.nclass+c] = uint16(nx)
				queue = append(queue, nx)
			} else {
				a.next[s*a.nclass+c] = a.next[nodes[s].fail*a.nclass+c]
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
	return a
}

// scan returns the rules whose keywords occur in s, and whether s has a run
// of at least minDigitRun digits (single spaces or dashes between them allowed).
func (a *automaton) scan(s string) (cand ruleSet, digits bool) {
	state := 0
	run := 0
	nc := a.nclass
	for i := 0; i < len(s); i++ {
		b := s[i]
		state = int(a.next[state*nc+int(a.class[b])])
		if o := a.out[state]; o != 0 {
			cand.or(&a.outs[o])
		}
		if b-'0' < 10 {
			run++
			if run >= minDigitRun {
				digits = true
			}
		} else if b != ' ' && b != '-' {
			run = 0
		}
	}
	return cand, digits
}
