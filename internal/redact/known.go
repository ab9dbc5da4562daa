package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Known secrets: values that the program registers at run time (its
// database password, an API key of a home-grown format, tokens from a
// vault) with [Redactor.Mask], and that Redact then replaces wherever they
// occur, raw or encoded, with [KnownMarker].
//
// The encodings searched for, each case-sensitive:
//
//   - the raw value;
//   - percent-encoded as url.QueryEscape and url.PathEscape write it;
//   - hex, lower and upper case;
//   - quoted with escapes, without the quotes: as encoding/json writes it
//     (with its HTML escapes \u0026 \u003c \u003e, and without them), as
//     strconv.Quote and strconv.QuoteToASCII write it;
//   - base64, standard and URL-safe, padded or not, inside a longer base64
//     text (a Basic header holds base64("user:" + secret)). The value's
//     bytes start at one of three offsets mod 3 in the encoded data, and for
//     each the encoding of the value differs; but for each the characters
//     made only of the value's bits are fixed: with the value at offset
//     k (0, 1, 2) of a 3-byte group and n bytes long, characters
//     ceil(8k/6) to floor(8(k+n)/6) of base64(k bytes + value). Those
//     "stable middles" (6 of them, fewer when the standard and URL-safe
//     ones agree) are searched for, and the whole run of base64 characters
//     that holds one is redacted (its alphabet: A-Za-z0-9 with +/ for the
//     standard encoding, -_ for the URL-safe one, both when the middle has
//     neither; then up to two '=' of padding). The first and last
//     characters of the encoded value, which mix its bits with its
//     neighbours', are not searched for, so a value must be at least
//     MinKnownBase64Len bytes for its base64 forms to be searched: its
//     middles are then at least 10 characters (60 bits of the value). The
//     base64 of an encoding of the value (base64 of its percent-encoding,
//     say) is not searched for.
//
// Cost: the encodings' first bytes (their "anchors") join the keyword
// automaton as one pseudo-rule, so that the clean-string path stays one
// pass over the string whatever the number of values. The automaton is
// case-insensitive and sees only the anchors: when it names the pseudo-rule,
// a second automaton (Aho–Corasick, case-sensitive, over the whole
// encodings) finds them exactly, in one more pass. Each position reports
// the longest encoding that ends there; the base64 runs are extended once
// each; the spans are merged on a stack: linear in len(s).

// KnownKind is the kind of the spans of registered values: the marker is
// [KnownMarker] and the kind given to Config.Count.
const KnownKind = "known-secret"

// KnownMarker replaces the registered values.
const KnownMarker = "[REDACTED:" + KnownKind + "]"

const (
	// MinKnownLen is the shortest value that Mask registers: shorter ones
	// would blank ordinary text.
	MinKnownLen = 6
	// MinKnownBase64Len is the shortest value whose base64 forms are
	// searched for (see above).
	MinKnownBase64Len = 8
	// MaxKnownLen is the longest value that Mask registers.
	MaxKnownLen = 4096
	// anchorLen is how many bytes of each encoding join the keyword automaton.
	anchorLen = 8
)

// The base64 alphabets, as bits of needle.b64.
const (
	b64Std = 1 << iota // A-Za-z0-9+/
	b64URL             // A-Za-z0-9-_
	b64Any             // both: a middle with none of +/-_
)

var b64Sets = [3]*byteSet{setOf(letters + digits + "+/"), setOf(letters + digits + "-_"), setOf(letters + digits + "+/-_")}

// needle is one encoding of a registered value.
type needle struct {
	text string
	b64  uint8 // 0: the span is the needle; else the alphabet of the base64 run to redact
}

// needles returns the encodings of v that are searched for (see above),
// without duplicates.
func needles(v string) []needle {
	var out []needle
	add := func(text string, b64 uint8) {
		if text == "" || slices.Contains(out, needle{text, b64}) {
			return
		}
		out = append(out, needle{text, b64})
	}
	add(v, 0)
	add(url.QueryEscape(v), 0)
	add(url.PathEscape(v), 0)
	add(hex.EncodeToString([]byte(v)), 0)
	add(strings.ToUpper(hex.EncodeToString([]byte(v))), 0)
	if b, err := json.Marshal(v); err == nil {
		add(string(b[1:len(b)-1]), 0)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		add(string(b[1:len(b)-1]), 0)
	}
	q := strconv.Quote(v)
	add(q[1:len(q)-1], 0)
	q = strconv.QuoteToASCII(v)
	add(q[1:len(q)-1], 0)
	if len(v) >= MinKnownBase64Len {
		std, u := base64Middles(v, base64.RawStdEncoding), base64Middles(v, base64.RawURLEncoding)
		for k := range std {
			if std[k] == u[k] {
				add(std[k], b64Any)
			} else {
				add(std[k], b64Std)
				add(u[k], b64URL)
			}
		}
	}
	return out
}

// base64Middles returns, for each offset k of v in a 3-byte group, the
// characters of the encoding made only of v's bits.
func base64Middles(v string, enc *base64.Encoding) [3]string {
	var out [3]string
	for k := range out {
		buf := make([]byte, k+len(v))
		copy(buf[k:], v)
		e := enc.EncodeToString(buf)
		out[k] = e[(8*k+5)/6 : 8*(k+len(v))/6]
	}
	return out
}

// knownSet is the registered values compiled: a snapshot, never changed
// once published (Mask builds a new one).
type knownSet struct {
	values []string   // registered, distinct, in order
	ac     *automaton // the rules' keywords and, as rule bit, the anchors
	bit    int        // the pseudo-rule of the anchors in ac; -1: too many rules, run on every string
	exact  *exactAC
}

// Mask registers values as known secrets: from the next call of Redact on
// (in any goroutine: Mask is safe to call concurrently with Redact and with
// itself), every occurrence of each, raw or encoded (see the top of
// known.go), is replaced by [KnownMarker]. Values already registered are
// left as they are; values shorter than MinKnownLen or longer than
// MaxKnownLen bytes, or only blanks, are refused. It returns how many
// values it added and how many it refused; it never writes a value
// anywhere.
//
// Each call that adds a value rebuilds the keyword automaton and the exact
// matcher (copy on write): register values in few calls, not one at a time
// in a hot path.
func (r *Redactor) Mask(values ...string) (added, refused int) {
	r.maskMu.Lock()
	defer r.maskMu.Unlock()
	var cur []string
	if k := r.known.Load(); k != nil {
		cur = k.values
	}
	seen := make(map[string]bool, len(cur)+len(values))
	for _, v := range cur {
		seen[v] = true
	}
	next := slices.Clip(cur) // appending copies: the published snapshot is not changed
	for _, v := range values {
		if len(v) < MinKnownLen || len(v) > MaxKnownLen || strings.TrimSpace(v) == "" {
			refused++
			continue
		}
		if seen[v] {
			continue
		}
		seen[v] = true
		next = append(next, v)
		added++
	}
	if added > 0 {
		r.known.Store(r.compileKnown(next))
	}
	return added, refused
}

// KnownCount returns how many values are registered (never the values).
func (r *Redactor) KnownCount() int {
	if k := r.known.Load(); k != nil {
		return len(k.values)
	}
	return 0
}

// compileKnown builds the snapshot of values.
func (r *Redactor) compileKnown(values []string) *knownSet {
	var ns []needle
	seen := map[needle]bool{}
	anchors := map[string]bool{}
	var kws []string
	for _, v := range values {
		for _, n := range needles(v) {
			if seen[n] {
				continue
			}
			seen[n] = true
			ns = append(ns, n)
			a := lowerASCII(n.text[:min(anchorLen, len(n.text))]) // as the automaton folds case: ASCII only, byte by byte
			if !anchors[a] {
				anchors[a] = true
				kws = append(kws, a)
			}
		}
	}
	k := &knownSet{values: values, exact: newExactAC(ns), bit: len(r.rules), ac: r.ac}
	if k.bit < maxRules {
		k.ac = newAutomaton(append(slices.Clip(r.kws), kws), r.runs, r.shapes)
	} else {
		k.bit = -1
	}
	return k
}

// tryKnown adds to f the spans of the registered values in s, and reports
// whether it added any (outside the markers already in s).
func (r *Redactor) tryKnown(k *knownSet, s string, f found) (found, bool) {
	n := len(f.spans)
	ms, w := k.exact.find(s, nil)
	f.work += w
	for _, m := range ms {
		f.spans = append(f.spans, span{m[0], m[1], KnownKind, len(r.rules)})
	}
	if len(f.spans) == n {
		return f, false
	}
	f = f.add(s, n)
	return f, len(f.spans) > n
}

// exactAC is a case-sensitive Aho–Corasick automaton over the needles, with
// sparse transitions (its states are many: one per byte of every
// encoding), for the strings in which the keyword automaton saw an anchor.
type exactAC struct {
	root  [256]int32 // the root's transitions (0: the root)
	first []int32    // node i's children are label/to[first[i]:first[i+1]], by byte
	label []byte
	to    []int32
	fail  []int32
	plain []int32 // length of the longest plain needle that ends node i's text (0: none)
	b64   []uint8 // the alphabets of the base64 needles that end node i's text
}

func newExactAC(ns []needle) *exactAC {
	type node struct {
		child map[byte]int32
		plain int32
		b64   uint8
	}
	nodes := []node{{child: map[byte]int32{}}}
	for _, nd := range ns {
		s := int32(0)
		for i := 0; i < len(nd.text); i++ {
			nx, ok := nodes[s].child[nd.text[i]]
			if !ok {
				nodes = append(nodes, node{child: map[byte]int32{}})
				nx = int32(len(nodes) - 1)
				nodes[s].child[nd.text[i]] = nx
			}
			s = nx
		}
		if nd.b64 == 0 {
			nodes[s].plain = int32(len(nd.text))
		} else {
			nodes[s].b64 |= nd.b64
		}
	}
	e := &exactAC{
		first: make([]int32, len(nodes)+1),
		fail:  make([]int32, len(nodes)),
		plain: make([]int32, len(nodes)),
		b64:   make([]uint8, len(nodes)),
	}
	for i, nd := range nodes {
		e.first[i] = int32(len(e.label))
		for _, c := range slices.Sorted(maps.Keys(nd.child)) {
			e.label = append(e.label, c)
			e.to = append(e.to, nd.child[c])
		}
		e.plain[i], e.b64[i] = nd.plain, nd.b64
	}
	e.first[len(nodes)] = int32(len(e.label))
	for c, nx := range nodes[0].child {
		e.root[c] = nx
	}
	// Failure links, breadth first; each node inherits the outputs of its
	// failure node (a node's own plain needle is the longest: its whole text).
	var work int
	queue := slices.Clone(e.to[e.first[0]:e.first[1]])
	for q := 0; q < len(queue); q++ {
		s := queue[q]
		f := e.fail[s]
		if e.plain[s] == 0 {
			e.plain[s] = e.plain[f]
		}
		e.b64[s] |= e.b64[f]
		for j := e.first[s]; j < e.first[s+1]; j++ {
			nx := e.to[j]
			e.fail[nx] = e.step(f, e.label[j], &work)
			queue = append(queue, nx)
		}
	}
	return e
}

// child returns node s's child by c, or 0.
func (e *exactAC) child(s int32, c byte) int32 {
	for j := e.first[s]; j < e.first[s+1]; j++ {
		if e.label[j] == c {
			return e.to[j]
		}
	}
	return 0
}

// step is the transition from s by c, following failure links; each link
// followed adds one to *work (they are amortized over the bytes read).
func (e *exactAC) step(s int32, c byte, work *int) int32 {
	for s != 0 {
		if nx := e.child(s, c); nx != 0 {
			return nx
		}
		s = e.fail[s]
		*work++
	}
	return e.root[c]
}

// find appends to out the spans of s to redact, in order and merged, and
// returns them with the bytes it examined.
func (e *exactAC) find(s string, out [][2]int) ([][2]int, int) {
	work := len(s)
	var runEnd [3]int // per alphabet, the end of the last base64 run redacted
	st := int32(0)
	for i := 0; i < len(s); i++ {
		st = e.step(st, s[i], &work)
		if p := e.plain[st]; p != 0 {
			out = pushSpan(out, i+1-int(p), i+1)
		}
		m := e.b64[st]
		for a := 0; m != 0; a++ {
			if m&(1<<a) == 0 {
				continue
			}
			m &^= 1 << a
			if i < runEnd[a] {
				continue // in the run already redacted
			}
			// The whole run: the needle is in it, and the last run of
			// this alphabet ended at a byte not in it (or with '='),
			// which the backward scan does not cross.
			set := b64Sets[a]
			lo, hi := i, i+1
			for lo > runEnd[a] && set[s[lo-1]] {
				lo--
			}
			for hi < len(s) && set[s[hi]] {
				hi++
			}
			for pad := 0; pad < 2 && hi < len(s) && s[hi] == '='; pad++ {
				hi++
			}
			work += hi - lo
			runEnd[a] = hi
			out = pushSpan(out, lo, hi)
		}
	}
	return out, work
}

// pushSpan adds [a, b) to the spans, in order and disjoint, merging it with
// those it overlaps or touches (each is merged once: linear overall).
func pushSpan(out [][2]int, a, b int) [][2]int {
	for len(out) > 0 && out[len(out)-1][1] >= a {
		top := out[len(out)-1]
		a, b = min(a, top[0]), max(b, top[1])
		out = out[:len(out)-1]
	}
	return append(out, [2]int{a, b})
}
