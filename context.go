package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

// Well-known context keys. The names follow the Python Codomyrmex module.
const (
	KeyCorrelationID  = "correlation_id"
	KeyRequestID      = "request_id"
	KeySessionID      = "session_id"
	KeyConversationID = "conversation_id"
	KeyUserID         = "user_id"
	KeyTenant         = "tenant"
	KeyTraceID        = "trace_id"
	KeySpanID         = "span_id"
)

type ctxAttrsKey struct{}

// resolvedKey holds the context attrs of one record after collection and the
// secure stages; the built-in encoders write them at the top level.
type resolvedKey struct{}

// ContextWith returns a context that carries attrs. Every record logged with
// that context (InfoContext, LogAttrs, …) gets them, at the top level of the
// record, after the message. A later attr with the same key replaces an earlier one.
func ContextWith(ctx context.Context, attrs ...slog.Attr) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	old := ContextAttrs(ctx)
	merged := make([]slog.Attr, 0, len(old)+len(attrs))
	for _, a := range old {
		replaced := false
		for _, b := range attrs {
			if a.Key == b.Key {
				replaced = true
				break
			}
		}
		if !replaced {
			merged = append(merged, a)
		}
	}
	merged = append(merged, attrs...)
	return context.WithValue(ctx, ctxAttrsKey{}, merged)
}

// ContextAttrs returns the attrs that ctx carries (do not modify them).
func ContextAttrs(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	as, _ := ctx.Value(ctxAttrsKey{}).([]slog.Attr)
	return as
}

// ContextValue returns the string value of one context attr, or "".
func ContextValue(ctx context.Context, key string) string {
	for _, a := range ContextAttrs(ctx) {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}

// ContextWithCorrelationID sets correlation_id.
func ContextWithCorrelationID(ctx context.Context, id string) context.Context {
	return ContextWith(ctx, slog.String(KeyCorrelationID, id))
}

// ContextWithRequestID sets request_id.
func ContextWithRequestID(ctx context.Context, id string) context.Context {
	return ContextWith(ctx, slog.String(KeyRequestID, id))
}

// ContextWithSessionID sets session_id.
func ContextWithSessionID(ctx context.Context, id string) context.Context {
	return ContextWith(ctx, slog.String(KeySessionID, id))
}

// ContextWithConversationID sets conversation_id.
func ContextWithConversationID(ctx context.Context, id string) context.Context {
	return ContextWith(ctx, slog.String(KeyConversationID, id))
}

// ContextWithUserID sets user_id.
func ContextWithUserID(ctx context.Context, id string) context.Context {
	return ContextWith(ctx, slog.String(KeyUserID, id))
}

// ContextWithTenant sets tenant.
func ContextWithTenant(ctx context.Context, tenant string) context.Context {
	return ContextWith(ctx, slog.String(KeyTenant, tenant))
}

// NewCorrelationID returns "cid-" and 12 random hex digits, as the Python
// Codomyrmex module makes them.
func NewCorrelationID() string { return "cid-" + randomHex(6) }

// NewRequestID returns "req-" and 16 random hex digits.
func NewRequestID() string { return "req-" + randomHex(8) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// WithContextExtractor adds a function that turns a context into attrs for
// every record logged with it, such as trace_id and span_id from an
// OpenTelemetry span, so that this package need not import OpenTelemetry:
//
//	logging.WithContextExtractor(func(ctx context.Context) []slog.Attr {
//		sc := trace.SpanContextFromContext(ctx)
//		if !sc.IsValid() {
//			return nil
//		}
//		return []slog.Attr{
//			slog.String("trace_id", sc.TraceID().String()),
//			slog.String("span_id", sc.SpanID().String()),
//		}
//	})
func WithContextExtractor(f func(context.Context) []slog.Attr) Option {
	return func(c *config) error {
		if f != nil {
			c.extractors = append(c.extractors, f)
		}
		return nil
	}
}

// collectContextAttrs gathers the context attrs and the extractors' attrs.
func collectContextAttrs(ctx context.Context, extractors []func(context.Context) []slog.Attr) []slog.Attr {
	if ctx == nil {
		return nil
	}
	as := ContextAttrs(ctx)
	for _, f := range extractors {
		if more := safeExtract(f, ctx); len(more) > 0 {
			as = append(as[:len(as):len(as)], more...)
		}
	}
	return as
}

// safeExtract runs an extractor, treating a panic as no attrs.
func safeExtract(f func(context.Context) []slog.Attr, ctx context.Context) (as []slog.Attr) {
	defer func() {
		if recover() != nil {
			as = nil
		}
	}()
	return f(ctx)
}

// resolvedAttrs returns the context attrs resolved for this record, if any.
func resolvedAttrs(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	as, _ := ctx.Value(resolvedKey{}).([]slog.Attr)
	return as
}

// ctxHandler is the outermost stage of Wrap: it adds the context attrs to the
// record as ordinary attrs, for handlers that do not read them from the context.
type ctxHandler struct {
	next       slog.Handler
	extractors []func(context.Context) []slog.Attr
}

func (h *ctxHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if as := collectContextAttrs(ctx, h.extractors); len(as) > 0 {
		nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		nr.AddAttrs(as...)
		r.Attrs(func(a slog.Attr) bool { nr.AddAttrs(a); return true })
		r = nr
	}
	return h.next.Handle(ctx, r)
}

func (h *ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &ctxHandler{next: h.next.WithAttrs(as), extractors: h.extractors}
}

func (h *ctxHandler) WithGroup(name string) slog.Handler {
	return &ctxHandler{next: h.next.WithGroup(name), extractors: h.extractors}
}
