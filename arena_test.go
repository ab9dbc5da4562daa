package logging

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Setup chain reuses the blocks of its walks (reusing/giveArena):
// records logged at once from many goroutines, each with structs and
// lists of its own, are each written with their own values, never another
// record's (run with -race).
func TestReusedArenasKeepRecordsApart(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	l := Logger("arena")
	const goroutines, each = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("g%d-r%d", g, i)
				users := []ptUser{{Name: id + "-a", CreatedAt: time.Unix(int64(i), 0)}, {Name: id + "-b"}}
				l.LogAttrs(context.Background(), slog.LevelInfo, "m", slog.String("id", id),
					slog.Any("users", users), slog.Any("user", &ptNested{}), slog.Any("ids", []string{id, id}))
			}
		})
	}
	wg.Wait()
	require.NoError(t, Close())
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, goroutines*each)
	for _, m := range lines {
		id := m["id"].(string)
		users := m["users"].([]any)
		require.Len(t, users, 2)
		assert.Equal(t, id+"-a", users[0].(map[string]any)["name"], "record %s", id)
		assert.Equal(t, id+"-b", users[1].(map[string]any)["name"], "record %s", id)
		assert.Equal(t, []any{id, id}, m["ids"], "record %s", id)
	}
}

// An arena given back holds none of the record's values: the pool keeps
// nothing of a record alive.
func TestGivenArenaIsCleared(t *testing.T) {
	var a walkArena
	a.reusing()
	attrs := a.attrSlice(3)
	attrs = append(attrs, slog.String("k", "v"), slog.Any("x", []int{1}))
	vals := append(a.valueSlice(2), slog.StringValue("s"))
	require.Len(t, attrs, 2)
	require.Len(t, vals, 1)
	a.attrs, a.vals = a.attrs[:cap(a.attrs)], a.vals[:cap(a.vals)] // what the carves used, and more
	giveArena(&a)
	for range 100 { // the pool may hand back another arena, or a new one
		var b walkArena
		b.reusing()
		b.fill()
		assert.Zero(t, len(b.attrs))
		for _, x := range b.attrs[:cap(b.attrs)] {
			assert.Equal(t, slog.Attr{}, x)
		}
		for _, x := range b.vals[:cap(b.vals)] {
			assert.True(t, x.Equal(slog.Value{}))
		}
	}
}

// A record of structs and lists through Setup's chain allocates no block
// of its walk once the pool holds one: fewer allocations than a walk that
// takes new blocks (the structs and lists of zap's fields record).
func TestSetupWalkReusesBlocks(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector drops sync.Pool items at random: allocations vary")
	}
	setup(t, WithOutputType(OutputJSON))
	l := Logger("arena")
	u := &ptUser{Name: "Jane Doe", CreatedAt: time.Unix(1, 0)}
	users := []*ptUser{u, u, u, u, u, u, u, u, u, u}
	attrs := []slog.Attr{slog.Any("users", users), slog.Any("ints", []int{1, 2, 3}), slog.Any("user", u)}
	ctx := context.Background()
	log := func() { l.LogAttrs(ctx, slog.LevelInfo, "m", attrs...) }
	log()
	pooled := testing.AllocsPerRun(100, log)
	fresh := testing.AllocsPerRun(100, func() {
		arenaPool.Get() // the next walk finds the pool empty, or one fewer
		log()
	})
	// A walk that finds the pool empty makes an arena and its blocks of
	// attrs and of values: three allocations the pooled walk does not.
	assert.LessOrEqual(t, pooled+3, fresh, "pooled %v, fresh %v", pooled, fresh)
}
