// Package logtest records what the logging chain writes during a test, so
// that the test can assert on records as they leave the chain: after
// redaction, sanitizing and every other stage, by level, logger, message
// and attrs. It is the logging package's counterpart of zap's
// zaptest/observer:
//
//	func TestCharge(t *testing.T) {
//		rec := logtest.New(t)
//		charge(ctx, "card-4111…")
//		r, ok := rec.Find(logtest.Logger("billing"), logtest.Message("charged"))
//		require.True(t, ok)
//		assert.Equal(t, "[REDACTED:card-number]", r.Attrs["card"])
//	}
//
// New calls logging.Setup, which is process-wide: tests that use it must
// not run in parallel with each other.
package logtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codomyrmex/logging"
)

// Record is one record as the chain wrote it, decoded from its JSON line.
type Record struct {
	Time time.Time
	// Level is the level as the slog schema writes it: DEBUG, INFO, WARN,
	// ERROR, CRITICAL, or an offset from one of them ("INFO+2").
	Level   string
	Logger  string
	Message string
	// Attrs are the record's other keys: its attrs (groups as nested
	// maps), the context's, the process-wide ones; numbers are float64.
	Attrs map[string]any
	// Line is the record's JSON line, without its newline.
	Line string
}

// Recorder holds the records written since New. It is safe for concurrent
// use.
type Recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// New installs Setup's chain for the test with opts (after the
// CODOMYRMEX_LOG_* variables, as Setup does), writing JSON to the recorder
// and nowhere else unless opts add sinks, and restores the default chain
// when the test ends (logging.Close). What the recorder needs to read the
// records is pinned (logging.Fixed): JSON output in the slog schema, which
// CODOMYRMEX_LOG_OUTPUT_TYPE and CODOMYRMEX_LOG_JSON_SCHEMA do not change
// (Setup then says, in a record, that it ignored them). A configuration
// problem fails the test.
func New(t testing.TB, opts ...logging.Option) *Recorder {
	t.Helper()
	r := &Recorder{}
	all := append([]logging.Option{logging.WithConsole(nil), logging.WithSink("logtest", r),
		logging.Fixed(logging.WithOutputType(logging.OutputJSON), logging.WithJSONSchema(logging.SchemaSlog))}, opts...)
	if err := logging.Setup(all...); err != nil {
		t.Fatalf("logtest: %v", err)
	}
	t.Cleanup(func() { _ = logging.Close() })
	return r
}

// Write takes the chain's output (one JSON record per line).
func (r *Recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

// Records returns every record written so far, in order.
func (r *Recorder) Records() []Record {
	logging.Flush()
	r.mu.Lock()
	text := r.buf.String()
	r.mu.Unlock()
	var out []Record
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue // not a record of this chain's JSON
		}
		rec := Record{Attrs: m, Line: line}
		rec.Level, _ = take(m, "level").(string)
		rec.Logger, _ = take(m, "logger").(string)
		rec.Message, _ = take(m, "msg").(string)
		if ts, ok := take(m, "time").(string); ok {
			rec.Time, _ = time.Parse(time.RFC3339Nano, ts)
		}
		out = append(out, rec)
	}
	return out
}

func take(m map[string]any, k string) any {
	v := m[k]
	delete(m, k)
	return v
}

// A Match selects records (see Level, Logger, Message, Attr).
type Match func(Record) bool

// Level selects records of a level name, in any case: DEBUG, INFO, WARN
// or WARNING (the Python module's name, which CODOMYRMEX_LOG_LEVEL also
// takes), ERROR, CRITICAL, or an offset ("INFO+2").
func Level(name string) Match {
	want := levelKey(name)
	return func(r Record) bool { return levelKey(r.Level) == want }
}

// levelKey is a level name in one spelling: upper case, WARNING as WARN.
func levelKey(name string) string {
	name = strings.ToUpper(name)
	if rest, ok := strings.CutPrefix(name, "WARNING"); ok {
		return "WARN" + rest
	}
	return name
}

// Logger selects records of a logger.
func Logger(name string) Match { return func(r Record) bool { return r.Logger == name } }

// Message selects records whose message is msg.
func Message(msg string) Match { return func(r Record) bool { return r.Message == msg } }

// Attr selects records with a top-level attr key of value v (compare
// numbers as float64).
func Attr(key string, v any) Match {
	return func(r Record) bool { a, ok := r.Attrs[key]; return ok && a == v }
}

// Filter returns the records that every match selects, in order.
func (r *Recorder) Filter(ms ...Match) []Record {
	var out []Record
	for _, rec := range r.Records() {
		if all(rec, ms) {
			out = append(out, rec)
		}
	}
	return out
}

// Find returns the first record that every match selects.
func (r *Recorder) Find(ms ...Match) (Record, bool) {
	for _, rec := range r.Records() {
		if all(rec, ms) {
			return rec, true
		}
	}
	return Record{}, false
}

// Messages returns the message of every record, in order.
func (r *Recorder) Messages() []string {
	var out []string
	for _, rec := range r.Records() {
		out = append(out, rec.Message)
	}
	return out
}

// Reset forgets the records written so far.
func (r *Recorder) Reset() {
	logging.Flush()
	r.mu.Lock()
	r.buf.Reset()
	r.mu.Unlock()
}

func all(rec Record, ms []Match) bool {
	for _, m := range ms {
		if !m(rec) {
			return false
		}
	}
	return true
}
