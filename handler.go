package logging

import (
	"context"
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

// JSON schemas.
const (
	schemaSlog       = "slog"
	schemaCodomyrmex = "codomyrmex"
)

// encoder holds what all handlers of one pipeline share.
type encoder struct {
	output    OutputType
	schema    string
	py        *pyFormat
	addSource bool
	out       *fanout
	loki      *lokiSink // nil unless CODOMYRMEX_LOG_LOKI_URL is set
	security  bool      // the encoder of security events
}

// encHandler is the last stage: it encodes a record into one line and hands
// it to the sinks in one Write each.
type encHandler struct {
	enc    *encoder
	m      *attrMapper // redaction and the size limit, fused into encoding; nil for none
	logger string
	sync   bool     // every record is written before Handle returns (the standard log bridge)
	pre    []byte   // preformatted attrs from WithAttrs
	groups []string // groups from WithGroup, outermost first
	nOpen  int      // JSON: how many of groups pre has opened
	prefix string   // TEXT: dotted group prefix
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (h *encHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *encHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(h.groups[:len(h.groups):len(h.groups)], name)
	h2.prefix = h.prefix + name + "."
	return &h2
}

func (h *encHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	if h.m != nil {
		as, _ = h.m.attrs(as)
	}
	h2 := *h
	pre := append([]byte(nil), h.pre...)
	if h.enc.output == OutputText {
		for _, a := range as {
			pre = appendTextAttr(pre, h.prefix, a)
		}
	} else {
		var opened bool
		pre, opened = appendJSONGrouped(pre, h.groups[h.nOpen:], func(b []byte) []byte {
			return appendJSONAttrs(b, as, 0)
		})
		if opened {
			h2.nOpen = len(h.groups)
		}
	}
	h2.pre = pre
	return &h2
}

// appendJSONGrouped opens the groups, appends attrs with add, and returns the
// buffer unchanged (opened false) when add wrote nothing, so that empty
// groups are left out. The groups stay open; the caller closes them.
func appendJSONGrouped(dst []byte, groups []string, add func([]byte) []byte) ([]byte, bool) {
	mark := len(dst)
	for _, g := range groups {
		dst = append(dst, ',')
		dst = appendJSONString(dst, g)
		dst = append(dst, ':', '{')
	}
	start := len(dst)
	dst = add(dst)
	if len(dst) == start {
		return dst[:mark], false
	}
	if len(groups) > 0 && dst[start] == ',' {
		dst = append(dst[:start], dst[start+1:]...)
	}
	return dst, true
}

// appendPre appends the preformatted attrs, dropping a leading comma right
// after an opening brace.
func appendPre(dst, pre []byte) []byte {
	if len(pre) > 0 && pre[0] == ',' && len(dst) > 0 && dst[len(dst)-1] == '{' {
		pre = pre[1:]
	}
	return append(dst, pre...)
}

func (h *encHandler) Handle(ctx context.Context, r slog.Record) error {
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	ctxAttrs := resolvedAttrs(ctx)
	if h.m != nil {
		r.Message, _ = h.m.mapStr(r.Message)
		if len(ctxAttrs) > 0 {
			ctxAttrs, _ = h.m.attrs(ctxAttrs)
		}
	}
	if h.enc.output == OutputText {
		buf = h.appendText(buf, r, ctxAttrs)
	} else {
		buf = h.appendJSON(buf, r, ctxAttrs)
	}
	buf = append(buf, '\n')
	err := h.enc.out.write(buf, r.Level >= slog.LevelError || h.enc.security || h.sync)
	if h.enc.loki != nil {
		h.pushLoki(buf, r, ctxAttrs)
	}
	if cap(buf) <= 64<<10 {
		*bp = buf
		bufPool.Put(bp)
	}
	return err
}

// pushLoki queues the record for Loki, always as JSON.
func (h *encHandler) pushLoki(buf []byte, r slog.Record, ctxAttrs []slog.Attr) {
	var line string
	if h.enc.output == OutputJSON {
		line = string(buf[:len(buf)-1])
	} else {
		jp := bufPool.Get().(*[]byte)
		line = string(h.appendJSON((*jp)[:0], r, ctxAttrs))
		bufPool.Put(jp)
	}
	eventType := ""
	if h.enc.security {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "security_event_type" {
				eventType = Sanitize(a.Value.String())
				return false
			}
			return true
		})
	}
	h.enc.loki.push(r.Time, r.Level, Sanitize(h.logger), eventType, line)
}

// mapAttr applies the fused redaction and size limit to one attr.
func (h *encHandler) mapAttr(a slog.Attr) slog.Attr {
	if h.m != nil {
		a, _ = h.m.attr(a)
	}
	return a
}

// source returns the caller's position, or nil.
func source(r slog.Record) *slog.Source {
	if r.PC == 0 {
		return nil
	}
	return r.Source()
}

func (h *encHandler) appendJSON(buf []byte, r slog.Record, ctxAttrs []slog.Attr) []byte {
	codo := h.enc.schema == schemaCodomyrmex
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
	buf = append(buf, LevelName(r.Level)...)
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
	buf = appendJSONAttrs(buf, ctxAttrs, 0)
	buf = appendPre(buf, h.pre)
	nClose := h.nOpen
	if r.NumAttrs() > 0 {
		var opened bool
		buf, opened = appendJSONGrouped(buf, h.groups[h.nOpen:], func(b []byte) []byte {
			r.Attrs(func(a slog.Attr) bool {
				b = appendJSONAttr(b, h.mapAttr(a), 0)
				return true
			})
			return b
		})
		if opened {
			nClose = len(h.groups)
		}
	}
	for range nClose {
		buf = append(buf, '}')
	}
	return append(buf, '}')
}

var pid = os.Getpid()

// pythonLevelNo maps a slog level to Python's numbers (DEBUG 10 … CRITICAL 50).
func pythonLevelNo(l slog.Level) int { return 20 + int(l)*5/2 }

func (h *encHandler) appendText(buf []byte, r slog.Record, ctxAttrs []slog.Attr) []byte {
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
		case fName:
			buf = h.appendTextField(buf, seg, h.logger)
		case fLevelname:
			buf = h.appendTextField(buf, seg, LevelName(r.Level))
		case fLevelno:
			buf = seg.appendNum(buf, float64(pythonLevelNo(r.Level)), true)
		case fMessage:
			buf = h.appendMessage(buf, seg, r, ctxAttrs)
		case fFilename:
			buf = h.appendTextField(buf, seg, filepath.Base(src.File))
		case fModule:
			buf = h.appendTextField(buf, seg, moduleName(src.File))
		case fPathname:
			buf = h.appendTextField(buf, seg, src.File)
		case fFuncName:
			buf = h.appendTextField(buf, seg, shortFunc(src.Function))
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
		buf = h.appendTextAttrs(buf, r, ctxAttrs)
	}
	if h.enc.addSource && !h.enc.py.needsSource && src.File != "" {
		buf = append(buf, " source="...)
		buf = appendTextString(buf, src.File+":"+strconv.Itoa(src.Line))
	}
	return buf
}

// appendTextField appends a text field, applying a precision as truncation.
func (h *encHandler) appendTextField(buf []byte, seg *pySeg, s string) []byte {
	if seg.precision >= 0 && len(s) > seg.precision {
		n := 0
		for i := range s {
			if n == seg.precision {
				s = s[:i]
				break
			}
			n++
		}
	}
	return appendEscaped(buf, s, quoteNone)
}

// appendMessage appends the message followed by the attrs as key=value.
func (h *encHandler) appendMessage(buf []byte, seg *pySeg, r slog.Record, ctxAttrs []slog.Attr) []byte {
	buf = h.appendTextField(buf, seg, r.Message)
	return h.appendTextAttrs(buf, r, ctxAttrs)
}

// appendTextAttrs appends the context attrs, the preformatted attrs and the
// record's attrs as key=value.
func (h *encHandler) appendTextAttrs(buf []byte, r slog.Record, ctxAttrs []slog.Attr) []byte {
	for _, a := range ctxAttrs {
		buf = appendTextAttr(buf, "", a)
	}
	buf = append(buf, h.pre...)
	r.Attrs(func(a slog.Attr) bool {
		buf = appendTextAttr(buf, h.prefix, h.mapAttr(a))
		return true
	})
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
