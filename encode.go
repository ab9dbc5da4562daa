package logging

import (
	"log/slog"
	"math"
	"reflect"
	"strconv"
	"time"
	"unicode"
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

// appendJSONValue appends v as JSON. Groups become objects, lists arrays.
func appendJSONValue(dst []byte, v slog.Value, depth int, mode int) []byte {
	return appendJSONKindValue(dst, v, v.Kind(), depth, mode)
}

// appendJSONKindValue is appendJSONValue for a value whose kind the caller
// knows already (Value.Kind is a type switch: once per value is enough).
func appendJSONKindValue(dst []byte, v slog.Value, kind slog.Kind, depth int, mode int) []byte {
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
	case slog.KindGroup:
		dst = append(dst, '{')
		n := len(dst)
		dst = appendJSONAttrs(dst, v.Group(), depth+1)
		if len(dst) > n && dst[n] == ',' {
			dst = append(dst[:n], dst[n+1:]...)
		}
		return append(dst, '}')
	case slog.KindLogValuer:
		return appendJSONValue(dst, v.Resolve(), depth, mode)
	}
	// KindAny
	switch x := v.Any().(type) {
	case nil:
		return append(dst, "null"...)
	case valueList:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONValue(dst, e, depth+1, mode)
		}
		return append(dst, ']')
	}
	if depth > maxDepth {
		return appendJSONString(dst, "!DEPTH")
	}
	return appendJSONValue(dst, plainWalk(v), depth+1, mode)
}

// plainWalk turns a value of kind Any into walked values without redaction;
// the encoders use it for values that reach them without passing the stages.
func plainWalk(v slog.Value) slog.Value {
	w := walker{m: &attrMapper{str: func(s string) (string, bool) { return s, false }}}
	return w.walk(reflect.ValueOf(v.Any()), 0)
}

// appendJSONAttrs appends each attribute as ,"key":value; empty attributes and
// empty groups are left out and groups with an empty key are inlined.
func appendJSONAttrs(dst []byte, as []slog.Attr, depth int) []byte {
	for _, a := range as {
		dst = appendJSONAttr(dst, a, depth)
	}
	return dst
}

func appendJSONAttr(dst []byte, a slog.Attr, depth int) []byte {
	kind := a.Value.Kind()
	if kind == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
		kind = a.Value.Kind()
	}
	if isEmptyAttr(a, kind) {
		return dst
	}
	if kind == slog.KindGroup {
		g := a.Value.Group()
		if len(g) == 0 {
			return dst
		}
		if a.Key == "" {
			return appendJSONAttrs(dst, g, depth)
		}
		n := len(dst)
		dst = append(dst, ',')
		dst = appendJSONString(dst, a.Key)
		dst = append(dst, ':', '{')
		m := len(dst)
		dst = appendJSONAttrs(dst, g, depth+1)
		if len(dst) == m { // every member was empty
			return dst[:n]
		}
		dst = append(dst[:m], dst[m+1:]...) // drop the first member's comma
		return append(dst, '}')
	}
	dst = append(dst, ',')
	dst = appendJSONString(dst, a.Key)
	dst = append(dst, ':')
	return appendJSONKindValue(dst, a.Value, kind, depth, quoteJSON)
}

// needsQuoting reports whether a TEXT value or key must be double-quoted.
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
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
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

// appendTextValue appends v as TEXT. Lists print as [a b c].
func appendTextValue(dst []byte, v slog.Value, depth int, quote bool) []byte {
	switch v.Kind() {
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
		return appendTextValue(dst, v.Resolve(), depth, quote)
	case slog.KindGroup:
		dst = append(dst, '{')
		for i, a := range v.Group() {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = appendTextString(dst, a.Key)
			dst = append(dst, '=')
			dst = appendTextValue(dst, a.Value, depth+1, true)
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
			tmp = appendTextValue(tmp, e, depth+1, false)
		}
		tmp = append(tmp, ']')
		if quote {
			return appendTextString(dst, string(tmp))
		}
		return append(dst, tmp...)
	}
	if depth > maxDepth {
		return append(dst, "!DEPTH"...)
	}
	return appendTextValue(dst, plainWalk(v), depth+1, quote)
}

// appendTextAttr appends ` prefix.key=value`; groups are flattened into
// dotted keys, as slog.TextHandler does.
func appendTextAttr(dst []byte, prefix string, a slog.Attr) []byte {
	if a.Value.Kind() == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
	}
	kind := a.Value.Kind()
	if isEmptyAttr(a, kind) {
		return dst
	}
	if kind == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p = prefix + a.Key + "."
		}
		for _, g := range a.Value.Group() {
			dst = appendTextAttr(dst, p, g)
		}
		return dst
	}
	dst = append(dst, ' ')
	dst = appendTextString(dst, prefix+a.Key)
	dst = append(dst, '=')
	return appendTextValue(dst, a.Value, 0, true)
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
