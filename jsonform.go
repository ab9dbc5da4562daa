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

// passForm is passes and the form of rv in one walk: pass is passes's
// answer, with the record's budgets spent as passes spends them (the
// caller restores them on a no), and, when it is yes, f is rv's form and
// formed whether there is one, exactly as the form a second walk made
// after passes before (TestPassFormIsTheTwoWalks). The form is made
// alongside the checks, in their order; once any part of it fails, the
// rest of rv is only checked, and on a no the form is dropped unused.
func (w *walker) passForm(rv reflect.Value, p *typePlan, depth int) (pass bool, f slog.Value, formed bool) {
	if !p.holdsTime() {
		return w.passes(rv, p, depth), slog.Value{}, false
	}
	if decided, ok := passHead(p, depth); decided {
		if !ok {
			return false, slog.Value{}, false
		}
		if p.special == specialTime {
			if t := timeOf(rv); strictTime(t) {
				return true, slog.TimeValue(t), true
			}
		}
		return true, slog.Value{}, false
	}
	switch p.kind {
	case kindPointer:
		// No cycle check: a cycle ends at the depth limit, a no.
		if rv.IsNil() {
			return true, slog.Value{}, false
		}
		return w.passForm(rv.Elem(), p.elemPlan(), depth+1)
	case kindStruct:
		return w.passGroup(rv, p, depth)
	case kindList:
		return w.passList(rv, p, depth)
	}
	return false, slog.Value{}, false // a map: passes says no
}

// passGroup is passForm for a struct: its form is a group of its fields,
// in order, under the names encoding/json writes.
func (w *walker) passGroup(rv reflect.Value, p *typePlan, depth int) (bool, slog.Value, bool) {
	if !p.jsonAlike {
		return false, slog.Value{}, false
	}
	attrs := w.arena.attrSlice(len(p.fields))
	formed := true
	known, gen := w.namesKnown(p)
	spent := 0
	for i := range p.fields {
		f := &p.fields[i]
		if !known && !w.fieldPassesSpent(f, &spent) {
			return false, slog.Value{}, false
		}
		group := w.group
		w.group = f.name
		fv, fp := rv.Field(f.index), f.planIn(p.typ)
		ok := w.spend()
		if ok && formed {
			var v slog.Value
			ok, v, formed = w.passField(fv, fp, depth+1)
			attrs = append(attrs, slog.Attr{Key: f.name, Value: v})
		} else if ok {
			ok = w.passes(fv, fp, depth+1)
		}
		w.group = group
		if !ok {
			return false, slog.Value{}, false
		}
	}
	w.namesPassed(p, known, gen, spent)
	if !formed {
		return true, slog.Value{}, false
	}
	return true, slog.GroupValue(attrs...), true
}

// passField is passForm for one field of a struct in passGroup: the form
// of a time or of what holds one; strings, bools and numbers as the slog
// values the handler writes as encoding/json does; anything else as it
// is.
func (w *walker) passField(fv reflect.Value, p *typePlan, depth int) (bool, slog.Value, bool) {
	switch p.kind {
	case kindInterface:
		if fv.IsNil() {
			return w.passes(fv, p, depth), slog.AnyValue(nil), true
		}
		// The dynamic value (passes's first step for the interface, the
		// depth limit, is its first step too): the handler would turn a
		// time in it into a slog time, which it writes even where
		// MarshalJSON refuses.
		e := fv.Elem()
		ep := planOf(e.Type())
		if ep.holdsTime() {
			return w.passForm(e, ep, depth)
		}
		return w.passes(e, ep, depth), slog.AnyValue(fv.Interface()), true
	case kindPointer:
		if fv.IsNil() {
			return w.passes(fv, p, depth), slog.AnyValue(nil), true
		}
	case kindList:
		if fv.Kind() == reflect.Slice && fv.IsNil() {
			return w.passes(fv, p, depth), slog.AnyValue(nil), true
		}
	}
	if p.holdsTime() {
		return w.passForm(fv, p, depth)
	}
	if !w.passes(fv, p, depth) {
		return false, slog.Value{}, false
	}
	if p.special == specialNone {
		switch p.kind {
		case kindString:
			return true, slog.StringValue(fv.String()), true
		case kindBool:
			return true, slog.BoolValue(fv.Bool()), true
		case kindInt:
			return true, slog.Int64Value(fv.Int()), true
		case kindUint:
			return true, slog.Uint64Value(fv.Uint()), true
		}
	}
	// A pointer, a list, a struct, a float or a duration without a time:
	// written by encoding/json as before (through its address when it has
	// one: the same bytes, since passes refused every type with a method on
	// its pointer, and no copy to the heap).
	if fv.CanAddr() && p.kind != kindPointer {
		return true, slog.AnyValue(fv.Addr().Interface()), true
	}
	return true, slog.AnyValue(fv.Interface()), true
}

// passList is passForm for a slice or an array: its form is a pointer to
// a copy of it in its shadow type (encoding/json writes a pointer to a
// list as the list). A slice of pointers none of which is nil is copied
// as a slice of what they point to, written alike.
func (w *walker) passList(rv reflect.Value, p *typePlan, depth int) (bool, slog.Value, bool) {
	if rv.Kind() == reflect.Slice && rv.IsNil() {
		return true, slog.Value{}, false
	}
	n := rv.Len()
	if n > maxElems {
		return false, slog.Value{}, false
	}
	sp := p.shadow()
	if !sp.ok || n == 0 && rv.Kind() == reflect.Slice {
		// No shadow type, or an empty slice: no time to write.
		return w.passElemsFrom(rv, p.elemPlan(), 0, depth), slog.Value{}, false
	}
	var ptr reflect.Value
	var pass, copied bool
	switch {
	case rv.Kind() == reflect.Array:
		ptr = reflect.New(sp.typ)
		pass, copied = w.passCopyElems(ptr.Elem(), rv, p, sp, false, depth)
	case sp.pointees != nil && !hasNil(rv):
		ptr = w.arena.newSlice(sp.pointees, n)
		pass, copied = w.passCopyElems(ptr.Elem(), rv, p, sp, true, depth)
	default:
		ptr = w.arena.newSlice(sp.typ, n)
		pass, copied = w.passCopyElems(ptr.Elem(), rv, p, sp, false, depth)
	}
	if !pass || !copied {
		return pass, slog.Value{}, false
	}
	return true, slog.AnyValue(ptr.Interface()), true
}

// passElemsFrom is passes's loop over the elements of the list src, of
// element plan ep, from element i on.
func (w *walker) passElemsFrom(src reflect.Value, ep *typePlan, i, depth int) bool {
	for ; i < src.Len(); i++ {
		if !w.spend() || !w.passes(src.Index(i), ep, depth+1) {
			return false
		}
	}
	return true
}

// passCopyElems is passes's loop over the elements of the list src (of
// plan p, shadow sp) with the copy of each into dst, of the same length:
// with deref, dst holds what src's pointers (none nil) point to; else
// the pointees of a list of pointers go in one block, one allocation, not
// one each. copied is false once an element could not be copied.
func (w *walker) passCopyElems(dst, src reflect.Value, p *typePlan, sp *shadowPlan, deref bool, depth int) (pass, copied bool) {
	n := src.Len()
	ep := p.elemPlan()
	if sp.pointees == nil {
		for i := range n {
			if !w.spend() {
				return false, false
			}
			pass, copied = w.passCopy(dst.Index(i), src.Index(i), ep, depth+1)
			if !pass {
				return false, false
			}
			if !copied {
				return w.passElemsFrom(src, ep, i+1, depth), false
			}
		}
		return true, true
	}
	pp := ep.elemPlan()
	var block reflect.Value
	if !deref {
		block = w.arena.newSlice(sp.pointees, n).Elem()
	}
	for i := range n {
		if !w.spend() {
			return false, false
		}
		e := src.Index(i)
		// passes for the pointer e: its first step, nil, then what it
		// points to, one deeper.
		if decided, ok := passHead(ep, depth+1); decided {
			if !ok {
				return false, false
			}
			return w.passElemsFrom(src, ep, i+1, depth), false // (not for a pointer)
		}
		if e.IsNil() {
			continue
		}
		t := dst.Index(i)
		if !deref {
			t = block.Index(i)
		}
		pass, copied = w.passCopy(t, e.Elem(), pp, depth+2)
		if !pass {
			return false, false
		}
		if !copied {
			return w.passElemsFrom(src, ep, i+1, depth), false
		}
		if !deref {
			dst.Index(i).Set(t.Addr())
		}
	}
	return true, true
}

// passCopy is passes for src (of plan p) with its copy into dst, of p's
// shadow type, a time as its text: copied is false for a time
// MarshalJSON would refuse.
func (w *walker) passCopy(dst, src reflect.Value, p *typePlan, depth int) (pass, copied bool) {
	if !p.holdsTime() {
		if !w.passes(src, p, depth) {
			return false, false
		}
		dst.Set(src)
		return true, true
	}
	if decided, ok := passHead(p, depth); decided {
		if !ok {
			return false, false
		}
		if p.special == specialTime {
			s, ok := w.timeText(timeOf(src))
			dst.SetString(s)
			return true, ok
		}
		return true, false
	}
	switch p.kind {
	case kindPointer:
		if src.IsNil() {
			return true, true
		}
		v := reflect.New(dst.Type().Elem())
		pass, copied = w.passCopy(v.Elem(), src.Elem(), p.elemPlan(), depth+1)
		if pass && copied {
			dst.Set(v)
		}
		return pass, copied
	case kindStruct:
		if !p.jsonAlike {
			return false, false
		}
		copied = true
		known, gen := w.namesKnown(p)
		spent := 0
		for i := range p.fields {
			f := &p.fields[i]
			if !known && !w.fieldPassesSpent(f, &spent) {
				return false, false
			}
			group := w.group
			w.group = f.name
			fv, fp := src.Field(f.index), f.planIn(p.typ)
			ok := w.spend()
			if ok && copied {
				ok, copied = w.passCopy(dst.Field(i), fv, fp, depth+1)
			} else if ok {
				ok = w.passes(fv, fp, depth+1)
			}
			w.group = group
			if !ok {
				return false, false
			}
		}
		w.namesPassed(p, known, gen, spent)
		return true, copied
	case kindList:
		if src.Kind() == reflect.Slice {
			if src.IsNil() {
				return true, true
			}
			n := src.Len()
			if n > maxElems {
				return false, false
			}
			if n == 0 {
				dst.Set(reflect.MakeSlice(dst.Type(), 0, 0)) // empty, not nil: [], not null
				return true, true
			}
			dst.Grow(n)
			dst.SetLen(n)
		} else if src.Len() > maxElems {
			return false, false
		}
		return w.passCopyElems(dst, src, p, p.shadow(), false, depth)
	}
	return false, false // a map: passes says no
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

// timeText is t's text as MarshalJSON writes it (without the quotes), in
// the walk's block of text; false when MarshalJSON would refuse t. The
// text is checked as MarshalJSON checks it (strictText), which costs less
// than working out t's year and zone before (strictTime).
func (w *walker) timeText(t time.Time) (string, bool) {
	b := w.arena.text(t)
	if !strictText(b) {
		return "", false
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), true
}

// strictText reports whether b, a time's RFC 3339 text with nanoseconds,
// is one time.Time.MarshalJSON writes rather than refuses: a year of four
// digits, and a zone offset under 24 hours (the checks of its
// appendStrictRFC3339, on the same text; strictTime on the time).
func strictText(b []byte) bool {
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' {
		return false // a year outside 0–9999: not four digits
	}
	if b[len(b)-1] == 'Z' {
		return true
	}
	h := b[len(b)-len("07:00"):]
	c := b[len(b)-len("Z07:00")]
	return (c == '+' || c == '-') && 10*(h[0]-'0')+(h[1]-'0') < 24
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

// shadowPlan is a type's shadow type (see passForm), or that it has none.
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
	case kindPointer, kindList:
		if p.special != specialNone {
			return nil, false
		}
		e, ok := shadowType(p.elemPlan(), path)
		if !ok {
			return nil, false
		}
		switch p.typ.Kind() {
		case reflect.Pointer:
			return reflect.PointerTo(e), true
		case reflect.Slice:
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
