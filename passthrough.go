package logging

import (
	"log/slog"
	"reflect"
)

// Behind Wrap, slog's own JSON handler writes a value of kind Any with
// encoding/json. For a value the walk would not change (no secret, nothing
// to escape or cut) and whose type encoding/json writes exactly as the walk
// does, the walk's copy would only cost: it is a group or a list that the
// handler has to encode again (lists through a MarshalJSON whose output
// encoding/json compacts). Such values are passed to the handler as they
// are. passes decides it, spending the record's budgets as the walk would;
// when it says no, the value is walked as before. The test of the claim is
// TestPassThroughWritesWhatTheWalkWrites: the same output either way.

// passes reports whether rv, of plan p and found at the given depth, holds
// nothing the walk would change and only what encoding/json writes as the
// walk writes it: strings, bools, integers, float64s, times, durations,
// pointers, interfaces, slices and arrays of those, and structs whose
// fields encoding/json and the walk see alike (see planFields). Anything
// else (a method that formats the value, on the type or on a pointer to
// it, which encoding/json calls where the value is addressable; a map,
// []byte, a struct with
// tag options or embedded fields, a cycle, the depth or node limit) is a
// no. It may spend from w's budgets before saying no; the caller restores
// them.
func (w *walker) passes(rv reflect.Value, p *typePlan, depth int) bool {
	if decided, ok := passHead(p, depth); decided {
		return ok
	}
	switch p.kind {
	case kindInterface:
		if rv.IsNil() {
			return true
		}
		e := rv.Elem()
		return w.passes(e, planOf(e.Type()), depth)
	case kindPointer:
		// No cycle check: a cycle ends at the depth limit, a no.
		return rv.IsNil() || w.passes(rv.Elem(), p.elemPlan(), depth+1)
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
			if !w.spend() || !w.passes(rv.Index(i), ep, depth+1) {
				return false
			}
		}
		return true
	case kindStruct:
		if !p.jsonAlike {
			return false
		}
		known, gen := w.namesKnown(p)
		spent := 0
		for i := range p.fields {
			f := &p.fields[i]
			if !known && !w.fieldPassesSpent(f, &spent) {
				return false
			}
			group := w.group
			w.group = f.name
			ok := w.spend() && w.passes(rv.Field(f.index), f.planIn(p.typ), depth+1)
			w.group = group
			if !ok {
				return false
			}
		}
		w.namesPassed(p, known, gen, spent)
		return true
	}
	return false
}

// passHead is passes's first step, the same for every kind: decided
// reports whether it has the answer, ok the answer.
func passHead(p *typePlan, depth int) (decided, ok bool) {
	if depth >= maxDepth || p.addrMethods {
		return true, false // the depth limit; or encoding/json would call a method the walk never calls
	}
	switch p.special {
	case specialNone:
		return false, false
	case specialTime, specialDuration:
		// Written as slog writes a time and a duration: RFC 3339 with
		// nanoseconds, and nanoseconds as an integer.
		return true, true
	}
	return true, false
}

// fieldPasses is passes's check of a struct field's name, before its
// value: clean, not a secret by itself, by its Go name or joined to the
// group it is in, and not below a group with a secret name.
func (w *walker) fieldPasses(f *fieldPlan) bool {
	clean, secret := w.m.keyClean(f.name, &w.b)
	return clean && !secret && !w.hidden && !f.altSecret(w.m) && !w.m.pathSecret(w.group, f.name)
}

// fieldPassesSpent is fieldPasses, adding the redaction budget it spent
// to *spent.
func (w *walker) fieldPassesSpent(f *fieldPlan, spent *int) bool {
	work := w.b.work
	ok := w.fieldPasses(f)
	*spent += work - w.b.work
	return ok
}

// namesKnown reports whether the names of the fields of the struct plan
// p are known to pass (fieldPasses) where the walk is now: in a list of
// structs, every element after the first. gen is the key cache's
// generation, read before any name is checked.
//
// fieldPasses's answer for a name depends on the name, the group it is
// in (w.group), whether the walk is below a secret group (w.hidden, the
// same for a whole passValue: the memory is dropped at each) and the
// mapper; and, through keyClean, on its cache of clean keys, whose
// entries stay while its generation does (Mask moves it on). So when the
// names of p passed under the same group, at the same generation,
// spending no budget (each key was in the cache, or was checked without
// a redactor, which spends none), they pass again and spend nothing: the
// checks are skipped, not weakened.
func (w *walker) namesKnown(p *typePlan) (known bool, gen uint64) {
	gen = w.m.clean.generation()
	a := &w.arena
	return a.names == p && a.namesGen == gen && a.namesIn == w.group, gen
}

// namesPassed remembers that the names of p passed, at generation gen
// and spending spent of the budget, for namesKnown: only if they spent
// nothing.
func (w *walker) namesPassed(p *typePlan, known bool, gen uint64, spent int) {
	if !known && spent == 0 {
		a := &w.arena
		a.names, a.namesIn, a.namesGen = p, w.group, gen
	}
}

// passValue is value's step for a value of kind Any behind slog's JSON
// handler: pass when v goes to the handler (see passes), as it is or, if
// formed, as form; the record's budgets are as the walk would have left
// them either way. For a value that holds a time (and has a key, see
// walker.keyless), the decision and the form (jsonform.go) are made in one
// walk, passForm.
func (w *walker) passValue(rv reflect.Value, depth int) (pass bool, form slog.Value, formed bool) {
	w.arena.names = nil
	nodes, b, arena := w.nodes, w.b, w.arena
	p := planOf(rv.Type())
	if w.keyless || !p.holdsTime() {
		if w.passes(rv, p, depth) {
			return true, slog.Value{}, false
		}
	} else if pass, f, formed := w.passForm(rv, p, depth); pass {
		return true, f, formed
	}
	// No: the budgets as they were, and the arena too (what the form took
	// from it is given back, unused).
	w.nodes, w.b, w.arena = nodes, b, arena
	return false, slog.Value{}, false
}
