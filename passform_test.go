package logging

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// passForm, the decision and the form in one walk, decides exactly as
// passes did, spends the record's budgets exactly as it did, and makes
// exactly the form jsonForm made after it (passform_ref_test.go keeps the
// two walks as they were): for the test cases of the pass-through and the
// form, and for thousands of random values of random struct-shaped types,
// under random budgets, depths, groups and size limits.
func TestPassFormIsTheTwoWalks(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 1))
	g := newShapeGen(rng)
	var values []any
	passed, walked := passThroughCases()
	for _, set := range []map[string]any{passed, walked, formCases()} {
		for _, v := range set {
			values = append(values, v)
		}
	}
	at := time.Unix(1, 0)
	values = append(values, ptTwoGroups{Plain: ptKeyed{Key: "k", At: at}, API: ptKeyed{Key: "k", At: at}},
		[]ptTwoGroups{{}, {}}, []ptKeyed{{Key: "k"}, {Key: "k"}, {Key: "k"}, {Key: "k"}})
	for len(values) < 4000 {
		if v := g.value(); v != nil { // value never passes a nil on
			values = append(values, v)
		}
	}
	limited := Wrap(slog.NewJSONHandler(&bytes.Buffer{}, nil), WithMaxValueBytes(40)).(*stageHandler)
	plain := Wrap(slog.NewJSONHandler(&bytes.Buffer{}, nil)).(*stageHandler)
	var yes, formed, budgetNo int
	for i, v := range values {
		for round := range 4 {
			h := plain
			if rng.IntN(4) == 0 {
				h = limited
			}
			ref := h.m.walker(false)
			depth, small := 0, false
			if round > 0 {
				ref.hidden = rng.IntN(8) == 0
				ref.keyless = rng.IntN(6) == 0
				ref.group = []string{"", "", "api", "user", "v"}[rng.IntN(5)]
				if rng.IntN(3) == 0 {
					ref.nodes, small = rng.IntN(40), true
				}
				if rng.IntN(4) == 0 {
					ref.b.work, small = rng.IntN(200), true
				}
			}
			if round >= 2 {
				depth = rng.IntN(maxDepth + 1)
			}
			got := ref // the same settings
			rv := reflect.ValueOf(v)
			name := fmt.Sprintf("value %d (%T), round %d", i, v, round)

			// Keys found clean are cached by the mapper (and cost no budget
			// the next time): both walks start with none cached, or (the
			// last round) with every key cached that two walks cache.
			emptyCache(&h.m.clean)
			if round == 3 {
				for range 2 {
					warm := h.m.walker(ref.hidden)
					warm.group, warm.keyless = ref.group, ref.keyless
					refDecide(&warm, rv, depth)
				}
			}
			refPass, refForm, refFormed := refDecide(&ref, rv, depth)
			if round < 3 {
				emptyCache(&h.m.clean)
			}
			gotPass, gotForm, gotFormed := got.passValue(rv, depth)
			require.Equal(t, refPass, gotPass, "%s: the decision", name)
			require.Equal(t, ref.nodes, got.nodes, "%s: the node budget", name)
			require.Equal(t, ref.b, got.b, "%s: the redaction budget", name)
			require.Equal(t, ref.group, got.group, name)
			require.Equal(t, refFormed, gotFormed, "%s: a form or none", name)
			if refFormed {
				require.Equal(t, formShape(refForm), formShape(gotForm), "%s: the form's shape", name)
				require.Equal(t, writeForm(t, refForm), writeForm(t, gotForm), "%s: the form as written", name)
			}
			if gotPass {
				yes++
			}
			if gotFormed {
				formed++
			}
			if !gotPass && small {
				budgetNo++
			}
		}
	}
	t.Logf("%d values, %d passed, %d formed, %d refused under a small budget", len(values), yes, formed, budgetNo)
	// The random values reach every outcome, often.
	assert.Greater(t, yes, len(values)/2, "values passed")
	assert.Greater(t, formed, len(values)/4, "values formed")
	assert.Greater(t, 4*len(values)-yes, len(values)/2, "values refused")
	assert.Greater(t, budgetNo, len(values)/10, "values refused under a small budget")
}

// emptyCache forgets every key c remembers, and every miss.
func emptyCache(c *cleanCache) {
	for i := range c.slots {
		c.slots[i].Store(nil)
		c.seen[i].Store(0)
	}
}

// refDecide is what passValue and jsonForm did before passForm: passes,
// the budgets restored on a no, and then the form.
func refDecide(w *walker, rv reflect.Value, depth int) (bool, slog.Value, bool) {
	nodes, b := w.nodes, w.b
	p := planOf(rv.Type())
	if !w.refPasses(rv, p, depth) {
		w.nodes, w.b = nodes, b
		return false, slog.Value{}, false
	}
	if w.keyless {
		return true, slog.Value{}, false
	}
	f, ok := w.refJSONForm(rv, p)
	return true, f, ok
}

// formShape is a form's kinds and the Go types of its values of kind Any,
// group by group.
func formShape(v slog.Value) string {
	switch v.Kind() {
	case slog.KindGroup:
		var b strings.Builder
		b.WriteString("{")
		for _, a := range v.Group() {
			b.WriteString(a.Key + ":" + formShape(a.Value) + " ")
		}
		return b.String() + "}"
	case slog.KindAny:
		return fmt.Sprintf("%T", v.Any())
	}
	return v.Kind().String()
}

// writeForm is the form as slog's JSON handler writes it.
func writeForm(t *testing.T, v slog.Value) string {
	var buf bytes.Buffer
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
	r.AddAttrs(slog.Attr{Key: "v", Value: v})
	require.NoError(t, slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r))
	return buf.String()
}

// shapeGen makes random struct-shaped types (reflect.StructOf) and values
// of them: times among strings and numbers, behind pointers, in lists and
// arrays, in interfaces; with secrets, long strings, times MarshalJSON
// refuses, tags that make encoding/json differ, methods on pointers.
type shapeGen struct {
	rng      *rand.Rand
	types    []reflect.Type // types made, and some plain ones
	odd      []reflect.Type // types passes refuses, now and then
	strs     []string       // strings the walk leaves as they are
	odds     []string       // and strings it changes
	times    []time.Time    // times MarshalJSON writes
	oddTimes []time.Time    // and times it refuses
}

func newShapeGen(rng *rand.Rand) *shapeGen {
	tok := redacttest.GHToken("gh" + "p")
	g := &shapeGen{rng: rng,
		strs: []string{"", "a", "Jane Doe", "jane@test.com", "a\bb", "line\nINFO forged", `quote " \`, "<html>&", "ünïcode"},
		odds: []string{"a\u202eb", strings.Repeat("y", 60), "with " + tok, "pw=" + "hunter" + "2"},
		times: []time.Time{time.Date(1980, 1, 1, 12, 0, 0, 0, time.UTC), time.Unix(1700000000, 5).In(time.Local), {},
			time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.FixedZone("", -(9*3600+30*60))), time.Unix(5, 0)},
		oddTimes: []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", 25*3600))},
	}
	g.types = []reflect.Type{
		reflect.TypeFor[string](), reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[uint16](),
		reflect.TypeFor[float64](), reflect.TypeFor[bool](), reflect.TypeFor[time.Duration](),
		timeType, timeType, timeType, reflect.TypeFor[*time.Time](), reflect.TypeFor[any](), reflect.TypeFor[ptUser](),
		reflect.TypeFor[*ptUser](), reflect.TypeFor[*jfNode](), reflect.TypeFor[[]any](),
	}
	g.odd = []reflect.Type{reflect.TypeFor[float32](), reflect.TypeFor[[]byte](), reflect.TypeFor[map[string]int](),
		reflect.TypeFor[ptCreds](), reflect.TypeFor[ptStringer](), reflect.TypeFor[map[string]time.Time](),
		reflect.TypeFor[ptTextKey](), reflect.TypeFor[ptEmbedded]()}
	for range 60 {
		g.types = append(g.types, g.newType(0))
	}
	return g
}

var shapeNames = []string{"Name", "Email", "At", "Password", "Next", "Tags", "N", "Token", "Items", "When"}
var shapeTags = []string{"", "", "", `json:"name"`, `json:"created_at"`, `json:"key"`, `json:"-"`, `json:"when"`}
var oddTags = []string{`json:"a,omitempty"`, `log:"-"`, `log:"redact"`, `json:"secret"`, `json:"a b"`}

// newType is a random type: a struct of random fields, or a pointer to,
// a slice or an array of a type made before.
func (g *shapeGen) newType(depth int) reflect.Type {
	pick := func() reflect.Type {
		if g.rng.IntN(16) == 0 {
			return g.odd[g.rng.IntN(len(g.odd))]
		}
		return g.types[g.rng.IntN(len(g.types))]
	}
	switch g.rng.IntN(6) {
	case 0:
		return reflect.PointerTo(pick())
	case 1:
		return reflect.SliceOf(pick())
	case 2:
		return reflect.ArrayOf(1+g.rng.IntN(2), pick())
	}
	n := 1 + g.rng.IntN(5)
	fs := make([]reflect.StructField, n)
	for i := range fs {
		ft := pick()
		if depth < 2 && g.rng.IntN(4) == 0 {
			ft = g.newType(depth + 1)
		}
		fs[i] = reflect.StructField{Name: fmt.Sprintf("%s%d", shapeNames[g.rng.IntN(len(shapeNames))], i), Type: ft,
			Tag: reflect.StructTag(shapeTags[g.rng.IntN(len(shapeTags))])}
		if g.rng.IntN(12) == 0 {
			fs[i].Tag = reflect.StructTag(oddTags[g.rng.IntN(len(oddTags))])
		}
	}
	return reflect.StructOf(fs)
}

// value is a random value of a random type.
func (g *shapeGen) value() any {
	t := g.types[g.rng.IntN(len(g.types))]
	v := reflect.New(t).Elem()
	g.fill(v, 0)
	return v.Interface()
}

func (g *shapeGen) fill(v reflect.Value, depth int) {
	if depth > 6 {
		return
	}
	if v.Type() == timeType {
		if g.rng.IntN(20) == 0 {
			v.Set(reflect.ValueOf(g.oddTimes[g.rng.IntN(len(g.oddTimes))]))
		} else {
			v.Set(reflect.ValueOf(g.times[g.rng.IntN(len(g.times))]))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		if g.rng.IntN(20) == 0 {
			v.SetString(g.odds[g.rng.IntN(len(g.odds))])
		} else {
			v.SetString(g.strs[g.rng.IntN(len(g.strs))])
		}
	case reflect.Int, reflect.Int8, reflect.Int64:
		v.SetInt([]int64{0, 1, -3, 127, 4111111111111111}[g.rng.IntN(5)] % (1 << (v.Type().Bits() - 1)))
	case reflect.Uint16:
		v.SetUint(uint64(g.rng.IntN(1 << 16)))
	case reflect.Float32, reflect.Float64:
		v.SetFloat([]float64{0, 1.5, 0.1, 1e21}[g.rng.IntN(4)])
	case reflect.Bool:
		v.SetBool(g.rng.IntN(2) == 0)
	case reflect.Interface:
		if g.rng.IntN(4) > 0 {
			e := reflect.New(g.types[g.rng.IntN(len(g.types))]).Elem() // made types too
			g.fill(e, depth+1)
			v.Set(e)
		}
	case reflect.Pointer:
		if g.rng.IntN(5) > 0 {
			p := reflect.New(v.Type().Elem())
			g.fill(p.Elem(), depth+1)
			v.Set(p)
		}
	case reflect.Slice:
		switch r := g.rng.IntN(12); {
		case r == 0: // nil
		case r == 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		case r == 2 && depth == 0:
			v.Set(reflect.MakeSlice(v.Type(), maxElems+1, maxElems+1)) // too many
		default:
			n := 1 + g.rng.IntN(4)
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := range n {
				g.fill(v.Index(i), depth+1)
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			g.fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		if g.rng.IntN(2) == 0 {
			v.Set(reflect.MakeMap(v.Type()))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				g.fill(v.Field(i), depth+1)
			}
		}
	}
}

// In a list of structs, the names of the fields are checked for the
// first elements, until they are in the key cache, and then known to pass
// for the rest; never after Mask (the cache's generation moves on), nor
// under another group.
func TestPassFormKnowsNamesInAList(t *testing.T) {
	h := Wrap(slog.NewJSONHandler(&bytes.Buffer{}, nil)).(*stageHandler)
	u := &ptUser{Name: "Jane Doe", Email: "jane@test.com", CreatedAt: time.Date(1980, 1, 1, 12, 0, 0, 0, time.UTC)}
	users := reflect.ValueOf([]*ptUser{u, u, u, u})
	for range 3 { // the keys cached
		w := h.m.walker(false)
		w.group = "users"
		require.True(t, passDecision(&w, users))
	}
	p := planOf(reflect.TypeFor[ptUser]())
	w := h.m.walker(false)
	w.group = "users"
	known, _ := w.namesKnown(p)
	assert.False(t, known, "nothing known before the walk")
	require.True(t, passDecision(&w, users))
	known, gen := w.namesKnown(p)
	assert.True(t, known, "known after the first element")
	w.group = "other"
	known, _ = w.namesKnown(p)
	assert.False(t, known, "under another group")
	w.group = "users"
	h.m.clean.forget() // as Mask does
	known, gen2 := w.namesKnown(p)
	assert.False(t, known, "after Mask")
	assert.NotEqual(t, gen, gen2)
	passDecision(&w, reflect.ValueOf(1))
	known, _ = w.namesKnown(p)
	assert.False(t, known, "forgotten at the next value")

	// A name that costs budget (not cached yet) is checked every time.
	v := reflect.ValueOf([]ptFresh{{A: time.Unix(1, 0)}, {A: time.Unix(2, 0)}})
	h2 := Wrap(slog.NewJSONHandler(&bytes.Buffer{}, nil)).(*stageHandler)
	w = h2.m.walker(false)
	work := w.b.work
	require.True(t, passDecision(&w, v))
	assert.Equal(t, work-2*len("FreshName"), w.b.work, "the name paid for in each element")
	known, _ = w.namesKnown(planOf(reflect.TypeFor[ptFresh]()))
	assert.False(t, known)
}

type ptFresh struct {
	A time.Time `json:"FreshName"`
}

// ptTwoGroups holds one type under two names, one of which makes a
// member's path a secret (api.key).
type ptTwoGroups struct {
	Plain ptKeyed `json:"plain"`
	API   ptKeyed `json:"api"`
}

type ptKeyed struct {
	Key string    `json:"key"`
	At  time.Time `json:"at"`
}

// strictText, on a time's text, says what strictTime says of the time,
// and what MarshalJSON does: it writes the time or refuses it.
func TestStrictTextIsStrictTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 3))
	years := []int{-10000, -1, 0, 1, 1970, 9999, 10000, 123456}
	offsets := []int{0, 1, -1, 59, 3600, -3600, 23*3600 + 3599, -(23*3600 + 3599), 24 * 3600, -24 * 3600, 99 * 3600, 100 * 3600, -100 * 3600}
	var w walker
	for i := range 20000 {
		year := years[i%len(years)]
		if rng.IntN(2) == 0 {
			year = rng.IntN(20000) - 5000
		}
		off := offsets[rng.IntN(len(offsets))]
		if rng.IntN(2) == 0 {
			off = rng.IntN(2*200*3600) - 200*3600
		}
		tm := time.Date(year, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1e9), time.FixedZone("", off))
		_, err := tm.MarshalJSON()
		text := w.arena.text(tm)
		require.Equal(t, strictTime(tm), strictText(text), "%s", text)
		require.Equal(t, err == nil, strictText(text), "%s", text)
		s, ok := w.timeText(tm)
		require.Equal(t, err == nil, ok)
		if ok {
			assert.Equal(t, string(text), s)
		}
	}
}

// passDecision is passValue's decision.
func passDecision(w *walker, rv reflect.Value) bool {
	pass, _, _ := w.passValue(rv, 0)
	return pass
}
