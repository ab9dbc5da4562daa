package logging

import (
	"log/slog"
	"math"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// This file turns values into TEXT and JSON. Every string, key and group name
// is written through appendEscaped, so the encoders never emit a raw control
// character even when the sanitizing stage is left out.

// appendJSONString appends s as a JSON string literal.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s, quoteJSON)
	return append(dst, '"')
}

// attrWriter writes attrs in TEXT or JSON. It is the one walk over attrs
// and groups that both formats share, after slog's handleState.appendAttr:
// the formats differ only in how a key is written (jsonKey, textKey), how a
// group opens and closes (openGroup, closeGroup) and how a leaf value is
// written (appendJSONValue, appendTextValue). An empty group is undone by
// cutting the buffer back to where it began. Every key is unique at its
// level (see keys.go). The attrs it is given are already mapped (see
// attrMapper). The buffer is passed in and returned, as append does, so
// that it stays in registers.
type attrWriter struct {
	json   bool
	first  uint8  // JSON: 1 before the first member of an object (no comma), else 0
	prefix string // TEXT: the dotted names of the groups being written
	keys   keySet
}

// attrs appends each attr and reports whether any was written.
func (w *attrWriter) attrs(buf []byte, as []slog.Attr) ([]byte, bool) {
	wrote := false
	for _, a := range as {
		var ok bool
		if buf, ok = w.attr(buf, a); ok {
			wrote = true
		}
	}
	return buf, wrote
}

// attr appends one attr, leaving out an empty attr and an empty group, and
// inlining the members of a group without a key. It reports whether
// anything was written.
func (w *attrWriter) attr(buf []byte, a slog.Attr) ([]byte, bool) {
	kind := a.Value.Kind()
	if kind == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
		kind = a.Value.Kind()
	}
	if isEmptyAttr(a, kind) {
		return buf, false
	}
	if kind != slog.KindGroup {
		if w.json {
			return appendJSONValue(w.jsonKey(buf, a.Key), a.Value, kind), true
		}
		return appendTextValue(w.textKey(buf, a.Key), a.Value, kind, true), true
	}
	g := a.Value.Group()
	if a.Key == "" {
		return w.attrs(buf, g)
	}
	m := w.mark(buf)
	buf, outer := w.openGroup(buf, a.Key)
	buf, wrote := w.attrs(buf, g)
	if !wrote {
		return w.undo(buf, m), false
	}
	return w.closeGroup(buf, m.prefix, outer), true
}

// writerMark is where an attrWriter stood before it opened groups: undo
// goes back to it, buffer and keys, when nothing was written inside them.
type writerMark struct {
	len, n, depth int
	first         uint8
	prefix        string
	cur           keyLevel
}

// mark returns where w stands, buf being the buffer so far.
func (w *attrWriter) mark(buf []byte) writerMark {
	return writerMark{len(buf), w.keys.n, w.keys.depth, w.first, w.prefix, w.keys.cur}
}

// undo returns w to m and buf to its length at m.
func (w *attrWriter) undo(buf []byte, m writerMark) []byte {
	w.keys.truncate(m.n)
	w.keys.cur, w.keys.depth = m.cur, m.depth
	w.first, w.prefix = m.first, m.prefix
	return buf[:m.len]
}

// jsonKey appends the separator before a member and its key, ,"key":, the
// key renamed key#2, key#3, … if it is taken at this level.
func (w *attrWriter) jsonKey(buf []byte, k string) []byte {
	if w.first == 0 {
		buf = append(buf, ',')
	}
	w.first = 0
	mark := len(buf)
	buf = appendJSONKey(buf, k)
	// keySet.claim's common case, written out: this runs for every key.
	ks := &w.keys
	b := keyBit(buf[mark+1 : len(buf)-2])
	if !b.in(&ks.cur.bloom) && ks.n < len(ks.spans) && ks.cur.names == nil {
		b.set(&ks.cur.bloom)
		ks.spans[ks.n] = keySpan{int32(mark + 1), int32(len(buf) - 2)}
		ks.n++
		return buf
	}
	if !ks.claimBits(b, buf, mark+1, len(buf)-2) {
		buf = w.renameJSON(buf[:mark], k)
	}
	return buf
}

// renameJSON appends "k#n": with the first n from 2 whose name is free.
func (w *attrWriter) renameJSON(buf []byte, k string) []byte {
	for {
		b := appendJSONKey(buf, k+suffix(w.keys.nextSuffix(k)))
		if w.keys.claim(b, len(buf)+1, len(b)-2) {
			return b
		}
	}
}

// appendJSONKey appends "k":.
func appendJSONKey(buf []byte, k string) []byte {
	return append(appendEscaped(append(buf, '"'), k, quoteJSON), '"', ':')
}

// textKey appends a space and prefix.key=, renamed prefix.key#2, … if the
// name is taken in the line.
func (w *attrWriter) textKey(buf []byte, k string) []byte {
	if w.prefix != "" {
		k = w.prefix + k
	}
	mark := len(buf) + 1
	buf = appendTextString(append(buf, ' '), k)
	for !w.keys.claim(buf, mark, len(buf)) {
		buf = appendTextString(buf[:mark], k+suffix(w.keys.nextSuffix(k)))
	}
	return append(buf, '=')
}

// openGroup starts a group: "name":{ in JSON, whose members are a new level
// of keys (give the returned level to closeGroup); in TEXT the name joins
// the prefix of the keys inside it.
func (w *attrWriter) openGroup(buf []byte, name string) ([]byte, keyLevel) {
	if w.json {
		buf = append(w.jsonKey(buf, name), '{')
		w.first = 1
		return buf, w.keys.push()
	}
	w.prefix += name + "."
	return buf, keyLevel{}
}

// closeGroup ends the group that openGroup started; prefix is the TEXT
// prefix from before it, outer the level openGroup returned.
func (w *attrWriter) closeGroup(buf []byte, prefix string, outer keyLevel) []byte {
	if w.json {
		w.first = 0
		w.keys.pop(outer)
		return append(buf, '}')
	}
	w.prefix = prefix
	return buf
}

// appendJSONValue appends v, whose kind the caller knows (Value.Kind is a
// type switch: once per value is enough), as JSON. Groups become objects,
// lists arrays.
func appendJSONValue(dst []byte, v slog.Value, kind slog.Kind) []byte {
	switch kind {
	case slog.KindString:
		return appendJSONString(dst, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(dst, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(dst, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return appendJSONString(dst, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(dst, v.Bool())
	case slog.KindDuration:
		return strconv.AppendInt(dst, int64(v.Duration()), 10)
	case slog.KindTime:
		dst = append(dst, '"')
		dst = v.Time().AppendFormat(dst, time.RFC3339Nano)
		return append(dst, '"')
	case slog.KindGroup: // a group inside a list
		w := attrWriter{json: true, first: 1}
		dst, _ = w.attrs(append(dst, '{'), v.Group())
		return append(dst, '}')
	case slog.KindLogValuer:
		v = v.Resolve()
		return appendJSONValue(dst, v, v.Kind())
	}
	switch x := v.Any().(type) {
	case nil:
		return append(dst, "null"...)
	case valueList:
		return appendJSONList(dst, x)
	}
	return appendJSONString(dst, unwalked)
}

// appendJSONList appends l as a JSON array.
func appendJSONList(dst []byte, l valueList) []byte {
	dst = append(dst, '[')
	for i, e := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONValue(dst, e, e.Kind())
	}
	return append(dst, ']')
}

// unwalked stands for a value of kind Any that reached an encoder without
// passing an attrMapper, which walks every such value; it never should.
const unwalked = "!UNWALKED"

// needsQuoting reports whether a TEXT value or key must be double-quoted:
// empty, or holding a space, '=', '"', or anything appendEscaped escapes
// (every non-ASCII space is one of the runes dangerousRune escapes).
func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b <= ' ' || b == '=' || b == '"' || b == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || dangerousRune(r) {
			return true
		}
		i += size
	}
	return false
}

// appendTextString appends a TEXT key or value, quoted where needed.
func appendTextString(dst []byte, s string) []byte {
	if !needsQuoting(s) {
		return appendEscaped(dst, s, quoteNone)
	}
	dst = append(dst, '"')
	dst = appendEscaped(dst, s, quoteText)
	return append(dst, '"')
}

// appendTextValue appends v, whose kind the caller knows, as TEXT; strings
// are quoted where needed when quote is set. Lists print as [a b c],
// groups inside them as {k=v}.
func appendTextValue(dst []byte, v slog.Value, kind slog.Kind, quote bool) []byte {
	switch kind {
	case slog.KindString:
		if quote {
			return appendTextString(dst, v.String())
		}
		return appendEscaped(dst, v.String(), quoteNone)
	case slog.KindInt64:
		return strconv.AppendInt(dst, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(dst, v.Uint64(), 10)
	case slog.KindFloat64:
		return strconv.AppendFloat(dst, v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(dst, v.Bool())
	case slog.KindDuration:
		return append(dst, v.Duration().String()...)
	case slog.KindTime:
		return v.Time().AppendFormat(dst, time.RFC3339Nano)
	case slog.KindLogValuer:
		v = v.Resolve()
		return appendTextValue(dst, v, v.Kind(), quote)
	case slog.KindGroup:
		dst = append(dst, '{')
		for i, a := range v.Group() {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = appendTextString(dst, a.Key)
			dst = append(dst, '=')
			dst = appendTextValue(dst, a.Value, a.Value.Kind(), true)
		}
		return append(dst, '}')
	}
	switch x := v.Any().(type) {
	case nil:
		return append(dst, "<nil>"...)
	case valueList:
		// The list's text is built unescaped and escaped once, as a whole:
		// quoted when it needs it, and always when anything in it is
		// escaped (as any TEXT value).
		raw := string(appendTextRaw(nil, x))
		if quote {
			return appendTextString(dst, raw)
		}
		return appendEscaped(dst, raw, quoteNone)
	}
	return append(dst, unwalked...)
}

// appendTextRaw appends the list l as [a b c] without escaping anything:
// appendTextValue escapes the whole once. Groups inside print as {k=v},
// a key or string value that needs quoting between quotes.
func appendTextRaw(dst []byte, l valueList) []byte {
	dst = append(dst, '[')
	for i, e := range l {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = appendTextRawValue(dst, e, false)
	}
	return append(dst, ']')
}

// appendTextRawValue appends v unescaped, a string between quotes when
// quote is set and it needs them.
func appendTextRawValue(dst []byte, v slog.Value, quote bool) []byte {
	kind := v.Kind()
	if kind == slog.KindLogValuer {
		v = v.Resolve()
		kind = v.Kind()
	}
	switch kind {
	case slog.KindString:
		s := v.String()
		if quote && needsQuoting(s) {
			return append(append(append(dst, '"'), s...), '"')
		}
		return append(dst, s...)
	case slog.KindGroup:
		dst = append(dst, '{')
		for i, a := range v.Group() {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = appendTextRawValue(dst, slog.StringValue(a.Key), true)
			dst = append(dst, '=')
			dst = appendTextRawValue(dst, a.Value, true)
		}
		return append(dst, '}')
	case slog.KindAny:
		if l, ok := v.Any().(valueList); ok {
			return appendTextRaw(dst, l)
		}
	}
	return appendTextValue(dst, v, kind, false) // numbers, bools, durations, times; nil and the unwalked
}

// timeMicros is the layout of record times in JSON: RFC 3339 with exactly
// six fractional digits.
const timeMicros = "2006-01-02T15:04:05.000000Z07:00"

// appendTimeMicros appends t in the timeMicros layout, as t.AppendFormat
// does, in a third of the time: the civil date comes from the Unix day
// number directly (years outside 0–9999 take the time package's path).
func appendTimeMicros(b []byte, t time.Time) []byte {
	_, off := t.Zone()
	sec := t.Unix() + int64(off)
	if c := lastSecond.Load(); c != nil && c.sec == sec {
		b = append(b, c.text[:]...) // records of the same second share their date and time
	} else {
		days := sec / 86400
		if sec%86400 < 0 {
			days--
		}
		y, mo, d := civilDate(days)
		if y < 0 || y > 9999 {
			return t.AppendFormat(b, timeMicros)
		}
		sod := int(sec - days*86400)
		start := len(b)
		b = append4(b, y)
		b = append(b, '-')
		b = append2(b, mo)
		b = append(b, '-')
		b = append2(b, d)
		b = append(b, 'T')
		b = append2(b, sod/3600)
		b = append(b, ':')
		b = append2(b, sod/60%60)
		b = append(b, ':')
		b = append2(b, sod%60)
		c := &secondText{sec: sec}
		copy(c.text[:], b[start:])
		lastSecond.Store(c)
	}
	us := t.Nanosecond() / 1000
	b = append(b, '.')
	b = append2(b, us/10000)
	b = append2(b, us/100%100)
	b = append2(b, us%100)
	if off == 0 {
		return append(b, 'Z')
	}
	zone := off / 60
	if zone < 0 {
		b = append(b, '-')
		zone = -zone
	} else {
		b = append(b, '+')
	}
	b = append2(b, zone/60)
	b = append(b, ':')
	return append2(b, zone%60)
}

// secondText is the date and time of one second, as appendTimeMicros
// writes it (local seconds: the zone's offset added).
type secondText struct {
	sec  int64
	text [19]byte
}

// lastSecond is the second of the last record written.
var lastSecond atomic.Pointer[secondText]

// civilDate turns days since 1970-01-01 into year, month and day of the
// proleptic Gregorian calendar (H. Hinnant's days_from_civil, inverted).
func civilDate(days int64) (y, m, d int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func append4(b []byte, n int) []byte { return append2(append2(b, n/100), n%100) }

// isEmptyAttr reports whether a (whose value has the given kind) is the zero
// Attr, which handlers leave out; cheaper than a.Equal(slog.Attr{}).
func isEmptyAttr(a slog.Attr, kind slog.Kind) bool {
	return a.Key == "" && kind == slog.KindAny && a.Value.Any() == nil
}
