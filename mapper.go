package logging

import (
	"log/slog"
	"reflect"
	"slices"
	"unicode/utf8"
	"unsafe"

	"github.com/codomyrmex/logging/internal/redact"
)

// attrMapper prepares attrs for output. It is the one mechanism behind
// every path a record takes: Setup's encoder, Wrap, and the stage handlers
// built alone. For each attr, in this order:
//
//  1. a key that names a secret has its whole value replaced (see redacted);
//  2. slog.LogValuers are resolved and values of kind Any are walked into
//     the data they hold: groups for structs and maps, lists for slices,
//     text for errors, Stringers and []byte (see walker);
//  3. every string value is redacted by pattern, then cut to the size
//     limit, then, where the output is not written by this package's own
//     encoders (which escape as they write), escaped as Sanitize does;
//  4. keys and group names are cut likewise, and escaped when escape is set.
//
// It reports whether anything changed, so that a record that needs nothing
// is passed on without a copy.
type attrMapper struct {
	red    *redact.Redactor // nil: no redaction
	limit  int              // bytes per string value; 0: no limit
	escape escapeMode       // how strings, keys and group names are escaped for the handler behind
	clean  cleanCache       // keys that key left as they were
	msgs   cleanCache       // messages that message left as they were
	paths  pathCache        // whether group.key names a secret (pathSecret)
	fp     fingerprinter    // which key-redacted values are fingerprinted
	allow  allowSet         // keys not redacted by key
	// passJSON: the handler behind is slog's JSON handler, and a value of
	// kind Any it would write as the walk writes it goes as it is
	// (passthrough.go).
	passJSON bool
}

// Redaction's share of a record. A string is redacted over at most the
// size limit plus redactSlack bytes (what lies beyond is cut anyway, and a
// secret that crosses the cut is still found whole), and a record over at
// most redactBudget bytes in all: a string past that is replaced by
// budgetMarker (counted in Stats as "budget"), never written unredacted.
// Redaction is linear, so the budget bounds the time too.
const (
	redactSlack  = 4 << 10
	redactBudget = 1 << 20
	budgetMarker = "[REDACTED:budget]"
)

// budget is what a record may still spend on redaction, and what its
// redaction found that the record's handler must act on.
type budget struct {
	work  int  // bytes left in the record's redaction budget
	known bool // a value registered with Mask was masked (see exposed)
}

// newBudget is a whole record's budget.
func newBudget() budget { return budget{work: redactBudget} }

// str maps a message or a string value within the record's budget b.
func (m *attrMapper) str(s string, b *budget) (string, bool) {
	changed, more := false, 0
	if n := len(s); m.red != nil && n <= b.work && (m.limit <= 0 || n <= m.limit+redactSlack) {
		b.work -= n // the common case, within the limit and the budget
		var known bool
		if s, changed, known = m.red.RedactKnown(s); known {
			b.known = true
		}
	} else if m.red != nil {
		s, more, changed = m.redact(s, b)
	}
	if m.limit > 0 && (len(s) > m.limit || more > 0) {
		s, changed = truncateMore(s, m.limit, more), true
	}
	if e, c := m.escapeStr(s); c {
		s, changed = e, true
	}
	return s, changed
}

// escapeMode is how a mapper escapes strings, keys and group names for
// the handler behind it (see escapeFor): one layer of escaping in the
// output, whoever writes it.
type escapeMode uint8

const (
	// escapeNone: the handler behind escapes every dangerous rune itself,
	// once: Setup's own encoders.
	escapeNone escapeMode = iota
	// escapeAll: the handler behind writes strings as they are: Sanitize.
	escapeAll
	// escapeSlogJSON: slog's JSONHandler escapes C0 controls and U+2028,
	// U+2029 itself, once; the other dangerous runes (DEL, C1 controls,
	// bidi and invisible runes, invalid bytes) are escaped here.
	escapeSlogJSON
	// escapeSlogText: slog's TextHandler quotes a string that holds a rune
	// unicode.IsPrint rejects, escaping it as strconv.Quote does (the rule
	// Sanitize follows), once; but for DEL, which it writes as it is:
	// escaped here.
	escapeSlogText
)

// escapeFor is the escaping a mapper does for the handler h.
func escapeFor(h slog.Handler) escapeMode {
	switch h.(type) {
	case *slog.TextHandler:
		return escapeSlogText
	case *slog.JSONHandler:
		return escapeSlogJSON
	}
	return escapeAll
}

// escapeStr escapes s for the handler behind (see escapeMode) and reports
// whether that changed it.
func (m *attrMapper) escapeStr(s string) (string, bool) {
	if m.escape == escapeNone || IsClean(s) {
		return s, false
	}
	mode := quoteNoneButSlogText
	switch m.escape {
	case escapeAll:
		return Sanitize(s), true
	case escapeSlogJSON:
		mode = quoteNoneButSlogJSON
	}
	e := string(appendEscaped(make([]byte, 0, len(s)+16), s, mode))
	return e, e != s
}

// redact redacts s within the limit and the budget (see redactBudget). A
// string that does not fit in what is left of the budget is replaced
// whole: cut, its beginning could show the first part of a secret.
// It returns the redacted part and how many bytes after it were never
// looked at: those are cut, never written (redaction may have made the
// part shorter than the limit, so they must not be kept for the cut).
func (m *attrMapper) redact(s string, b *budget) (string, int, bool) {
	n := len(s)
	if m.limit > 0 {
		n = min(n, m.limit+redactSlack)
	}
	if n > b.work {
		b.work = 0
		countRedaction("budget")
		return budgetMarker, 0, true
	}
	b.work -= n
	if n == len(s) {
		r, c, known := m.red.RedactKnown(s)
		b.known = b.known || known
		return r, 0, c
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	head, _, known := m.red.RedactKnown(s[:n])
	b.known = b.known || known
	return head, len(s) - n, true
}

// strClean reports whether str would leave s as it is, spending from b
// what str would spend and counting nothing (see passes).
func (m *attrMapper) strClean(s string, b *budget) bool {
	if m.limit > 0 && len(s) > m.limit {
		return false
	}
	if m.red != nil {
		if len(s) > b.work {
			return false
		}
		b.work -= len(s)
		if m.red.Finds(s) {
			return false
		}
	}
	_, c := m.escapeStr(s)
	return !c
}

// keyClean is strClean for a key, with the key's cache, also reporting
// whether the key names a secret.
func (m *attrMapper) keyClean(k string, b *budget) (clean, secret bool) {
	if secret, ok := m.clean.get(k); ok || k == "" {
		return true, secret
	}
	gen := m.clean.generation()
	clean, secret = m.strClean(k, b), m.secretKey(k)
	if clean && len(k) <= maxCachedKey {
		m.clean.add(k, secret, gen) // as key does: the next record finds it
	}
	return clean, secret
}

// key maps a key or a group name as str maps a value: redacted by pattern
// (a key can be a credential: a map of user input turned into attrs), cut
// to the size limit, and escaped when escape is set (the built-in encoders
// escape as they write). It also reports whether the key (as given) names
// a secret. A key seen clean before costs a lookup in m.clean, so that the
// keys a program writes again and again are not scanned or matched again;
// b is the record's redaction budget.
func (m *attrMapper) key(k string, b *budget) (nk string, changed, secret bool) {
	if k == "" {
		return k, false, false
	}
	if secret, ok := m.clean.get(k); ok {
		return k, false, secret
	}
	gen := m.clean.generation()
	secret = m.secretKey(k)
	if m.red == nil {
		long := m.limit > 0 && len(k) > m.limit
		if !long && (m.escape == escapeNone || IsClean(k)) {
			if len(k) <= maxCachedKey {
				m.clean.add(k, secret, gen)
			}
			return k, false, secret
		}
	}
	nk, changed = m.str(k, b)
	if !changed && len(k) <= maxCachedKey {
		m.clean.add(k, secret, gen)
	}
	return nk, changed, secret
}

// message maps a record's message as str maps a value. A message seen
// unchanged before costs a lookup in m.msgs, so that the constant messages
// a program logs again and again are not scanned again.
func (m *attrMapper) message(s string, b *budget) (string, bool) {
	if len(s) > maxCachedMessage {
		return m.str(s, b)
	}
	if _, ok := m.msgs.get(s); ok {
		return s, false
	}
	gen := m.msgs.generation()
	out, changed := m.str(s, b)
	if !changed {
		m.msgs.add(s, false, gen)
	}
	return out, changed
}

// secretKey reports whether a key's whole value is to be redacted: it
// names a secret (the redactor's key stems) or a session id
// (sessionCookieKey), and is not allowed.
func (m *attrMapper) secretKey(k string) bool {
	return m.red != nil && (m.red.SecretKey(k) || sessionCookieKey(k)) && !m.allow.has(k)
}

// secretGroup reports whether the attrs of a handler's group are all
// secret: the group, or one it is in (hidden), has a secret name, as
// logger.WithGroup("api_key") has.
func (m *attrMapper) secretGroup(hidden bool, name string) bool {
	return hidden || m.secretKey(name)
}

// redacted is the attr that replaces the value of a secret key, a field
// tagged `log:"redact"`, and the like; each one is counted under "key".
func redacted(key string) slog.Attr {
	countRedaction("key")
	return slog.String(key, redactedMarker)
}

// Bounds of one record's walk. One depth limit holds across every kind of
// nesting (groups, LogValuers, structs, slices, maps, pointers, JSON text),
// and one budget bounds the values of a whole record, so that a value that
// contains itself, a group nested 200,000 deep or a slice that shares its
// parts (a DAG) costs a bounded amount. What is cut is marked.
const (
	// maxDepth is how deep values nest below an attr; deeper parts become
	// depthMarker.
	maxDepth = 16
	// maxNodes is how many values (attrs, group members, list elements,
	// fields) one record may have; the rest become nodesMarker.
	maxNodes = 10000
	// maxElems bounds how many elements of one map, slice or struct are kept.
	maxElems = 1000
)

// Markers of what the walk cut or could not format.
const (
	depthMarker = "!DEPTH: value nested too deeply"
	nodesMarker = "!LIMIT: record has too many values"
	cycleMarker = "!CYCLE"
	panicMarker = "!PANIC: value could not be formatted"
)

// walker is one record's walk through its attrs and values with an
// attrMapper: it carries the record's budget of values and the pointers on
// the current path (to stop cycles). Make one per record with
// attrMapper.walker; it is not safe for concurrent use.
type walker struct {
	m      *attrMapper
	nodes  int       // values left in the record's budget
	b      budget    // the record's redaction budget
	seen   []uintptr // pointers on the current path
	hidden bool      // a group on the current path has a secret name: every value below it is redacted
	// group is the name of the group, attr or field whose members are
	// being mapped ("" at the top): a member's key is also judged with it
	// (see pathSecret).
	group string
	arena walkArena // the slices the deep walk builds (plan.go)
	// keyless: the value being mapped is that of an attr without a key,
	// whose group slog's handler would put beside it: no form (jsonform.go).
	keyless bool
}

// pathSecret reports whether group.key, a member's key joined to the name
// of the group (or attr, or field) it is in, names a secret as the flat key
// would: slog.Group("api", "key", v) is written api.key=v, which the key
// api.key makes secret. Names that long are not joined.
func (m *attrMapper) pathSecret(group, key string) bool {
	if m.red == nil || group == "" || key == "" || len(group)+len(key) >= maxJoinedKey {
		return false
	}
	if secret, ok := m.paths.get(group, key); ok {
		return secret
	}
	var buf [maxJoinedKey]byte
	p := append(append(append(buf[:0], group...), '.'), key...)
	k := unsafe.String(&p[0], len(p)) // not kept: matched and dropped
	secret := m.secretKey(k)
	m.paths.add(group, key, secret)
	return secret
}

// maxJoinedKey bounds the names pathSecret joins.
const maxJoinedKey = 128

// walker starts the walk of one record (or of one WithAttrs call); hidden
// says that the attrs go into a group with a secret name (see
// attrMapper.secretGroup).
func (m *attrMapper) walker(hidden bool) walker {
	return walker{m: m, nodes: maxNodes, b: newBudget(), hidden: hidden}
}

// str maps a message or a string value within the record's budget.
func (w *walker) str(s string) (string, bool) { return w.m.str(s, &w.b) }

// message maps the record's message (see attrMapper.message).
func (w *walker) message(s string) (string, bool) { return w.m.message(s, &w.b) }

// spend takes one value from the record's budget; false when it is spent.
func (w *walker) spend() bool {
	w.nodes--
	return w.nodes >= 0
}

// attr maps one attribute at the given depth. Strings and scalars, nearly
// every attr, are handled here directly; only groups and values to walk go
// through value.
func (w *walker) attr(a slog.Attr, depth int) (slog.Attr, bool) {
	m := w.m
	kind := a.Value.Kind()
	key, kc, secret := m.key(a.Key, &w.b)
	if !secret && w.group != "" {
		secret = m.pathSecret(w.group, a.Key)
	}
	if !w.spend() {
		return slog.String(key, nodesMarker), true
	}
	if kind != slog.KindGroup && (w.hidden || secret) {
		return m.secretAttr(key, a.Key, a.Value), true
	}
	v, vc := a.Value, false
	switch kind {
	case slog.KindString:
		if s, c := m.str(a.Value.String(), &w.b); c {
			v, vc = slog.StringValue(s), true
		}
	case slog.KindGroup:
		group := w.group
		if a.Key != "" { // a group without a key puts its members beside it
			w.group = a.Key
		}
		if !w.hidden && secret {
			w.hidden = true // a key's path: password.current is as secret as password
			v, vc = w.value(a.Value, depth)
			w.hidden = false
		} else {
			v, vc = w.value(a.Value, depth)
		}
		w.group = group
	case slog.KindAny, slog.KindLogValuer:
		group, keyless := w.group, w.keyless
		w.group = a.Key // the fields and entries of what it holds
		w.keyless = a.Key == ""
		v, vc = w.value(a.Value, depth)
		w.group, w.keyless = group, keyless
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64:
		v, vc = w.number(a.Value)
	} // bools, durations and times need nothing
	if !kc && !vc {
		return a, false
	}
	return slog.Attr{Key: key, Value: v}, true
}

// attrs maps a slice of attributes, copying it only if something changed.
func (w *walker) attrs(as []slog.Attr, depth int) ([]slog.Attr, bool) {
	return mapAttrs(as, func(a slog.Attr) (slog.Attr, bool) { return w.attr(a, depth) })
}

// mapAttrs applies f to each attr of as in order and returns the results,
// copying as only from the first attr that f changes.
func mapAttrs(as []slog.Attr, f func(slog.Attr) (slog.Attr, bool)) ([]slog.Attr, bool) {
	return mapAttrsKeep(as, func(a slog.Attr) (slog.Attr, bool, bool) {
		na, c := f(a)
		return na, c, true
	})
}

// mapAttrsKeep is mapAttrs with f also saying whether to keep the attr.
func mapAttrsKeep(as []slog.Attr, f func(slog.Attr) (na slog.Attr, changed, keep bool)) ([]slog.Attr, bool) {
	var out []slog.Attr
	for i, a := range as {
		na, c, keep := f(a)
		if (c || !keep) && out == nil {
			out = make([]slog.Attr, i, len(as))
			copy(out, as[:i])
		}
		if out != nil && keep {
			out = append(out, na)
		}
	}
	if out == nil {
		return as, false
	}
	return out, true
}

// value maps one value found at the given depth: the members of a group
// and the elements of a list are one level deeper, and so is what a
// LogValuer resolves to.
func (w *walker) value(v slog.Value, depth int) (slog.Value, bool) {
	kind := v.Kind()
	if kind == slog.KindString {
		s, c := w.str(v.String())
		if !c {
			return v, false
		}
		return slog.StringValue(s), true
	}
	if kind != slog.KindGroup && kind != slog.KindAny && kind != slog.KindLogValuer {
		return w.number(v) // numbers; bools, durations and times need nothing
	}
	if depth >= maxDepth {
		return slog.StringValue(depthMarker), true
	}
	switch kind {
	case slog.KindGroup:
		as, c := w.attrs(v.Group(), depth+1)
		if !c {
			return v, false
		}
		return slog.GroupValue(as...), true
	case slog.KindLogValuer:
		nv, _ := w.value(v.Resolve(), depth+1)
		return nv, true
	}
	if v.Any() == nil {
		return v, false
	}
	if s, ok := v.Any().(preRedacted); ok {
		return w.m.preRedacted(s), true
	}
	if l, ok := v.Any().(valueList); ok {
		var out valueList
		for i, e := range l {
			ne, c := w.element(e, depth+1)
			if c && out == nil {
				out = slices.Clone(l)
			}
			if out != nil {
				out[i] = ne
			}
		}
		if out == nil {
			return v, false
		}
		return slog.AnyValue(out), true
	}
	rv := reflect.ValueOf(v.Any())
	if w.m.passJSON {
		if pass, f, formed := w.passValue(rv, depth); pass {
			// slog's JSON handler writes it as the walk would; one that
			// holds a time, in a form it writes without
			// time.Time.MarshalJSON.
			if formed {
				return f, true
			}
			return v, false
		}
	}
	return w.walk(rv, depth), true
}

// element maps one element of a list, from the record's budget.
func (w *walker) element(v slog.Value, depth int) (slog.Value, bool) {
	if !w.spend() {
		return slog.StringValue(nodesMarker), true
	}
	return w.value(v, depth)
}

// dropEmpty returns as without the groups that hold nothing but empty
// attrs and such groups, at any depth, and whether it left any out; as
// itself when there is none. slog's own handlers write such a group wrongly
// (JSON without the comma after it, TEXT with its prefix on the next key),
// so the stages leave them out for the handlers behind them.
func dropEmpty(as []slog.Attr) ([]slog.Attr, bool) {
	return mapAttrsKeep(as, pruneGroup)
}

// pruneGroup is dropEmpty's step for one attr: a group without content is
// dropped (keep false), the empty groups inside one are dropped (changed).
func pruneGroup(a slog.Attr) (_ slog.Attr, changed, keep bool) {
	if a.Value.Kind() != slog.KindGroup {
		return a, false, true
	}
	g, c := dropEmpty(a.Value.Group())
	if len(g) == 0 || !hasContent(g) {
		return a, true, false
	}
	if c {
		a.Value = slog.GroupValue(g...)
	}
	return a, c, true
}

// hasContent reports whether as holds an attr that is not empty.
func hasContent(as []slog.Attr) bool {
	for _, a := range as {
		if a.Value.Kind() == slog.KindGroup {
			if hasContent(a.Value.Group()) {
				return true
			}
		} else if !isEmptyAttr(a, a.Value.Kind()) {
			return true
		}
	}
	return false
}

// valueList is the walked form of a slice or array.
type valueList []slog.Value

// MarshalJSON encodes the list as a JSON array, so that handlers outside this
// package (slog.JSONHandler behind Wrap) print lists as arrays.
func (l valueList) MarshalJSON() ([]byte, error) {
	bp := bufPool.Get().(*[]byte)     // written in a pooled buffer: one allocation, not one per growth
	b := appendJSONList((*bp)[:0], l) // not through slog.AnyValue, which would box l
	out := slices.Clone(b)
	putBuf(bp, b)
	return out, nil
}

// String renders the list as [a b c], for text handlers.
func (l valueList) String() string {
	return string(appendTextValue(nil, slog.AnyValue(l), slog.KindAny, false))
}

// MarshalText is String as bytes, which slog.TextHandler prefers.
func (l valueList) MarshalText() ([]byte, error) { return []byte(l.String()), nil }
