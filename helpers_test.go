package logging

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/testutil"
)

// TestMain clears the CODOMYRMEX_LOG_* environment so that the machine's
// settings never change what the tests see.
func TestMain(m *testing.M) {
	testutil.UnsetEnv(EnvPrefix)
	os.Exit(m.Run())
}

// The helpers shared with the other packages' tests.
type syncBuffer = testutil.SyncBuffer

var (
	dangerous         = testutil.Dangerous
	assertNoDangerous = testutil.NoDangerous
	realisticAttrs    = testutil.RealisticAttrs
)

// setup installs a chain that writes to a fresh buffer and restores the
// console default when the test ends.
func setup(t testing.TB, opts ...Option) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	require.NoError(t, Setup(append([]Option{WithConsole(buf)}, opts...)...))
	t.Cleanup(func() { _ = Close() })
	return buf
}

// jsonLines decodes each line of buf as one JSON object.
func jsonLines(t testing.TB, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line: %s", line)
		out = append(out, m)
	}
	return out
}

// lastJSON decodes the last line of buf.
func lastJSON(t testing.TB, buf *syncBuffer) map[string]any {
	t.Helper()
	ls := jsonLines(t, buf.String())
	require.NotEmpty(t, ls)
	return ls[len(ls)-1]
}

// withClock replaces the pipeline's clock.
func withClock(clk clock) Option {
	return option("withClock", bySetup, func(c *config) error { c.clock = clk; return nil })
}

// fakeClock is a clock that moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	tickers []*fakeTicker
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

type fakeTicker struct {
	c       *fakeClock
	every   time.Duration
	next    time.Time
	ch      chan time.Time
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) NewTicker(d time.Duration) ticker {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTicker{c: c, every: d, next: c.now.Add(d), ch: make(chan time.Time, 1)}
	c.tickers = append(c.tickers, t)
	return t
}

// Advance moves the clock on by d, firing the After channels and the
// tickers that are due (a ticker drops ticks nobody took, as time.Ticker).
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
	for _, t := range c.tickers {
		for !t.stopped && !t.next.After(c.now) {
			select {
			case t.ch <- c.now:
			default:
			}
			t.next = t.next.Add(t.every)
		}
	}
}

// Waiting returns how many After channels have not fired yet.
func (c *fakeClock) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

func (t *fakeTicker) Chan() <-chan time.Time { return t.ch }

func (t *fakeTicker) Stop() {
	t.c.mu.Lock()
	t.stopped = true
	t.c.mu.Unlock()
}

// fileSinks returns the file sinks of p, in order.
func fileSinks(p *pipeline) []*fileSink {
	var out []*fileSink
	for _, s := range p.out.sinks {
		if fs, ok := s.sink.(*fileSink); ok {
			out = append(out, fs)
		}
	}
	return out
}

// encoderHandler is an encHandler as a slog.Handler, for driving a
// pipeline's encoder directly.
type encoderHandler struct{ h *encHandler }

func (e encoderHandler) Enabled(context.Context, slog.Level) bool { return true }
func (e encoderHandler) Handle(_ context.Context, r slog.Record) error {
	return e.h.handle(r, nil)
}
func (e encoderHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return encoderHandler{e.h.withAttrs(as)}
}
func (e encoderHandler) WithGroup(n string) slog.Handler { return encoderHandler{e.h.withGroup(n)} }
