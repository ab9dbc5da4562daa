package logging

import (
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file turns a Go value of kind Any into the data it holds, mapped as
// the walker maps every value: groups for structs and maps, lists for
// slices and arrays, text for errors, Stringers, TextMarshalers and []byte,
// JSON text (json.RawMessage, json.Marshaler) decoded so that the keys
// inside it count. Depth, the record's budget, cycles and panics in the
// value's own methods are all bounded or caught.

var (
	errorType       = reflect.TypeFor[error]()
	stringerType    = reflect.TypeFor[fmt.Stringer]()
	logValuerType   = reflect.TypeFor[slog.LogValuer]()
	textMarshalType = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshalType = reflect.TypeFor[json.Marshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	timeType        = reflect.TypeFor[time.Time]()
	durationType    = reflect.TypeFor[time.Duration]()
	slogValueType   = reflect.TypeFor[slog.Value]()
	slogAttrType    = reflect.TypeFor[slog.Attr]()
)

// call runs f, turning a panic into a marker value.
func (w *walker) call(f func() slog.Value) (v slog.Value) {
	defer func() {
		if r := recover(); r != nil {
			v = slog.StringValue(panicMarker)
		}
	}()
	return f()
}

// text is a string the walk found, mapped.
func (w *walker) text(s string) slog.Value {
	s, _ = w.str(s)
	return slog.StringValue(s)
}

// walk turns rv, found at the given depth, into a mapped slog value.
func (w *walker) walk(rv reflect.Value, depth int) slog.Value {
	if !rv.IsValid() {
		return slog.AnyValue(nil)
	}
	if depth >= maxDepth {
		return slog.StringValue(depthMarker)
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
	// A slog.Value or slog.Attr inside a value is walked as one (their
	// String methods would format it whole, without any bound).
	if t == slogValueType {
		v, _ := w.value(rv.Interface().(slog.Value), depth)
		return v
	}
	if t == slogAttrType {
		v, _ := w.value(slog.GroupValue(rv.Interface().(slog.Attr)), depth)
		return v
	}
	if v, ok := w.known(rv, depth); ok {
		return v
	}
	if rv.CanInterface() {
		switch {
		case t.Implements(logValuerType):
			return w.call(func() slog.Value {
				v, _ := w.value(slog.AnyValue(rv.Interface()).Resolve(), depth+1)
				return v
			})
		case t.Implements(errorType):
			return w.call(func() slog.Value { return w.text(rv.Interface().(error).Error()) })
		case t.Implements(jsonMarshalType):
			return w.call(func() slog.Value {
				b, err := rv.Interface().(json.Marshaler).MarshalJSON()
				if err != nil {
					return w.text("!ERROR: " + err.Error())
				}
				return w.jsonText(b, depth)
			})
		case t.Implements(textMarshalType):
			return w.call(func() slog.Value {
				b, err := rv.Interface().(encoding.TextMarshaler).MarshalText()
				if err != nil {
					return w.text("!ERROR: " + err.Error())
				}
				return w.text(string(b))
			})
		case t.Implements(stringerType):
			return w.call(func() slog.Value { return w.text(rv.Interface().(fmt.Stringer).String()) })
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := rv.Pointer()
		if slices.Contains(w.seen, p) {
			return slog.StringValue(cycleMarker)
		}
		w.seen = append(w.seen, p)
		v := w.walk(rv.Elem(), depth+1)
		w.seen = w.seen[:len(w.seen)-1]
		return v
	case reflect.String:
		return w.text(rv.String())
	case reflect.Bool:
		return slog.BoolValue(rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v, _ := w.number(slog.Int64Value(rv.Int()))
		return v
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v, _ := w.number(slog.Uint64Value(rv.Uint()))
		return v
	case reflect.Float32, reflect.Float64:
		v, _ := w.number(slog.Float64Value(rv.Float()))
		return v
	case reflect.Complex64, reflect.Complex128:
		return slog.StringValue(strconv.FormatComplex(rv.Complex(), 'g', -1, 128))
	case reflect.Slice:
		if rv.IsNil() {
			return slog.AnyValue(nil)
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return w.text(string(rv.Bytes()))
		}
		return w.list(rv, depth)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return w.text(string(b))
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

// maxJSONText is the largest JSON text decoded into values: decoding
// allocates many times its size before any bound of the walk applies.
const maxJSONText = 256 << 10

// jsonText turns JSON text into values, so that keys inside it count for
// key-based redaction; text that is not JSON is kept as a string.
func (w *walker) jsonText(b []byte, depth int) slog.Value {
	var x any
	if len(b) > maxJSONText || json.Unmarshal(b, &x) != nil {
		return w.text(string(b)) // too large to decode within bounds, or not JSON
	}
	return w.walk(reflect.ValueOf(x), depth)
}

func (w *walker) list(rv reflect.Value, depth int) slog.Value {
	n := min(rv.Len(), maxElems)
	l := make(valueList, 0, n)
	for i := range n {
		if !w.spend() {
			l = append(l, slog.StringValue(nodesMarker))
			break
		}
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
	// Entries sort by their raw keys (mapped only once kept: a map of a
	// million entries costs a sort, not a million redactions).
	kvs := make([]kv, 0, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		k := it.Key()
		var ks string
		if k.Kind() == reflect.String {
			ks = k.String()
		} else {
			ks = w.keyString(k)
		}
		kvs = append(kvs, kv{ks, it.Value()})
	}
	slices.SortFunc(kvs, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	more := len(kvs) - maxElems
	if more > 0 {
		kvs = kvs[:maxElems]
	}
	attrs := make([]slog.Attr, 0, len(kvs)+1)
	for _, e := range kvs {
		attrs = append(attrs, w.field(w.text(e.k).String(), "", e.v, depth))
	}
	if more > 0 {
		attrs = append(attrs, slog.String("…", "["+strconv.Itoa(more)+" more]"))
	}
	return slog.GroupValue(attrs...)
}

// keyString turns a map key into text; keys are walked flat.
func (w *walker) keyString(k reflect.Value) string {
	return w.walk(k, maxDepth-1).String()
}

// field walks one struct field or map entry; alt is a second name (the Go
// field name beside its json name) that also counts as a key.
func (w *walker) field(key, alt string, v reflect.Value, depth int) slog.Attr {
	k, _, secret := w.m.key(key, &w.b)
	if !w.spend() {
		return slog.String(k, nodesMarker)
	}
	if w.hidden || secret || alt != "" && w.m.secretKey(alt) {
		if v.IsValid() && v.Kind() == reflect.String {
			return w.m.secretAttr(k, key, slog.StringValue(v.String()))
		}
		return redacted(k)
	}
	return slog.Attr{Key: k, Value: w.walk(v, depth+1)}
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
			k, _, _ := w.m.key(name, &w.b)
			attrs = append(attrs, redacted(k))
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
