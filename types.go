package logging

import (
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
)

// Values whose type says what they hold. A URL's password, a Userinfo, a
// cookie's value and a request's credentials are written in a redacted
// form wherever they appear (an attr, a struct field, a list), instead of
// being walked field by field or formatted by their String methods, which
// print them whole.

var (
	urlType      = reflect.TypeFor[url.URL]()
	userinfoType = reflect.TypeFor[url.Userinfo]()
	cookieType   = reflect.TypeFor[http.Cookie]()
	requestType  = reflect.TypeFor[http.Request]()
)

// isKnownType reports whether t is one of the known types or a pointer to one.
func isKnownType(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t == urlType || t == userinfoType || t == cookieType || t == requestType
}

// known returns the redacted form of a value of a known type (or a pointer
// to one: see isKnownType). rv is valid, not a nil pointer, and
// rv.CanInterface().
func (w *walker) known(rv reflect.Value, depth int) slog.Value {
	t := rv.Type()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
		rv = rv.Elem()
	}
	if !rv.CanAddr() { // a value, not a pointer: copy it so that its pointer methods work
		c := reflect.New(t).Elem()
		c.Set(rv)
		rv = c
	}
	switch t {
	case urlType:
		return w.url(rv.Addr().Interface().(*url.URL))
	case userinfoType:
		return w.text(rv.Addr().Interface().(*url.Userinfo).Username())
	case cookieType:
		c := *rv.Addr().Interface().(*http.Cookie)
		if c.Value != "" {
			c.Value = redactedMarker
			countRedaction("cookie")
		}
		return w.text(c.String())
	default: // requestType
		return w.request(rv.Addr().Interface().(*http.Request), depth)
	}
}

// url is u as Go's URL.Redacted writes it (the password as xxxxx), with the
// rest redacted by pattern (a token in the query).
func (w *walker) url(u *url.URL) slog.Value {
	if _, has := u.User.Password(); has {
		countRedaction("url-credentials")
	}
	return w.text(u.Redacted())
}

// request is what a log needs of an HTTP request: method, URL, protocol,
// host, remote address and headers, each redacted as such (the headers by
// their names: Authorization, Cookie, X-Api-Key, …). Its body, context and
// connection state are left out.
func (w *walker) request(r *http.Request, depth int) slog.Value {
	as := []slog.Attr{slog.String("method", r.Method)}
	if r.URL != nil {
		as = append(as, slog.Attr{Key: "url", Value: w.url(r.URL)})
	}
	as = append(as,
		slog.Attr{Key: "proto", Value: w.text(r.Proto)},
		slog.Attr{Key: "host", Value: w.text(r.Host)},
		slog.Attr{Key: "remote_addr", Value: w.text(r.RemoteAddr)},
		slog.Attr{Key: "header", Value: w.walk(reflect.ValueOf(r.Header), depth+1)})
	return slog.GroupValue(as...)
}

// minCardNumber is the smallest number with as many digits as the shortest
// card number (13): smaller numbers are never checked.
const minCardNumber = 1e12

// number checks an integer, or a float without a fraction, by the rules for
// digit runs (a card number sent as slog.Int64 is as secret as its digits
// in a string): its digits are redacted as a string would be. Numbers with
// fewer than 13 digits cost one comparison.
func (w *walker) number(v slog.Value) (slog.Value, bool) {
	digits, ok := w.digits(v)
	if !ok {
		return v, false
	}
	if s, c := w.m.red.Redact(digits); c {
		return slog.StringValue(s), true
	}
	return v, false
}

// digits is v's digits when v is a number long enough to be a card number
// and w redacts; false otherwise (nothing to look at).
func (w *walker) digits(v slog.Value) (string, bool) {
	if w.m.red == nil {
		return "", false
	}
	switch v.Kind() {
	case slog.KindInt64:
		n := v.Int64()
		if n > -minCardNumber && n < minCardNumber {
			return "", false
		}
		return strconv.FormatInt(n, 10), true
	case slog.KindUint64:
		n := v.Uint64()
		if n < minCardNumber {
			return "", false
		}
		return strconv.FormatUint(n, 10), true
	case slog.KindFloat64:
		f := math.Abs(v.Float64())
		if f < minCardNumber || f >= 1e20 || f != math.Trunc(f) {
			return "", false
		}
		return strconv.FormatFloat(v.Float64(), 'f', -1, 64), true
	}
	return "", false
}

// numberClean reports whether number leaves v as it is, counting nothing.
func (w *walker) numberClean(v slog.Value) bool {
	digits, ok := w.digits(v)
	return !ok || !w.m.red.Finds(digits)
}
