package logging

import (
	"log/slog"
	"reflect"
	"slices"

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
//  4. keys and group names are escaped and cut likewise when escape is set.
//
// It reports whether anything changed, so that a record that needs nothing
// is passed on without a copy.
type attrMapper struct {
	red    *redact.Redactor // nil: no redaction
	limit  int              // bytes per string value; 0: no limit
	escape bool             // escape strings, keys and group names (handlers outside this package)
}

// str maps a message or a string value.
func (m *attrMapper) str(s string) (string, bool) {
	changed := false
	if m.red != nil {
		s, changed = m.red.Redact(s)
	}
	if m.limit > 0 && len(s) > m.limit {
		s, changed = truncate(s, m.limit), true
	}
	if m.escape && !IsClean(s) {
		s, changed = Sanitize(s), true
	}
	return s, changed
}

// key maps a key or a group name: escaped and cut when escape is set.
func (m *attrMapper) key(k string) (string, bool) {
	if !m.escape || (m.limit <= 0 || len(k) <= m.limit) && IsClean(k) {
		return k, false
	}
	return Sanitize(truncate(k, m.limit)), true
}

// secretKey reports whether a key's whole value is to be redacted.
func (m *attrMapper) secretKey(k string) bool {
	return m.red != nil && m.red.SecretKey(k)
}

// redacted is the attr that replaces the value of a secret key, a field
// tagged `log:"redact"`, and the like; each one is counted under "key".
func redacted(key string) slog.Attr {
	countRedaction("key")
	return slog.String(key, redactedMarker)
}

// attr maps one attribute. Strings and scalars, nearly every attr, are
// handled here directly; only groups and values to walk go through value.
func (m *attrMapper) attr(a slog.Attr) (slog.Attr, bool) {
	kind := a.Value.Kind()
	key, kc := a.Key, false
	if m.escape {
		key, kc = m.key(a.Key)
	}
	if kind != slog.KindGroup && m.secretKey(a.Key) {
		return redacted(key), true
	}
	v, vc := a.Value, false
	switch kind {
	case slog.KindString:
		if s, c := m.str(a.Value.String()); c {
			v, vc = slog.StringValue(s), true
		}
	case slog.KindGroup, slog.KindAny, slog.KindLogValuer:
		v, vc = m.value(a.Value, 0)
	} // numbers, bools, durations and times need nothing
	if !kc && !vc {
		return a, false
	}
	return slog.Attr{Key: key, Value: v}, true
}

// attrs maps a slice of attributes, copying it only if something changed.
func (m *attrMapper) attrs(as []slog.Attr) ([]slog.Attr, bool) {
	var out []slog.Attr
	for i, a := range as {
		na, c := m.attr(a)
		if c && out == nil {
			out = make([]slog.Attr, i, len(as))
			copy(out, as[:i])
		}
		if out != nil {
			out = append(out, na)
		}
	}
	if out == nil {
		return as, false
	}
	return out, true
}

// value maps one value.
func (m *attrMapper) value(v slog.Value, depth int) (slog.Value, bool) {
	switch v.Kind() {
	case slog.KindString:
		s, c := m.str(v.String())
		if !c {
			return v, false
		}
		return slog.StringValue(s), true
	case slog.KindGroup:
		as, c := m.attrs(v.Group())
		if !c {
			return v, false
		}
		return slog.GroupValue(as...), true
	case slog.KindLogValuer:
		nv, _ := m.value(v.Resolve(), depth)
		return nv, true
	case slog.KindAny:
		if v.Any() == nil {
			return v, false
		}
		if l, ok := v.Any().(valueList); ok {
			var out valueList
			for i, e := range l {
				ne, c := m.value(e, depth+1)
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
		w := walker{m: m}
		nv, _ := m.value(w.walk(reflect.ValueOf(v.Any()), depth), depth)
		return nv, true
	}
	return v, false // numbers, bools, durations, times
}

// valueList is the walked form of a slice or array.
type valueList []slog.Value

// MarshalJSON encodes the list as a JSON array, so that handlers outside this
// package (slog.JSONHandler behind Wrap) print lists as arrays.
func (l valueList) MarshalJSON() ([]byte, error) {
	return appendJSONValue(nil, slog.AnyValue(l), slog.KindAny), nil
}

// String renders the list as [a b c], for text handlers.
func (l valueList) String() string {
	return string(appendTextValue(nil, slog.AnyValue(l), slog.KindAny, false))
}

// MarshalText is String as bytes, which slog.TextHandler prefers.
func (l valueList) MarshalText() ([]byte, error) { return []byte(l.String()), nil }
