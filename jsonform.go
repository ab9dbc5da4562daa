package logging

import (
	"log/slog"
	"reflect"
	"sync"
	"time"
	"unsafe"
)

// A value that passes (passthrough.go) goes to slog's JSON handler as it
// is, and encoding/json writes it. For a time inside it, encoding/json
// calls time.Time.MarshalJSON, which allocates its text, and then checks
// and compacts that text byte by byte: most of what a record of structs
// with times costs slog. A passing value that holds a time is therefore
// handed on in a form the handler writes to the same bytes without that
// method: a struct as a group of its fields (slog writes a group, a time,
// a string or a number itself), a slice or an array as a copy of it in a
// type of the same shape whose times are their text (a "shadow" type,
// worked out once per type; encoding/json writes a string as the method
// writes the time). The form holds nothing the value did not hold; it is
// made only after passes said yes, so every check has been applied.
// A time that MarshalJSON would refuse (a year outside 0–9999, a zone
// offset of 24 hours or more) leaves the value as it is.

// jsonForm returns the form of rv (of plan p, found at the given depth),
// a value that passes: ok is false when rv holds no time, or one the form
// cannot carry, and then rv goes on as it is.
func (w *walker) jsonForm(rv reflect.Value, p *typePlan) (slog.Value, bool) {
	if !p.holdsTime() {
		return slog.Value{}, false
	}
	switch p.kind {
	case kindInterface:
		if rv.IsNil() {
			return slog.Value{}, false
		}
		e := rv.Elem()
		return w.jsonForm(e, planOf(e.Type()))
	case kindPointer:
		if rv.IsNil() {
			return slog.Value{}, false
		}
		return w.jsonForm(rv.Elem(), p.elemPlan())
	case kindStruct:
		if p.special != specialNone {
			break
		}
		return w.groupForm(rv, p)
	case kindList:
		return w.listForm(rv, p)
	}
	if p.special == specialTime {
		if t := timeOf(rv); strictTime(t) {
			return slog.TimeValue(t), true
		}
		return slog.Value{}, false
	}
	return slog.Value{}, false
}

// groupForm is the form of a struct that passes and holds a time: a group
// of its fields, in order, under the names encoding/json writes.
func (w *walker) groupForm(rv reflect.Value, p *typePlan) (slog.Value, bool) {
	attrs := w.arena.attrSlice(len(p.fields))
	for i := range p.fields {
		f := &p.fields[i]
		v, ok := w.fieldForm(rv.Field(f.index), f.planIn(p.typ))
		if !ok {
			return slog.Value{}, false
		}
		attrs = append(attrs, slog.Attr{Key: f.name, Value: v})
	}
	return slog.GroupValue(attrs...), true
}

// fieldForm is the form of one field of a struct in groupForm: a time or
// what holds one as its form; strings, bools and numbers as the slog
// values the handler writes as encoding/json does; anything else as it is.
func (w *walker) fieldForm(fv reflect.Value, p *typePlan) (slog.Value, bool) {
	switch p.kind {
	case kindInterface, kindPointer:
		if fv.IsNil() {
			return slog.AnyValue(nil), true
		}
		if p.kind == kindInterface {
			// The dynamic value: the handler would turn a time in it into
			// a slog time, which it writes even where MarshalJSON refuses.
			e := fv.Elem()
			if ep := planOf(e.Type()); ep.holdsTime() {
				return w.jsonForm(e, ep)
			}
			return slog.AnyValue(fv.Interface()), true
		}
	case kindList:
		if fv.Kind() == reflect.Slice && fv.IsNil() {
			return slog.AnyValue(nil), true
		}
	}
	if p.holdsTime() {
		return w.jsonForm(fv, p)
	}
	if p.special == specialNone {
		switch p.kind {
		case kindString:
			return slog.StringValue(fv.String()), true
		case kindBool:
			return slog.BoolValue(fv.Bool()), true
		case kindInt:
			return slog.Int64Value(fv.Int()), true
		case kindUint:
			return slog.Uint64Value(fv.Uint()), true
		}
	}
	// A pointer or interface, a list, a struct, a float or a duration
	// without a time: written by encoding/json as before (through its
	// address when it has one: the same bytes, since passes refused every
	// type with a method on its pointer, and no copy to the heap).
	if fv.CanAddr() && p.kind != kindInterface && p.kind != kindPointer {
		return slog.AnyValue(fv.Addr().Interface()), true
	}
	return slog.AnyValue(fv.Interface()), true
}

// listForm is the form of a slice or an array that passes and holds a
// time: a pointer to a copy of it in its shadow type (encoding/json writes
// a pointer to a list as the list). A slice of pointers none of which is
// nil is copied as a slice of what they point to, written alike.
func (w *walker) listForm(rv reflect.Value, p *typePlan) (slog.Value, bool) {
	sp := p.shadow()
	if !sp.ok {
		return slog.Value{}, false
	}
	if rv.Kind() == reflect.Array {
		ptr := reflect.New(sp.typ)
		if !w.shadowCopy(ptr.Elem(), rv, p) {
			return slog.Value{}, false
		}
		return slog.AnyValue(ptr.Interface()), true
	}
	n := rv.Len()
	if n == 0 {
		return slog.Value{}, false // nil or empty: no time to write
	}
	var ptr reflect.Value
	if sp.pointees != nil && !hasNil(rv) {
		ptr = w.arena.newSlice(sp.pointees, n)
		l := ptr.Elem()
		pp := p.elemPlan().elemPlan()
		for i := range n {
			if !w.shadowCopy(l.Index(i), rv.Index(i).Elem(), pp) {
				return slog.Value{}, false
			}
		}
	} else {
		ptr = w.arena.newSlice(sp.typ, n)
		if !w.shadowElems(ptr.Elem(), rv, p, sp) {
			return slog.Value{}, false
		}
	}
	return slog.AnyValue(ptr.Interface()), true
}

// hasNil reports whether the slice of pointers rv holds a nil one.
func hasNil(rv reflect.Value) bool {
	for i := range rv.Len() {
		if rv.Index(i).IsNil() {
			return true
		}
	}
	return false
}

// shadowCopy copies src (of plan p) into dst, of p's shadow type, a time
// as its text; false for a time MarshalJSON would refuse.
func (w *walker) shadowCopy(dst, src reflect.Value, p *typePlan) bool {
	if !p.holdsTime() {
		dst.Set(src)
		return true
	}
	if p.special == specialTime {
		s, ok := w.timeText(timeOf(src))
		dst.SetString(s)
		return ok
	}
	switch p.kind {
	case kindInterface:
		if src.IsNil() {
			return true
		}
		e := src.Elem()
		ep := planOf(e.Type())
		if !ep.holdsTime() {
			dst.Set(src)
			return true
		}
		sp := ep.shadow()
		if !sp.ok {
			return false
		}
		v := reflect.New(sp.typ).Elem()
		if !w.shadowCopy(v, e, ep) {
			return false
		}
		dst.Set(v)
		return true
	case kindPointer:
		if src.IsNil() {
			return true
		}
		v := reflect.New(dst.Type().Elem())
		if !w.shadowCopy(v.Elem(), src.Elem(), p.elemPlan()) {
			return false
		}
		dst.Set(v)
		return true
	case kindStruct:
		for i := range p.fields {
			f := &p.fields[i]
			if !w.shadowCopy(dst.Field(i), src.Field(f.index), f.planIn(p.typ)) {
				return false
			}
		}
		return true
	case kindList:
		if src.Kind() == reflect.Slice {
			if src.IsNil() {
				return true
			}
			n := src.Len()
			if n == 0 {
				dst.Set(reflect.MakeSlice(dst.Type(), 0, 0)) // empty, not nil: [], not null
				return true
			}
			dst.Grow(n)
			dst.SetLen(n)
		}
		return w.shadowElems(dst, src, p, p.shadow())
	}
	return false
}

// shadowElems copies the elements of the list src (of plan p, shadow sp)
// into dst, of the same length; the pointees of a list of pointers in one
// block, one allocation, not one each.
func (w *walker) shadowElems(dst, src reflect.Value, p *typePlan, sp *shadowPlan) bool {
	n := src.Len()
	ep := p.elemPlan()
	if sp.pointees == nil {
		for i := range n {
			if !w.shadowCopy(dst.Index(i), src.Index(i), ep) {
				return false
			}
		}
		return true
	}
	pp := ep.elemPlan()
	block := w.arena.newSlice(sp.pointees, n).Elem()
	for i := range n {
		e := src.Index(i)
		if e.IsNil() {
			continue
		}
		t := block.Index(i)
		if !w.shadowCopy(t, e.Elem(), pp) {
			return false
		}
		dst.Index(i).Set(t.Addr())
	}
	return true
}

// timeText is t's text as MarshalJSON writes it (without the quotes), in
// the walk's block of text; false when MarshalJSON would refuse t.
func (w *walker) timeText(t time.Time) (string, bool) {
	if !strictTime(t) {
		return "", false
	}
	b := w.arena.text(t)
	return unsafe.String(unsafe.SliceData(b), len(b)), true
}

// strictTime reports whether time.Time.MarshalJSON writes t rather than
// refuses it: a year of four digits, and a zone offset under 24 hours.
// Its text is then the RFC 3339 text with nanoseconds that slog's JSON
// handler writes for a time.
func strictTime(t time.Time) bool {
	if y := t.Year(); y < 0 || y > 9999 {
		return false
	}
	_, off := t.Zone()
	return off > -24*3600 && off < 24*3600
}

// shadowPlan is a type's shadow type (see jsonForm), or that it has none.
type shadowPlan struct {
	typ reflect.Type
	ok  bool
	// pointees: for a list of pointers, a slice of the shadow type of
	// what they point to.
	pointees reflect.Type
}

// shadowMu serialises the making of shadow types (each is made once).
var shadowMu sync.Mutex

// shadow is p's shadow type: the same shape, with string for time.Time.
// It is not ok for a type that contains itself (reflect cannot make such
// a type) nor for any type passes never says yes to.
func (p *typePlan) shadow() *shadowPlan {
	if s := p.shadowT.Load(); s != nil {
		return s
	}
	shadowMu.Lock()
	defer shadowMu.Unlock()
	t, ok := shadowType(p, map[reflect.Type]bool{})
	sp := &shadowPlan{typ: t, ok: ok}
	if ok && p.kind == kindList && p.elemPlan().kind == kindPointer && p.elemPlan().holdsTime() {
		sp.pointees = reflect.SliceOf(t.Elem().Elem())
	}
	p.shadowT.Store(sp)
	return sp
}

func shadowType(p *typePlan, path map[reflect.Type]bool) (reflect.Type, bool) {
	if !p.holdsTime() {
		return p.typ, true
	}
	if s := p.shadowT.Load(); s != nil {
		return s.typ, s.ok
	}
	if p.special == specialTime {
		return reflect.TypeFor[string](), true
	}
	if path[p.typ] {
		return nil, false
	}
	path[p.typ] = true
	defer delete(path, p.typ)
	switch p.kind {
	case kindInterface:
		return p.typ, true
	case kindPointer:
		if p.special != specialNone {
			return nil, false
		}
		e, ok := shadowType(p.elemPlan(), path)
		if !ok {
			return nil, false
		}
		return reflect.PointerTo(e), true
	case kindList:
		if p.special != specialNone {
			return nil, false
		}
		e, ok := shadowType(p.elemPlan(), path)
		if !ok {
			return nil, false
		}
		if p.typ.Kind() == reflect.Slice {
			return reflect.SliceOf(e), true
		}
		return reflect.ArrayOf(p.typ.Len(), e), true
	case kindStruct:
		if p.special != specialNone || !p.jsonAlike {
			return nil, false
		}
		fs := make([]reflect.StructField, len(p.fields))
		for i := range p.fields {
			f := &p.fields[i]
			ft, ok := shadowType(f.planIn(p.typ), path)
			if !ok {
				return nil, false
			}
			fs[i] = reflect.StructField{Name: p.typ.Field(f.index).Name, Type: ft, Tag: reflect.StructTag(`json:"` + f.name + `"`)}
		}
		return reflect.StructOf(fs), true
	}
	return nil, false
}
