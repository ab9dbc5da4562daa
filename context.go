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

// ContextWith returns a context that carries attrs. Every record logged with
// that context (InfoContext, LogAttrs, …) gets them, at the top level of the
// record, after its own attrs (whose names they never take: a key already
// written is written as key#2). A later attr with the same key in ctx
// replaces an earlier one.
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
