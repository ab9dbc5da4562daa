package logging

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
)

// Wrap returns next behind the secure stages: every string is redacted,
// then cut to the size limit, then escaped, and every key and group name
// escaped, before next sees the record (what slog's own TextHandler and
// JSONHandler escape themselves is left to them, so that the output has
// one escape); the context attrs ([ContextWith],
// extractors) are added to it. It is the chain Setup puts in front of its
// own encoder, as one slog.Handler middleware. The environment is not read.
//
// Wrap takes the options WithRedaction, WithRedactKeys, WithRedactPatterns,
// WithRule, WithMaxValueBytes and WithContextExtractor. It panics, naming
// the option, on any other option and on an invalid one (a pattern that
// does not compile, say): a secure stage that silently runs without a
// setting it was given is worse than a program that does not start.
func Wrap(next slog.Handler, opts ...Option) slog.Handler {
	c := mustConfig(opts, byWrap, "logging.Wrap")
	esc := escapeFor(next)
	m := &attrMapper{limit: c.maxValueBytes, escape: esc, fp: c.fingerprinter(), allow: c.allowSet(), passJSON: esc == escapeSlogJSON}
	if c.redact {
		m.red = newRedactor(c)
		track(m)
	}
	return newStage(next, m, true, c.extractors, slogKeys)
}

// NewRedactingHandler returns a handler that replaces secrets before passing
// records to next: by pattern in the message and in every string value, by
// key for attributes with a sensitive key at any depth, and in values of any
// type, which are walked (groups, LogValuers, structs, maps, slices, errors,
// Stringers, []byte, json.RawMessage) rather than formatted. Records without
// a secret and without values to walk are passed on without a copy.
//
// It takes the options WithRedactKeys, WithRedactPatterns and WithRule, and
// panics, naming the option, on any other and on an invalid one.
func NewRedactingHandler(next slog.Handler, opts ...Option) slog.Handler {
	c := mustConfig(opts, byRedacting, "logging.NewRedactingHandler")
	return newStage(next, track(&attrMapper{red: newRedactor(c), fp: c.fingerprinter(), allow: c.allowSet()}), false, nil, nil)
}

// NewSanitizingHandler returns a handler that escapes what [Sanitize] escapes
// (but what slog's own TextHandler or JSONHandler, as next, escape
// themselves) in the message, every attribute key, every string value (after
// [slog.LogValuer]s are resolved and other values are turned into text) and
// every group name, and cuts any single message or value longer than the
// configured maximum, before passing the record to next. Records that need
// no change are passed on as they are, without a copy.
//
// It takes the option WithMaxValueBytes, and panics, naming the option, on
// any other and on an invalid one.
func NewSanitizingHandler(next slog.Handler, opts ...Option) slog.Handler {
	c := mustConfig(opts, bySanitizing, "logging.NewSanitizingHandler")
	return newStage(next, &attrMapper{limit: c.maxValueBytes, escape: escapeFor(next)}, false, nil, nil)
}

// stageHandler is the secure stages as a slog.Handler middleware, for
// handlers outside this package: it maps the record with its attrMapper
// and passes it on.
type stageHandler struct {
	next       slog.Handler
	m          *attrMapper
	context    bool // Wrap: add the context attrs to each record, and keep keys unique
	extractors []func(context.Context) []slog.Attr
	// taken are the names a record's attrs cannot take at the level they go
	// to (Wrap): slog's own keys at the top level, and those of WithAttrs.
	taken []string
	// hidden: a group of WithGroup has a secret name, and every attr value
	// below it (the context attrs too, which go into the group) is redacted.
	hidden bool
	group  string // the innermost WithGroup's name, as given (see walker.group)

	// The attrs of WithAttrs (and the names of WithGroup) were mapped when
	// the handler was made, and next holds them encoded: a value registered
	// with Mask after that must still be masked in them. base and
	// baseTaken are next and taken as given first, ops what was applied
	// since, gen the mapper's generation when they were mapped (Mask moves
	// it on); fresh is the handler made again from base when it moved.
	base      slog.Handler
	baseTaken []string
	ops       []handlerOp
	gen       uint64
	fresh     atomic.Pointer[stageHandler]
}

// slogKeys are the keys slog's handlers write for a record's own fields:
// behind Wrap and as WithHandler sinks, no attr takes them at the top
// level. Shared, never changed.
var slogKeys = []string{slog.TimeKey, slog.LevelKey, slog.MessageKey, slog.SourceKey}

// newStage is a stageHandler in front of next, before any WithAttrs or
// WithGroup.
func newStage(next slog.Handler, m *attrMapper, context bool, extractors []func(context.Context) []slog.Attr, taken []string) *stageHandler {
	return &stageHandler{next: next, m: m, context: context, extractors: extractors, taken: taken,
		base: next, baseTaken: taken, gen: m.clean.generation()}
}

// current is h, or h made again from its base when Mask registered a
// value after h mapped its WithAttrs and WithGroup (see stageHandler).
func (h *stageHandler) current() *stageHandler {
	gen := h.m.clean.generation()
	if len(h.ops) == 0 || h.base == nil || h.gen == gen {
		return h
	}
	if f := h.fresh.Load(); f != nil && f.gen == gen {
		return f
	}
	f := newStage(h.base, h.m, h.context, h.extractors, h.baseTaken)
	for _, op := range h.ops {
		if op.group == "" { // WithGroup("") is no op: a group op has a name
			f = f.withAttrs(op.attrs)
		} else {
			f = f.withGroup(op.group)
		}
	}
	h.fresh.Store(f)
	return f
}

func (h *stageHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *stageHandler) Handle(ctx context.Context, r slog.Record) error {
	h = h.current()
	wk := h.m.walker(h.hidden) // the record's budget
	wk.group = h.group         // the context attrs, too, go into the handler's group
	var err error
	if !h.context {
		err = h.next.Handle(ctx, mapRecord(r, &wk, nil, nil))
	} else {
		ctxAttrs, _ := wk.attrs(collectContextAttrs(ctx, h.extractors), 0)
		taken := h.taken
		if taken == nil {
			taken = []string{} // inside a group: no name taken yet, and keys still unique
		}
		err = h.next.Handle(ctx, mapRecord(r, &wk, ctxAttrs, taken))
	}
	if wk.b.known {
		if ev, ok := exposure("", r.PC); ok {
			_ = h.next.Handle(ctx, ev)
		}
	}
	return err
}

func (h *stageHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.current().withAttrs(attrs)
}

func (h *stageHandler) withAttrs(attrs []slog.Attr) *stageHandler {
	gen := h.m.clean.generation() // before mapping: a Mask meanwhile makes it again
	wk := h.m.walker(h.hidden)
	wk.group = h.group
	as, _ := wk.attrs(attrs, 0)
	as, _ = dropEmpty(as)
	h2 := h.derive(gen, handlerOp{attrs: slices.Clone(attrs)})
	if h.context {
		names := newNameSet(h.taken)
		as, _ = uniqueAttrs(as, names)
		h2.taken = names.list
	}
	h2.next = h.next.WithAttrs(as)
	return h2
}

func (h *stageHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.current().withGroup(name)
}

func (h *stageHandler) withGroup(name string) *stageHandler {
	gen := h.m.clean.generation()
	b := newBudget()
	n, _, _ := h.m.key(name, &b)
	h2 := h.derive(gen, handlerOp{group: name})
	h2.hidden = h.m.secretGroup(h.hidden, name) || h.m.pathSecret(h.group, name)
	h2.group = name
	if h.context {
		n = newNameSet(h.taken).unique(n)
		h2.taken = nil // the group's members are a level of their own
	}
	h2.next = h.next.WithGroup(n)
	return h2
}

// derive is a copy of h, one op further, made at generation gen.
func (h *stageHandler) derive(gen uint64, op handlerOp) *stageHandler {
	return &stageHandler{next: h.next, m: h.m, context: h.context, extractors: h.extractors, taken: h.taken,
		hidden: h.hidden, group: h.group, base: h.base, baseTaken: h.baseTaken, ops: append(slices.Clip(h.ops), op), gen: gen}
}

// mapRecord returns r with its message and attributes mapped, followed by
// the (mapped) context attrs ctxAttrs; r itself if nothing changed. The
// common clean record costs one pass and no copy. With taken (Wrap), every
// key is unique at its level: a name in taken or written before is written
// as name#2, name#3, … (see keys.go for Setup's encoder).
func mapRecord(r slog.Record, wk *walker, ctxAttrs []slog.Attr, taken []string) slog.Record {
	msg, mc := wk.message(r.Message)
	if !mc && r.NumAttrs() == 0 && len(ctxAttrs) == 0 {
		return r // a static message: nothing to change, no name to check
	}
	if taken != nil {
		var buf [16]slog.Attr
		f, tail, check := firstChange(r, wk, taken, mc || len(ctxAttrs) > 0, buf[:0])
		if f < 0 && !mc {
			return r // the common record: nothing changed, no name taken
		}
		nr := slog.NewRecord(r.Time, r.Level, msg, r.PC)
		if !check {
			i := 0
			r.Attrs(func(a slog.Attr) bool { // the attrs before f, unchanged
				if i < f {
					nr.AddAttrs(a)
				}
				i++
				return i < f
			})
			nr.AddAttrs(tail...) // no context attrs (they set check)
			return nr
		}
		var abuf [16]slog.Attr // the usual record's attrs: no allocation
		as := abuf[:0]
		if n := max(f, 0) + len(tail) + len(ctxAttrs); n > len(abuf) {
			as = make([]slog.Attr, 0, n)
		}
		i := 0
		r.Attrs(func(a slog.Attr) bool { // the attrs before f, unchanged
			if i < f {
				as = append(as, a)
			}
			i++
			return i < f
		})
		as = dropEmptyInPlace(append(append(as, tail...), ctxAttrs...))
		if !alreadyUnique(as, taken) {
			if len(as) <= maxQuickUnique && !hasInlined(as) {
				uniqueFew(as, taken)
			} else {
				uniqueInPlace(as, newNameSet(taken)) // as is this record's own
			}
		}
		nr.AddAttrs(as...)
		return nr
	}
	first := -1 // index of the first changed attr
	var firstAttr slog.Attr
	i := 0
	r.Attrs(func(a slog.Attr) bool {
		if na, c := wk.attr(a, 0); c || na.Value.Kind() == slog.KindGroup {
			first, firstAttr = i, na
			return false
		}
		i++
		return true
	})
	if !mc && first < 0 {
		return r
	}
	nr := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	i = 0
	r.Attrs(func(a slog.Attr) bool {
		switch {
		case first < 0 || i < first:
		case i == first:
			a = firstAttr
		default:
			a, _ = wk.attr(a, 0)
		}
		if a.Value.Kind() == slog.KindGroup {
			if g, c := dropEmpty([]slog.Attr{a}); c {
				if len(g) == 0 {
					i++
					return true
				}
				a = g[0]
			}
		}
		nr.AddAttrs(a)
		i++
		return true
	})
	return nr
}

// firstChange maps r's attrs once and returns the index of the first that
// mapping changed, or that needs a check (see below), and the mapped attrs
// from there on; -1 when there is none. With changed, every attr is
// returned. check reports whether an attr may take a name in taken or one
// written before, is empty (left out) or is a group (its members are
// checked later): only then must the caller run uniqueAttrs.
func firstChange(r slog.Record, wk *walker, taken []string, changed bool, tail []slog.Attr) (f int, _ []slog.Attr, check bool) {
	var nb [32]string
	names := append(nb[:0], taken...)
	f = -1
	if changed || r.NumAttrs()+len(taken) > len(nb) {
		f, check = 0, true // many attrs, or context attrs: let uniqueAttrs check them
	}
	i := 0
	r.Attrs(func(a slog.Attr) bool {
		na, c := wk.attr(a, 0)
		if !check && (na.Key == "" || na.Value.Kind() == slog.KindGroup || slices.Contains(names, na.Key)) { // "" also: an empty attr, left out
			check = true
			c = true
		}
		if f < 0 && c {
			f = i
		}
		if f >= 0 {
			tail = append(tail, na)
		}
		if !check {
			names = append(names, na.Key)
		}
		i++
		return true
	})
	return f, tail, check
}

// uniqueAttrs renames each attr of as whose key is in names, or taken by
// an attr before it, as key#2, key#3, …, adding the names it writes to
// names; the members of a group are unique among themselves, those of a
// group without a key (inlined) among the attrs around it. It copies as
// only if it renames something.
func uniqueAttrs(as []slog.Attr, names *nameSet) ([]slog.Attr, bool) {
	return mapAttrs(as, func(a slog.Attr) (slog.Attr, bool) { return uniqueAttr(a, names) })
}

// uniqueInPlace is uniqueAttrs for a slice the caller owns: renamed in
// place, without a copy.
func uniqueInPlace(as []slog.Attr, names *nameSet) {
	for i := range as {
		as[i], _ = uniqueAttr(as[i], names)
	}
}

// dropEmptyInPlace is dropEmpty for a slice the caller owns: the attrs
// kept are moved to its front, without a copy.
func dropEmptyInPlace(as []slog.Attr) []slog.Attr {
	n := 0
	for _, a := range as {
		if a, _, keep := pruneGroup(a); keep {
			as[n] = a
			n++
		}
	}
	return as[:n]
}

// hasInlined reports whether as holds a group without a key, whose
// members are at the level of as.
func hasInlined(as []slog.Attr) bool {
	for _, a := range as {
		if a.Key == "" && a.Value.Kind() == slog.KindGroup {
			return true
		}
	}
	return false
}

// uniqueFew is uniqueInPlace for a few attrs (maxQuickUnique) of which no
// group is inlined: each name is looked for among taken and the names
// written before it, with no set to build. It renames as uniqueInPlace
// does: a taken name k is written as k#n, the first n from 2 on whose
// name is free (names are only ever added, so uniqueInPlace's memory of
// the last n is the same first free one).
func uniqueFew(as []slog.Attr, taken []string) {
	for i := range as {
		a := &as[i]
		kind := a.Value.Kind()
		if isEmptyAttr(*a, kind) {
			continue // left out by handlers: takes no name
		}
		if kind == slog.KindGroup {
			if g := a.Value.Group(); !alreadyUnique(g, nil) {
				if ng, c := uniqueAttrs(g, newNameSet(nil)); c {
					a.Value = slog.GroupValue(ng...)
				}
			}
		}
		if nameTaken(a.Key, as[:i], taken) {
			for n := 2; ; n++ {
				if k := renamed(a.Key, n); !nameTaken(k, as[:i], taken) {
					a.Key = k
					break
				}
			}
		}
	}
}

// nameTaken reports whether k is in taken or the name of an attr of
// before (empty attrs take no name).
func nameTaken(k string, before []slog.Attr, taken []string) bool {
	if slices.Contains(taken, k) {
		return true
	}
	for _, b := range before {
		if b.Key == k && !isEmptyAttr(b, b.Value.Kind()) {
			return true
		}
	}
	return false
}

// renamed is k#n; for slog's own keys' first renaming, a constant.
func renamed(k string, n int) string {
	if n == 2 {
		switch k {
		case slog.TimeKey:
			return slog.TimeKey + "#2"
		case slog.LevelKey:
			return slog.LevelKey + "#2"
		case slog.MessageKey:
			return slog.MessageKey + "#2"
		case slog.SourceKey:
			return slog.SourceKey + "#2"
		}
	}
	return k + "#" + strconv.Itoa(n)
}

// uniqueAttr is uniqueAttrs's step for one attr.
func uniqueAttr(a slog.Attr, names *nameSet) (slog.Attr, bool) {
	kind := a.Value.Kind()
	if isEmptyAttr(a, kind) {
		return a, false // left out by handlers: takes no name
	}
	na, c := a, false
	if kind == slog.KindGroup {
		var ng []slog.Attr
		if a.Key == "" {
			return uniqueGroup(a, names) // inlined: its members are at this level
		}
		if g := a.Value.Group(); alreadyUnique(g, nil) {
			c = false
		} else if ng, c = uniqueAttrs(g, newNameSet(nil)); c {
			na.Value = slog.GroupValue(ng...)
		}
	}
	if k := names.unique(a.Key); k != a.Key {
		na.Key, c = k, true
	}
	return na, c
}

// maxQuickUnique is the most attrs at one level that alreadyUnique checks
// pairwise; beyond it uniqueAttrs's sets are cheaper.
const maxQuickUnique = 16

// alreadyUnique reports, without allocating, that as needs no renaming:
// at each level (as, and the members of each of its groups) no key is in
// taken (for the top level) or repeated, and no group is inlined (a group
// without a key puts its members at the level around it, which the sets
// of uniqueAttrs handle). Walked structs and maps, whose names are unique
// already, are the common case. False means "check with uniqueAttrs".
func alreadyUnique(as []slog.Attr, taken []string) bool {
	if len(as) > maxQuickUnique {
		return false
	}
	for i, a := range as {
		kind := a.Value.Kind()
		if isEmptyAttr(a, kind) {
			continue
		}
		if a.Key == "" || slices.Contains(taken, a.Key) {
			return false
		}
		for _, b := range as[:i] {
			if b.Key == a.Key && !isEmptyAttr(b, b.Value.Kind()) {
				return false
			}
		}
		if kind == slog.KindGroup && !alreadyUnique(a.Value.Group(), nil) {
			return false
		}
	}
	return true
}

// uniqueGroup is uniqueAttrs for the members of a group without a key.
func uniqueGroup(a slog.Attr, names *nameSet) (slog.Attr, bool) {
	ng, c := uniqueAttrs(a.Value.Group(), names)
	if c {
		a.Value = slog.GroupValue(ng...)
	}
	return a, c
}

// nameSet is the names taken at one level, for Wrap's renaming: a list,
// and a map once it is long, so that many attrs cost a linear number of
// steps; next remembers the next suffix to try for a name renamed before.
type nameSet struct {
	list  []string
	buf   [16]string // list's first storage: one allocation for a usual level
	set   map[string]struct{}
	next  []nameNext     // few names are renamed: a list, searched…
	nbuf  [2]nameNext    // next's first storage
	nexts map[string]int // …and a map once there are many (each is linear)
}

// nameNext is the next suffix to try for a name renamed before.
type nameNext struct {
	name string
	n    int
}

func newNameSet(taken []string) *nameSet {
	s := &nameSet{}
	s.list = append(s.buf[:0], taken...)
	s.next = s.nbuf[:0]
	return s
}

func (s *nameSet) has(k string) bool {
	if s.set != nil {
		_, ok := s.set[k]
		return ok
	}
	return slices.Contains(s.list, k)
}

func (s *nameSet) add(k string) {
	s.list = append(s.list, k)
	if s.set == nil && len(s.list) > manyKeys {
		s.set = make(map[string]struct{}, 2*len(s.list))
		for _, n := range s.list {
			s.set[n] = struct{}{}
		}
	} else if s.set != nil {
		s.set[k] = struct{}{}
	}
}

// unique returns k, or k#2, k#3, … the first name not taken, and takes it.
func (s *nameSet) unique(k string) string {
	name := k
	if s.has(name) {
		n := s.nextSuffix(k)
		for name = k + suffix(n); s.has(name); name = k + suffix(n) {
			n++
		}
		s.setNext(k, n+1)
	}
	s.add(name)
	return name
}

// nextSuffix is the first suffix to try for k (2 for a name not renamed before).
func (s *nameSet) nextSuffix(k string) int {
	if s.nexts != nil {
		return max(2, s.nexts[k])
	}
	if i := slices.IndexFunc(s.next, func(x nameNext) bool { return x.name == k }); i >= 0 {
		return s.next[i].n
	}
	return 2
}

// setNext records n as the next suffix to try for k.
func (s *nameSet) setNext(k string, n int) {
	if s.nexts != nil {
		s.nexts[k] = n
		return
	}
	if i := slices.IndexFunc(s.next, func(x nameNext) bool { return x.name == k }); i >= 0 {
		s.next[i].n = n
		return
	}
	s.next = append(s.next, nameNext{k, n})
	if len(s.next) > manyKeys {
		s.nexts = make(map[string]int, 2*len(s.next))
		for _, x := range s.next {
			s.nexts[x.name] = x.n
		}
		s.next = nil
	}
}
