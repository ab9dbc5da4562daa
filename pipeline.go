package logging

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// pipeline is one configuration's whole record path; Setup builds a new one
// and swaps the global pointer to it. A record goes: namedHandler (level,
// rate limit, context attrs) → encHandler (attrMapper, attrWriter, one
// encoding per format) → fanout → every sink.
type pipeline struct {
	levels     levelSet
	secLevel   *slog.Level    // explicit minimum level of security events
	attrs      []slog.Attr    // on every record
	stacks     bool           // Exception adds the stack
	handlers   []slog.Handler // WithHandler sinks
	http       httpConfig     // Middleware's settings
	hm         [4]*attrMapper // their mappers by escapeMode: p.m's settings, escaping for each kind of handler
	limiter    *limiter       // nil when rate limiting is off
	extractors []func(context.Context) []slog.Attr
	m          *attrMapper
	enc        *encoder
	out        *fanout
	clock      clock
	writers    []*lockedWriter // the console's, the WithSink writers' and stderr's, released at close
	active     atomic.Int64    // records being handled right now
	closing    atomic.Bool     // close has begun
	closed     atomic.Bool     // no new record may start
	onClose    []func()
	alerts     sync.WaitGroup // tampering events on their way (see startChains)
}

// newPipeline builds a pipeline from c. What cannot be built (a file that
// cannot be opened) is reported and left out; the rest works.
func newPipeline(c *config) (*pipeline, []error) {
	var errs []error
	p := &pipeline{levels: c.levels, secLevel: c.securityLevel, extractors: c.extractors, clock: c.clock, attrs: c.attrs, stacks: c.stacks, http: c.http,
		m: &attrMapper{limit: c.maxValueBytes, fp: c.fingerprinter(), allow: c.allowSet()}}
	if c.redact {
		p.m.red = newRedactor(c)
		if c.maskEnv && c.environ != nil {
			if err := maskEnv(p.m.red, c.environ, !c.maskNoFiles); err != nil {
				errs = append(errs, err)
			}
		}
		track(p.m)
	}
	if len(c.handlers) > 0 {
		p.handlers = c.handlers
		for _, h := range c.handlers {
			if e := escapeFor(h); p.hm[e] == nil {
				p.hm[e] = track(&attrMapper{red: p.m.red, limit: p.m.limit, escape: e, fp: p.m.fp, allow: p.m.allow})
			}
		}
	}
	out := &fanout{onError: c.onError, red: p.m.red}
	p.out = out
	if c.console != nil {
		st := out.state("console", false)
		out.reporter = p.lockedWriter(uncaptured(c.console)) // never a pipe of the capture (stdio.go)
		out.add(st, &writerSink{w: out.reporter, st: st})
		out.console = st
	} else {
		out.reporter = p.lockedWriter(stderrFile())
	}
	k0, chained, kerrs := loadChainKey(c) // the MAC chain's initial key (filechain.go)
	errs = append(errs, kerrs...)
	defer clear(k0)
	for _, f := range []struct {
		name, path, env string
		securityOnly    bool
	}{{"file", c.file, "FILE", false}, {"security-file", c.securityFile, "SECURITY_FILE", true}} {
		if f.path == "" {
			continue
		}
		st := out.state(f.name, f.securityOnly)
		fs, warns, err := openFileSink(f.path, c.rotation, c.clock, st.report, st.reportEach)
		if err != nil {
			errs = append(errs, &ConfigError{Name: EnvPrefix + f.env, Value: f.path, Err: err})
			continue
		}
		out.add(st, fs)
		out.warnings = append(out.warnings, warns...)
		if k0 != nil {
			chained, errs = append(chained, fs), append(errs, fs.chainOn(k0, f.name, c)...)
		}
	}
	for _, s := range c.sinks {
		st := out.state(s.name, false)
		out.add(st, &writerSink{w: p.lockedWriter(uncaptured(s.w)), st: st})
	}
	lokiOn := false
	st := out.state("loki", false)
	st.allSecurity = true // the store of the audit trail off the host
	if ls, err := newLokiSink(c, st.reportEach); err != nil {
		errs = append(errs, err)
	} else if ls != nil {
		ls.emit = p.emitInternal
		out.add(st, ls)
		lokiOn = true
	}
	p.enc = &encoder{output: c.output, codo: c.schema == SchemaCodomyrmex, py: c.py, addSource: c.addSource, out: out,
		alsoJSON: c.output == OutputText && lokiOn} // Loki always takes JSON
	p.startChains(chained)
	if c.reopenHUP {
		p.onClose = append(p.onClose, watchSIGHUP(p.reopen))
	}
	if c.rate.PerSecond > 0 {
		burst := c.rate.Burst
		if burst == 0 {
			burst = max(1, int(c.rate.PerSecond))
		}
		p.limiter = newLimiter(c.rate.PerSecond, burst, c.rate.ByMessage, c.clock, p.emitInternal)
	}
	return p, errs
}

// lockedWriter registers w for p; p releases it when it closes.
func (p *pipeline) lockedWriter(w io.Writer) *lockedWriter {
	lw := newLockedWriter(w)
	p.writers = append(p.writers, lw)
	return lw
}

// handler returns the chain for one logger name, the name redacted as a
// value is (derive makes it again when Mask moved the redactor on).
func (p *pipeline) handler(name string, security bool) *encHandler {
	b := newBudget()
	name, _ = p.m.str(name, &b) // a logger's name is written on every record, and is a Loki label
	return &encHandler{enc: p.enc, m: p.m, logger: name, security: security}
}

// acquire marks a record as in flight on p; it fails once p is closing.
func (p *pipeline) acquire() bool {
	p.active.Add(1)
	if p.closed.Load() {
		p.active.Add(-1)
		return false
	}
	return true
}

func (p *pipeline) release() { p.active.Add(-1) }

// emitInternal writes one of the package's own records (Setup's notices, a
// summary of drops) through p, to the built-in sinks and the WithHandler
// sinks, as the logger "logging": while p is open like any record, and from
// close, after every record in flight is done.
func (p *pipeline) emitInternal(r slog.Record) {
	if !p.closed.Load() {
		if !p.acquire() {
			return
		}
		defer p.release()
	}
	_ = p.handler("logging", false).handle(r, nil)
	if len(p.handlers) > 0 {
		toHandlers(context.Background(), p.handlerSinks("logging", p.attrs, nil), r)
	}
}

// flush waits until every sink has written what was put before it.
func (p *pipeline) flush() {
	for _, s := range p.out.sinks {
		s.sink.flush()
	}
}

// reopen makes every sink reopen its file.
func (p *pipeline) reopen() error {
	var errs []error
	for _, s := range p.out.sinks {
		errs = append(errs, s.sink.reopen())
	}
	return errors.Join(errs...)
}

// closeWait bounds how long close waits for records in flight.
const closeWait = 5 * time.Second

// close waits (at most closeWait) for records in flight, then closes the
// sinks, the console last, and releases the writers: the sinks may report
// to the console until they are closed.
func (p *pipeline) close() error {
	if p == nil || p.closing.Swap(true) {
		return nil
	}
	if p.limiter != nil {
		p.limiter.close() // no periodic summary from here on
	}
	p.alerts.Wait() // a chain's tampering event, from a start that waited (filechain.go)
	p.closed.Store(true)
	deadline := time.Now().Add(closeWait)
	for p.active.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Microsecond)
	}
	for _, f := range p.onClose {
		f()
	}
	if p.limiter != nil {
		p.limiter.flushSummary() // the last one, when no record is in flight
	}
	var errs []error
	for _, s := range slices.Backward(p.out.sinks) {
		if err := s.sink.close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, w := range p.writers {
		w.release()
	}
	return errors.Join(errs...)
}
