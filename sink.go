package logging

import (
	"github.com/codomyrmex/logging/internal/redact"

	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// entry is one record on its way to the sinks, encoded once per format.
// It is passed by value (it stays on the caller's stack); sinks copy what
// they keep of its buffers, which are reused after put returns.
type entry struct {
	line      []byte // in the pipeline's output format (TEXT or JSON), ending in '\n'
	json      []byte // as JSON, for sinks that always take JSON (Loki); line itself when the output is JSON
	time      time.Time
	level     slog.Level
	logger    string
	eventType string // a security event's security_event_type; "" otherwise
	security  bool   // a security event
	// auditOnly: a security event below the security level, for the sinks
	// that keep every event (the security file, Loki) and no other.
	auditOnly bool
	durable   bool // in the sink (or reported failed) when put returns
}

// sink is where records go: the console, a WithSink writer, the file and
// security file sinks, and Loki. Every sink reports the outcome of its
// writes to the report function it was built with (see sinkState.report);
// put's error is only the caller's return value.
type sink interface {
	// put takes one record; it must not keep e's buffers. A durable
	// record is written, or its failure reported, when put returns.
	put(e entry) error
	// flush returns once every record put before it is written or reported failed.
	flush()
	// reopen reopens the sink's file, if it has one.
	reopen() error
	// close writes what the sink holds and releases it.
	close() error
	// stats adds the sink's counters to s.
	stats(s *Statistics)
}

// sinkState is the fan-out's view of one sink: its name, which records it
// takes, and its current run of failures.
type sinkState struct {
	sink         sink
	name         string
	securityOnly bool // takes security events only (the security file)
	allSecurity  bool // takes every security event, whatever its level (the security file, Loki)
	out          *fanout
	failing      atomic.Bool
	run          atomic.Uint64 // records lost in the current run of failures
}

// fanout writes each record to every sink that takes it.
type fanout struct {
	sinks    []*sinkState
	onError  func(error)
	reporter *lockedWriter    // the library's own reports: the console's serialized writer, else stderr's
	console  *sinkState       // the console sink, if any: not reported to while it fails
	warnings []string         // said once, as records, after Setup
	red      *redact.Redactor // the pipeline's: its reports are redacted as records are (nil: redaction off)
}

// state returns a new sink state; the sink is built with its report
// function and then attached with add.
func (f *fanout) state(name string, securityOnly bool) *sinkState {
	return &sinkState{name: name, securityOnly: securityOnly, allSecurity: securityOnly, out: f}
}

// add attaches a built sink.
func (f *fanout) add(st *sinkState, s sink) {
	st.sink = s
	f.sinks = append(f.sinks, st)
}

// keepsEveryEvent reports whether a sink takes every security event (see
// entry.auditOnly).
func (f *fanout) keepsEveryEvent() bool {
	for _, s := range f.sinks {
		if s.allSecurity {
			return true
		}
	}
	return false
}

// put hands e to every sink that takes it and returns the first error.
func (f *fanout) put(e *entry) error {
	var first error
	for _, s := range f.sinks {
		if s.securityOnly && !e.security || e.auditOnly && !s.allSecurity {
			continue
		}
		if err := s.sink.put(*e); err != nil && first == nil {
			first = &SinkError{Sink: s.name, Err: err}
		}
	}
	return first
}

// SinkError is a failure of one sink, given to the [WithErrorHandler] function.
type SinkError struct {
	Sink string // "console", "file", "security-file", "loki" or a WithSink name
	Err  error
}

// Error names the sink and the failure, redacted as the package's own
// reports are (a failure's text may quote a URL with its password).
func (e *SinkError) Error() string { return "logging: " + e.Sink + " sink: " + scrub(e.Err.Error()) }

// Unwrap returns the sink's error.
func (e *SinkError) Unwrap() error { return e.Err }

// writeErrors counts the records sinks failed to write since the process started.
var writeErrors atomic.Uint64

// report accounts for the outcome of writing records to the sink: the
// first failure of a run is reported in full, later ones are counted, and
// recovery is reported with the count. Each failure also goes to the
// WithErrorHandler function.
func (s *sinkState) report(err error, records int) {
	if err == nil && !s.failing.Load() {
		return // the common case, inlined
	}
	s.change(err, records)
}

// change is report for a failure, or for the first success after one.
func (s *sinkState) change(err error, records int) {
	if err == nil {
		if s.failing.CompareAndSwap(true, false) {
			n := s.run.Swap(0)
			s.out.say(fmt.Sprintf("logging: %s sink recovered after %d lost records", s.name, n), s)
		}
		return
	}
	writeErrors.Add(uint64(records))
	s.run.Add(uint64(records))
	se := s.notify(err)
	if s.failing.CompareAndSwap(false, true) {
		s.out.say(se.Error()+" (further failures are counted until it recovers)", s)
	}
}

// reportEach reports every error in full: for sinks (Loki) that count
// their own losses and report their own recovery.
func (s *sinkState) reportEach(err error) {
	s.out.say(s.notify(err).Error(), s)
}

// notify gives err, as a *SinkError, to the WithErrorHandler function.
func (s *sinkState) notify(err error) *SinkError {
	se := &SinkError{Sink: s.name, Err: err}
	if s.out.onError != nil {
		s.out.onError(se)
	}
	return se
}

// say writes msg, sanitized, as one line through the reporter: the
// console's serialized writer (stderr's when there is no console), never
// to a console that is failing.
func (f *fanout) say(msg string, from *sinkState) {
	if from != nil && from == f.console {
		return
	}
	_, _ = f.reporter.Write([]byte(Sanitize(scrubWith(f.red, msg)) + "\n"))
}

// writerSink is the console or a WithSink writer: one serialized Write per record.
type writerSink struct {
	w  *lockedWriter
	st *sinkState
}

func (s *writerSink) put(e entry) error {
	_, err := s.w.Write(e.line)
	s.st.report(err, 1)
	return err
}

// The writer belongs to the program: the sink neither buffers, reopens nor
// closes it (the pipeline releases its lock when it closes).
func (s *writerSink) flush()            {}
func (s *writerSink) reopen() error     { return nil }
func (s *writerSink) close() error      { return nil }
func (s *writerSink) stats(*Statistics) {}

// lockedWriter serializes writes, so each record reaches w in one Write call
// that no other record interleaves with. Writers are locked by identity, so
// the old and the new chain of a Setup that swaps them, and the library's
// own reports, never write to the same writer at once. The registry counts
// the users of each writer and forgets it when the last one releases it,
// so that it holds no writer (and none of what it buffers) longer than a
// pipeline does.
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

// release ends one registration of the writer. Called once per newLockedWriter.
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
