package logging

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codomyrmex/logging/internal/redact"
)

// maxDepth bounds how deep values are walked; deeper parts become a marker.
const maxDepth = 16

// maxElems bounds how many elements of one map, slice or struct are kept.
const maxElems = 1000

// attrMapper walks attributes and values the way both secure stages need:
// slog.LogValuers are resolved, values of kind Any are turned into the data
// they hold (groups for structs and maps, lists for slices, text for errors,
// Stringers and []byte), and every string, key and group name is passed to
// the stage's functions. It reports whether anything changed, so that a
// record that needs nothing is passed on without a copy.
type attrMapper struct {
	// str maps a string value; it returns the new string and whether it changed.
	str func(string) (string, bool)
	// key maps a key or group name; nil leaves keys as they are.
	key func(string) (string, bool)
	// secretKey reports whether a key's whole value is to be redacted; nil means never.
	secretKey func(string) bool
	// onKeyRedacted is called for each value redacted because of its key.
	onKeyRedacted func()

	// The fused mapper of the built-in encoders sets these instead of str and
	// secretKey: direct calls, no closure, on the hot path.
	red   *redact.Redactor
	limit int
}

// mapStr maps a string value or message.
func (m *attrMapper) mapStr(s string) (string, bool) {
	if m.str != nil {
		return m.str(s)
	}
	changed := false
	if m.red != nil {
		s, changed = m.red.Redact(s)
	}
	if m.limit > 0 && len(s) > m.limit {
		return truncate(s, m.limit), true
	}
	return s, changed
}

// isSecretKey reports whether a key's whole value is to be redacted.
func (m *attrMapper) isSecretKey(k string) bool {
	switch {
	case m.secretKey != nil:
		return m.secretKey(k)
	case m.red != nil:
		return m.red.SecretKey(k)
	}
	return false
}

// valueList is the walked form of a slice or array.
type valueList []slog.Value

// MarshalJSON encodes the list as a JSON array, so that handlers outside this
// package (slog.JSONHandler behind Wrap) print lists as arrays.
func (l valueList) MarshalJSON() ([]byte, error) {
	return appendJSONValue(nil, slog.AnyValue(l), 0, quoteJSON), nil
}

// String renders the list as [a b c], for text handlers.
func (l valueList) String() string {
	return string(appendTextValue(nil, slog.AnyValue(l), 0, false))
}

// MarshalText is String as bytes, which slog.TextHandler prefers.
func (l valueList) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

func (m *attrMapper) mapKey(k string) (string, bool) {
	if m.key == nil {
		return k, false
	}
	return m.key(k)
}

// attr maps one attribute. Strings and scalars, nearly every attr, are
// handled here directly; only groups and values to walk go through value.
func (m *attrMapper) attr(a slog.Attr) (slog.Attr, bool) {
	kind := a.Value.Kind()
	key, kc := m.mapKey(a.Key)
	if kind != slog.KindGroup && m.isSecretKey(a.Key) {
		if m.onKeyRedacted != nil {
			m.onKeyRedacted()
		}
		return slog.String(key, redactedMarker), true
	}
	v, vc := a.Value, false
	switch kind {
	case slog.KindString:
		if s, c := m.mapStr(a.Value.String()); c {
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
		s, c := m.mapStr(v.String())
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
		r := v.Resolve()
		nv, _ := m.value(r, depth)
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
		nv := w.walk(reflect.ValueOf(v.Any()), depth)
		nv, _ = m.value(nv, depth)
		return nv, true
	}
	return v, false // numbers, bools, durations, times
}

// walker turns a Go value into slog values, bounding depth and cycles and
// surviving panics in user methods.
type walker struct {
	m    *attrMapper
	seen []uintptr // pointers on the current path, to stop cycles
}

var (
	errorType       = reflect.TypeFor[error]()
	stringerType    = reflect.TypeFor[fmt.Stringer]()
	logValuerType   = reflect.TypeFor[slog.LogValuer]()
	textMarshalType = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshalType = reflect.TypeFor[json.Marshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	timeType        = reflect.TypeFor[time.Time]()
	durationType    = reflect.TypeFor[time.Duration]()
)

// call runs f, turning a panic into a marker value.
func (w *walker) call(f func() slog.Value) (v slog.Value) {
	defer func() {
		if r := recover(); r != nil {
			v = slog.StringValue("!PANIC: value could not be formatted")
		}
	}()
	return f()
}

func (w *walker) walk(rv reflect.Value, depth int) slog.Value {
	if !rv.IsValid() {
		return slog.AnyValue(nil)
	}
	if depth > maxDepth {
		return slog.StringValue("!DEPTH: value nested too deeply")
	}
	t := rv.Type()
	// Pointers and interfaces: follow, guarding against cycles.
	if t.Kind() == reflect.Interface {
		if rv.IsNil() {
			return slog.AnyValue(nil)
		}
		return w.walk(rv.Elem(), depth)
	}
	if t.Kind() == reflect.Pointer && rv.IsNil() {
		return slog.AnyValue(nil)
	}
	if t == timeType {
		return slog.TimeValue(rv.Interface().(time.Time))
	}
	if t == durationType {
		return slog.DurationValue(time.Duration(rv.Int()))
	}
	if t == rawMessageType {
		return w.jsonText(rv.Bytes(), depth)
	}
	if rv.CanInterface() {
		switch {
		case t.Implements(logValuerType):
			return w.call(func() slog.Value {
				return w.walkValue(slog.AnyValue(rv.Interface()).Resolve(), depth+1)
			})
		case t.Implements(errorType):
			return w.call(func() slog.Value { return slog.StringValue(rv.Interface().(error).Error()) })
		case t.Implements(jsonMarshalType):
			return w.call(func() slog.Value {
				b, err := rv.Interface().(json.Marshaler).MarshalJSON()
				if err != nil {
					return slog.StringValue("!ERROR: " + err.Error())
				}
				return w.jsonText(b, depth)
			})
		case t.Implements(textMarshalType):
			return w.call(func() slog.Value {
				b, err := rv.Interface().(encoding.TextMarshaler).MarshalText()
				if err != nil {
					return slog.StringValue("!ERROR: " + err.Error())
				}
				return slog.StringValue(string(b))
			})
		case t.Implements(stringerType):
			return w.call(func() slog.Value { return slog.StringValue(rv.Interface().(fmt.Stringer).String()) })
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := rv.Pointer()
		if slices.Contains(w.seen, p) {
			return slog.StringValue("!CYCLE")
		}
		w.seen = append(w.seen, p)
		v := w.walk(rv.Elem(), depth+1)
		w.seen = w.seen[:len(w.seen)-1]
		return v
	case reflect.String:
		return slog.StringValue(rv.String())
	case reflect.Bool:
		return slog.BoolValue(rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return slog.Int64Value(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return slog.Uint64Value(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return slog.Float64Value(rv.Float())
	case reflect.Complex64, reflect.Complex128:
		return slog.StringValue(strconv.FormatComplex(rv.Complex(), 'g', -1, 128))
	case reflect.Slice:
		if rv.IsNil() {
			return slog.AnyValue(nil)
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return slog.StringValue(string(rv.Bytes()))
		}
		return w.list(rv, depth)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return slog.StringValue(string(b))
		}
		return w.list(rv, depth)
	case reflect.Map:
		if rv.IsNil() {
			return slog.AnyValue(nil)
		}
		return w.mapValue(rv, depth)
	case reflect.Struct:
		return w.structValue(rv, depth)
	}
	// chan, func, unsafe pointer: only the type is printed.
	return slog.StringValue("!" + t.String())
}

// walkValue walks a value that slog produced (a resolved LogValuer).
func (w *walker) walkValue(v slog.Value, depth int) slog.Value {
	if v.Kind() == slog.KindAny {
		return w.walk(reflect.ValueOf(v.Any()), depth)
	}
	return v
}

// jsonText turns JSON text into values, so that keys inside it count for
// key-based redaction; text that is not JSON is kept as a string.
func (w *walker) jsonText(b []byte, depth int) slog.Value {
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return slog.StringValue(string(b))
	}
	return w.walk(reflect.ValueOf(x), depth+1)
}

func (w *walker) list(rv reflect.Value, depth int) slog.Value {
	n := min(rv.Len(), maxElems)
	l := make(valueList, 0, n)
	for i := range n {
		l = append(l, w.walk(rv.Index(i), depth+1))
	}
	if rv.Len() > n {
		l = append(l, slog.StringValue("…["+strconv.Itoa(rv.Len()-n)+" more]"))
	}
	return slog.AnyValue(l)
}

func (w *walker) mapValue(rv reflect.Value, depth int) slog.Value {
	type kv struct {
		k string
		v reflect.Value
	}
	kvs := make([]kv, 0, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		kvs = append(kvs, kv{w.keyString(it.Key()), it.Value()})
	}
	slices.SortFunc(kvs, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	if len(kvs) > maxElems {
		kvs = kvs[:maxElems]
	}
	attrs := make([]slog.Attr, 0, len(kvs))
	for _, e := range kvs {
		attrs = append(attrs, w.field(e.k, "", e.v, depth))
	}
	return slog.GroupValue(attrs...)
}

// keyString turns a map key into text.
func (w *walker) keyString(k reflect.Value) string {
	v := w.walk(k, maxDepth) // keys are flat
	if v.Kind() == slog.KindString {
		return v.String()
	}
	return v.String()
}

// field walks one struct field or map entry; alt is a second name (the Go
// field name beside its json name) that also counts as a key.
func (w *walker) field(key, alt string, v reflect.Value, depth int) slog.Attr {
	if w.m.isSecretKey(key) || alt != "" && w.m.isSecretKey(alt) {
		if w.m.onKeyRedacted != nil {
			w.m.onKeyRedacted()
		}
		return slog.String(key, redactedMarker)
	}
	return slog.Attr{Key: key, Value: w.walk(v, depth+1)}
}

func (w *walker) structValue(rv reflect.Value, depth int) slog.Value {
	t := rv.Type()
	attrs := make([]slog.Attr, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("log")
		if tag == "-" {
			continue
		}
		name := sf.Name
		if j, _, _ := strings.Cut(sf.Tag.Get("json"), ","); j == "-" {
			continue
		} else if j != "" {
			name = j
		}
		if tag == "redact" || tag == "secret" {
			if w.m.onKeyRedacted != nil {
				w.m.onKeyRedacted()
			}
			attrs = append(attrs, slog.String(name, redactedMarker))
			continue
		}
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct && sf.Tag.Get("json") == "" {
			// Embedded struct: its fields are inlined, as encoding/json does.
			attrs = append(attrs, slog.Attr{Key: "", Value: w.walk(rv.Field(i), depth+1)})
			continue
		}
		alt := ""
		if name != sf.Name {
			alt = sf.Name
		}
		attrs = append(attrs, w.field(name, alt, rv.Field(i), depth))
		if len(attrs) >= maxElems {
			break
		}
	}
	return slog.GroupValue(attrs...)
}

// stageHandler is a secure stage as a slog.Handler middleware: it maps the
// record with its attrMapper and passes it on.
type stageHandler struct {
	next slog.Handler
	m    *attrMapper
}

func (h *stageHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *stageHandler) Handle(ctx context.Context, r slog.Record) error {
	if as := resolvedAttrs(ctx); len(as) > 0 {
		if mapped, changed := h.m.attrs(as); changed {
			ctx = context.WithValue(ctx, resolvedKey{}, mapped)
		}
	}
	return h.next.Handle(ctx, transformRecord(r, h.m))
}

func (h *stageHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	as, _ := h.m.attrs(attrs)
	return &stageHandler{next: h.next.WithAttrs(as), m: h.m}
}

func (h *stageHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n, _ := h.m.mapKey(name)
	return &stageHandler{next: h.next.WithGroup(n), m: h.m}
}

// transformRecord returns r with its message and attributes mapped; r itself
// if nothing changed. The common clean record costs one pass and no copy.
func transformRecord(r slog.Record, m *attrMapper) slog.Record {
	msg, mc := m.mapStr(r.Message)
	first := -1 // index of the first changed attr
	var firstAttr slog.Attr
	i := 0
	r.Attrs(func(a slog.Attr) bool {
		if na, c := m.attr(a); c {
			first, firstAttr = i, na
			return false
		}
		i++
		return true
	})
	if !mc && first < 0 {
		return r
	}
	var buf [16]slog.Attr
	out := buf[:0]
	i = 0
	r.Attrs(func(a slog.Attr) bool {
		switch {
		case first < 0 || i < first:
			out = append(out, a)
		case i == first:
			out = append(out, firstAttr)
		default:
			na, _ := m.attr(a)
			out = append(out, na)
		}
		i++
		return true
	})
	nr := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	nr.AddAttrs(out...)
	return nr
}
