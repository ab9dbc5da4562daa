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
	return w.walkPlan(rv, planOf(rv.Type()), depth)
}

// walkPlan is walk with rv's plan (plan.go) at hand; rv is valid.
func (w *walker) walkPlan(rv reflect.Value, p *typePlan, depth int) slog.Value {
	if depth >= maxDepth {
		return slog.StringValue(depthMarker)
	}
	// Pointers and interfaces: follow, guarding against cycles.
	switch p.kind {
	case kindInterface:
		if rv.IsNil() {
			return slog.AnyValue(nil)
		}
		return w.walk(rv.Elem(), depth)
	case kindPointer:
		if rv.IsNil() {
			return slog.AnyValue(nil)
		}
	}
	switch p.special {
	case specialNone:
	case specialTime:
		return slog.TimeValue(timeOf(rv))
	case specialDuration:
		return slog.DurationValue(time.Duration(rv.Int()))
	case specialRawJSON:
		return w.jsonText(rv.Bytes(), depth)
	// A slog.Value or slog.Attr inside a value is walked as one (their
	// String methods would format it whole, without any bound).
	case specialSlogValue:
		v, _ := w.value(rv.Interface().(slog.Value), depth)
		return v
	case specialSlogAttr:
		v, _ := w.value(slog.GroupValue(rv.Interface().(slog.Attr)), depth)
		return v
	default:
		if rv.CanInterface() {
			return w.special(rv, p, depth)
		}
	}
	switch p.kind {
	case kindPointer:
		ptr := rv.Pointer()
		if slices.Contains(w.seen, ptr) {
			return slog.StringValue(cycleMarker)
		}
		w.seen = append(w.seen, ptr)
		v := w.walkPlan(rv.Elem(), p.elemPlan(), depth+1)
		w.seen = w.seen[:len(w.seen)-1]
		return v
	case kindString:
		return w.text(rv.String())
	case kindBool:
		return slog.BoolValue(rv.Bool())
	case kindInt:
		v, _ := w.number(slog.Int64Value(rv.Int()))
		return v
	case kindUint:
		v, _ := w.number(slog.Uint64Value(rv.Uint()))
		return v
	case kindFloat:
		v, _ := w.number(slog.Float64Value(rv.Float()))
		return v
	case kindComplex:
		return slog.StringValue(strconv.FormatComplex(rv.Complex(), 'g', -1, 128))
	case kindBytes:
		if rv.IsNil() {
			return slog.AnyValue(nil)
		}
		return w.text(string(rv.Bytes()))
	case kindByteArray:
		b := make([]byte, rv.Len())
		reflect.Copy(reflect.ValueOf(b), rv)
		return w.text(string(b))
	case kindList:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return slog.AnyValue(nil)
		}
		return w.list(rv, p, depth)
	case kindMap:
		if rv.IsNil() {
			return slog.AnyValue(nil)
		}
		return w.mapValue(rv, p, depth)
	case kindStruct:
		return w.structValue(rv, p, depth)
	}
	// chan, func, unsafe pointer: only the type is printed.
	return slog.StringValue(p.str)
}

// special walks a value of a known type or one whose methods say what it
// holds: a LogValuer, an error, a json.Marshaler, a TextMarshaler, a
// Stringer. The value's methods run under w.call: a panic is a marker.
func (w *walker) special(rv reflect.Value, p *typePlan, depth int) slog.Value {
	switch p.special {
	case specialKnown:
		return w.known(rv, depth)
	case specialLogValuer:
		return w.call(func() slog.Value {
			v, _ := w.value(slog.AnyValue(rv.Interface()).Resolve(), depth+1)
			return v
		})
	case specialError:
		return w.call(func() slog.Value { return w.text(rv.Interface().(error).Error()) })
	case specialJSONMarshaler:
		return w.call(func() slog.Value {
			b, err := rv.Interface().(json.Marshaler).MarshalJSON()
			if err != nil {
				return w.text("!ERROR: " + err.Error())
			}
			return w.jsonText(b, depth)
		})
	case specialTextMarshaler:
		return w.call(func() slog.Value {
			b, err := rv.Interface().(encoding.TextMarshaler).MarshalText()
			if err != nil {
				return w.text("!ERROR: " + err.Error())
			}
			return w.text(string(b))
		})
	default: // specialStringer
		return w.call(func() slog.Value { return w.text(rv.Interface().(fmt.Stringer).String()) })
	}
}

// timeOf is the time.Time in rv, read through its address when it has one
// (rv.Interface would copy it to the heap).
func timeOf(rv reflect.Value) time.Time {
	if rv.CanAddr() && rv.CanInterface() {
		return *rv.Addr().Interface().(*time.Time)
	}
	return rv.Interface().(time.Time)
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

func (w *walker) list(rv reflect.Value, p *typePlan, depth int) slog.Value {
	n := min(rv.Len(), maxElems)
	room := n // the elements, or a marker in place of one (nodesMarker)
	if rv.Len() > n {
		room++ // and the count of those left out
	}
	l := valueList(w.arena.valueSlice(room))
	ep := p.elemPlan()
	for i := range n {
		if !w.spend() {
			l = append(l, slog.StringValue(nodesMarker))
			break
		}
		l = append(l, w.walkPlan(rv.Index(i), ep, depth+1))
	}
	if rv.Len() > n {
		l = append(l, slog.StringValue("…["+strconv.Itoa(rv.Len()-n)+" more]"))
	}
	return slog.AnyValue(l)
}

func (w *walker) mapValue(rv reflect.Value, p *typePlan, depth int) slog.Value {
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
	attrs := w.arena.attrSlice(len(kvs) + 1)
	ep := p.elemPlan()
	for _, e := range kvs {
		attrs = append(attrs, w.field(w.text(e.k).String(), false, e.v, ep, depth))
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

// field walks one struct field or map entry, whose type's plan is p;
// altSecret says that a second name (the Go field name beside its json
// name, see fieldPlan.altSecret) names a secret.
func (w *walker) field(key string, altSecret bool, v reflect.Value, p *typePlan, depth int) slog.Attr {
	k, _, secret := w.m.key(key, &w.b)
	if !w.spend() {
		return slog.String(k, nodesMarker)
	}
	if w.hidden || secret || altSecret || w.m.pathSecret(w.group, key) {
		return w.m.secretField(k, key, v)
	}
	if !v.IsValid() {
		return slog.Attr{Key: k, Value: slog.AnyValue(nil)}
	}
	group := w.group
	w.group = key
	fv := w.walkPlan(v, p, depth+1)
	w.group = group
	return slog.Attr{Key: k, Value: fv}
}

// structValue walks a struct by its plan: the fields it writes, their
// names and tags, read once per type (plan.go).
func (w *walker) structValue(rv reflect.Value, p *typePlan, depth int) slog.Value {
	attrs := w.arena.attrSlice(len(p.fields))
	for i := range p.fields {
		f := &p.fields[i]
		if f.redact {
			k, _, _ := w.m.key(f.name, &w.b)
			attrs = append(attrs, redacted(k))
			continue
		}
		fv := rv.Field(f.index)
		if f.inline {
			// Embedded struct: its fields are inlined, as encoding/json does.
			attrs = append(attrs, slog.Attr{Key: "", Value: w.walkPlan(fv, f.planIn(p.typ), depth+1)})
			continue
		}
		attrs = append(attrs, w.field(f.name, f.altSecret(w.m), fv, f.planIn(p.typ), depth))
		if len(attrs) >= maxElems {
			break
		}
	}
	return slog.GroupValue(attrs...)
}
