package logging

import (
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
)

// lockedWriter serializes writes, so each record reaches w in one Write call
// that no other record interleaves with. Writers are locked by identity, so
// the old and the new chain of a Setup that swaps them never write to the
// same writer at once. The registry counts the pipelines that use each
// writer and forgets it when the last one closes, so that it holds no
// writer (and none of what it buffers) longer than a pipeline does.
type lockedWriter struct {
	mu  *sync.Mutex
	w   io.Writer
	reg *writerLock // nil: not registered (a writer that is not comparable)
}

type writerLock struct {
	mu   sync.Mutex
	refs int
}

var (
	writerLocksMu sync.Mutex
	writerLocks   = map[io.Writer]*writerLock{}
)

func newLockedWriter(w io.Writer) *lockedWriter {
	if !reflect.TypeOf(w).Comparable() {
		return &lockedWriter{mu: new(sync.Mutex), w: w}
	}
	writerLocksMu.Lock()
	defer writerLocksMu.Unlock()
	wl := writerLocks[w]
	if wl == nil {
		wl = &writerLock{}
		writerLocks[w] = wl
	}
	wl.refs++
	return &lockedWriter{mu: &wl.mu, w: w, reg: wl}
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// release ends the pipeline's registration of the writer (the writer itself
// belongs to the program and stays open). Called once, when the pipeline
// has closed.
func (l *lockedWriter) release() {
	if l.reg == nil {
		return
	}
	writerLocksMu.Lock()
	defer writerLocksMu.Unlock()
	if l.reg.refs--; l.reg.refs == 0 {
		delete(writerLocks, l.w)
	}
}

// sinkState tracks one sink's failures: the first failure of a run is
// reported in full, later ones are counted, and recovery is reported with
// the count.
type sinkState struct {
	name    string
	w       io.Writer
	failing atomic.Bool
	run     atomic.Uint64 // failures in the current run
}

// fanout writes each encoded record to every sink, one Write per sink.
type fanout struct {
	sinks    []*sinkState
	onError  func(error)
	report   io.Writer // where sink failures are reported: the console, else stderr
	warnings []string  // said once, as records, after Setup
}

// add appends a sink. A file sink starts its writer here, reporting the
// outcome of each batch to this fanout.
func (f *fanout) add(name string, w io.Writer) {
	s := &sinkState{name: name, w: w}
	if fs, ok := w.(*fileSink); ok {
		fs.start(func(err error, records int) { f.result(s, err, records) })
	}
	f.sinks = append(f.sinks, s)
}

// SinkError is a failure of one sink, given to the [WithErrorHandler] function.
type SinkError struct {
	Sink string // "console", "file", …
	Err  error
}

// Error names the sink and the failure.
func (e *SinkError) Error() string { return "logging: " + e.Sink + " sink: " + e.Err.Error() }

// Unwrap returns the sink's error.
func (e *SinkError) Unwrap() error { return e.Err }

var writeErrors atomic.Uint64

// write writes one record to every sink. A durable record (ERROR and above,
// security events) is in every sink when write returns; the file sink may
// write others behind the caller.
func (f *fanout) write(b []byte, durable bool) error {
	var first error
	for _, s := range f.sinks {
		var err error
		if fs, ok := s.w.(*fileSink); ok {
			err = fs.put(b, durable) // the writer reports what happens next
		} else {
			_, err = s.w.Write(b)
		}
		if err := f.result(s, err, 1); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// result accounts for the outcome of writing records to s: the first
// failure of a run is reported in full (to the console, or stderr), later
// ones are counted, and recovery is reported with the count. Each failure
// also goes to the WithErrorHandler function.
func (f *fanout) result(s *sinkState, err error, records int) error {
	if err == nil {
		if s.failing.Load() && s.failing.CompareAndSwap(true, false) {
			n := s.run.Swap(0)
			f.say(fmt.Sprintf("logging: %s sink recovered after %d lost records", s.name, n), s)
		}
		return nil
	}
	writeErrors.Add(uint64(records))
	s.run.Add(uint64(records))
	se := &SinkError{Sink: s.name, Err: err}
	if f.onError != nil {
		f.onError(se)
	}
	if s.failing.CompareAndSwap(false, true) {
		f.say(se.Error()+" (further failures are counted until it recovers)", s)
	}
	return se
}

// say writes msg, sanitized, as one line to the console, or to stderr when
// there is no console; a failing console is not written to again.
func (f *fanout) say(msg string, failing *sinkState) {
	line := []byte(Sanitize(msg) + "\n")
	for _, s := range f.sinks {
		if s != failing && s.name == "console" {
			s.w.Write(line)
			return
		}
	}
	if failing.name != "console" && f.report != nil {
		f.report.Write(line)
	}
}

// Statistics are the package's counters since the process started. They
// never hold a secret.
type Statistics struct {
	// Redactions counts redacted values by kind ("github-token", "key", …).
	Redactions map[string]uint64
	// WriteErrors counts the records a sink failed to write (a record that
	// two sinks fail counts twice).
	WriteErrors uint64
	// RateLimited counts records dropped by the rate limiter.
	RateLimited uint64
	// Loki counts what the Loki sink sent, dropped (queue full, rejected,
	// unsent at Close) and retried, and what it holds now.
	Loki LokiStats
}

// LokiStats are the Loki sink's counters.
type LokiStats struct {
	Sent, Dropped, Retries, FailedBatches uint64
	Pending                               int
}

// Stats returns the package's counters.
func Stats() Statistics {
	s := Statistics{Redactions: map[string]uint64{}, WriteErrors: writeErrors.Load(), RateLimited: rateLimited.Load()}
	s.Loki = LokiStats{Sent: lokiClosed.sent.Load(), Dropped: lokiClosed.dropped.Load(),
		Retries: lokiClosed.retries.Load(), FailedBatches: lokiClosed.failed.Load()}
	if p := current.Load(); p != nil && p.enc.loki != nil && !p.closing.Load() {
		st := p.enc.loki.client.Stats()
		s.Loki.Sent += st.Sent
		s.Loki.Dropped += st.Dropped
		s.Loki.Retries += st.Retries
		s.Loki.FailedBatches += st.FailedBatches
		s.Loki.Pending = st.Pending
	}
	redactionCounts.Range(func(k, v any) bool {
		if n := v.(*atomic.Uint64).Load(); n > 0 {
			s.Redactions[k.(string)] = n
		}
		return true
	})
	return s
}

// redactionCounts maps a kind to its *atomic.Uint64 counter.
var redactionCounts sync.Map

func countRedaction(kind string) {
	c, ok := redactionCounts.Load(kind)
	if !ok {
		c, _ = redactionCounts.LoadOrStore(kind, new(atomic.Uint64))
	}
	c.(*atomic.Uint64).Add(1)
}
