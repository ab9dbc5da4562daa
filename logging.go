// Package logging gives services secure-by-default structured logging on
// log/slog.
//
// Call [Setup] at the top of main and hold one logger per package:
//
//	var log = logging.Logger("billing")
//
// Every record then passes a chain of slog.Handler middlewares: the redactor
// replaces secrets with a marker containing REDACTED, the sanitizer escapes
// every character that could forge a line or hide text, and the encoder
// writes one line per record (TEXT in a Python logging format, or JSON) to the
// console and an optional rotating file opened 0600. Configuration comes from
// CODOMYRMEX_LOG_* environment variables, overridden by [Option]s in code.
//
// The file sinks write behind the caller, in batches; records at ERROR and
// above, security events and the standard log package's records are in the
// file when their call returns. Call [Close] (or [Flush]) before the program
// exits.
//
// [Wrap] puts the same secure stages in front of any other slog.Handler.
package logging

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codomyrmex/logging/internal/redact"
)

// pipeline is one configuration's whole chain; Setup builds a new one and
// swaps the global pointer to it.
type pipeline struct {
	levels     levelSet
	secLevel   *slog.Level // explicit minimum level of security events
	secEnc     *encoder    // the encoder of security events (adds the security file)
	limiter    *limiter    // nil when rate limiting is off
	extractors []func(context.Context) []slog.Attr
	stages     *stages
	enc        *encoder
	closers    []io.Closer
	writers    []*lockedWriter // console and WithSink writers, released at close
	active     atomic.Int64    // records being handled right now
	closing    atomic.Bool     // close has begun
	closed     atomic.Bool     // no new record may start
	onClose    []func()
}

var (
	current     atomic.Pointer[pipeline]
	defaultOnce sync.Once
)

// load returns the pipeline in force, building the default one (console,
// TEXT, INFO, redaction on) on first use.
func load() *pipeline {
	if p := current.Load(); p != nil {
		return p
	}
	defaultOnce.Do(func() {
		p, _ := newPipeline(newConfig())
		current.CompareAndSwap(nil, p)
	})
	return current.Load()
}

// handler returns the chain for one logger name. It is Wrap's chain with
// both stages fused into the built-in encoder, so a record is not copied
// between stages: each attr is redacted (the same attrMapper as the
// redacting stage, plus the size limit) just before it is encoded, and every
// string is written through the sanitizer's own escape function.
func (p *pipeline) handler(name string, security bool) *encHandler {
	enc := p.enc
	if security {
		enc = p.secEnc
	}
	return &encHandler{enc: enc, m: p.stages.fused, logger: name}
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

// close waits (at most 5 s) for records in flight, then closes the sinks.
func (p *pipeline) close() error {
	if p == nil || p.closing.Swap(true) {
		return nil
	}
	if p.limiter != nil {
		p.limiter.close() // no periodic summary from here on
	}
	p.closed.Store(true)
	deadline := time.Now().Add(5 * time.Second)
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
	for _, c := range p.closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, w := range p.writers { // last: the closers above may still report to the console
		w.release()
	}
	return errors.Join(errs...)
}

// newPipeline builds a pipeline from c. What cannot be built (a file that
// cannot be opened) is reported and left out; the rest works.
func newPipeline(c *config) (*pipeline, []error) {
	var errs []error
	p := &pipeline{levels: c.levels}
	st, err := newStages(c)
	if err != nil {
		errs = append(errs, err)
	}
	p.stages = st
	out := &fanout{onError: c.onError}
	if c.console != nil {
		lw := newLockedWriter(c.console)
		out.add("console", lw)
		p.writers = append(p.writers, lw)
		out.report = c.console
	} else {
		out.report = os.Stderr
	}
	if c.file != "" {
		fs, warns, err := openFileSink(c.file, c.rotation)
		if err != nil {
			errs = append(errs, &ConfigError{Name: EnvPrefix + "FILE", Value: c.file, Err: err})
		} else {
			out.add("file", fs)
			p.closers = append(p.closers, fs)
			out.warnings = append(out.warnings, warns...)
			if c.reopenHUP {
				p.onClose = append(p.onClose, watchSIGHUP(fs))
			}
		}
	}
	for _, s := range c.sinks {
		lw := newLockedWriter(s.w)
		out.add(s.name, lw)
		p.writers = append(p.writers, lw)
	}
	p.enc = &encoder{output: c.output, schema: c.schema, py: c.py, addSource: c.addSource, out: out}
	if ls, err := newLokiSink(c); err != nil {
		errs = append(errs, err)
	} else if ls != nil {
		p.enc.loki = ls
		p.closers = append(p.closers, ls)
		ls.emit = p.emitInternal
	}
	// Security events have their own encoder: the same sinks, plus the
	// security file if one is set, and their labels sent to Loki.
	sec := *p.enc
	sec.security = true
	if c.securityFile != "" {
		fs, _, err := openFileSink(c.securityFile, c.rotation)
		if err != nil {
			errs = append(errs, &ConfigError{Name: EnvPrefix + "SECURITY_FILE", Value: c.securityFile, Err: err})
		} else {
			sec.out = &fanout{sinks: out.sinks[:len(out.sinks):len(out.sinks)], onError: out.onError, report: out.report}
			sec.out.add("security-file", fs)
			p.closers = append(p.closers, fs)
		}
	}
	p.secEnc = &sec
	p.secLevel = c.securityLevel
	p.extractors = c.extractors
	if c.rateLimit > 0 {
		burst := c.rateBurst
		if burst == 0 {
			burst = max(1, int(c.rateLimit))
		}
		p.limiter = newLimiter(c.rateLimit, burst, c.rateByMessage, p.emitInternal)
	}
	return p, errs
}

// emitInternal writes one of the package's own records (a summary of drops)
// through p: while p is open like any record, and from close, after every
// record in flight is done.
func (p *pipeline) emitInternal(r slog.Record) {
	if !p.closed.Load() {
		if !p.acquire() {
			return
		}
		defer p.release()
	}
	_ = p.handler("logging", false).Handle(context.Background(), r)
}

// Setup reads the CODOMYRMEX_LOG_* environment, applies opts (which win over
// it), builds the handler chain, swaps it in atomically and makes it the
// slog default, so that slog.Info and the standard log package go through it
// too. It may be called again at any time, while other goroutines log: no
// record is lost or torn, and the old sinks are closed after the swap.
//
// On bad configuration Setup returns one error listing every problem (each a
// [*ConfigError] naming the variable or option and quoting the value), and
// still installs a working chain built from the valid settings and safe
// defaults, so that the program can log that error.
func Setup(opts ...Option) error {
	c := newConfig()
	errs := c.fromEnv(os.Environ())
	c.apply(opts)
	errs = append(errs, c.errs...)
	p, perrs := newPipeline(c)
	errs = append(errs, perrs...)
	old := current.Swap(p)
	slog.SetDefault(slog.New(rootHandler))
	log.SetOutput(stdLogWriter{}) // after SetDefault, which installs slog's own bridge
	if old != nil {
		if err := old.close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, w := range p.enc.out.warnings {
		internalLogger.Warn(w)
	}
	if !c.redact && redactionOffWarned.CompareAndSwap(false, true) {
		internalLogger.Warn("redaction is turned off: secrets will reach the logs")
	}
	return errors.Join(errs...)
}

var redactionOffWarned atomic.Bool

// Close flushes and closes the sinks of the chain in force and puts the
// console default (stderr, TEXT, INFO, redaction on) in its place, so that
// logging after Close still works. It may be called more than once.
func Close() error {
	p, _ := newPipeline(newConfig())
	old := current.Swap(p)
	return old.close()
}

// stdLogWriter takes the standard log package's output after Setup, as the
// bridge of slog.SetDefault does (one INFO record per call, from logger
// "root"), except that its records are written before the call returns:
// log.Fatal and log.Panic end the program right after writing.
type stdLogWriter struct{}

var stdLogHandler = &namedHandler{name: "root", sync: true}

func (stdLogWriter) Write(b []byte) (int, error) {
	ctx := context.Background()
	if !stdLogHandler.Enabled(ctx, slog.LevelInfo) {
		return len(b), nil
	}
	var pcs [1]uintptr
	runtime.Callers(4, pcs[:]) // skip Callers, this Write, log's output and the log function
	r := slog.NewRecord(time.Now(), slog.LevelInfo, strings.TrimSuffix(string(b), "\n"), pcs[0])
	return len(b), stdLogHandler.Handle(ctx, r)
}

// rootHandler is the handler of slog.Default after Setup.
var rootHandler = &namedHandler{name: "root"}

// internalLogger is the package's own logger: warnings about its
// configuration and rate-limit summaries. It is never rate limited.
var internalLogger = slog.New(&namedHandler{name: "logging", internal: true})

// Logger returns a logger with the given name. It is safe at package init,
// before Setup, and from many goroutines: the logger follows whatever chain
// Setup installs later. The name appears as "logger" in JSON and as
// %(name)s in TEXT; dotted names ("db.pool") form a hierarchy for levels set
// per logger.
func Logger(name string) *slog.Logger {
	return slog.New(&namedHandler{name: name})
}

// namedHandler is what Logger returns: it loads the pipeline in force for
// every record and caches the chain derived for its name, attrs and groups
// once per pipeline.
type namedHandler struct {
	name     string
	security bool // the security events' logger: own level floor, own encoder, not rate limited
	internal bool // the package's own logger: not rate limited
	sync     bool // the standard log bridge: records written before Handle returns
	ops      []handlerOp
	cache    atomic.Pointer[derived]
}

// handlerOp is one WithAttrs or WithGroup call, replayed on each new pipeline.
type handlerOp struct {
	attrs []slog.Attr
	group string
}

type derived struct {
	p     *pipeline
	h     slog.Handler
	level slog.Level
}

func (n *namedHandler) derive(p *pipeline) *derived {
	if d := n.cache.Load(); d != nil && d.p == p {
		return d
	}
	eh := p.handler(n.name, n.security)
	eh.sync = n.sync
	var h slog.Handler = eh
	for _, op := range n.ops {
		if op.attrs != nil {
			h = h.WithAttrs(op.attrs)
		} else {
			h = h.WithGroup(op.group)
		}
	}
	level := p.levels.forLogger(n.name)
	if n.security {
		if p.secLevel != nil {
			level = *p.secLevel
		} else {
			level = min(level, slog.LevelWarn)
		}
	}
	d := &derived{p: p, h: h, level: level}
	n.cache.Store(d)
	return d
}

// Enabled reports whether the logger's level (per-logger or default) lets l through.
func (n *namedHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= n.derive(load()).level
}

// Handle passes r through the chain in force.
func (n *namedHandler) Handle(ctx context.Context, r slog.Record) error {
	for {
		p := load()
		if !p.acquire() {
			continue // a Setup swapped p out; the new pipeline is already in place
		}
		if p.limiter != nil && !n.security && !n.internal && !p.limiter.allow(&r) {
			p.release()
			return nil
		}
		if as := collectContextAttrs(ctx, p.extractors); len(as) > 0 {
			ctx = context.WithValue(ctx, resolvedKey{}, as)
		}
		err := n.derive(p).h.Handle(ctx, r)
		p.release()
		return err
	}
}

func (n *namedHandler) with(op handlerOp) *namedHandler {
	ops := append(n.ops[:len(n.ops):len(n.ops)], op)
	return &namedHandler{name: n.name, security: n.security, internal: n.internal, sync: n.sync, ops: ops}
}

func (n *namedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return n
	}
	return n.with(handlerOp{attrs: as})
}

func (n *namedHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return n
	}
	return n.with(handlerOp{group: name})
}

// Wrap returns next behind the secure stages, redactor first and sanitizer
// second, the same chain that Setup puts in front of its own encoder. The
// options configure the stages (WithRedaction, WithRedactKeys,
// WithRedactPatterns, WithRule, WithMaxValueBytes); the environment is not read.
func Wrap(next slog.Handler, opts ...Option) slog.Handler {
	c := newConfig()
	c.apply(opts)
	st, _ := newStages(c)
	return &ctxHandler{next: st.wrap(next), extractors: c.extractors}
}

// stages holds the compiled secure stages of one configuration.
type stages struct {
	red   *redact.Redactor // nil when redaction is off
	san   *attrMapper      // the sanitizing stage, for Wrap
	fused *attrMapper      // redaction and the size limit, for the built-in encoders; nil if neither
}

func newStages(c *config) (*stages, error) {
	st := &stages{san: newSanitizeMapper(c.maxValueBytes)}
	if c.redact {
		st.red = newRedactor(c)
	}
	st.fused = fusedMapper(st.red, c.maxValueBytes)
	return st, nil
}

// fusedMapper redacts (if red is set), then cuts values longer than limit;
// nil when there is nothing to do.
func fusedMapper(red *redact.Redactor, limit int) *attrMapper {
	if red == nil && limit <= 0 {
		return nil
	}
	m := &attrMapper{red: red, limit: limit}
	if red != nil {
		m.onKeyRedacted = countKeyRedaction
	}
	return m
}

// wrap builds redactor → sanitizer → next.
func (st *stages) wrap(next slog.Handler) slog.Handler {
	var h slog.Handler = &stageHandler{next: next, m: st.san}
	if st.red != nil {
		h = &stageHandler{next: h, m: redactMapper(st.red)}
	}
	return h
}
