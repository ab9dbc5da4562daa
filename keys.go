package logging

import (
	"bytes"
	"strconv"
)

// Every key a record writes is unique at its level (JSON: within its
// object; TEXT: in the line, where group keys are flattened), and no attr
// takes the name of one of the record's own fields: a key already written
// at its level, or reserved, is written as key#2, key#3, … JSON readers
// (Go's encoding/json, Python, jq, Loki's `| json`) keep the last of two
// equal keys, so without this an attr "level":"CRITICAL" or
// "msg":"forged" would replace the record's own.

// reservedKeys are the record's own fields in each format and schema;
// attrs never take these names at the top level.
var reservedKeys = [2][]string{
	{"time", "level", "logger", "msg", "source"},                            // slog schema and TEXT
	{"timestamp", "level", "name", "message", "module", "function", "line"}, // Codomyrmex schema
}

// keySpan is where a written key is in the buffer: the name's bytes as
// written (JSON: escaped, without the quotes; TEXT: as written).
type keySpan struct{ start, end int32 }

// keyLevel is one level of nesting: where its keys start among the
// spans, and a Bloom filter of them (256 bits: a record's dozen keys rarely
// send a new key to the exact comparison).
type keyLevel struct {
	first int
	bloom [4]uint64
	// names holds every name of a level past manyKeys names, for exact
	// tests that do not scan the level; next the next suffix to try for a
	// name already renamed. Both are made only when needed.
	names map[string]struct{}
	next  map[string]int
}

// manyKeys is how many names a level holds before it keeps them in a map.
const manyKeys = 32

// keySet remembers the keys written in a record, per level. It holds no
// pointer in its inline part, so it costs no write barrier.
type keySet struct {
	spans    [32]keySpan
	more     []keySpan // beyond the inline spans (records with many keys)
	n        int
	cur      keyLevel
	depth    int      // 0: the top level, where reserved names apply
	top      keyLevel // the top level, saved when a group was entered from it
	topEnd   int      // how many keys there were then
	reserved []string // the record's own fields
}

// keyBits are the two Bloom filter bits of a name (word and bit each),
// hashed from the name as written: escaping is not one to one (the byte
// 0xff and the text \xff are both written \\xff), and what must be unique
// is what a reader sees.
type keyBits struct {
	w1, w2 int
	b1, b2 uint64
}

func keyBit(k []byte) keyBits {
	h := uint64(len(k)) << 16
	if len(k) > 0 { // a few bytes do: a false hit only costs an exact test
		h |= uint64(k[0])<<8 | uint64(k[len(k)-1])
	}
	h *= 0x9E3779B97F4A7C15
	return keyBits{int(h>>62) & 3, int(h>>46) & 3, 1 << (h >> 56 & 63), 1 << (h >> 40 & 63)}
}

// in reports whether both bits are set in f.
func (b keyBits) in(f *[4]uint64) bool { return f[b.w1]&b.b1 != 0 && f[b.w2]&b.b2 != 0 }

// set sets both bits in f.
func (b keyBits) set(f *[4]uint64) {
	f[b.w1] |= b.b1
	f[b.w2] |= b.b2
}

// reservedBloom is the Bloom filter of each list of reservedKeys.
var reservedBloom = func() (f [2][4]uint64) {
	for i, ks := range reservedKeys {
		for _, k := range ks {
			keyBit([]byte(k)).set(&f[i])
		}
	}
	return f
}()

// init starts a record with the reserved names of its format.
func (s *keySet) init(codo bool) {
	i := 0
	if codo {
		i = 1
	}
	s.reserved, s.cur.bloom = reservedKeys[i], reservedBloom[i]
}

func (s *keySet) span(i int) keySpan {
	if i < len(s.spans) {
		return s.spans[i]
	}
	return s.more[i-len(s.spans)]
}

// claim records the name written in buf[start:end] at the current level
// and reports whether it was free (neither written there before nor
// reserved).
func (s *keySet) claim(buf []byte, start, end int) bool {
	return s.claimBits(keyBit(buf[start:end]), buf, start, end)
}

// claimBits is claim with the name's Bloom filter bits computed.
func (s *keySet) claimBits(b keyBits, buf []byte, start, end int) bool {
	name := buf[start:end]
	if b.in(&s.cur.bloom) && s.taken(buf, name) {
		return false
	}
	b.set(&s.cur.bloom)
	if s.cur.names != nil {
		s.cur.names[string(name)] = struct{}{}
	} else if s.n-s.cur.first >= manyKeys {
		s.index(buf, name)
	}
	s.add(keySpan{int32(start), int32(end)})
	return true
}

// add appends a span at the current level.
func (s *keySet) add(sp keySpan) {
	if s.n < len(s.spans) {
		s.spans[s.n] = sp
	} else {
		s.more = append(s.more, sp)
	}
	s.n++
}

// taken is the exact test behind a Bloom filter hit.
func (s *keySet) taken(buf, name []byte) bool {
	if s.depth == 0 {
		for _, k := range s.reserved {
			if len(k) == len(name) && string(name) == k {
				return true
			}
		}
	}
	if s.cur.names != nil {
		_, ok := s.cur.names[string(name)]
		return ok
	}
	for i := s.cur.first; i < s.n; i++ {
		sp := s.span(i)
		if int(sp.end-sp.start) == len(name) && bytes.Equal(buf[sp.start:sp.end], name) {
			return true
		}
	}
	return false
}

// index puts the level's names, and name, in a map: past manyKeys names,
// exact tests look them up instead of scanning the level.
func (s *keySet) index(buf, name []byte) {
	s.cur.names = make(map[string]struct{}, 2*manyKeys)
	for i := s.cur.first; i < s.n; i++ {
		sp := s.span(i)
		s.cur.names[string(buf[sp.start:sp.end])] = struct{}{}
	}
	s.cur.names[string(name)] = struct{}{}
}

// nextSuffix returns the first suffix number to try for a taken name k at
// this level, and remembers the one after it: renaming the n-th copy of a
// name does not try the n-1 before it again.
func (s *keySet) nextSuffix(k string) int {
	if s.cur.next == nil {
		s.cur.next = map[string]int{}
	}
	n := max(2, s.cur.next[k])
	s.cur.next[k] = n + 1
	return n
}

// push enters a group (JSON): its keys are a new level. It returns the
// level to give back to pop.
func (s *keySet) push() keyLevel {
	outer := s.cur
	if s.depth == 0 {
		s.top, s.topEnd = s.cur, s.n
	}
	s.cur = keyLevel{first: s.n}
	s.depth++
	return outer
}

// pop leaves the group entered by the push that returned outer.
func (s *keySet) pop(outer keyLevel) {
	s.truncate(s.cur.first)
	s.cur = outer
	s.depth--
}

// toTop leaves every group entered from the top level at once.
func (s *keySet) toTop() {
	if s.depth > 0 {
		s.truncate(s.topEnd)
		s.cur, s.depth = s.top, 0
	}
}

// truncate forgets the keys from the n-th on.
func (s *keySet) truncate(n int) {
	s.n = n
	if len(s.more) > 0 {
		s.more = s.more[:max(0, n-len(s.spans))]
	}
}

// savedKeys is the key state after a handler's preformatted attrs, with the
// spans relative to the start of those attrs; load restores it in a
// record whose buffer has them at off.
type savedKeys struct {
	spans         []keySpan
	cur, top      keyLevel
	depth, topEnd int
}

func (s *keySet) save() savedKeys {
	// The maps stay behind: every record that loads the state gets its own
	// (claimBits makes them again for a level with many keys).
	cur, top := s.cur, s.top
	cur.names, cur.next, top.names, top.next = nil, nil, nil, nil
	sv := savedKeys{spans: make([]keySpan, s.n), cur: cur, top: top, depth: s.depth, topEnd: s.topEnd}
	for i := range s.n {
		sv.spans[i] = s.span(i)
	}
	return sv
}

func (s *keySet) load(sv *savedKeys, off int) {
	if len(sv.spans) == 0 && sv.depth == 0 {
		return // nothing preformatted: the record starts afresh
	}
	for _, sp := range sv.spans {
		s.add(keySpan{sp.start + int32(off), sp.end + int32(off)})
	}
	s.cur, s.top, s.depth, s.topEnd = sv.cur, sv.top, sv.depth, sv.topEnd
}

// suffix returns "#n", the suffix of the n-th name of a duplicate key.
func suffix(n int) string { return "#" + strconv.Itoa(n) }
