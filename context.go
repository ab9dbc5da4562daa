package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"slices"
	"sync/atomic"
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

// ctxData is what a context carries for this package: its attrs, and the
// slot of the request's user that Middleware made (nil outside it).
type ctxData struct {
	attrs []slog.Attr
	user  *userSlot
}

// userSlot holds the user that code inside the request set with SetUser.
type userSlot struct{ id atomic.Pointer[string] }

func dataOf(ctx context.Context) ctxData {
	if ctx == nil {
		return ctxData{}
	}
	d, _ := ctx.Value(ctxAttrsKey{}).(ctxData)
	return d
}

// withUserSlot returns ctx with a new, empty user slot (see SetUser).
func withUserSlot(ctx context.Context) (context.Context, *userSlot) {
	d := dataOf(ctx)
	d.user = &userSlot{}
	return context.WithValue(ctx, ctxAttrsKey{}, d), d.user
}

// withoutRepeats returns ctx without its attrs that repeat one of the
// record's own (same key, same value: dup reports it), for a record whose
// attrs already say what they would; ctx itself when it has none. A
// context attr of the same key with another value is kept (and written as
// key#2): the two differ, and both matter.
func withoutRepeats(ctx context.Context, dup func(key, value string) bool) context.Context {
	d := dataOf(ctx)
	drop := func(a slog.Attr) bool { return dup(a.Key, a.Value.String()) }
	dropUser := d.user != nil && dup(KeyUserID, d.user.user())
	if !slices.ContainsFunc(d.attrs, drop) && !dropUser {
		return ctx
	}
	d.attrs = slices.DeleteFunc(slices.Clone(d.attrs), drop)
	if dropUser {
		d.user = nil
	}
	return context.WithValue(ctx, ctxAttrsKey{}, d)
}

// SetUser records id as the user of the request whose context ctx is (or
// derives from): [Middleware] makes a slot in each request's context, and
// authentication code that runs inside the handler, after the middleware
// built the context, fills it. From then on the records logged with that
// request's context carry user_id (unless they have one), and so do the
// middleware's access record and its 401/403 security events, logged when
// the handler returns. It reports false when ctx has no slot (it does not
// come from a request Middleware serves); use ContextWithUserID then.
// The id is written as any value is: redacted and escaped.
func SetUser(ctx context.Context, id string) bool {
	slot := dataOf(ctx).user
	if slot == nil {
		return false
	}
	slot.id.Store(&id)
	return true
}

// user returns the id in the slot, or "".
func (s *userSlot) user() string {
	if s == nil {
		return ""
	}
	if p := s.id.Load(); p != nil {
		return *p
	}
	return ""
}

// ContextWith returns a context that carries attrs. Every record logged with
// that context (InfoContext, LogAttrs, …) gets them, at the top level of the
// record, after its own attrs (whose names they never take: a key already
// written is written as key#2). A later attr with the same key in ctx
// replaces an earlier one.
func ContextWith(ctx context.Context, attrs ...slog.Attr) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	d := dataOf(ctx)
	old := d.attrs
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
	return context.WithValue(ctx, ctxAttrsKey{}, ctxData{attrs: merged, user: d.user})
}

// ContextAttrs returns the attrs that ctx carries (do not modify them),
// with user_id from SetUser when ctx has none of its own.
func ContextAttrs(ctx context.Context) []slog.Attr {
	d := dataOf(ctx)
	if u := d.user.user(); u != "" && !slices.ContainsFunc(d.attrs, func(a slog.Attr) bool { return a.Key == KeyUserID }) {
		return append(d.attrs[:len(d.attrs):len(d.attrs)], slog.String(KeyUserID, u))
	}
	return d.attrs
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
