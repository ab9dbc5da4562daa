package logging

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSink records what the fan-out asks of it.
type fakeSink struct {
	mu                       sync.Mutex
	lines                    []string
	durable                  []bool
	flushes, reopens, closes int
	reopenErr                error
}

func (f *fakeSink) put(e entry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lines = append(f.lines, string(e.line))
	f.durable = append(f.durable, e.durable)
	return nil
}

func (f *fakeSink) flush()        { f.mu.Lock(); f.flushes++; f.mu.Unlock() }
func (f *fakeSink) reopen() error { f.mu.Lock(); f.reopens++; f.mu.Unlock(); return f.reopenErr }
func (f *fakeSink) close() error  { f.mu.Lock(); f.closes++; f.mu.Unlock(); return nil }
func (f *fakeSink) stats(s *Statistics) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s.Loki.Pending += len(f.lines) // any counter will do: it must reach Stats
}

// install makes p the pipeline in force, as Setup does.
func install(t *testing.T, p *pipeline) {
	old := current.Swap(p)
	require.NoError(t, old.close())
	t.Cleanup(func() { _ = Close() })
}

// Every sink gets put, flush, reopen, close and stats through the one
// interface, whatever it is; a security-only sink gets security events only.
func TestSinkInterfaceReachesEverySink(t *testing.T) {
	c := newConfig()
	c.console = nil
	p, errs := newPipeline(c)
	require.Empty(t, errs)
	all, sec := &fakeSink{}, &fakeSink{reopenErr: errors.New("no file")}
	p.out.add(p.out.state("all", false), all)
	p.out.add(p.out.state("sec", true), sec)
	install(t, p)

	Logger("a").Info("one")
	Logger("a").Error("two")
	SecurityEvent(context.Background(), Event{Type: AuthnFailure})
	Flush()
	err := Reopen()
	pending := Stats().Loki.Pending
	require.NoError(t, Close())

	require.Len(t, all.lines, 3)
	assert.Contains(t, all.lines[0], "INFO - one")
	assert.Equal(t, []bool{false, true, true}, all.durable, "ERROR and security events are durable")
	require.Len(t, sec.lines, 1, "the security-only sink")
	assert.Contains(t, sec.lines[0], "authn_failure")
	assert.Equal(t, 4, pending, "stats of both sinks")
	for _, s := range []*fakeSink{all, sec} {
		assert.Equal(t, 1, s.flushes)
		assert.Equal(t, 1, s.reopens)
		assert.Equal(t, 1, s.closes)
	}
	assert.ErrorContains(t, err, "no file", "a sink's reopen error is returned")
}

// overlapWriter notices two Writes at once.
type overlapWriter struct {
	in, overlaps atomic.Int32
	syncBuffer
}

func (w *overlapWriter) Write(p []byte) (int, error) {
	if w.in.Add(1) > 1 {
		w.overlaps.Add(1)
	}
	runtime.Gosched() // widen the window
	n, err := w.syncBuffer.Write(p)
	w.in.Add(-1)
	return n, err
}

// The package's own reports (a failing sink, Loki's errors) go through the
// console's lock like records: no report is written while a record is.
func TestOwnReportsGoThroughTheConsoleLock(t *testing.T) {
	console := &overlapWriter{}
	failing := &failingWriter{err: errors.New("disk gone")}
	failing.fail.Store(true)
	setup(t, WithConsole(console), WithSink("disk", failing))
	p := load()
	assert.Same(t, p.out.reporter, p.out.sinks[0].sink.(*writerSink).w, "reports use the console's serialized writer")
	loki := p.out.state("loki", false) // as the Loki sink reports
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				Logger("w").Info("record", "g", g, "i", i)
				if i%10 == 0 {
					loki.reportEach(fmt.Errorf("push failed %d", i))
					failing.fail.Store(i%20 == 0) // failures and recoveries, each reported
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, console.overlaps.Load(), "two writes to the console at once")
	lines := console.Lines()
	reports := 0
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "logging: loki sink: push failed"), strings.HasPrefix(l, "logging: disk sink"):
			reports++
		case !strings.Contains(l, " - w - INFO - record g="):
			t.Errorf("torn line %q", l)
		}
	}
	assert.Equal(t, 800, len(lines)-reports, "every record whole")
	assert.GreaterOrEqual(t, reports, 80, "the Loki reports and the disk sink's")
}
