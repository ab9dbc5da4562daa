package logging

import (
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unsafe"
)

// Per-type plans for the deep walk (walk.go). The first time the walk meets
// a type it works out once what the walk does with every value of it: which
// of the special cases applies (a time, a known type, a LogValuer, an
// error, …, in the order walk checks them), or else which kind of value it
// is; for a struct, which fields are written, under which names, which are
// tagged secret and which embedded structs are inlined. Plans are cached
// for the life of the process, as encoding/json caches its encoders, and
// hold nothing of any value: the walk of each value still applies every
// check that depends on it (nil, depth, budget, cycles, its keys against
// the mapper's secret names, its strings against the rules).

// planKind is how the walk takes a value of a type apart when no special
// case applies.
type planKind uint8

const (
	kindOther     planKind = iota // chan, func, unsafe pointer: only the type is printed
	kindInterface                 // followed to its dynamic value
	kindPointer                   // followed, guarding against cycles
	kindString
	kindBool
	kindInt
	kindUint
	kindFloat
	kindComplex
	kindBytes     // a slice of bytes: text
	kindByteArray // an array of bytes: text
	kindList      // a slice or an array
	kindMap
	kindStruct
)

// planSpecial is the special case that applies to every value of a type,
// checked before its kind, in this order.
type planSpecial uint8

const (
	specialNone planSpecial = iota
	specialTime
	specialDuration
	specialRawJSON
	specialSlogValue
	specialSlogAttr
	// The cases below need a value the walk may call methods on
	// (reflect.Value.CanInterface); without one the kind applies.
	specialKnown // url.URL, url.Userinfo, http.Cookie, http.Request, or a pointer to one (types.go)
	specialLogValuer
	specialError
	specialJSONMarshaler
	specialTextMarshaler
	specialStringer
)

// typePlan is what the walk does with the values of one type.
type typePlan struct {
	typ     reflect.Type
	kind    planKind
	special planSpecial
	str     string      // "!" + the type, for kindOther
	fields  []fieldPlan // kindStruct: the fields written, in order
	// jsonAlike (kindStruct): encoding/json writes the same fields under
	// the same names, in the same order (passthrough.go): no embedded
	// field, no tag option, no field the walk leaves out that encoding/json
	// writes (log:"-"), no name twice, and at least one field (the walk
	// leaves an empty group out; encoding/json writes {}).
	jsonAlike bool
	// addrMethods: *t has a method that encoding/json calls on an
	// addressable t (a slice element, a field behind a pointer) though t
	// has not: MarshalJSON or MarshalText with a pointer receiver. The walk
	// never calls it; passthrough.go must not pass such a value.
	addrMethods bool
	elem        atomic.Pointer[typePlan]
	times       atomic.Uint32              // holdsTime's answer: 0 not worked out yet, 1 no, 2 yes
	shadowT     atomic.Pointer[shadowPlan] // the shadow type (jsonform.go), once worked out
}

// holdsTime reports whether a value of p's type may hold a time.Time that
// encoding/json reaches without an interface on the way (jsonform.go).
func (p *typePlan) holdsTime() bool {
	switch p.times.Load() {
	case 1:
		return false
	case 2:
		return true
	}
	h := typeHoldsTime(p.typ, map[reflect.Type]bool{})
	if h {
		p.times.Store(2)
	} else {
		p.times.Store(1)
	}
	return h
}

// typeHoldsTime is holdsTime for t; seen holds the types looked at (a
// type may contain itself).
func typeHoldsTime(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == timeType {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return typeHoldsTime(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if typeHoldsTime(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// fieldPlan is one struct field the walk writes (exported, not tagged
// `log:"-"` or `json:"-"`).
type fieldPlan struct {
	index  int
	name   string // the json tag's name, or the Go name
	alt    string // the Go name when name is the json name: a second key that may name a secret
	redact bool   // tagged `log:"redact"` or `log:"secret"`: written as the marker
	inline bool   // an embedded struct without a json name: its fields are inlined
	plan   atomic.Pointer[typePlan]
	altFor atomic.Pointer[altSecret] // whether alt names a secret, for the mapper that asked last
}

// altSecret is whether a field's Go name names a secret for one mapper.
type altSecret struct {
	m      *attrMapper
	secret bool
}

// altSecret reports whether the field's Go name (alt) names a secret for
// m: worked out once per mapper (the last one is kept), since matching a
// key against the secret names is most of a clean struct field's cost.
// The answer depends only on m's key settings, which never change.
func (f *fieldPlan) altSecret(m *attrMapper) bool {
	if f.alt == "" {
		return false
	}
	if a := f.altFor.Load(); a != nil && a.m == m {
		return a.secret
	}
	s := m.secretKey(f.alt)
	f.altFor.Store(&altSecret{m, s})
	return s
}

// plans caches the plans by type.
var plans sync.Map // reflect.Type → *typePlan

// planOf returns t's plan, working it out on first use.
func planOf(t reflect.Type) *typePlan {
	if p, ok := plans.Load(t); ok {
		return p.(*typePlan)
	}
	p, _ := plans.LoadOrStore(t, newPlan(t))
	return p.(*typePlan)
}

// elemPlan is the plan of t's element type (pointers, slices, arrays, maps).
func (p *typePlan) elemPlan() *typePlan {
	if e := p.elem.Load(); e != nil {
		return e
	}
	e := planOf(p.typ.Elem())
	p.elem.Store(e)
	return e
}

// planIn is the plan of the field's type; t is the struct's type.
func (f *fieldPlan) planIn(t reflect.Type) *typePlan {
	if e := f.plan.Load(); e != nil {
		return e
	}
	e := planOf(t.Field(f.index).Type)
	f.plan.Store(e)
	return e
}

// newPlan works out t's plan. Element and field types are planned lazily
// (a type may contain itself).
func newPlan(t reflect.Type) *typePlan {
	p := &typePlan{typ: t, kind: planKindOf(t), special: planSpecialOf(t), addrMethods: addrMethods(t)}
	switch p.kind {
	case kindOther:
		p.str = "!" + t.String()
	case kindStruct:
		p.fields = planFields(t)
		p.jsonAlike = jsonAlike(t, p.fields)
	}
	return p
}

func planKindOf(t reflect.Type) planKind {
	switch t.Kind() {
	case reflect.Interface:
		return kindInterface
	case reflect.Pointer:
		return kindPointer
	case reflect.String:
		return kindString
	case reflect.Bool:
		return kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return kindUint
	case reflect.Float32, reflect.Float64:
		return kindFloat
	case reflect.Complex64, reflect.Complex128:
		return kindComplex
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return kindBytes
		}
		return kindList
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return kindByteArray
		}
		return kindList
	case reflect.Map:
		return kindMap
	case reflect.Struct:
		return kindStruct
	}
	return kindOther
}

// planSpecialOf is the first special case that applies to t, in the order
// the walk has always checked them: types by identity, the known types,
// then the interfaces a value may implement.
func planSpecialOf(t reflect.Type) planSpecial {
	if t.Kind() == reflect.Interface {
		return specialNone // followed to the dynamic value, whose plan decides
	}
	switch t {
	case timeType:
		return specialTime
	case durationType:
		return specialDuration
	case rawMessageType:
		return specialRawJSON
	case slogValueType:
		return specialSlogValue
	case slogAttrType:
		return specialSlogAttr
	}
	if isKnownType(t) {
		return specialKnown
	}
	switch {
	case t.Implements(logValuerType):
		return specialLogValuer
	case t.Implements(errorType):
		return specialError
	case t.Implements(jsonMarshalType):
		return specialJSONMarshaler
	case t.Implements(textMarshalType):
		return specialTextMarshaler
	case t.Implements(stringerType):
		return specialStringer
	}
	return specialNone
}

// planFields lists the struct fields the walk writes, with their names
// and tags read once.
func planFields(t reflect.Type) []fieldPlan {
	var fs []fieldPlan
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
		jtag := sf.Tag.Get("json")
		if j, _, _ := strings.Cut(jtag, ","); j == "-" {
			continue
		} else if j != "" {
			name = j
		}
		redact := tag == "redact" || tag == "secret"
		inline := !redact && sf.Anonymous && sf.Type.Kind() == reflect.Struct && jtag == ""
		alt := ""
		if !redact && !inline && name != sf.Name {
			alt = sf.Name
		}
		fs = append(fs, fieldPlan{index: i, name: name, alt: alt, redact: redact, inline: inline})
	}
	return fs
}

// walkArena hands out the slices that one record's walk builds (the members
// of structs and maps, the elements of lists) from a few larger blocks, so
// that a record costs a few allocations, not one per struct and list. A
// block is reused only where nothing the walk returned outlives the record
// (encHandler.handle, which writes the record's bytes and keeps no attr:
// see takeArena); elsewhere it may (the attrs of WithAttrs, a record a
// handler keeps).
type walkArena struct {
	attrs []slog.Attr
	vals  []slog.Value
	texts []byte        // the text of times (jsonform.go)
	hdrs  []sliceHeader // the headers of the slices jsonform.go hands on
	// reuse: the first blocks are to come from arenaPool (see reusing);
	// box is what held them there, and takes them back.
	reuse bool
	box   *arenaBlocks
	// names: the struct plan whose field names passed (passthrough.go)
	// under group namesIn, at the key cache's generation namesGen.
	names    *typePlan
	namesIn  string
	namesGen uint64
}

// sliceHeader is laid out as every slice is: newSlice hands out a
// pointer to one as a pointer to a slice, so that the slice's header costs
// no allocation of its own (reflect.MakeSlice puts it on the heap) and
// goes into an interface as a pointer, without a copy.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// newSlice returns a pointer to a new slice of type t and length n whose
// header is in the arena: one allocation, for the elements.
func (a *walkArena) newSlice(t reflect.Type, n int) reflect.Value {
	if len(a.hdrs) == cap(a.hdrs) {
		a.hdrs = make([]sliceHeader, 0, 4)
	}
	a.hdrs = a.hdrs[:len(a.hdrs)+1]
	p := reflect.NewAt(t, unsafe.Pointer(&a.hdrs[len(a.hdrs)-1]))
	l := p.Elem()
	l.Grow(n)
	l.SetLen(n)
	return p
}

// textBlock is the size of a block of text: room for a record's dozens
// of times.
const textBlock = 512

// text appends t's RFC 3339 text with nanoseconds to the text block and
// returns it.
func (a *walkArena) text(t time.Time) []byte {
	const most = len(time.RFC3339Nano) + 8
	if cap(a.texts)-len(a.texts) < most {
		a.texts = make([]byte, 0, textBlock)
	}
	n := len(a.texts)
	a.texts = t.AppendFormat(a.texts, time.RFC3339Nano)
	return a.texts[n:len(a.texts):len(a.texts)]
}

// arenaBlocks are the blocks of attrs and values a walk takes from
// arenaPool and gives back.
type arenaBlocks struct {
	attrs []slog.Attr
	vals  []slog.Value
}

// arenaPool holds the blocks of finished walks whose values nothing kept.
var arenaPool = sync.Pool{New: func() any { return new(arenaBlocks) }}

// reusing makes a's first blocks come from arenaPool, taken when the walk
// first needs one (a record of strings and numbers needs none, and costs
// no trip to the pool), for a walk whose values are all dropped before
// giveArena.
func (a *walkArena) reusing() { a.reuse = true }

// fill takes a's first blocks from arenaPool.
func (a *walkArena) fill() {
	box := arenaPool.Get().(*arenaBlocks)
	a.attrs, a.vals, a.box, a.reuse = box.attrs, box.vals, box, false
}

// giveArena clears what the walk put in a's blocks (so that the pool keeps
// no value of the record alive) and gives them back to arenaPool, unless
// a took none or one grew past arenaMaxBlock for a large value.
func giveArena(a *walkArena) {
	if a.box == nil || cap(a.attrs) > arenaMaxBlock || cap(a.vals) > arenaMaxBlock {
		return
	}
	clear(a.attrs)
	clear(a.vals)
	a.box.attrs, a.box.vals = a.attrs[:0], a.vals[:0]
	arenaPool.Put(a.box)
	a.attrs, a.vals, a.box = nil, nil, nil // given once
}

// arenaBlock is the size of a walk's first block, in elements; later blocks
// double, up to arenaMaxBlock (a larger request gets a block of its own).
const (
	arenaBlock    = 8
	arenaMaxBlock = 64
)

// attrSlice returns an empty slice with room for n attrs.
func (a *walkArena) attrSlice(n int) []slog.Attr {
	if a.reuse {
		a.fill()
	}
	return carve(&a.attrs, n)
}

// valueSlice returns an empty slice with room for n values.
func (a *walkArena) valueSlice(n int) []slog.Value {
	if a.reuse {
		a.fill()
	}
	return carve(&a.vals, n)
}

// carve returns an empty slice with room for n elements, cut from the
// block *b (a new block when it has not room enough).
func carve[T any](b *[]T, n int) []T {
	if cap(*b)-len(*b) < n {
		*b = make([]T, 0, blockSize(cap(*b), n))
	}
	l := len(*b)
	*b = (*b)[:l+n]
	return (*b)[l : l : l+n]
}

// blockSize is the size of the block after one of size prev, for n elements.
func blockSize(prev, n int) int {
	return max(n, min(max(2*prev, arenaBlock), arenaMaxBlock))
}

// jsonAlike reports whether encoding/json writes exactly the fields fs of
// struct type t, under the same names and in the same order (see
// typePlan.jsonAlike).
func jsonAlike(t reflect.Type, fs []fieldPlan) bool {
	if len(fs) == 0 {
		return false
	}
	names := make(map[string]bool, len(fs))
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return false // encoding/json promotes the fields of embedded structs, exported or not
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue // left out by both
		}
		// Any option ("-," is the name "-" to encoding/json), any log tag.
		if strings.Contains(tag, ",") || sf.Tag.Get("log") != "" || !plainJSONName(tag) {
			return false
		}
	}
	for i := range fs {
		f := &fs[i]
		if f.redact || f.inline || names[f.name] {
			return false
		}
		names[f.name] = true
	}
	return true
}

// plainJSONName reports whether encoding/json takes the tag name j as it
// is: letters, digits, '_' and '-' (it falls back to the Go name for
// some others); "" is the Go name.
func plainJSONName(j string) bool {
	for _, c := range j {
		if c != '_' && c != '-' && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// addrMethods reports whether *t implements json.Marshaler or
// encoding.TextMarshaler while t does not (see typePlan.addrMethods).
func addrMethods(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface {
		return false
	}
	pt := reflect.PointerTo(t)
	return pt.Implements(jsonMarshalType) && !t.Implements(jsonMarshalType) ||
		pt.Implements(textMarshalType) && !t.Implements(textMarshalType)
}
