package logging

import (
	"log/slog"
	"math"
	"strconv"
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
// the formats differ only in how a key is written (key), how a group opens
// and closes (openGroup, closeGroup) and how a leaf value is written
// (appendJSONValue, appendTextValue). An empty group is undone by cutting
// the buffer back to where it began. The attrs it is given are already
// mapped (see attrMapper). The buffer is passed in and returned, as append
// does, so that it stays in registers.
type attrWriter struct {
	json   bool
	first  uint8  // JSON: 1 before the first member of an object (no comma), else 0
	prefix string // TEXT: the dotted names of the groups being written
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
		return appendTextValue(w.key(buf, a.Key), a.Value, kind, true), true
	}
	g := a.Value.Group()
	if a.Key == "" {
		return w.attrs(buf, g)
	}
	mark, first, prefix := len(buf), w.first, w.prefix
	buf, wrote := w.attrs(w.openGroup(buf, a.Key), g)
	if !wrote {
		w.first, w.prefix = first, prefix
		return buf[:mark], false
	}
	return w.closeGroup(buf, prefix), true
}

// key appends the separator before a member and its key: ,"key": in JSON,
// a space and prefix.key= in TEXT.
func (w *attrWriter) key(buf []byte, k string) []byte {
	if w.json {
		return w.jsonKey(buf, k)
	}
	if w.prefix != "" {
		k = w.prefix + k
	}
	return append(appendTextString(append(buf, ' '), k), '=')
}

// jsonKey is key in JSON.
func (w *attrWriter) jsonKey(buf []byte, k string) []byte {
	if w.first == 0 {
		buf = append(buf, ',')
	}
	w.first = 0
	return appendJSONKey(buf, k)
}

// appendJSONKey appends "k":.
func appendJSONKey(buf []byte, k string) []byte {
	return append(appendEscaped(append(buf, '"'), k, quoteJSON), '"', ':')
}

// openGroup starts a group: "name":{ in JSON; in TEXT its name joins the
// prefix of the keys inside it.
func (w *attrWriter) openGroup(buf []byte, name string) []byte {
	if w.json {
		buf = append(w.jsonKey(buf, name), '{')
		w.first = 1
		return buf
	}
	w.prefix += name + "."
	return buf
}

// closeGroup ends the group that openGroup started; prefix is the TEXT
// prefix from before it.
func (w *attrWriter) closeGroup(buf []byte, prefix string) []byte {
	if w.json {
		w.first = 0
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
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONValue(dst, e, e.Kind())
		}
		return append(dst, ']')
	}
	return appendJSONString(dst, unwalked)
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
		var tmp []byte
		tmp = append(tmp, '[')
		for i, e := range x {
			if i > 0 {
				tmp = append(tmp, ' ')
			}
			tmp = appendTextValue(tmp, e, e.Kind(), false)
		}
		tmp = append(tmp, ']')
		if quote {
			return appendTextString(dst, string(tmp))
		}
		return append(dst, tmp...)
	}
	return append(dst, unwalked...)
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
	days := sec / 86400
	if sec%86400 < 0 {
		days--
	}
	y, mo, d := civilDate(days)
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, timeMicros)
	}
	sod := int(sec - days*86400)
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
