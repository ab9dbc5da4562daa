package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// childEnv names the case a re-executed test binary runs.
const childEnv = "LOGGING_TEST_CHILD"

// inChild runs f in a child process (this test binary, running only this
// test), so that a crash the runtime cannot recover from (a stack
// overflow) or a hang is a failure of this test, not a dead test binary.
// The child writes its output to stdout; inChild returns it.
func inChild(t *testing.T, f func(out io.Writer), env ...string) string {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		f(os.Stdout)
		os.Exit(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang, not a slow machine
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+strings.ReplaceAll(t.Name(), "/", "$/^")+"$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), env...), childEnv+"="+t.Name())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "the child hung")
	require.NoError(t, err, "the child crashed:\n%s", tail(errOut.String(), 3000))
	return out.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// selfValuer resolves to a group that holds itself.
type selfValuer struct{ name string }

func (s selfValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", s.name), slog.Any("again", s))
}

// wrapValuer resolves to a group around what it holds.
type wrapValuer struct{ in any }

func (w wrapValuer) LogValue() slog.Value { return slog.GroupValue(slog.Any("k", w.in)) }

// directValuer resolves to itself.
type directValuer struct{}

func (d directValuer) LogValue() slog.Value { return slog.AnyValue(d) }

// hostile are values that would crash, hang or explode a walk without
// bounds: built at run time.
func hostile() map[string]func() slog.Attr {
	return map[string]func() slog.Attr{
		"self-containing LogValuer":     func() slog.Attr { return slog.Any("v", selfValuer{"x"}) },
		"LogValuer resolving to itself": func() slog.Attr { return slog.Any("v", directValuer{}) },
		"200000 nested groups": func() slog.Attr {
			a := slog.String("leaf", "bottom")
			for i := range 200000 {
				a = slog.Group(fmt.Sprint("g", i%10), a)
			}
			return a
		},
		"DAG of shared slices": func() slog.Attr {
			var v any = []any{"leaf", "leaf"}
			for range 40 { // 2^40 leaves if expanded
				v = []any{v, v, v}
			}
			return slog.Any("dag", v)
		},
		"map holding itself": func() slog.Attr {
			m := map[string]any{}
			m["me"] = m
			return slog.Any("m", m)
		},
	}
}

// Hostile values finish (a hang fails the child), through Setup (TEXT and
// JSON) and Wrap (JSON and TEXT), with the cut marked in every record and
// every line a whole record.
func TestHostileValuesAreBounded(t *testing.T) {
	for name, mk := range hostile() {
		t.Run(name, func(t *testing.T) {
			out := inChild(t, func(out io.Writer) {
				a := mk()
				for _, o := range []OutputType{OutputText, OutputJSON} {
					if err := Setup(WithConsole(out), WithOutputType(o)); err != nil {
						panic(err)
					}
					Logger("h").LogAttrs(context.Background(), slog.LevelInfo, "hostile", a)
					_ = Close()
				}
				slog.New(Wrap(slog.NewJSONHandler(out, nil))).LogAttrs(context.Background(), slog.LevelInfo, "hostile", a)
				slog.New(Wrap(slog.NewTextHandler(out, nil))).LogAttrs(context.Background(), slog.LevelInfo, "hostile", a)
			})
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			require.Len(t, lines, 4, "one line per record")
			for i, l := range lines {
				assert.Less(t, len(l), 4<<20, "record %d stays small", i)
				assert.True(t, strings.Contains(l, "!DEPTH") || strings.Contains(l, "!LIMIT") || strings.Contains(l, cycleMarker) ||
					strings.Contains(l, "LogValue called too many times"), // slog.Value.Resolve's own bound
					"record %d marks where the value was cut: %.300s", i, l)
				if i == 1 || i == 2 { // Setup's JSON and Wrap's JSON handler
					var m map[string]any
					require.NoError(t, json.Unmarshal([]byte(l), &m), "JSON record %d", i)
				}
			}
		})
	}
}

// One depth limit across every kind of nesting: the value at maxDepth is
// replaced by the marker, the one just above it is kept.
func TestOneDepthLimitForEveryKind(t *testing.T) {
	type box struct{ In any }
	nest := map[string]func(inner any) any{
		"slice":     func(in any) any { return []any{in} },
		"map":       func(in any) any { return map[string]any{"k": in} },
		"struct":    func(in any) any { return box{in} },
		"pointer":   func(in any) any { return &box{in} },
		"json":      func(in any) any { b, _ := json.Marshal([]any{in}); return json.RawMessage(b) },
		"logvaluer": func(in any) any { return wrapValuer{in} },
	}
	for name, wrap := range nest {
		t.Run(name, func(t *testing.T) {
			build := func(levels int) any {
				var v any = "bottom"
				for range levels {
					v = wrap(v)
				}
				return v
			}
			buf := setup(t, WithOutputType(OutputJSON))
			Logger("d").Info("shallow", "v", build(maxDepth/2-1))
			Logger("d").Info("deep", "v", build(maxDepth+4))
			lines := jsonLines(t, buf.String())
			require.Len(t, lines, 2)
			shallow, _ := json.Marshal(lines[0]["v"])
			deep, _ := json.Marshal(lines[1]["v"])
			assert.Contains(t, string(shallow), "bottom")
			assert.NotContains(t, string(shallow), "DEPTH")
			assert.NotContains(t, string(deep), "bottom")
			assert.Contains(t, string(deep), depthMarker)
		})
	}
	t.Run("groups", func(t *testing.T) {
		buf := setup(t, WithOutputType(OutputJSON))
		a := slog.String("leaf", "bottom")
		for range maxDepth + 4 {
			a = slog.Group("g", a)
		}
		Logger("d").LogAttrs(context.Background(), slog.LevelInfo, "groups", a)
		line := buf.String()
		assert.Contains(t, line, depthMarker)
		assert.NotContains(t, line, "bottom")
		assert.Equal(t, maxDepth, strings.Count(line, `"g":{`), "groups kept down to the limit")
	})
}

// One budget of values per record: a record with more values than
// maxNodes keeps the first ones and marks the rest.
func TestRecordBudget(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	big := make([]any, 3*maxNodes)
	for i := range big {
		big[i] = i
	}
	as := make([]any, 0, 2*maxNodes)
	for i := range maxNodes - 500 {
		as = append(as, fmt.Sprint("k", i), i)
	}
	Logger("b").Info("budget", append(as, "big", big)...)
	m := lastJSON(t, buf)
	assert.EqualValues(t, 0, m["k0"], "the first values are kept")
	list, ok := m["big"].([]any)
	require.True(t, ok, "%T", m["big"])
	assert.Less(t, len(list), maxElems+1)
	assert.Contains(t, list, nodesMarker, "the cut is marked")
	assert.Less(t, len(list), 503, "the budget is the record's, not the list's")
}

// Redaction's budget: a string is redacted only as far as it can be
// written (the limit plus a margin, so a secret crossing the cut is found
// whole), and a record only up to redactBudget bytes; past that the rest is
// replaced by a marker and counted, never written as it was.
func TestRedactionBudget(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	t.Run("a secret across the cut", func(t *testing.T) {
		buf := setup(t, WithOutputType(OutputJSON), WithMaxValueBytes(100))
		v := strings.Repeat("x", 90) + " " + tok + " " + strings.Repeat("y", 1<<20)
		Logger("b").Info("m", "v", v)
		line := buf.String()
		assert.NotContains(t, line, tok[:12])
		assert.Contains(t, line, "…[truncated ")
		assert.Less(t, len(line), 1000)
	})
	t.Run("a record over the budget", func(t *testing.T) {
		before := Stats().Redactions["budget"]
		buf := setup(t, WithOutputType(OutputJSON), WithMaxValueBytes(0))
		filler := strings.Repeat("z", redactBudget/2-10)
		Logger("b").Info("m", "a", filler, "b", filler, "c", "late "+tok)
		m := lastJSON(t, buf)
		assert.NotContains(t, buf.String(), tok[4:], "the secret past the budget is not written")
		assert.Equal(t, budgetMarker, m["c"], "replaced whole: cut, it would show the token's first part")
		assert.Equal(t, filler, m["b"])
		assert.Equal(t, before+1, Stats().Redactions["budget"])
	})
}

// buildNested turns fuzz bytes into a nested value: each byte opens a
// group, a slice, a map, a struct pointer or a LogValuer around what the
// following bytes build, or sets a leaf string from the text.
func buildNested(program []byte, text string) slog.Value {
	type node struct {
		Name string
		In   any
	}
	var v any = text
	for i := len(program) - 1; i >= 0; i-- {
		switch program[i] % 6 {
		case 0:
			v = slog.GroupValue(slog.Any(text, v), slog.String("k", text))
		case 1:
			v = []any{v, text, v}
		case 2:
			v = map[string]any{text: v, "x": v}
		case 3:
			v = &node{Name: text, In: v}
		case 4:
			v = wrapValuer{v}
		case 5:
			v = json.RawMessage(`{"` + strings.Repeat("a", int(program[i])%5) + `":[1,{"password":"p"}]}`)
		}
	}
	return slog.AnyValue(v)
}

// FuzzNestedValues: whatever the nesting, a record is one line, valid JSON
// with unique keys, without a dangerous rune, and bounded in size, through
// Setup's encoder and through Wrap.
func FuzzNestedValues(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5}, "key")
	f.Add(bytes.Repeat([]byte{1}, 30), "a\nb")
	f.Add(bytes.Repeat([]byte{0, 4}, 20), "level")
	c := newConfig()
	var b syncBuffer
	c.console, c.output, c.levels.def, c.maxValueBytes = &b, OutputJSON, slog.LevelDebug, 1000
	p, _ := newPipeline(c)
	wm := Wrap(slog.DiscardHandler, WithMaxValueBytes(1000)).(*stageHandler).m
	f.Fuzz(func(t *testing.T, program []byte, text string) {
		if len(program) > 200 {
			program = program[:200]
		}
		v := buildNested(program, text)
		b.Reset()
		slog.New(encoderHandler{p.handler("f", false)}).LogAttrs(context.Background(), slog.LevelInfo, "m", slog.Any("v", v))
		var w bytes.Buffer
		slog.New(&stageHandler{next: slog.NewJSONHandler(&w, nil), m: wm, context: true}).LogAttrs(context.Background(), slog.LevelInfo, "m", slog.Any("v", v))
		for _, out := range []string{b.String(), w.String()} {
			require.True(t, strings.HasSuffix(out, "\n"))
			line := strings.TrimSuffix(out, "\n")
			require.NotContains(t, line, "\n", "one line")
			require.Less(t, len(line), 64<<20)
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m), line)
			assertNoDangerous(t, line, "record")
			if out == b.String() {
				uniqueKeys(t, line)
			}
		}
	})
}

// A long string whose first part holds many secrets: redaction makes that
// part shorter than the limit, and what followed it, never redacted, must
// not slide into the output (a secret near the end of a long header).
func TestSecretAfterShrinkingRedactions(t *testing.T) {
	secret := redacttest.GHToken("gh" + "p")
	var b strings.Builder
	for b.Len() < 64<<10+4<<10-50 {
		b.WriteString(redacttest.GHToken("gh"+"p") + " ")
	}
	s := b.String() + strings.Repeat("x", 100) + " " + secret
	for _, o := range []OutputType{OutputText, OutputJSON} {
		buf := setup(t, WithOutputType(o))
		Logger("s").Info(s, "v", s, "m", map[string]string{s: "k"})
		assert.NotContains(t, buf.String(), secret[4:], "the secret after the redacted part")
		assert.Contains(t, buf.String(), "[truncated ")
	}
	var w bytes.Buffer
	slog.New(Wrap(slog.NewJSONHandler(&w, nil))).Info("m", "v", s)
	assert.NotContains(t, w.String(), secret[4:])
}

// A map keeps its first 1,000 entries in key order and says how many more
// there were; its keys are redacted like any text.
func TestLargeMapIsCutAndMarked(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	big := map[string]int{"0 " + tok: 1}
	for i := range 1500 {
		big[fmt.Sprintf("k%05d", i)] = i
	}
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("m").Info("m", "big", big)
	line := buf.String()
	assert.NotContains(t, line, tok[4:])
	m := lastJSON(t, buf)["big"].(map[string]any)
	assert.Len(t, m, maxElems+1)
	assert.Equal(t, "[501 more]", m["…"])
}

// JSON text larger than maxJSONText is kept as text (cut at the limit), not
// decoded: decoding allocates many times its size before any bound applies.
func TestLargeJSONTextIsNotDecoded(t *testing.T) {
	body := json.RawMessage("[" + strings.Repeat("1,", maxJSONText) + "1]")
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("j").Info("m", "body", body)
	m := lastJSON(t, buf)
	s, ok := m["body"].(string)
	require.True(t, ok, "kept as text: %T", m["body"])
	assert.Contains(t, s, "…[truncated ")
}
