package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// uniqueKeys fails if any object of the JSON text has two equal keys.
func uniqueKeys(t testing.TB, line string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	var walk func() error
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				if seen[k.(string)] {
					return fmt.Errorf("duplicate key %q", k)
				}
				seen[k.(string)] = true
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	require.NoError(t, walk(), line)
}

// An attr cannot shadow the record's own fields, in either JSON schema or
// in TEXT: it is written under key#2, and the record's fields stay its own.
func TestAttrsCannotShadowTheRecord(t *testing.T) {
	forged := []any{"level", "CRITICAL", "msg", "forged message", "logger", "security", "time", "2020-01-01",
		"timestamp", "2020-01-01", "name", "security", "message", "forged", "source", "x"}
	t.Run("slog schema", func(t *testing.T) {
		buf := setup(t, WithOutputType(OutputJSON))
		Logger("app").Info("login ok", forged...)
		line := buf.String()
		uniqueKeys(t, line)
		m := lastJSON(t, buf)
		assert.Equal(t, "INFO", m["level"])
		assert.Equal(t, "login ok", m["msg"])
		assert.Equal(t, "app", m["logger"])
		assert.NotEqual(t, "2020-01-01", m["time"])
		assert.Equal(t, "CRITICAL", m["level#2"])
		assert.Equal(t, "forged message", m["msg#2"])
		assert.Equal(t, "security", m["logger#2"])
		assert.Equal(t, "security", m["name"], "not a field of this schema")
	})
	t.Run("codomyrmex schema", func(t *testing.T) {
		buf := setup(t, WithOutputType(OutputJSON), WithJSONSchema(SchemaCodomyrmex))
		Logger("app").Info("login ok", forged...)
		uniqueKeys(t, buf.String())
		m := lastJSON(t, buf)
		assert.Equal(t, "app", m["name"])
		assert.Equal(t, "login ok", m["message"])
		assert.Equal(t, "security", m["name#2"])
		assert.Equal(t, "forged", m["message#2"])
		assert.NotEqual(t, "2020-01-01", m["timestamp"])
	})
	t.Run("text", func(t *testing.T) {
		buf := setup(t)
		Logger("app").Info("login ok", "level", "CRITICAL", "msg", "forged")
		assert.Contains(t, buf.String(), " - app - INFO - login ok level#2=CRITICAL msg#2=forged")
	})
}

// Every key is unique at its level: repeated attrs, attrs that repeat a
// WithAttrs attr, group names, members of a group, context attrs.
func TestKeysAreUniqueAtEachLevel(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	ctx := ContextWith(context.Background(), slog.String("a", "ctx"), slog.String("request_id", "r-1"))
	l := Logger("u").With("a", "with", "g", "with-g")
	l.InfoContext(ctx, "m", "a", 1, "a", 2, slog.Group("g", "x", 1, "x", 2), "a#2", "taken", "request_id", "own")
	line := buf.String()
	uniqueKeys(t, line)
	m := lastJSON(t, buf)
	assert.Equal(t, "with", m["a"], "the first written keeps the name")
	assert.EqualValues(t, 1, m["a#2"])
	assert.EqualValues(t, 2, m["a#3"])
	assert.Equal(t, "taken", m["a#2#2"])
	assert.Equal(t, "with-g", m["g"])
	assert.Equal(t, map[string]any{"x": 1.0, "x#2": 2.0}, m["g#2"])
	assert.Equal(t, "own", m["request_id"], "the record's own attr before the context's")
	assert.Equal(t, "r-1", m["request_id#2"])
	assert.Equal(t, "ctx", m["a#4"])

	t.Run("groups from WithGroup", func(t *testing.T) {
		buf := setup(t, WithOutputType(OutputJSON))
		Logger("u").With("k", 1).WithGroup("k").With("k", 2).WithGroup("k").Info("m", "k", 3, "k", 4)
		uniqueKeys(t, buf.String())
		assert.JSONEq(t, `{"k":1,"k#2":{"k":2,"k#2":{"k":3,"k#2":4}}}`, trimRecord(t, buf.String()))
	})
	t.Run("text", func(t *testing.T) {
		buf := setup(t, WithFormat("%(message)s"))
		Logger("u").With("a", 1).WithGroup("g").Info("m", "a", 2, "a", 3)
		Logger("u").Info("m", "a", 1, "a", 2, slog.Group("g", "a", 3, "a", 4))
		assert.Equal(t, []string{"m a=1 g.a=2 g.a#2=3", "m a=1 a#2=2 g.a=3 g.a#2=4"}, buf.Lines())
	})
}

// trimRecord returns the record's attrs as a JSON object, without time,
// level, logger and msg.
func trimRecord(t *testing.T, line string) string {
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &m))
	for _, k := range []string{"time", "level", "logger", "msg"} {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// A security event's labels keep their names; context attrs and extra
// attrs with a label's name are renamed.
func TestSecurityLabelsKeepTheirNames(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	ctx := ContextWithUserID(context.Background(), "u-ctx")
	ctx = ContextWith(ctx, slog.String("severity", "none"))
	SecurityEvent(ctx, Event{Type: AuthzDenied, UserID: "u-event", Attrs: []slog.Attr{slog.String("outcome", "success")}})
	uniqueKeys(t, buf.String())
	m := lastJSON(t, buf)
	assert.Equal(t, "u-event", m["user_id"])
	assert.Equal(t, "u-ctx", m["user_id#2"])
	assert.Equal(t, "medium", m["severity"])
	assert.Equal(t, "none", m["severity#2"])
	assert.Equal(t, "unknown", m["outcome"])
	assert.Equal(t, "success", m["outcome#2"])
}

// FuzzUniqueKeys: whatever the keys, every JSON record has unique keys at
// every level.
func FuzzUniqueKeys(f *testing.F) {
	f.Add("level", "msg", "a", "a", "g")
	f.Add("a", "a#2", "a", "a#2", "a")
	f.Add("", "", "time", "logger", "")
	c := newConfig()
	var b syncBuffer
	c.console, c.output, c.levels.def = &b, OutputJSON, slog.LevelDebug
	p, _ := newPipeline(c)
	f.Fuzz(func(t *testing.T, k1, k2, k3, k4, g string) {
		b.Reset()
		l := slog.New(encoderHandler{p.handler("f", false)})
		l.With(k1, 1, k2, 2).WithGroup(g).With(k3, 3).Info("m", k4, 4, k1, 5, slog.Group(k2, k3, 6, k3, 7))
		l.Info("m", k1, 1, k2, 2, k3, 3, k4, 4, g, 5)
		for _, line := range b.Lines() {
			uniqueKeys(t, line)
		}
	})
}

// More keys than the set holds inline, with a group undone among them:
// still unique.
func TestManyKeysStayUnique(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	as := []any{}
	for i := range 100 {
		as = append(as, fmt.Sprint("k", i%40), i)
		if i == 50 {
			as = append(as, slog.Group("empty", slog.Attr{}))
		}
	}
	Logger("many").Info("m", as...)
	uniqueKeys(t, buf.String())
	m := lastJSON(t, buf)
	assert.EqualValues(t, 40, m["k0#2"])
	assert.EqualValues(t, 99, m["k19#3"])
	assert.NotContains(t, m, "empty")
}

// Behind Wrap too: slog's own handlers write what they are given, so the
// stage renames a record's attrs that would take slog's keys or a key
// already written at their level.
func TestWrapKeepsKeysUnique(t *testing.T) {
	var b strings.Builder
	l := slog.New(Wrap(slog.NewJSONHandler(&b, nil)))
	ctx := ContextWith(context.Background(), slog.String("a", "ctx"))
	l.With("a", "with").InfoContext(ctx, "m", "level", "CRITICAL", "msg", "forged", "time", "2020", "a", 2, slog.Group("g", "x", 1, "x", 2))
	l.WithGroup("level").With("k", 1).Info("m", "k", 2)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	for _, line := range lines {
		uniqueKeys(t, line)
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &m))
	assert.Equal(t, "INFO", m["level"])
	assert.Equal(t, "m", m["msg"])
	assert.Equal(t, "CRITICAL", m["level#2"])
	assert.Equal(t, "forged", m["msg#2"])
	assert.Equal(t, "2020", m["time#2"])
	assert.Equal(t, "with", m["a"])
	assert.EqualValues(t, 2, m["a#2"])
	assert.Equal(t, "ctx", m["a#3"])
	assert.Equal(t, map[string]any{"x": 1.0, "x#2": 2.0}, m["g"])
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &m))
	assert.Equal(t, map[string]any{"k": 1.0, "k#2": 2.0}, m["level#2"], "a group cannot take slog's key either")
}

// Each attr is mapped once behind Wrap, even when a record is rebuilt: a
// secret is counted once.
func TestWrapCountsEachRedactionOnce(t *testing.T) {
	tok := redacttest.GHToken("gh" + "p")
	l := slog.New(Wrap(slog.NewJSONHandler(io.Discard, nil))) // DiscardHandler is never enabled
	before := Stats().Redactions["github-token"]
	l.Info("m", "a", 1, "b", "with "+tok, "a", 2)
	assert.Equal(t, before+1, Stats().Redactions["github-token"])
}

// After WithGroup, Wrap still adds the context attrs (inside the group,
// where slog puts a record's attrs) and keeps keys unique.
func TestWrapWithGroupKeepsContextAndUniqueKeys(t *testing.T) {
	var b strings.Builder
	l := slog.New(Wrap(slog.NewJSONHandler(&b, nil)))
	ctx := ContextWithRequestID(context.Background(), "req-1")
	l.WithGroup("g").InfoContext(ctx, "grouped", "a", 1, "a", 2)
	uniqueKeys(t, b.String())
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(b.String()), &m))
	assert.Equal(t, map[string]any{"a": 1.0, "a#2": 2.0, "request_id": "req-1"}, m["g"])
}

// A client's JSON that decodes to an empty attr inside a group must not
// make slog's handlers write invalid JSON or a stray prefix behind Wrap and
// the stages.
func TestStagesLeaveOutEmptyGroups(t *testing.T) {
	body := json.RawMessage(`{"":null}`)
	for name, wrap := range map[string]func(slog.Handler) slog.Handler{
		"Wrap":      func(h slog.Handler) slog.Handler { return Wrap(h) },
		"Redacting": func(h slog.Handler) slog.Handler { return NewRedactingHandler(h) },
	} {
		var j, txt strings.Builder
		slog.New(wrap(slog.NewJSONHandler(&j, nil))).Info("login failed", "body", body, "user", "mallory", slog.Group("g", slog.Attr{}))
		slog.New(wrap(slog.NewTextHandler(&txt, nil))).Info("login failed", "body", body, "user", "mallory")
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(j.String()), &m), "%s: %s", name, j.String())
		assert.Equal(t, "mallory", m["user"], name)
		assert.Contains(t, txt.String(), " user=mallory", name)
	}
}

// A group that writes nothing leaves no trace: its name stays free, and the
// attrs after it are back at the top level, where the record's own fields
// are reserved.
func TestEmptyGroupLeavesKeysAsTheyWere(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("k").Info("m", slog.Group("g", slog.Attr{}), "msg", "forged", "g", 1)
	uniqueKeys(t, buf.String())
	assert.JSONEq(t, `{"msg#2":"forged","g":1}`, trimRecord(t, buf.String()))

	txt := setup(t, WithFormat("%(message)s"))
	Logger("k").WithGroup("w").Info("m", slog.Attr{})
	Logger("k").Info("m", slog.Group("g", slog.Attr{}), "msg", "forged")
	assert.Equal(t, []string{"m", "m msg#2=forged"}, txt.Lines())
}

// Two keys written alike are renamed, whatever they were before escaping
// (the byte 0xff and the text \xff are both written \\xff); and a thousand
// copies of one key cost a linear number of steps, not a cubic one.
func TestKeysUniqueAsWritten(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("k").Info("m", "\xff", 1, `\xff`, 2, slog.Group("g", "\n", 1, `\n`, 2))
	uniqueKeys(t, buf.String())
	m := lastJSON(t, buf)
	assert.EqualValues(t, 2, m[`\xff#2`])

	as := make([]any, 0, 4000)
	for i := range 2000 {
		as = append(as, "same", i)
	}
	buf = setup(t, WithOutputType(OutputJSON))
	Logger("k").Info("m", as...)
	uniqueKeys(t, buf.String())
	m = lastJSON(t, buf)
	assert.EqualValues(t, 1999, m["same#2000"])
	txt := setup(t, WithFormat("%(message)s"))
	Logger("k").Info("m", as...)
	assert.Contains(t, txt.String(), " same#2000=1999")
}

// Behind Wrap too, many copies of one key are renamed in turn.
func TestWrapManyCopiesOfAKey(t *testing.T) {
	as := make([]any, 0, 4000)
	for i := range 2000 {
		as = append(as, "same", i)
	}
	var b strings.Builder
	slog.New(Wrap(slog.NewJSONHandler(&b, nil))).Info("m", as...)
	uniqueKeys(t, b.String())
	assert.Contains(t, b.String(), `"same#2000":1999`)
}

// alreadyUnique never says "unique" where uniqueAttrs would rename: over
// random trees of attrs with few distinct keys, empty attrs and inlined
// groups.
func TestAlreadyUniqueAgreesWithUniqueAttrs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var tree func(depth int) []slog.Attr
	tree = func(depth int) []slog.Attr {
		as := make([]slog.Attr, rng.IntN(6))
		for i := range as {
			key := []string{"a", "b", "c", "", "time"}[rng.IntN(5)]
			switch {
			case depth < 3 && rng.IntN(3) == 0:
				as[i] = slog.Attr{Key: key, Value: slog.GroupValue(tree(depth + 1)...)}
			case rng.IntN(5) == 0:
				as[i] = slog.Attr{} // empty: takes no name
			default:
				as[i] = slog.Int(key, i)
			}
		}
		return as
	}
	quick, slow := 0, 0
	for range 5000 {
		as := tree(0)
		taken := []string{slog.TimeKey, slog.LevelKey}
		if alreadyUnique(as, taken) {
			quick++
			_, changed := uniqueAttrs(as, newNameSet(taken))
			require.False(t, changed, "%v", as)
		} else {
			slow++
		}
	}
	assert.Positive(t, quick)
	assert.Positive(t, slow)
}

// Many names renamed at one level (more than manyKeys distinct ones, each
// twice) all get a suffix of their own through Wrap, and the record's keys
// are unique.
func TestWrapManyRenamedNames(t *testing.T) {
	var b bytes.Buffer
	l := slog.New(Wrap(slog.NewJSONHandler(&b, nil)))
	var args []any
	for i := range 3 * manyKeys {
		k := fmt.Sprint("k", i)
		args = append(args, k, 1, k, 2)
	}
	l.Info("m", args...)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &m))
	for i := range 3 * manyKeys {
		k := fmt.Sprint("k", i)
		assert.Equal(t, 1.0, m[k], k)
		assert.Equal(t, 2.0, m[k+"#2"], k)
	}
	uniqueKeys(t, b.String())
}

// The key cache never lets two keys push each other out: once both of a
// key's slots hold current entries, the key is not remembered (and adding
// it allocates nothing); after forget (a Mask), stale entries give way.
func TestKeyCacheKeepsCurrentEntries(t *testing.T) {
	var c cleanCache
	full := func() bool {
		for i := range c.slots {
			if c.slots[i].Load() == nil {
				return false
			}
		}
		return true
	}
	for i := 0; !full(); i++ {
		require.Less(t, i, 1<<20, "the cache never filled")
		k := fmt.Sprint("key-", i)
		c.add(k, false, c.generation())
		_, ok := c.get(k)
		require.False(t, ok, "remembered the second time it misses, not the first")
		c.add(k, false, c.generation())
	}
	k := fmt.Sprint("another-key-", 7)
	assert.Zero(t, testing.AllocsPerRun(100, func() { c.add(k, true, c.generation()) }))
	_, ok := c.get(k)
	assert.False(t, ok, "not remembered: its slots hold current keys")
	c.forget()
	c.add(k, true, c.generation())
	secret, ok := c.get(k)
	assert.True(t, ok, "stale entries give way")
	assert.True(t, secret)
}

// uniqueFew, the rebuilt record's renaming without a set, renames exactly
// as uniqueInPlace does: over random levels of attrs with few distinct
// keys (slog's own among them, and names such as "a#2" that a renaming
// also makes), empty attrs and keyed groups, and dropEmptyInPlace keeps
// what dropEmpty keeps.
func TestUniqueFewAgreesWithUniqueInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	keys := []string{"a", "a#2", "a#3", "b", "time", "time#2", "msg", "level", ""}
	var level func(depth, n int) []slog.Attr
	level = func(depth, n int) []slog.Attr {
		as := make([]slog.Attr, n)
		for i := range as {
			key := keys[rng.IntN(len(keys))]
			switch {
			case key != "" && depth < 2 && rng.IntN(4) == 0:
				as[i] = slog.Attr{Key: key, Value: slog.GroupValue(level(depth+1, rng.IntN(5))...)}
			case rng.IntN(6) == 0:
				as[i] = slog.Attr{} // empty: takes no name
			default:
				as[i] = slog.Int(key, i)
			}
		}
		return as
	}
	renamed := 0
	for range 5000 {
		as := level(0, rng.IntN(maxQuickUnique+1))
		want, _ := dropEmpty(slices.Clone(as))
		got := dropEmptyInPlace(slices.Clone(as))
		require.Equal(t, want, got)
		require.False(t, hasInlined(got))
		taken := slogKeys[:rng.IntN(len(slogKeys)+1)]
		want = slices.Clone(got)
		uniqueInPlace(want, newNameSet(taken))
		uniqueFew(got, taken)
		require.Equal(t, want, got, "taken %v", taken)
		if !alreadyUnique(as, taken) {
			renamed++
		}
	}
	assert.Greater(t, renamed, 1000)
}

// A record Wrap must rebuild only to rename an attr that takes one of
// slog's own keys costs no allocation of the stage's own when its attrs
// fit in the record: the rebuilt attrs and the names are on the stack,
// and slog's keys renamed once are constants.
func TestWrapRenameAllocatesAsSlog(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector drops sync.Pool items at random: allocations vary")
	}
	attrs := []slog.Attr{slog.Int("a", 1), slog.Int("time", 2), slog.String("b", "x"), slog.Int("a", 3), slog.Bool("msg", true)}
	ctx := context.Background()
	var out bytes.Buffer
	plain := slog.New(slog.NewJSONHandler(io.Discard, nil))
	wrapped := slog.New(Wrap(slog.NewJSONHandler(&out, nil)))
	wrapped.LogAttrs(ctx, slog.LevelInfo, "m", attrs...) // keys cached
	assert.Contains(t, out.String(), `"a":1,"time#2":2,"b":"x","a#2":3,"msg#2":true`)
	wrapped = slog.New(Wrap(slog.NewJSONHandler(io.Discard, nil)))
	wrapped.LogAttrs(ctx, slog.LevelInfo, "m", attrs...)
	a := testing.AllocsPerRun(100, func() { plain.LogAttrs(ctx, slog.LevelInfo, "m", attrs...) })
	b := testing.AllocsPerRun(100, func() { wrapped.LogAttrs(ctx, slog.LevelInfo, "m", attrs...) })
	assert.LessOrEqual(t, b, a+1, "a#2 is made for the record") // "a#2" is not one of slog's keys
}
