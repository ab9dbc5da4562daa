package chain

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
)

// Kind names what is wrong at a line.
type Kind string

// The kinds of problem the verifier reports.
const (
	Modified    Kind = "modified"     // the line's bytes differ from what was sealed
	Deleted     Kind = "deleted"      // lines are missing before this one
	Inserted    Kind = "inserted"     // a line that was not sealed in this place
	Reordered   Kind = "reordered"    // a sealed line out of its place
	Duplicated  Kind = "duplicated"   // a copy of a line already in the chain
	MissingFile Kind = "missing file" // a whole file of the chain is missing before this one
	Truncated   Kind = "truncated"    // the chain ends before a checkpoint kept elsewhere
	WrongKey    Kind = "wrong key"    // no line verifies with the key given
	// NewChain is a chain that begins (a line 1, from nothing) after
	// sealed lines: what follows is not linked to what came before. A
	// writer starts one only when it cannot continue the chain on disk
	// (and raises tampering_detected); whoever holds the key can too.
	NewChain Kind = "new chain"
	// Unsealed is a file with lines but not one sealed line: not part of
	// any chain (written before the chain was turned on, or planted).
	Unsealed Kind = "unsealed file"
	// BadCheckpoint is a checkpoint record kept elsewhere that cannot be
	// read (a field redacted or cut on its way), or a file of checkpoints
	// that holds none of the chain verified: the tail goes unchecked.
	BadCheckpoint Kind = "bad checkpoint"
)

// Problem is one break of the chain, at a line of a file.
type Problem struct {
	File   string
	Line   int // 1-based; for Truncated, one past the last line; 0 for a whole file
	Kind   Kind
	Detail string
}

// String is "file:line: kind: detail".
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Kind, p.Detail)
}

// Input is one log file: Open returns its lines (decompressed), and is
// called twice (once to order the files, once to verify them).
type Input struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// Checkpoint is a checkpoint record kept elsewhere: the chain of sink Sink
// reached line Seq, whose MAC is Head, and the next line (Seq+1) is the
// checkpoint's own, the last line of epoch Epoch of run Run.
type Checkpoint struct {
	Sink   string
	Run    RunID
	Epoch  uint64
	Seq    uint64
	Head   MAC
	Source string // where it was read, "file:line"
}

// Summary says what was verified.
type Summary struct {
	Sink     string // the sink whose key verified the lines: "file" or "security-file"
	Records  int    // sealed lines that verified
	Files    int    // files read
	Epochs   int    // distinct epochs seen
	Chains   int    // chains (more than one when a writer started a new chain)
	Skipped  int    // files without a single sealed line, left out
	LastSeq  uint64 // sequence number of the last line of the chain
	Problems int    // problems found (all of them, even if not all are listed)
	// Checkpoints counts the checkpoints given that belong to the chain
	// verified (its sink, and a run of it or linked to it).
	Checkpoints int
}

// Options bound the verifier's work.
type Options struct {
	MaxLine     int // longest line read whole, in bytes; 0 means 4 MiB
	MaxProblems int // problems listed; 0 means 100
	// Sinks are the sink names tried, in order; nil means "file",
	// "security-file".
	Sinks []string
	// Tail verifies the end of a file only: its first line is taken as
	// the start of the chain, unchecked.
	Tail bool
	// Budget bounds the key evolutions; 0 means one per line read, plus 1024.
	Budget int
}

// Verify checks the chain of the files in inputs (in any order; they are
// ordered by the chain) under the initial key k0, and compares it with
// checkpoints kept elsewhere. It returns the problems in chain order, the
// first naming the first bad line. An error is a file that cannot be read
// at all.
func Verify(k0 []byte, inputs []Input, cps []Checkpoint, opt Options) (Summary, []Problem, error) {
	if opt.MaxLine <= 0 {
		opt.MaxLine = 4 << 20
	}
	if opt.MaxProblems <= 0 {
		opt.MaxProblems = 100
	}
	if opt.Sinks == nil {
		opt.Sinks = []string{"file", "security-file"}
	}
	if len(k0) != KeySize {
		return Summary{}, nil, errors.New("the key must be 32 bytes")
	}
	// Pass 1: the first and last sealed line of each file, to order them
	// and to find the sink whose key verifies them.
	infos := make([]*fileInfo, 0, len(inputs))
	total := 0
	for _, in := range inputs {
		fi, err := scan(in, opt.MaxLine)
		if err != nil {
			return Summary{}, nil, err
		}
		total += fi.lines
		infos = append(infos, fi)
	}
	v := &verifier{k0: k0, opt: opt}
	v.sum.Files = len(inputs)
	v.sum.Sink = opt.Sinks[0]
	for _, s := range opt.Sinks {
		kc := newKeyCache(k0, s, total, opt.Budget)
		found := slices.ContainsFunc(infos, func(fi *fileInfo) bool { return fi.verifiesFirst(kc) })
		kc.wipe()
		if found {
			v.sum.Sink = s
			break
		}
	}
	v.keys = newKeyCache(k0, v.sum.Sink, total, opt.Budget)
	defer v.keys.wipe()
	v.cpAt, v.cpBefore = map[uint64][]int{}, map[uint64][]int{}
	v.cpState = make([]cpState, len(cps))
	v.cpList = cps
	v.runs = map[RunID]bool{}
	v.recent = map[uint64]recentLine{}
	for i, cp := range cps {
		if cp.Sink == v.sum.Sink {
			v.cpAt[cp.Seq+1] = append(v.cpAt[cp.Seq+1], i)
			v.cpBefore[cp.Seq] = append(v.cpBefore[cp.Seq], i)
		}
	}
	// Pass 2: verify in chain order.
	for _, fi := range order(infos) {
		if fi.sealed == 0 {
			v.sum.Skipped++
			if fi.lines > 0 {
				v.report(fi.in.Name, 1, Unsealed, "%d lines and not one sealed line: not part of the chain", fi.lines)
			}
			continue
		}
		if err := v.file(fi, opt.MaxLine); err != nil {
			return v.sum, v.problems, err
		}
	}
	if v.sum.Records == 0 && v.sealed > 0 {
		v.problems = []Problem{{File: v.firstFile, Line: v.firstLine, Kind: WrongKey,
			Detail: "no line verifies with this key (or every line was rewritten)"}}
		v.sum.Problems = 1
		return v.sum, v.problems, nil
	}
	v.checkpoints(cps)
	if v.have {
		v.sum.LastSeq = v.exp - 1
	}
	return v.sum, v.problems, nil
}

// fileInfo is what pass 1 learns about a file.
type fileInfo struct {
	in       Input
	lines    int
	sealed   int
	first    Record // its first sealed line
	firstLn  int
	anchor   MAC // the previous MAC its first line names (a checkpoint)
	anchored bool
	last     Record // its last sealed line (Body not kept)
	body     []byte // the first line's body, kept for the sink test
}

// verifiesFirst reports whether the first line of the file verifies
// under kc's sink (from its checkpoint anchor, or as the first line of a chain).
func (fi *fileInfo) verifiesFirst(kc *keyCache) bool {
	if fi.sealed == 0 {
		return false
	}
	m := kc.mac(fi.first.Run, fi.first.Epoch)
	if m == nil {
		return false
	}
	r := fi.first
	r.Body = fi.body
	var zero MAC
	if r.Seq == 1 && Sum(m, &r, &zero) == r.MAC {
		return true
	}
	return fi.anchored && Sum(m, &r, &fi.anchor) == r.MAC
}

func scan(in Input, maxLine int) (*fileInfo, error) {
	rc, err := in.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	fi := &fileInfo{in: in}
	lr := newLineReader(rc, maxLine)
	for {
		line, long, ok := lr.next()
		if !ok {
			break
		}
		fi.lines++
		if long {
			continue
		}
		r, ok := Parse(line)
		if !ok {
			continue
		}
		if fi.sealed == 0 {
			fi.first, fi.firstLn = r, fi.lines
			fi.body = append([]byte(nil), r.Body...)
			fi.anchor, fi.anchored = anchorOf(r.Body, r.Seq)
		}
		fi.sealed++
		r.Body = nil
		fi.last = r
	}
	return fi, nil // a read error shows in pass 2, at its line
}

// order puts the files in chain order: a file follows the one whose last
// line its first line's checkpoint names; the runs of linked files are
// ordered by the name of their first file.
func order(infos []*fileInfo) []*fileInfo {
	sorted := slices.Clone(infos)
	slices.SortStableFunc(sorted, func(a, b *fileInfo) int {
		if a.in.Name < b.in.Name {
			return -1
		} else if a.in.Name > b.in.Name {
			return 1
		}
		return 0
	})
	type key struct {
		seq uint64
		mac MAC
	}
	byLast := map[key]*fileInfo{}
	for _, fi := range sorted {
		if fi.sealed > 0 {
			byLast[key{fi.last.Seq, fi.last.MAC}] = fi
		}
	}
	next := map[*fileInfo]*fileInfo{}
	hasPrev := map[*fileInfo]bool{}
	for _, fi := range sorted {
		if fi.sealed == 0 || !fi.anchored || fi.first.Seq == 0 {
			continue
		}
		if p := byLast[key{fi.first.Seq - 1, fi.anchor}]; p != nil && p != fi && next[p] == nil {
			next[p], hasPrev[fi] = fi, true
		}
	}
	out := make([]*fileInfo, 0, len(sorted))
	done := map[*fileInfo]bool{}
	for _, fi := range sorted {
		if hasPrev[fi] || done[fi] {
			continue
		}
		for f := fi; f != nil && !done[f]; f = next[f] {
			done[f] = true
			out = append(out, f)
		}
	}
	for _, fi := range sorted { // in a cycle (cannot happen without a collision)
		if !done[fi] {
			out = append(out, fi)
		}
	}
	return out
}

// anchorOf finds, in the body of a checkpoint line, the MAC of the line
// before it (checkpoint_head) when checkpoint_seq is seq-1.
func anchorOf(body []byte, seq uint64) (MAC, bool) {
	var m MAC
	h, ok := field(body, "checkpoint_head")
	if !ok || len(h) != 2*MACSize || !lowerHex(h) {
		return m, false
	}
	s, ok := field(body, "checkpoint_seq")
	if !ok {
		return m, false
	}
	n, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil || n+1 != seq {
		return m, false
	}
	if _, err := hex.Decode(m[:], h); err != nil {
		return m, false
	}
	return m, true
}

// field returns the value of the first key=value (TEXT) or "key":value
// (JSON) of body, unquoted, up to a space, quote, comma or brace.
func field(b []byte, key string) ([]byte, bool) {
	for off := 0; off < len(b); {
		i := bytes.Index(b[off:], []byte(key))
		if i < 0 {
			return nil, false
		}
		i += off
		off = i + len(key)
		if i > 0 && (isWord(b[i-1])) {
			continue
		}
		rest := b[off:]
		switch {
		case len(rest) > 0 && rest[0] == '=':
			rest = rest[1:]
		case len(rest) > 1 && rest[0] == '"' && rest[1] == ':':
			rest = rest[2:]
		default:
			continue
		}
		if len(rest) > 0 && rest[0] == '"' {
			rest = rest[1:]
		}
		end := bytes.IndexAny(rest, " \"',}\t")
		if end < 0 {
			end = len(rest)
		}
		return rest[:end], true
	}
	return nil, false
}

func isWord(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lineReader reads lines of at most max bytes; a longer line is reported
// as long and skipped to its end.
type lineReader struct {
	br  *bufio.Reader
	buf []byte
	max int
	err error
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its '\n' (valid until the next call).
func (lr *lineReader) next() (line []byte, long, ok bool) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if !long {
			if len(lr.buf)+len(chunk) > lr.max+1 {
				long, lr.buf = true, lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(lr.buf, []byte("\n")), long, true
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(lr.buf) == 0 && !long {
				return nil, false, false
			}
			return lr.buf, long, true
		default:
			lr.err = err
			return nil, false, false
		}
	}
}

// keyCache derives the keys of one sink's runs and epochs, within a budget
// of evolutions (the lines read: an honest chain has fewer epochs than
// lines), so that no line can make the verifier work without bound.
type keyCache struct {
	k0     []byte
	sink   string
	runs   map[RunID]*runKeys
	budget int
	// the MAC of the last key asked for
	lastRun   RunID
	lastEpoch uint64
	last      hash.Hash
}

// runKeys holds a run's keys: one every anchorEvery epochs, and the latest.
type runKeys struct {
	anchors [][KeySize]byte
	cur     [KeySize]byte
	curE    uint64
}

const (
	anchorEvery = 64
	maxRuns     = 1024
)

func newKeyCache(k0 []byte, sink string, lines, budget int) *keyCache {
	if budget <= 0 {
		budget = lines + 1024
	}
	return &keyCache{k0: k0, sink: sink, runs: map[RunID]*runKeys{}, budget: budget}
}

// wipe clears the keys the cache derived (a writer's check at start
// derives the keys of the previous run). The AES key schedules of the
// MACs made from them stay in freed memory until it is reused: Go offers
// no way to clear them.
func (c *keyCache) wipe() {
	for _, rk := range c.runs {
		for i := range rk.anchors {
			clear(rk.anchors[i][:])
		}
		clear(rk.cur[:])
	}
	clear(c.runs)
	c.last = nil
}

// mac returns the MAC (GMAC) under K(run, epoch), or nil if it is out of budget.
func (c *keyCache) mac(run RunID, epoch uint64) hash.Hash {
	if c.last != nil && c.lastRun == run && c.lastEpoch == epoch {
		return c.last
	}
	rk := c.runs[run]
	if rk == nil {
		if len(c.runs) >= maxRuns {
			clear(c.runs)
		}
		k := StartKey(c.k0, c.sink, run)
		rk = &runKeys{anchors: [][KeySize]byte{k}, cur: k}
		c.runs[run] = rk
	}
	var k [KeySize]byte
	defer clear(k[:])
	if epoch >= rk.curE {
		if epoch-rk.curE > uint64(c.budget) {
			return nil
		}
		for rk.curE < epoch {
			Evolve(&rk.cur)
			rk.curE++
			c.budget--
			if rk.curE%anchorEvery == 0 {
				rk.anchors = append(rk.anchors, rk.cur)
			}
		}
		k = rk.cur
	} else {
		k = rk.anchors[epoch/anchorEvery]
		for range epoch % anchorEvery {
			Evolve(&k)
		}
	}
	c.last, c.lastRun, c.lastEpoch = newGMAC(&k), run, epoch
	return c.last
}

type cpState struct {
	matched  bool     // the checkpoint's own line is in the chain, as sent
	linked   bool     // the line it names (Seq, Head) is in the chain
	mismatch *Problem // the line at Seq+1 is of its run, but not the one sent
	other    *Problem // the line at Seq+1 is of another run (the chain was rolled back and went on)
}

// recentLine is a line of the chain the verifier passed lately.
type recentLine struct {
	mac  MAC
	file string
	line int
}

// recentLines bounds the lines remembered to tell a copied or moved line.
const recentLines = 4096

// verifier is pass 2's state.
type verifier struct {
	k0       []byte
	opt      Options
	keys     *keyCache
	sum      Summary
	problems []Problem
	sealed   int // sealed lines read

	have       bool   // the chain so far is known
	exp        uint64 // the sequence number expected next
	expPrev    MAC    // the MAC the next line must follow
	run        RunID  // of the last line
	epoch      uint64 // of the last line
	closed     bool   // the last line ended its epoch
	lastRun    RunID
	lastEpoch  uint64
	anyEpoch   bool
	firstFile  string
	firstLine  int
	firstSeq   uint64 // of the chain's first line
	lastFile   string
	lastLineNo int

	runs     map[RunID]bool        // runs with a line verified
	recent   map[uint64]recentLine // the last recentLines lines, by sequence number
	ring     [recentLines]uint64
	ringN    int
	cpAt     map[uint64][]int // sequence number of a checkpoint's own line → checkpoints
	cpBefore map[uint64][]int // sequence number a checkpoint names → checkpoints
	cpList   []Checkpoint
	cpState  []cpState
}

// line is one line of pass 2.
type line struct {
	n      int // line number
	raw    []byte
	long   bool
	rec    Record
	parsed bool
}

func (v *verifier) report(file string, ln int, k Kind, detail string, args ...any) {
	v.sum.Problems++
	if len(v.problems) < v.opt.MaxProblems {
		v.problems = append(v.problems, Problem{File: file, Line: ln, Kind: k, Detail: fmt.Sprintf(detail, args...)})
	}
}

// file verifies one file's lines, with one line of lookahead.
func (v *verifier) file(fi *fileInfo, maxLine int) error {
	rc, err := fi.in.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	lr := newLineReader(rc, maxLine)
	name := fi.in.Name
	if v.firstFile == "" {
		v.firstFile, v.firstLine = name, fi.firstLn
	}
	lineNo := 0
	read := func(l *line) bool {
		raw, long, ok := lr.next()
		if !ok {
			return false
		}
		lineNo++
		l.n = lineNo
		l.raw = append(l.raw[:0], raw...)
		l.long = long
		l.rec, l.parsed = Record{}, false
		if !long {
			l.rec, l.parsed = Parse(l.raw)
		}
		return true
	}
	cur, nxt := &line{}, &line{}
	okCur := read(cur)
	okNxt := okCur && read(nxt)
	fileStart := true
	for okCur {
		both := v.line(name, cur, nxt, okNxt, fileStart)
		if cur.parsed {
			fileStart = false
		}
		v.lastFile, v.lastLineNo = name, cur.n
		if both { // the next line was taken too
			v.lastLineNo = nxt.n
			okCur = read(cur)
			okNxt = okCur && read(nxt)
			continue
		}
		cur, nxt = nxt, cur
		okCur = okNxt
		okNxt = okCur && read(nxt)
	}
	if lr.err != nil {
		v.report(name, v.lastLineNo+1, Modified, "the file cannot be read from here: %v", lr.err)
	}
	return nil
}

// check reports whether r's MAC follows prev.
func (v *verifier) check(r *Record, prev *MAC) bool {
	m := v.keys.mac(r.Run, r.Epoch)
	return m != nil && Sum(m, r, prev) == r.MAC
}

// accept makes r the last line of the chain; verified says its MAC was
// checked, following prev.
func (v *verifier) accept(name string, l *line, verified bool, prev MAC) {
	r := &l.rec
	if !v.have {
		v.sum.Chains = 1
		v.firstSeq = r.Seq
	}
	v.have, v.exp, v.expPrev = true, r.Seq+1, r.MAC
	v.run, v.epoch, v.closed = r.Run, r.Epoch, r.End
	v.remember(r, name, l.n)
	if !verified {
		return
	}
	v.sum.Records++
	v.runs[r.Run] = true
	if !v.anyEpoch || r.Run != v.lastRun || r.Epoch != v.lastEpoch {
		v.sum.Epochs++
		v.anyEpoch, v.lastRun, v.lastEpoch = true, r.Run, r.Epoch
	}
	for _, i := range v.cpBefore[r.Seq] {
		if v.cpList[i].Head == r.MAC {
			v.cpState[i].linked = true
		}
	}
	for _, i := range v.cpAt[r.Seq] {
		cp, st := &v.cpList[i], &v.cpState[i]
		if !st.matched && cp.Run != r.Run && st.other == nil {
			st.other = &Problem{File: name, Line: l.n} // another run's line of that number
		}
		if st.matched || cp.Run != r.Run {
			continue
		}
		if r.End && r.Epoch == cp.Epoch && prev == cp.Head {
			st.matched = true
		} else if st.mismatch == nil {
			st.mismatch = &Problem{File: name, Line: l.n}
		}
	}
}

// remember keeps r among the recent lines.
func (v *verifier) remember(r *Record, name string, n int) {
	slot := v.ringN % recentLines
	if v.ringN >= recentLines {
		delete(v.recent, v.ring[slot])
	}
	v.ring[slot] = r.Seq
	v.ringN++
	v.recent[r.Seq] = recentLine{mac: r.MAC, file: name, line: n}
}

// epochBreak says why r, which links to the chain so far, may not be in
// its epoch ("" when it may): a run begins in epoch 0 with a line that
// ends it; a line is in the epoch of the line before, or in the next one
// when the line before ended its epoch.
func (v *verifier) epochBreak(r *Record) string {
	if r.Run != v.run {
		if r.Epoch != 0 || !r.End {
			return fmt.Sprintf("a new run (%s) that does not begin with its start checkpoint (epoch 0), but in epoch %d", r.Run, r.Epoch)
		}
		return ""
	}
	want := v.epochNext()
	switch {
	case r.Epoch == want:
		return ""
	case r.Epoch > want:
		return fmt.Sprintf("sealed in epoch %d where the chain is in epoch %d: re-sealed with a later epoch's key (this line and the ones after it were rewritten)", r.Epoch, want)
	default:
		return fmt.Sprintf("sealed in epoch %d after a line of epoch %d: epochs never go back", r.Epoch, v.epoch)
	}
}

// epochNext is the epoch the next line of the run must be in.
func (v *verifier) epochNext() uint64 {
	if v.closed {
		return v.epoch + 1
	}
	return v.epoch
}

// line classifies one line; it returns true when it consumed the next
// line too (two lines swapped).
func (v *verifier) line(name string, l, n *line, hasNext, fileStart bool) bool {
	if !l.parsed {
		if l.long {
			v.report(name, l.n, Modified, "a line longer than %d bytes", v.opt.MaxLine)
		} else if !v.opt.Tail {
			v.report(name, l.n, Inserted, "a line without a chain MAC")
		}
		return false
	}
	v.sealed++
	r := &l.rec
	var zero MAC
	nx := hasNext && n.parsed
	if v.have && r.Seq == v.exp && v.check(r, &v.expPrev) {
		prev := v.expPrev
		if why := v.epochBreak(r); why != "" {
			v.report(name, l.n, Modified, "%s", why)
			v.accept(name, l, false, prev)
			return false
		}
		v.accept(name, l, true, prev)
		return false
	}
	// A file begins with a checkpoint (a line that ends its epoch) naming
	// the line before it; so does a chain, from nothing (its first line,
	// in epoch 0).
	anchor, anchored := anchorOf(r.Body, r.Seq)
	anchored = anchored && r.End && r.Seq > 1 && v.check(r, &anchor) // line 1 is a genesis or nothing
	genesis := r.Seq == 1 && r.End && r.Epoch == 0 && v.check(r, &zero)
	switch {
	case genesis:
		if v.have {
			v.sum.Chains++
			v.report(name, l.n, NewChain, "a new chain begins here (line seq 1) after %d sealed lines: it is not linked to the lines before (the writer starts one only when it cannot continue the chain on disk, and raises tampering_detected)", v.sealed-1)
		}
		v.accept(name, l, true, zero)
		return false
	case !v.have && anchored:
		v.accept(name, l, true, anchor)
		return false
	case !v.have && v.opt.Tail:
		v.accept(name, l, false, zero)
		return false
	case !v.have:
		v.report(name, l.n, Deleted, "the chain's lines before this one are missing (the file does not begin with a checkpoint)")
		v.accept(name, l, false, zero)
		return false
	case anchored && r.Seq > v.exp:
		// A whole file missing takes an epoch with it (every file begins
		// with a line that ends one); lines cut from the end of the file
		// before do not.
		sameEpoch := r.Run == v.run && r.Epoch == v.epochNext()
		switch {
		case fileStart && !sameEpoch:
			v.report(name, l.n, MissingFile, "lines %d to %d are in no file given", v.exp, r.Seq-1)
		case fileStart:
			v.report(name, l.n, Deleted, "%d lines (%d to %d) are missing before this one: the last lines of %s", r.Seq-v.exp, v.exp, r.Seq-1, v.lastFile)
		default:
			v.report(name, l.n, Deleted, "%d lines (%d to %d) are missing before this one", r.Seq-v.exp, v.exp, r.Seq-1)
		}
		v.accept(name, l, true, anchor)
		return false
	case anchored && r.Seq == v.exp:
		v.report(name, l.n, Modified, "the line before this one was changed (its MAC differs from the one this checkpoint names)")
		v.accept(name, l, true, anchor)
		return false
	}
	// A line the chain has passed already: a copy, or a line moved.
	if r.Seq < v.exp {
		if p, ok := v.recent[r.Seq]; ok && p.mac == r.MAC {
			v.report(name, l.n, Duplicated, "line %d again (a copy of %s:%d)", r.Seq, p.file, p.line)
			return false
		}
		if p, ok := v.recent[r.Seq-1]; ok && r.Seq > 1 && v.check(r, &p.mac) {
			v.report(name, l.n, Reordered, "line %d, sealed to follow line %d (%s:%d), was moved here", r.Seq, r.Seq-1, p.file, p.line)
			return false
		}
	}
	// Not linked to the chain so far: tell apart a swap, an insertion, a
	// deletion and a change by how the next line links.
	nextLinksBefore := nx && n.rec.Seq == v.exp && v.check(&n.rec, &v.expPrev)
	if nextLinksBefore && r.Seq == v.exp+1 && v.check(r, &n.rec.MAC) {
		v.report(name, l.n, Reordered, "line %d comes before line %d (swapped with the next line)", r.Seq, n.rec.Seq)
		prev := v.expPrev
		v.accept(name, n, true, prev)
		v.accept(name, l, true, n.rec.MAC)
		return true
	}
	if nextLinksBefore {
		v.report(name, l.n, Inserted, "a line that is not part of the chain (its MAC does not verify)")
		return false
	}
	nextLinksThis := nx && n.rec.Seq == r.Seq+1 && v.check(&n.rec, &r.MAC)
	switch {
	case r.Seq < v.exp && nextLinksThis && n.rec.Seq != v.exp:
		v.report(name, l.n, Reordered, "line %d is out of place (expected %d)", r.Seq, v.exp)
		return false
	case r.Seq < v.exp:
		v.report(name, l.n, Reordered, "line %d is out of place or repeated (expected %d)", r.Seq, v.exp)
		return false
	case r.Seq > v.exp && (nextLinksThis || !hasNext):
		// A file of the chain begins with a checkpoint: one that does not
		// lost its first lines, whether or not files are missing too.
		v.report(name, l.n, Deleted, "%d lines (%d to %d) are missing before this one", r.Seq-v.exp, v.exp, r.Seq-1)
		v.accept(name, l, false, zero)
		return false
	default:
		v.report(name, l.n, Modified, "its MAC does not verify")
		if r.Seq == v.exp {
			v.accept(name, l, false, v.expPrev)
		} else {
			v.exp++
		}
		return false
	}
}

// checkpoints compares the chain with the checkpoints kept elsewhere. A
// checkpoint belongs to the chain verified when it is of its sink and of
// a run with a line verified, or names a line of the chain (the start of
// a run whose lines are all gone); the checkpoints of other chains (an
// older chain's, numbered alike) are left aside.
func (v *verifier) checkpoints(cps []Checkpoint) {
	last := v.exp - 1
	runs := v.runs
	for i := range cps {
		if cps[i].Sink == v.sum.Sink && v.cpState[i].linked {
			runs[cps[i].Run] = true
		}
	}
	var trunc, before *Checkpoint
	matched := 0
	for i := range cps {
		cp := &cps[i]
		if cp.Sink != v.sum.Sink || !runs[cp.Run] {
			continue
		}
		v.sum.Checkpoints++
		if v.cpState[i].matched {
			matched++
			continue
		}
		if p := v.cpState[i].mismatch; p != nil {
			v.report(p.File, p.Line, Modified, "the line differs from the checkpoint at %s (the checkpoint of run %s, epoch %d, after line %d)", cp.Source, cp.Run, cp.Epoch, cp.Seq)
			continue
		}
		switch {
		case cp.Seq+1 > last:
			if trunc == nil || cp.Seq > trunc.Seq {
				trunc = cp
			}
		case cp.Seq+1 >= v.firstSeq:
			// A checkpoint names a line that was written: within the
			// files' span, its absence is a deletion, or a rollback (the
			// newest files removed, and a restart that went on from an
			// older line, numbering its lines as the deleted ones).
			at := Problem{File: v.lastFile, Line: v.lastLineNo + 1}
			if p := v.cpState[i].other; p != nil {
				at = *p
			}
			v.report(at.File, at.Line, Deleted, "the checkpoint at %s (run %s, epoch %d) was written as line seq %d, which is in no file given: lines were deleted, or the chain rolled back to an earlier line and went on", cp.Source, cp.Run, cp.Epoch, cp.Seq+1)
		case before == nil || cp.Seq > before.Seq:
			before = cp // of lines before the files given: removed by retention, or deleted
		}
	}
	if before != nil && matched == 0 && trunc == nil {
		// Every checkpoint of the chain precedes the files, none is in
		// them: nothing ties the files to the record kept elsewhere (all
		// files replaced by one that begins past every checkpoint).
		v.report(v.firstFile, v.firstLine, Deleted, "no checkpoint kept elsewhere is in the files, and the last one (at %s, line seq %d of run %s) comes before their first line (seq %d): the files are not tied to the record kept elsewhere (lines deleted, the files replaced, or checkpoints of an earlier period only)", before.Source, before.Seq+1, before.Run, v.firstSeq)
	}
	if trunc != nil {
		v.report(v.lastFile, v.lastLineNo+1, Truncated, "the chain ends at line seq %d, but the checkpoint at %s was written as line seq %d (run %s, epoch %d)",
			last, trunc.Source, trunc.Seq+1, trunc.Run, trunc.Epoch)
	}
}
