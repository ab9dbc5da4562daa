// Package logging gives services secure-by-default structured logging on
// log/slog.
//
// Call [Setup] at the top of main and hold one logger per package:
//
//	var logger = logging.Logger("billing")
//
// Every record then takes one path: the redactor replaces secrets with a
// marker containing REDACTED, the sanitizer escapes every character that
// could forge a line or hide text, and the encoder writes one line per
// record (TEXT in a Python logging format, or JSON) to every sink: the
// console, an optional rotating file opened 0600, a security file, writers
// added with [WithSink], and Grafana Loki. Configuration comes from
// CODOMYRMEX_LOG_* environment variables, overridden by [Option]s in code;
// a bad setting is an error that names it, never silently ignored.
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
	"log"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	current     atomic.Pointer[pipeline]
	defaultOnce sync.Once
)

// load returns the pipeline in force, building the default one on first
// use (see defaultConfig).
func load() *pipeline {
	if p := current.Load(); p != nil {
		return p
	}
	defaultOnce.Do(func() {
		p, _ := newPipeline(defaultConfig(os.Environ()))
		current.CompareAndSwap(nil, p)
	})
	return current.Load()
}

// defaultConfig is the chain in force before Setup: the console (stderr,
// TEXT, INFO), with redaction on and at least the redaction the
// environment asks for (CODOMYRMEX_LOG_REDACT_KEYS and REDACT_PATTERNS; a
// bad pattern is left out here and reported by Setup), and the
// environment's secrets masked as Setup masks them (unless
// CODOMYRMEX_LOG_MASK_ENV=false), but for the contents of the files *_FILE
// variables name. Nothing else of the environment applies before Setup: no
// file is opened, and CODOMYRMEX_LOG_REDACT=false does not turn redaction
// off.
func defaultConfig(environ []string) *config {
	c := newConfig()
	for _, kv := range environ {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case EnvPrefix + "REDACT_KEYS", EnvPrefix + "REDACT_PATTERNS", EnvPrefix + "MASK_ENV":
			c.fromEnv([]string{kv})
		}
	}
	c.environ, c.maskNoFiles = environ, true
	return c
}

// Setup applies opts, then the CODOMYRMEX_LOG_* environment, which
// overrides them (the operator has the last word; see Fixed for settings
// the program pins), builds the handler chain, swaps it in atomically and makes it the
// slog default, so that slog.Info and the standard log package go through it
// too. It may be called again at any time, while other goroutines log: no
// record is lost or torn, and the old sinks are closed after the swap.
//
// On bad configuration Setup returns one error listing every problem (each a
// [*ConfigError] naming the variable or option and quoting the value), and
// still installs a working chain built from the valid settings and safe
// defaults, so that the program can log that error.
func Setup(opts ...Option) error {
	setupMu.Lock()
	defer setupMu.Unlock()
	c, errs, notices := configure(environ(), opts)
	errs = append(errs, c.errs...)
	errs = append(errs, c.check()...)
	p, perrs := newPipeline(c)
	errs = append(errs, perrs...)
	old := current.Swap(p)
	slog.SetDefault(slog.New(rootHandler))
	log.SetOutput(stdLogWriter{}) // after SetDefault, which installs slog's own bridge
	stdLogHandler.Store(&namedHandler{name: c.stdLogName, sync: true})
	if old != nil {
		if err := old.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.captureStdio {
		if err := startCapture(); err != nil {
			errs = append(errs, &ConfigError{Name: EnvPrefix + "CAPTURE_STDIO", Value: "true", Err: err})
		}
	} else {
		stopCapture()
	}
	for _, n := range notices { // whatever the level: the operator must see them
		p.emitInternal(slog.NewRecord(time.Now(), slog.LevelWarn, n, 0))
	}
	for _, w := range p.out.warnings {
		logAt(context.Background(), internalLogger, slog.LevelWarn, 0, w, nil)
	}
	if !c.redact && redactionOffWarned.CompareAndSwap(false, true) {
		logAt(context.Background(), internalLogger, slog.LevelWarn, 0, "redaction is turned off: secrets will reach the logs", nil)
	}
	return setupError(errs)
}

var redactionOffWarned atomic.Bool

// setupMu makes Setup and Close one at a time: each closes the pipeline it
// replaced before the next begins, so that a chained file sink, which
// starts once the sink it replaces on its path is closed (filechain.go),
// never waits for a sink that a concurrent call has yet to close.
var setupMu sync.Mutex

// Close flushes and closes the sinks of the chain in force and puts the
// console default (stderr, TEXT, INFO) in its place, so that logging after
// Close still works (shutdown paths). The redaction Setup installed (its
// keys, patterns and rules, or redaction off) and its size limit stay in
// force: one redaction configuration holds from the first record to the
// last. It may be called more than once.
func Close() error {
	setupMu.Lock()
	defer setupMu.Unlock()
	stopCapture() // the lines written before are logged through the chain in force
	old := load()
	p, _ := newPipeline(defaultConfig(nil))
	p.m = track(&attrMapper{red: old.m.red, limit: old.m.limit, fp: old.m.fp, allow: old.m.allow})
	old = current.Swap(p)
	return old.close()
}

// stdLogWriter takes the standard log package's output after Setup, as the
// bridge of slog.SetDefault does (one INFO record per call, from logger
// "root"), except that its records are written before the call returns:
// log.Fatal and log.Panic end the program right after writing.
// The log package's prefix and header (date, time, file) are taken off the
// message: the record has its own time and source, and the prefix would
// only hide the message's start.
type stdLogWriter struct{}

// stdLogHandler is the handler of the standard log package's records: the
// logger "root", or the name of WithStdLogName.
var stdLogHandler atomic.Pointer[namedHandler]

func init() { stdLogHandler.Store(&namedHandler{name: "root", sync: true}) }

func (stdLogWriter) Write(b []byte) (int, error) {
	ctx := context.Background()
	h := stdLogHandler.Load()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return len(b), nil
	}
	var pcs [1]uintptr
	runtime.Callers(4, pcs[:]) // skip Callers, this Write, log's output and the log function
	msg := stripLogHeader(strings.TrimSuffix(string(b), "\n"), log.Flags(), log.Prefix())
	r := slog.NewRecord(time.Now(), slog.LevelInfo, msg, pcs[0])
	return len(b), h.Handle(ctx, r)
}

// stripLogHeader takes off what the log package wrote before the message,
// given its flags and prefix (see log.Logger's header).
func stripLogHeader(s string, flags int, prefix string) string {
	if flags&log.Lmsgprefix == 0 {
		s = strings.TrimPrefix(s, prefix)
	}
	cut := func(n int) {
		if len(s) >= n {
			s = s[n:]
		}
	}
	if flags&log.Ldate != 0 {
		cut(len("2009/01/23 "))
	}
	if flags&log.Lmicroseconds != 0 {
		cut(len("01:23:23.123123 "))
	} else if flags&log.Ltime != 0 {
		cut(len("01:23:23 "))
	}
	if flags&(log.Lshortfile|log.Llongfile) != 0 {
		if i := strings.Index(s, ": "); i >= 0 {
			s = s[i+2:]
		}
	}
	if flags&log.Lmsgprefix != 0 {
		s = strings.TrimPrefix(s, prefix)
	}
	return s
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
	hs    []slog.Handler // the WithHandler sinks, for this logger
	p     *pipeline
	h     *encHandler
	level slog.Level
	gen   uint64 // the redactor's generation the name was redacted in (Mask moves it on)
}

func (n *namedHandler) derive(p *pipeline) *derived {
	gen := p.m.clean.generation()
	if d := n.cache.Load(); d != nil && d.p == p && d.gen == gen {
		return d
	}
	h := p.handler(n.name, n.security)
	h.sync = n.sync
	if len(p.attrs) > 0 {
		h = h.withAttrs(p.attrs)
	}
	for _, op := range n.ops {
		if op.attrs != nil {
			h = h.withAttrs(op.attrs)
		} else {
			h = h.withGroup(op.group)
		}
	}
	level := p.levels.forLogger(n.name)
	if n.security {
		// The console, the main file and WithSink writers take the events
		// at the security level and above: CODOMYRMEX_LOG_SECURITY_LEVEL,
		// else WARNING and above, and lower ones as the logger's level lets
		// them. The security file and Loki take every event.
		if p.secLevel != nil {
			level = *p.secLevel
		} else {
			level = min(level, slog.LevelWarn)
		}
		h.auditBelow = level
		if p.out.keepsEveryEvent() {
			level = slog.Level(math.MinInt)
		}
	}
	d := &derived{p: p, h: h, level: level, hs: p.handlerSinks(n.name, p.attrs, n.ops), gen: gen}
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
		d := n.derive(p)
		err := d.h.handle(r, collectContextAttrs(ctx, p.extractors))
		if d.hs != nil && (!n.security || r.Level >= d.h.auditBelow) {
			toHandlers(ctx, d.hs, r)
		}
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
