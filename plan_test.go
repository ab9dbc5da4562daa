package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type PlanInner struct {
	City  string `json:"city"`
	Token string
}

type planOuter struct {
	PlanInner
	Name     string `json:"name"`
	APIKey   string `json:"key"` // secret by its Go name only
	Hidden   string `log:"-"`
	Skipped  string `json:"-"`
	Tagged   int    `log:"secret"`
	Redacted string `json:"r" log:"redact"`
	private  string
	When     time.Time
	Nested   *planOuter
}

// TestPlanFields: the plan of a struct holds its fields' names and tags, as
// the walk reads them, once per type; the special cases are found in the
// walk's order.
func TestPlanFields(t *testing.T) {
	p := planOf(reflect.TypeFor[planOuter]())
	require.Same(t, p, planOf(reflect.TypeFor[planOuter]()), "cached")
	var got []string
	for i := range p.fields {
		f := &p.fields[i]
		got = append(got, fmt.Sprintf("%s/%s/%v/%v", f.name, f.alt, f.redact, f.inline))
	}
	assert.Equal(t, []string{
		"PlanInner//false/true", "name/Name/false/false", "key/APIKey/false/false",
		"Tagged//true/false", "r//true/false", "When//false/false", "Nested//false/false",
	}, got)
	for typ, want := range map[reflect.Type]planSpecial{
		reflect.TypeFor[time.Time]():     specialTime,
		reflect.TypeFor[time.Duration](): specialDuration,
		reflect.TypeFor[*time.Time]():    specialJSONMarshaler, // as walk has always taken it
		reflect.TypeFor[*http.Request](): specialKnown,
		reflect.TypeFor[http.Cookie]():   specialKnown,
		reflect.TypeFor[Secret]():        specialLogValuer,
		reflect.TypeFor[*errors_t]():     specialError,
		reflect.TypeFor[slog.Level]():    specialJSONMarshaler, // also a TextMarshaler and a Stringer: MarshalJSON comes first
		reflect.TypeFor[http.Header]():   specialNone,
		reflect.TypeFor[planOuter]():     specialNone,
		reflect.TypeFor[fmt.Stringer]():  specialNone, // an interface: its dynamic value decides
	} {
		assert.Equal(t, want, planOf(typ).special, typ.String())
	}
	_ = private(planOuter{}.private)
}

type errors_t struct{}

func (*errors_t) Error() string { return "e" }

func private(string) bool { return true }

// TestPlanWalkOutput: a struct walked by its plan is written with every
// rule of the deep walk: json names, secrets by the json and by the Go
// name, tags, the embedded struct inlined, unexported fields left out.
func TestPlanWalkOutput(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	v := planOuter{PlanInner: PlanInner{City: "Oslo", Token: "t0k3n-value"}, Name: "n", APIKey: "k3y-value",
		Hidden: "hidden-value", Skipped: "skipped-value", Tagged: 42, Redacted: "redacted-value", private: "private-value",
		When: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	v.Nested = &v
	Logger("p").Info("m", "v", v)
	out := buf.String()
	for _, s := range []string{"t0k3n-value", "k3y-value", "hidden-value", "skipped-value", "redacted-value", "private-value"} {
		assert.NotContains(t, out, s)
	}
	m := lastJSON(t, buf)["v"].(map[string]any)
	assert.Equal(t, "Oslo", m["city"])
	assert.Equal(t, redactedMarker, m["Token"])
	assert.Equal(t, redactedMarker, m["key"])
	assert.Equal(t, redactedMarker, m["Tagged"])
	assert.Equal(t, redactedMarker, m["r"])
	assert.Equal(t, "2024-01-02T03:04:05Z", m["When"])
	assert.Equal(t, "n", m["name"])
	assert.Equal(t, cycleMarker, m["Nested"].(map[string]any)["Nested"], "a pointer back to the value is a cycle")
}

// Types that contain themselves: their plans are built lazily, and the
// walk of a value of such a type stops at the depth limit.
type (
	selfList  []selfList
	selfMap   map[string]selfMap
	selfChain struct {
		Name string
		Next *selfChain
	}
)

func TestPlanRecursiveTypes(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	l := selfList{}
	for range 3 * maxDepth {
		l = selfList{l}
	}
	m := selfMap{}
	for range 3 * maxDepth {
		m = selfMap{"m": m}
	}
	var c *selfChain
	for i := range 3 * maxDepth {
		c = &selfChain{Name: fmt.Sprint("n", i), Next: c}
	}
	Logger("p").Info("m", "l", l, "map", m, "c", c)
	out := buf.String()
	assert.Contains(t, out, `"l":[[[[[[[[[[[[[[[["`+depthMarker+`"]]]]]]]]]]]]]]]]`)
	assert.Contains(t, out, `{"m":"`+depthMarker+`"}`)
	assert.Contains(t, out, `{"Name":"`+depthMarker+`","Next":"`+depthMarker+`"}`)
	assert.NotContains(t, out, `"n0"`, "the bottom of the chain is cut")
}

// TestPlanNodeBudget: a slice of structs costs one value per field and
// element from the record's budget, however its plan was cached.
func TestPlanNodeBudget(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	type row struct{ A, B, C, D string }
	rows := make([][]row, 20)
	for i := range rows {
		rows[i] = make([]row, maxElems)
	}
	Logger("p").Info("m", "rows", rows)
	out := buf.String()
	assert.Contains(t, out, nodesMarker)
	assert.LessOrEqual(t, strings.Count(out, `"A":`), maxNodes/5+1, "at most the budget's values are written")
}

// TestPlanConcurrent: plans are built and read by many records at once (run
// with -race).
func TestPlanConcurrent(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	type fresh struct {
		Password string
		N        int
		Tags     []string
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				Logger("p").Info("m", "v", fresh{Password: "pw-secret-value", N: i, Tags: []string{"a"}})
			}
		}()
	}
	wg.Wait()
	assert.NotContains(t, buf.String(), "pw-secret-value")
	assert.Equal(t, 400, strings.Count(buf.String(), `"Password":"[REDACTED]"`))
}

// zapUser and zapRecord are the record of zap's benchmark "a message and
// 10 fields" (see benchmarks/zap_test.go).
type zapUser struct {
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
}

func zapRecord() []slog.Attr {
	u := &zapUser{Name: "Jane Doe", Email: "jane@test.com", CreatedAt: time.Date(1980, 1, 1, 12, 0, 0, 0, time.UTC)}
	times := make([]time.Time, 10)
	for i := range times {
		times[i] = time.Unix(int64(i), 0)
	}
	return []slog.Attr{
		slog.Int("int", 0), slog.Any("ints", make([]int, 10)), slog.String("string", "a"),
		slog.Any("strings", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}),
		slog.Time("time", times[0]), slog.Any("times", times), slog.Any("user1", u), slog.Any("user2", u),
		slog.Any("users", []*zapUser{u, u, u, u, u, u, u, u, u, u}), slog.Any("error", errors.New("fail")),
	}
}

// TestCleanStructsAllocateNoMoreThanSlog: a record whose structs hold
// nothing secret costs the Setup chain no more allocations than slog's
// JSON handler spends on the same record.
func TestCleanStructsAllocateNoMoreThanSlog(t *testing.T) {
	as, ctx := zapRecord(), context.Background()
	sl := slog.New(slog.NewJSONHandler(io.Discard, nil))
	setup(t, WithOutputType(OutputJSON))
	ours := Logger("bench")
	ours.LogAttrs(ctx, slog.LevelInfo, "warm", as...) // plans and key cache
	slogAllocs := testing.AllocsPerRun(200, func() { sl.LogAttrs(ctx, slog.LevelInfo, "m", as...) })
	ourAllocs := testing.AllocsPerRun(200, func() { ours.LogAttrs(ctx, slog.LevelInfo, "m", as...) })
	t.Logf("allocations per record: slog %.0f, Setup chain %.0f", slogAllocs, ourAllocs)
	assert.LessOrEqual(t, ourAllocs, slogAllocs)
}
