package logging

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ptUser struct {
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
}

type ptNested struct {
	ID    int64
	Score float64
	Owner *ptUser
	Tags  []string
	Any   any
	Wait  time.Duration
	Grid  [2][2]int
	Nil   *ptUser
	Empty []int
	note  string // unexported: left out by both
}

type ptFloat32 struct{ F float32 }
type ptOmit struct {
	A string `json:"a,omitempty"`
}
type ptEmbedded struct {
	ptUser
	X int
}
type ptLogSkip struct {
	A string
	B string `log:"-"`
}
type ptOddName struct {
	A string `json:"a b"`
}
type ptEmpty struct{}
type ptSecretField struct{ Password string }
type ptStringer struct{ A string }

func (ptStringer) String() string { return "stringer" }

type ptCycle struct {
	Name string
	Next *ptCycle
}

type ptDeep struct{ In *ptDeep }

// ptCreds has a MarshalJSON on its pointer: encoding/json calls it on an
// addressable ptCreds (a slice element, a field behind a pointer), the
// walk never does; it writes what the walk would never show.
type ptCreds struct {
	User string
	pass string
}

func (c *ptCreds) MarshalJSON() ([]byte, error) {
	return []byte(`{"dsn":"postgres://` + c.User + `:` + c.pass + `@db/x"}`), nil
}

type ptCredsHolder struct{ C ptCreds }

// ptTextKey has a MarshalText on its pointer.
type ptTextKey string

func (k *ptTextKey) MarshalText() ([]byte, error) { return []byte("token=" + string(*k)), nil }

// passThroughCases are values of kind Any: the first ones are passed to
// slog's JSON handler as they are, the others walked (a type encoding/json
// writes otherwise, or a value the walk changes).
func passThroughCases() (passed, walked map[string]any) {
	u := &ptUser{Name: "Jane Doe", Email: "jane@test.com", CreatedAt: time.Date(1980, 1, 1, 12, 0, 0, 0, time.UTC)}
	cyc := &ptCycle{Name: "a"}
	cyc.Next = cyc
	deep := &ptDeep{}
	for d, i := deep, 0; i < maxDepth+2; d, i = d.In, i+1 {
		d.In = &ptDeep{}
	}
	tok := redacttest.GHToken("gh" + "p")
	pw := "pw" + redacttest.Gen(redacttest.AlnumChars, 14)
	passed = map[string]any{
		"user":    u,
		"users":   []*ptUser{u, u, u},
		"ints":    []int{0, 1, -2, 1 << 38},
		"strings": []string{"a", `quote " and \ backslash`, "<html>&", "ünïcode"},
		"times":   []time.Time{u.CreatedAt, u.CreatedAt.Add(time.Nanosecond)},
		"nested":  ptNested{ID: 7, Score: 1.5, Owner: u, Tags: []string{"x"}, Any: 3, Wait: time.Second, Grid: [2][2]int{{1, 2}, {3, 4}}, Empty: []int{}, note: "n"},
		"bools":   []bool{true, false},
		"nilmap":  []any{nil, "s", 1},
		"control": []string{"line\nINFO forged"}, // slog's JSONHandler escapes it itself, once
	}
	walked = map[string]any{
		"float32":     ptFloat32{F: 0.1},
		"omitempty":   ptOmit{},
		"embedded":    ptEmbedded{ptUser: *u, X: 1},
		"logskip":     ptLogSkip{A: "a", B: "b"},
		"dashcomma":   taggedStruct(`json:"-,"`),
		"oddname":     ptOddName{A: "a"},
		"samename":    sameJSONName(),
		"empty":       ptEmpty{},
		"map":         map[string]int{"b": 2, "a": 1},
		"bytes":       []byte("bytes"),
		"stringer":    ptStringer{A: "a"},
		"error":       []error{errors.New("e")},
		"ip":          net.IPv4(10, 0, 0, 1),
		"cycle":       cyc,
		"deep":        deep,
		"secretfield": ptSecretField{Password: "hunter2"},
		"token":       []string{"ok", "with " + tok},
		"tokenfield":  &ptUser{Name: tok},
		"bidi":        ptUser{Name: "a\u202eb"},
		"card":        []int64{4111111111111111},
		"long":        []string{strings.Repeat("y", 300)},
		"toomany":     make([]int, maxElems+1),
		"complex":     []complex128{1i},
		"ptr json":    []ptCreds{{User: "bob", pass: pw}},
		"ptr json 2":  &ptCredsHolder{C: ptCreds{User: "bob", pass: pw}},
		"ptr text":    []ptTextKey{ptTextKey(pw)},
	}
	return passed, walked
}

// wrapJSON returns a logger behind Wrap(slog JSON), with the pass-through
// on or off, and its output; the time is left out.
func wrapJSON(pass bool) (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	h := Wrap(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(g []string, a slog.Attr) slog.Attr {
		if len(g) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}), WithMaxValueBytes(256))
	h.(*stageHandler).m.passJSON = pass
	return slog.New(h), &buf
}

// A value passed to slog's JSON handler as it is comes out exactly as the
// walk writes it, and every other value is still walked: with the
// pass-through on and off, each record is written the same.
func TestPassThroughWritesWhatTheWalkWrites(t *testing.T) {
	passed, walked := passThroughCases()
	for _, set := range []map[string]any{passed, walked} {
		for name, v := range set {
			on, onBuf := wrapJSON(true)
			off, offBuf := wrapJSON(false)
			on.Info("m", "v", v, "n", 1)
			off.Info("m", "v", v, "n", 1)
			assert.Equal(t, offBuf.String(), onBuf.String(), name)
			assert.True(t, json1(t, onBuf.Bytes()), name)
		}
	}
}

func json1(t *testing.T, b []byte) bool {
	t.Helper()
	return len(jsonLines(t, string(b))) == 1
}

// passes says yes exactly to the values it may pass: the fast path is
// taken for the plain ones, never for the others.
func TestPassesDecides(t *testing.T) {
	passed, walked := passThroughCases()
	h := Wrap(slog.NewJSONHandler(&bytes.Buffer{}, nil), WithMaxValueBytes(256)).(*stageHandler)
	require.True(t, h.m.passJSON)
	for name, v := range passed {
		w := h.m.walker(false)
		assert.True(t, passDecision(&w, reflect.ValueOf(v)), name)
	}
	for name, v := range walked {
		w := h.m.walker(false)
		nodes, b := w.nodes, w.b
		assert.False(t, passDecision(&w, reflect.ValueOf(v)), name)
		assert.Equal(t, nodes, w.nodes, "%s: the node budget is restored", name)
		assert.Equal(t, b, w.b, "%s: the redaction budget is restored", name)
	}
	assert.NotEqual(t, escapeSlogJSON, escapeFor(slog.NewTextHandler(&bytes.Buffer{}, nil)), "only slog's JSON handler")
	assert.False(t, Wrap(slog.NewTextHandler(&bytes.Buffer{}, nil)).(*stageHandler).m.passJSON)
}

// A secret found while deciding is counted once: by the walk that
// redacts it.
func TestPassThroughCountsOnce(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	l, buf := wrapJSON(true)
	before := Stats().Redactions["github-token"]
	l.Info("m", "u", &ptUser{Name: "ok", Email: "with " + tok})
	assert.Equal(t, before+1, Stats().Redactions["github-token"])
	assert.NotContains(t, buf.String(), tok)
}

// A clean record of zap's fields scenario behind Wrap(slog JSON) costs no
// more allocations than slog's JSON handler alone: the values go as they
// are and the record is not copied.
func TestPassThroughAllocatesAsSlog(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector drops sync.Pool items at random: allocations vary")
	}
	passed, _ := passThroughCases()
	attrs := []slog.Attr{slog.Any("user", passed["user"]), slog.Any("users", passed["users"]), slog.Any("ints", passed["ints"]), slog.Any("times", passed["times"])}
	ctx := context.Background()
	plain := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	wrapped := slog.New(Wrap(slog.NewJSONHandler(&bytes.Buffer{}, nil)))
	wrapped.LogAttrs(ctx, slog.LevelInfo, "m", attrs...) // plans made, keys cached
	a := testing.AllocsPerRun(100, func() { plain.LogAttrs(ctx, slog.LevelInfo, "m", attrs...) })
	b := testing.AllocsPerRun(100, func() { wrapped.LogAttrs(ctx, slog.LevelInfo, "m", attrs...) })
	assert.LessOrEqual(t, b, a)
}

// sameJSONName is a struct whose two fields have one json name;
// encoding/json leaves both out.
func sameJSONName() any { return taggedStruct(`json:"x"`, `json:"x"`) }

// taggedStruct is a struct of string fields A, B, … with the given tags,
// built with reflect (vet and staticcheck refuse such tags in source,
// rightly: they are here as what a careless program may log), its fields
// set to "a", "b", ….
func taggedStruct(tags ...string) any {
	fs := make([]reflect.StructField, len(tags))
	for i, tag := range tags {
		fs[i] = reflect.StructField{Name: string(rune('A' + i)), Type: reflect.TypeFor[string](), Tag: reflect.StructTag(tag)}
	}
	v := reflect.New(reflect.StructOf(fs)).Elem()
	for i := range tags {
		v.Field(i).SetString(string(rune('a' + i)))
	}
	return v.Interface()
}
