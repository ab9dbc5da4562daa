package logging

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A timer logs the operation's duration from the chain's clock, at INFO,
// or at WARNING past its slow threshold; with its attrs.
func TestTimer(t *testing.T) {
	clk := newFakeClock()
	buf := setup(t, WithOutputType(OutputJSON), withClock(clk))
	l := Logger("billing")
	func() {
		defer Time(context.Background(), l, "charge", slog.String("invoice", "i-1"))()
		clk.Advance(1500 * time.Microsecond)
	}()
	m := lastJSON(t, buf)
	assert.Equal(t, "charge", m["msg"])
	assert.Equal(t, "INFO", m["level"])
	assert.InDelta(t, 1.5, m["duration_ms"], 1e-9)
	assert.Equal(t, "i-1", m["invoice"])

	tm := StartTimer(context.Background(), l, "query").SlowAfter(100 * time.Millisecond)
	clk.Advance(250 * time.Millisecond)
	assert.Equal(t, 250*time.Millisecond, tm.Stop(slog.Int("rows", 3)))
	m = lastJSON(t, buf)
	assert.Equal(t, "WARN", m["level"])
	assert.Equal(t, true, m["slow"])
	assert.InDelta(t, 250.0, m["duration_ms"], 1e-9)
	assert.InDelta(t, 3.0, m["rows"], 0)
}

// A timer whose level is disabled allocates nothing.
func TestTimerDisabledAllocatesNothing(t *testing.T) {
	setup(t, WithLevel(slog.LevelError))
	l := Logger("quiet")
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		tm := StartTimer(ctx, l, "op").SlowAfter(time.Hour)
		tm.Stop()
	})
	require.Zero(t, allocs)
}

// A timer whose level is disabled allocates nothing, with attrs, and
// through Time's deferred form too.
func TestTimerDisabledWithAttrsAllocatesNothing(t *testing.T) {
	setup(t, WithLevel(slog.LevelError))
	l := Logger("quiet")
	ctx := context.Background()
	id := strings.Repeat("i", 3)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		tm := StartTimer(ctx, l, "op", slog.String("invoice", id)).SlowAfter(time.Hour)
		tm.Stop(slog.Int("rows", 3))
	}), "StartTimer")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		defer Time(ctx, l, "op", slog.String("invoice", id))()
	}), "defer Time()()")
}

// A timer's record has the call site of StartTimer or Time: its source
// with ADD_SOURCE, and its own rate-limit bucket, so that one hot timer
// does not silence the others.
func TestTimerCallSite(t *testing.T) {
	clk := newFakeClock()
	buf := setup(t, WithOutputType(OutputJSON), WithAddSource(true), withClock(clk),
		WithRateLimit(RateLimit{PerSecond: 1, Burst: 1}))
	l := Logger("billing")
	ctx := context.Background()

	_, file, line, _ := runtime.Caller(0)
	tm := StartTimer(ctx, l, "query") // line+1
	stop := Time(ctx, l, "charge")    // line+2
	tm.Stop()
	stop()
	for range 3 { // a hot timer, one call site: rate limited after the first
		StartTimer(ctx, l, "hot").Stop()
	}

	var got []string
	for _, m := range jsonLines(t, buf.String()) {
		if m["logger"] != "billing" {
			continue
		}
		src := m["source"].(map[string]any)
		got = append(got, fmt.Sprintf("%s %s:%v", m["msg"], src["file"], src["line"]))
	}
	assert.Equal(t, []string{
		fmt.Sprintf("query %s:%d", file, line+1),
		fmt.Sprintf("charge %s:%d", file, line+2),
		fmt.Sprintf("hot %s:%d", file, line+6),
	}, got)
}
