package logging

import (
	"log/slog"
	"reflect"
	"time"
	"unsafe"
)

// The pass-through's decision (passes) and the form (jsonForm and its
// helpers) as two separate walks, as they were before passForm made them
// one: the reference that TestPassFormIsTheTwoWalks holds the one walk to.

func (w *walker) refPasses(rv reflect.Value, p *typePlan, depth int) bool {
	if depth >= maxDepth || p.addrMethods {
		return false // the depth limit; or encoding/json would call a method the walk never calls
	}
	switch p.special {
	case specialNone:
	case specialTime, specialDuration:
		// Written as slog writes a time and a duration: RFC 3339 with
		// nanoseconds, and nanoseconds as an integer.
		return true
	default:
		return false
	}
	switch p.kind {
	case kindInterface:
		if rv.IsNil() {
			return true
		}
		e := rv.Elem()
		return w.refPasses(e, planOf(e.Type()), depth)
	case kindPointer:
		// No cycle check: a cycle ends at the depth limit, a no.
		return rv.IsNil() || w.refPasses(rv.Elem(), p.elemPlan(), depth+1)
	case kindString:
		return w.m.strClean(rv.String(), &w.b)
	case kindBool:
		return true
	case kindInt:
		return w.numberClean(slog.Int64Value(rv.Int()))
	case kindUint:
		return w.numberClean(slog.Uint64Value(rv.Uint()))
	case kindFloat:
		// encoding/json writes a float32 with 32-bit precision, the walk as
		// a float64.
		if rv.Kind() != reflect.Float64 {
			return false
		}
		return w.numberClean(slog.Float64Value(rv.Float()))
	case kindList:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return true
		}
		if rv.Len() > maxElems {
			return false
		}
		ep := p.elemPlan()
		for i := range rv.Len() {
			if !w.spend() || !w.refPasses(rv.Index(i), ep, depth+1) {
				return false
			}
		}
		return true
	case kindStruct:
		if !p.jsonAlike {
			return false
		}
		for i := range p.fields {
			f := &p.fields[i]
			if clean, secret := w.m.keyClean(f.name, &w.b); !clean || secret || w.hidden || f.altSecret(w.m) || w.m.pathSecret(w.group, f.name) {
				return false
			}
			group := w.group
			w.group = f.name
			ok := w.spend() && w.refPasses(rv.Field(f.index), f.planIn(p.typ), depth+1)
			w.group = group
			if !ok {
				return false
			}
		}
		return true
	}
	return false
}

func (w *walker) refJSONForm(rv reflect.Value, p *typePlan) (slog.Value, bool) {
	if !p.holdsTime() {
		return slog.Value{}, false
	}
	switch p.kind {
	case kindInterface:
		if rv.IsNil() {
			return slog.Value{}, false
		}
		e := rv.Elem()
		return w.refJSONForm(e, planOf(e.Type()))
	case kindPointer:
		if rv.IsNil() {
			return slog.Value{}, false
		}
		return w.refJSONForm(rv.Elem(), p.elemPlan())
	case kindStruct:
		if p.special != specialNone {
			break
		}
		return w.refGroupForm(rv, p)
	case kindList:
		return w.refListForm(rv, p)
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
func (w *walker) refGroupForm(rv reflect.Value, p *typePlan) (slog.Value, bool) {
	attrs := w.arena.attrSlice(len(p.fields))
	for i := range p.fields {
		f := &p.fields[i]
		v, ok := w.refFieldForm(rv.Field(f.index), f.planIn(p.typ))
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
func (w *walker) refFieldForm(fv reflect.Value, p *typePlan) (slog.Value, bool) {
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
				return w.refJSONForm(e, ep)
			}
			return slog.AnyValue(fv.Interface()), true
		}
	case kindList:
		if fv.Kind() == reflect.Slice && fv.IsNil() {
			return slog.AnyValue(nil), true
		}
	}
	if p.holdsTime() {
		return w.refJSONForm(fv, p)
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
func (w *walker) refListForm(rv reflect.Value, p *typePlan) (slog.Value, bool) {
	sp := p.shadow()
	if !sp.ok {
		return slog.Value{}, false
	}
	if rv.Kind() == reflect.Array {
		ptr := reflect.New(sp.typ)
		if !w.refShadowCopy(ptr.Elem(), rv, p) {
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
			if !w.refShadowCopy(l.Index(i), rv.Index(i).Elem(), pp) {
				return slog.Value{}, false
			}
		}
	} else {
		ptr = w.arena.newSlice(sp.typ, n)
		if !w.refShadowElems(ptr.Elem(), rv, p, sp) {
			return slog.Value{}, false
		}
	}
	return slog.AnyValue(ptr.Interface()), true
}

func (w *walker) refShadowCopy(dst, src reflect.Value, p *typePlan) bool {
	if !p.holdsTime() {
		dst.Set(src)
		return true
	}
	if p.special == specialTime {
		s, ok := w.refTimeText(timeOf(src))
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
		if !w.refShadowCopy(v, e, ep) {
			return false
		}
		dst.Set(v)
		return true
	case kindPointer:
		if src.IsNil() {
			return true
		}
		v := reflect.New(dst.Type().Elem())
		if !w.refShadowCopy(v.Elem(), src.Elem(), p.elemPlan()) {
			return false
		}
		dst.Set(v)
		return true
	case kindStruct:
		for i := range p.fields {
			f := &p.fields[i]
			if !w.refShadowCopy(dst.Field(i), src.Field(f.index), f.planIn(p.typ)) {
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
		return w.refShadowElems(dst, src, p, p.shadow())
	}
	return false
}

// shadowElems copies the elements of the list src (of plan p, shadow sp)
// into dst, of the same length; the pointees of a list of pointers in one
// block, one allocation, not one each.
func (w *walker) refShadowElems(dst, src reflect.Value, p *typePlan, sp *shadowPlan) bool {
	n := src.Len()
	ep := p.elemPlan()
	if sp.pointees == nil {
		for i := range n {
			if !w.refShadowCopy(dst.Index(i), src.Index(i), ep) {
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
		if !w.refShadowCopy(t, e.Elem(), pp) {
			return false
		}
		dst.Index(i).Set(t.Addr())
	}
	return true
}

func (w *walker) refTimeText(t time.Time) (string, bool) {
	if !strictTime(t) {
		return "", false
	}
	b := w.arena.text(t)
	return unsafe.String(unsafe.SliceData(b), len(b)), true
}
