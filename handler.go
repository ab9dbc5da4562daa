package logging

import (
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OutputType selects how records are encoded.
type OutputType int

const (
	// OutputText writes one line per record in the Python-style format set by
	// CODOMYRMEX_LOG_FORMAT or [WithFormat], attrs following the message as key=value.
	OutputText OutputType = iota
	// OutputJSON writes one JSON object per line.
	OutputJSON
)

// String returns TEXT or JSON.
func (t OutputType) String() string {
	if t == OutputJSON {
		return "JSON"
	}
	return "TEXT"
}

// JSON schemas: the keys of a JSON record.
const (
	SchemaSlog       = "slog"       // time, level, logger, msg, then attrs (log/slog's keys)
	SchemaCodomyrmex = "codomyrmex" // timestamp, level, name, message, module, function, line (the Python module's keys)
)

// encoder is what all the handlers of one pipeline share: how records are
// written and where they go.
type encoder struct {
	output    OutputType
	codo      bool // JSON in the Codomyrmex schema
	py        *pyFormat
	addSource bool
	alsoJSON  bool // a sink takes JSON (Loki) while the output is TEXT
	out       *fanout
}

// The formats a handler writes: the output's, and JSON besides it when alsoJSON.
const (
	fmtText = iota
	fmtJSON
	nFormats
)

// encHandler is the last stage of Setup's chain: it maps each attr with
// the pipeline's attrMapper just before writing it (no copy of the record),
// encodes the record once per format its sinks take and hands the entry to
// the fan-out. WithAttrs and WithGroup preformat, as slog's handlers do.
type encHandler struct {
	enc      *encoder
	m        *attrMapper
	logger   string
	security bool   // security events: the security file takes them, and Loki gets their type as a label
	sync     bool   // every record is written before handle returns (the standard log bridge)
	hidden   bool   // a group of groups has a secret name: every attr value is redacted
	group    string // the innermost group's name, as given (see walker.group)
	// auditBelow: security events below this level go only to the sinks
	// that keep every event (see entry.auditOnly).
	auditBelow slog.Level
	groups     []string
	prefix     string              // TEXT: the dotted names of groups
	pre        [nFormats][]byte    // attrs from WithAttrs, preformatted per format
	preKeys    [nFormats]savedKeys // the keys they wrote, so that a record's keys stay unique
	nOpen      int                 // JSON: how many of groups the preformatted attrs opened
}

// startWriter readies w for the format, its keys continuing those of h's
// preformatted attrs, copied to off in the buffer.
func (h *encHandler) startWriter(w *attrWriter, json bool, off int) {
	f := fmtText
	if json {
		f = fmtJSON
	}
	w.json = json
	w.keys.init(json && h.enc.codo)
	w.keys.load(&h.preKeys[f], off)
}

// formats reports which formats h writes.
func (h *encHandler) formats() (text, json bool) {
	text = h.enc.output == OutputText
	return text, !text || h.enc.alsoJSON
}

func (h *encHandler) withGroup(name string) *encHandler {
	h2 := *h
	h2.hidden = h.m.secretGroup(h.hidden, name) || h.m.pathSecret(h.group, name)
	h2.group = name
	b := newBudget()
	name, _, _ = h.m.key(name, &b)
	h2.groups = append(h.groups[:len(h.groups):len(h.groups)], name)
	h2.prefix = h.prefix + name + "."
	return &h2
}

func (h *encHandler) withAttrs(as []slog.Attr) *encHandler {
	w := h.m.walker(h.hidden)
	w.group = h.group
	as, _ = w.attrs(as, 0)
	h2 := *h
	text, json := h.formats()
	if text {
		var aw attrWriter
		h.startWriter(&aw, false, 0)
		pre := h.pre[fmtText]
		aw.prefix = h.prefix
		h2.pre[fmtText], _ = aw.attrs(pre[:len(pre):len(pre)], as)
		h2.preKeys[fmtText] = aw.keys.save()
	}
	if json {
		// Open the groups not opened yet; keep them only if an attr was written.
		var aw attrWriter
		h.startWriter(&aw, true, 0)
		pre := h.pre[fmtJSON]
		buf := pre[:len(pre):len(pre)]
		for _, g := range h.groups[h.nOpen:] {
			buf, _ = aw.openGroup(buf, g)
		}
		if buf, wrote := aw.attrs(buf, as); wrote {
			h2.pre[fmtJSON], h2.nOpen = buf, len(h.groups)
			h2.preKeys[fmtJSON] = aw.keys.save()
		}
	}
	return &h2
}

// handle encodes r, with the context attrs ctxAttrs at its top level, and
// hands it to the sinks.
func (h *encHandler) handle(r slog.Record, ctxAttrs []slog.Attr) error {
	wk := h.m.walker(false) // the record's budgets
	// What the walk returns is written below and then dropped: no attr of
	// it reaches a sink (entry holds bytes), so its arena goes back.
	wk.arena.reusing()
	r.Message, _ = wk.message(r.Message)
	if len(ctxAttrs) > 0 {
		ctxAttrs, _ = wk.attrs(ctxAttrs, 0) // at the top level, outside h's groups
	}
	wk.hidden, wk.group = h.hidden, h.group
	text, json := h.formats()
	var mapped []slog.Attr // the record's attrs mapped once, when they are written twice
	if text && json {
		var buf [16]slog.Attr
		mapped = buf[:0]
		r.Attrs(func(a slog.Attr) bool {
			a, _ = wk.attr(a, 0)
			mapped = append(mapped, a)
			return true
		})
	}
	e := entry{time: r.Time, level: r.Level, logger: h.logger, security: h.security,
		durable: r.Level >= slog.LevelError || h.security || h.sync}
	if h.security {
		e.eventType = eventType(&r)
		e.auditOnly = r.Level < h.auditBelow
	}
	var bufs [nFormats]*[]byte // from bufPool
	if text {
		bufs[fmtText] = bufPool.Get().(*[]byte)
		e.line = append(h.appendText((*bufs[fmtText])[:0], &r, &wk, ctxAttrs, mapped), '\n')
	}
	if json {
		bufs[fmtJSON] = bufPool.Get().(*[]byte)
		e.json = append(h.appendJSON((*bufs[fmtJSON])[:0], &r, &wk, ctxAttrs, mapped), '\n')
		if !text {
			e.line = e.json
		}
	}
	err := h.enc.out.put(&e)
	if text {
		putBuf(bufs[fmtText], e.line)
	}
	if json {
		putBuf(bufs[fmtJSON], e.json)
	}
	giveArena(&wk.arena)
	if wk.b.known {
		reportExposure(h.logger, r.PC)
	}
	return err
}

// putBuf gives b back to bufPool in bp, unless a large record grew it.
func putBuf(bp *[]byte, b []byte) {
	if cap(b) <= maxPooledBuf {
		*bp = b
		bufPool.Put(bp)
	}
}

// bufPool holds encoding buffers for reuse.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBuf is the largest buffer kept for reuse after a large record.
const maxPooledBuf = 64 << 10

// writeAttrs appends the record's own attrs: mapped already when mapped is
// not nil, otherwise mapped by wk one by one as they are written.
func (h *encHandler) writeAttrs(buf []byte, aw *attrWriter, r *slog.Record, wk *walker, mapped []slog.Attr) ([]byte, bool) {
	if mapped != nil {
		return aw.attrs(buf, mapped)
	}
	wrote := false
	r.Attrs(func(a slog.Attr) bool {
		a, _ = wk.attr(a, 0)
		var ok bool
		if buf, ok = aw.attr(buf, a); ok {
			wrote = true
		}
		return true
	})
	return buf, wrote
}

// eventType returns a security event's security_event_type attr for the
// Loki label: a built-in event type, or a name of up to 64 letters, digits
// and underscores; anything else (a secret, a line break, a value per
// request that would make a stream each) is labelled "custom".
func eventType(r *slog.Record) string {
	t := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "security_event_type" {
			t = a.Value.String()
			return false
		}
		return true
	})
	if t == "" {
		return ""
	}
	if len(t) > 64 || strings.IndexFunc(t, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')
	}) >= 0 {
		return "custom"
	}
	return t
}

// source returns the caller's position, or nil.
func source(r *slog.Record) *slog.Source {
	if r.PC == 0 {
		return nil
	}
	return r.Source()
}

// appendJSON appends the record as one JSON object: the record's own
// fields, the preformatted attrs and the record's attrs inside the
// handler's groups, then the context attrs.
func (h *encHandler) appendJSON(buf []byte, r *slog.Record, wk *walker, ctxAttrs, mapped []slog.Attr) []byte {
	codo := h.enc.codo
	buf = append(buf, '{')
	if !r.Time.IsZero() {
		if codo {
			buf = append(buf, `"timestamp":"`...)
			buf = appendTimeMicros(buf, r.Time.UTC())
		} else {
			buf = append(buf, `"time":"`...)
			buf = appendTimeMicros(buf, r.Time)
		}
		buf = append(buf, `",`...)
	}
	buf = append(buf, `"level":"`...)
	if codo {
		buf = append(buf, LevelName(r.Level)...) // the Python module's names
	} else {
		buf = append(buf, slogLevelName(r.Level)...)
	}
	buf = append(buf, '"')
	if h.logger != "" {
		if codo {
			buf = append(buf, `,"name":`...)
		} else {
			buf = append(buf, `,"logger":`...)
		}
		buf = appendJSONString(buf, h.logger)
	}
	if codo {
		buf = append(buf, `,"message":`...)
		buf = appendJSONString(buf, r.Message)
		if src := source(r); src != nil {
			buf = append(buf, `,"module":`...)
			buf = appendJSONString(buf, moduleName(src.File))
			buf = append(buf, `,"function":`...)
			buf = appendJSONString(buf, shortFunc(src.Function))
			buf = append(buf, `,"line":`...)
			buf = strconv.AppendInt(buf, int64(src.Line), 10)
		}
	} else {
		if h.enc.addSource {
			if src := source(r); src != nil {
				buf = append(buf, `,"source":{"function":`...)
				buf = appendJSONString(buf, src.Function)
				buf = append(buf, `,"file":`...)
				buf = appendJSONString(buf, src.File)
				buf = append(buf, `,"line":`...)
				buf = strconv.AppendInt(buf, int64(src.Line), 10)
				buf = append(buf, '}')
			}
		}
		buf = append(buf, `,"msg":`...)
		buf = appendJSONString(buf, r.Message)
	}
	var aw attrWriter
	h.startWriter(&aw, true, len(buf))
	buf = append(buf, h.pre[fmtJSON]...)
	open := h.nOpen
	if r.NumAttrs() > 0 {
		m := aw.mark(buf)
		for _, g := range h.groups[h.nOpen:] {
			buf, _ = aw.openGroup(buf, g)
		}
		var wrote bool
		if buf, wrote = h.writeAttrs(buf, &aw, r, wk, mapped); wrote {
			open = len(h.groups)
		} else {
			buf = aw.undo(buf, m)
		}
	}
	for range open {
		buf = append(buf, '}')
	}
	// The context attrs last, at the top level: a record's own attrs (a
	// security event's labels) keep their names.
	aw.keys.toTop()
	aw.first = 0
	buf, _ = aw.attrs(buf, ctxAttrs)
	return append(buf, '}')
}

var pid = os.Getpid()

// pythonLevelNo maps a slog level to Python's numbers (DEBUG 10 … CRITICAL 50).
func pythonLevelNo(l slog.Level) int { return 20 + int(l)*5/2 }

// appendText appends the record in the Python-style format; the attrs
// follow the message as key=value (or end the line if the format has no
// %(message)s).
func (h *encHandler) appendText(buf []byte, r *slog.Record, wk *walker, ctxAttrs, mapped []slog.Attr) []byte {
	var src *slog.Source
	if h.enc.py.needsSource || h.enc.addSource {
		src = source(r)
		if src == nil {
			src = &slog.Source{}
		}
	}
	for i := range h.enc.py.segs {
		seg := &h.enc.py.segs[i]
		start := len(buf)
		switch seg.field {
		case fLiteral:
			buf = append(buf, seg.lit...)
			continue
		case fAsctime:
			buf = r.Time.AppendFormat(buf, "2006-01-02 15:04:05,000")
		case fIsotime: // RFC 3339 with milliseconds and the zone
			buf = r.Time.AppendFormat(buf, "2006-01-02T15:04:05.000Z07:00")
		case fName:
			buf = seg.appendText(buf, h.logger)
		case fLevelname:
			buf = seg.appendText(buf, LevelName(r.Level))
		case fLevelno:
			buf = seg.appendNum(buf, float64(pythonLevelNo(r.Level)), true)
		case fMessage:
			buf = seg.appendText(buf, r.Message)
			buf = h.appendTextAttrs(buf, r, wk, ctxAttrs, mapped)
		case fFilename:
			buf = seg.appendText(buf, filepath.Base(src.File))
		case fModule:
			buf = seg.appendText(buf, moduleName(src.File))
		case fPathname:
			buf = seg.appendText(buf, src.File)
		case fFuncName:
			buf = seg.appendText(buf, shortFunc(src.Function))
		case fLineno:
			buf = seg.appendNum(buf, float64(src.Line), true)
		case fProcess:
			buf = seg.appendNum(buf, float64(pid), true)
		case fCreated:
			buf = seg.appendNum(buf, float64(r.Time.UnixNano())/1e9, false)
		case fMsecs:
			buf = seg.appendNum(buf, float64(r.Time.Nanosecond()/int(time.Millisecond)), true)
		}
		buf = seg.pad(buf, start)
	}
	if !h.enc.py.hasMessage { // attrs are never lost, even with a format without %(message)s
		buf = h.appendTextAttrs(buf, r, wk, ctxAttrs, mapped)
	}
	if h.enc.addSource && !h.enc.py.needsSource && src.File != "" {
		buf = append(buf, " source="...)
		buf = appendTextString(buf, src.File+":"+strconv.Itoa(src.Line))
	}
	return buf
}

// appendTextAttrs appends the preformatted attrs, the record's attrs and
// the context attrs as key=value.
func (h *encHandler) appendTextAttrs(buf []byte, r *slog.Record, wk *walker, ctxAttrs, mapped []slog.Attr) []byte {
	var aw attrWriter
	h.startWriter(&aw, false, len(buf))
	buf = append(buf, h.pre[fmtText]...)
	aw.prefix = h.prefix
	buf, _ = h.writeAttrs(buf, &aw, r, wk, mapped)
	aw.prefix = ""
	buf, _ = aw.attrs(buf, ctxAttrs) // last: a record's own attrs keep their names
	return buf
}

// moduleName is Python's %(module)s: the file name without extension.
func moduleName(file string) string {
	b := filepath.Base(file)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// shortFunc is Python's %(funcName)s: the function without its package path.
func shortFunc(fn string) string {
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		fn = fn[i+1:]
	}
	if i := strings.IndexByte(fn, '.'); i >= 0 {
		fn = fn[i+1:]
	}
	return fn
}
