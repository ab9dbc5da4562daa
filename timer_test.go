package logging

import (
	"context"
	"log/slog"
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
