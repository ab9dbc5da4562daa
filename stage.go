package logging

import (
	"context"
	"log/slog"
)

// Wrap returns next behind the secure stages: every string is redacted,
// then cut to the size limit, then escaped, and every key and group name
// escaped, before next sees the record; the context attrs ([ContextWith],
// extractors) are added to it. It is the chain Setup puts in front of its
// own encoder, as one slog.Handler middleware. The environment is not read.
//
// Wrap takes the options WithRedaction, WithRedactKeys, WithRedactPatterns,
// WithRule, WithMaxValueBytes and WithContextExtractor. It panics, naming
// the option, on any other option and on an invalid one (a pattern that
// does not compile, say): a secure stage that silently runs without a
// setting it was given is worse than a program that does not start.
func Wrap(next slog.Handler, opts ...Option) slog.Handler {
	c := mustConfig(opts, byWrap, "logging.Wrap")
	m := &attrMapper{limit: c.maxValueBytes, escape: true}
	if c.redact {
		m.red = newRedactor(c)
	}
	return &stageHandler{next: next, m: m, context: true, extractors: c.extractors}
}

// NewRedactingHandler returns a handler that replaces secrets before passing
// records to next: by pattern in the message and in every string value, by
// key for attributes with a sensitive key at any depth, and in values of any
// type, which are walked (groups, LogValuers, structs, maps, slices, errors,
// Stringers, []byte, json.RawMessage) rather than formatted. Records without
// a secret and without values to walk are passed on without a copy.
//
// It takes the options WithRedactKeys, WithRedactPatterns and WithRule, and
// panics, naming the option, on any other and on an invalid one.
func NewRedactingHandler(next slog.Handler, opts ...Option) slog.Handler {
	c := mustConfig(opts, byRedacting, "logging.NewRedactingHandler")
	red := newRedactor(c)
	return &stageHandler{next: next, m: &attrMapper{red: red}}
}

// NewSanitizingHandler returns a handler that escapes what [Sanitize] escapes
// in the message, every attribute key, every string value (after
// [slog.LogValuer]s are resolved and other values are turned into text) and
// every group name, and cuts any single message or value longer than the
// configured maximum, before passing the record to next. Records that need
// no change are passed on as they are, without a copy.
//
// It takes the option WithMaxValueBytes, and panics, naming the option, on
// any other and on an invalid one.
func NewSanitizingHandler(next slog.Handler, opts ...Option) slog.Handler {
	c := mustConfig(opts, bySanitizing, "logging.NewSanitizingHandler")
	return &stageHandler{next: next, m: &attrMapper{limit: c.maxValueBytes, escape: true}}
}

// stageHandler is the secure stages as a slog.Handler middleware, for
// handlers outside this package: it maps the record with its attrMapper
// and passes it on.
type stageHandler struct {
	next       slog.Handler
	m          *attrMapper
	context    bool // add the context attrs to each record, first (Wrap)
	extractors []func(context.Context) []slog.Attr
}

func (h *stageHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *stageHandler) Handle(ctx context.Context, r slog.Record) error {
	wk := h.m.walker() // the record's budget
	var ctxAttrs []slog.Attr
	if h.context {
		ctxAttrs, _ = wk.attrs(collectContextAttrs(ctx, h.extractors), 0)
	}
	return h.next.Handle(ctx, mapRecord(r, &wk, ctxAttrs))
}

func (h *stageHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	wk := h.m.walker()
	as, _ := wk.attrs(attrs, 0)
	h2 := *h
	h2.next = h.next.WithAttrs(as)
	return &h2
}

func (h *stageHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n, _ := h.m.key(name)
	h2 := *h
	h2.next = h.next.WithGroup(n)
	return &h2
}

// mapRecord returns r with its message and attributes mapped, after the
// (mapped) context attrs ctxAttrs; r itself if nothing changed. The common
// clean record costs one pass and no copy.
func mapRecord(r slog.Record, wk *walker, ctxAttrs []slog.Attr) slog.Record {
	msg, mc := wk.str(r.Message)
	first := -1 // index of the first changed attr
	var firstAttr slog.Attr
	i := 0
	r.Attrs(func(a slog.Attr) bool {
		if na, c := wk.attr(a, 0); c {
			first, firstAttr = i, na
			return false
		}
		i++
		return true
	})
	if !mc && first < 0 && len(ctxAttrs) == 0 {
		return r
	}
	nr := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	nr.AddAttrs(ctxAttrs...)
	i = 0
	r.Attrs(func(a slog.Attr) bool {
		switch {
		case first < 0 || i < first:
		case i == first:
			a = firstAttr
		default:
			a, _ = wk.attr(a, 0)
		}
		nr.AddAttrs(a)
		i++
		return true
	})
	return nr
}
