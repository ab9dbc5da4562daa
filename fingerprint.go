package logging

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/codomyrmex/logging/internal/securefile"
)

// Fingerprint says which key-redacted values are written as a fingerprint
// instead of a bare [REDACTED]: [REDACTED:fp-0123456789abcdef], the first
// 64 bits of HMAC-SHA256 of the value under the fingerprint key
// (CODOMYRMEX_LOG_FINGERPRINT_KEY_FILE), or of SHA-256 without one. The
// same value gives the same fingerprint on every record, in every process
// and after restarts (with the same key), so that a session can be followed
// through the logs, or the use of a leaked key traced, without the value
// being written.
type Fingerprint string

const (
	// FingerprintSessions fingerprints session ids (ContextWithSessionID,
	// and any attr whose key names a session: session_id, sessionId,
	// JSESSIONID, connect.sid, …; see sessionKey); other secrets stay
	// [REDACTED]. The default: session
	// ids are random, so a hash without a key reveals nothing.
	FingerprintSessions Fingerprint = "sessions"
	// FingerprintAll fingerprints every value redacted by its key. It
	// needs a fingerprint key: without one, the SHA-256 of a password could
	// be looked up in a dictionary.
	FingerprintAll Fingerprint = "all"
	// FingerprintOff writes every key-redacted value as [REDACTED].
	FingerprintOff Fingerprint = "off"
)

// maxFingerprintKey bounds the fingerprint key file; minFingerprintKey is
// the fewest bytes of key accepted (128 bits).
const (
	maxFingerprintKey = 4 << 10
	minFingerprintKey = 16
)

// fingerprinter writes fingerprints (see Fingerprint). The zero value is off.
type fingerprinter struct {
	mode Fingerprint
	key  []byte // nil: SHA-256
}

// on reports whether the value of the secret key k is fingerprinted.
func (f *fingerprinter) on(k string) bool {
	switch f.mode {
	case FingerprintAll:
		return true
	case FingerprintSessions, "":
		return f.mode != "" && sessionKey(k)
	}
	return false
}

// sessionKey reports whether k names a session id: it holds "session" or
// "sessid" in any case and across the separators _ - . and space
// ("sess_id"), or it is one of the session cookie names of
// sessionCookieKey.
func sessionKey(k string) bool {
	l := strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && isKeySep(byte(r)) {
			return -1
		}
		return unicode.ToLower(r)
	}, k)
	return strings.Contains(l, "session") || strings.Contains(l, "sessid") || sessionCookieKey(k)
}

// sessionIDStems are the names of session ids, beyond the default secret
// key stems, that a key may end with (in any case, across separators,
// before digits): Django's session_key and the like.
var sessionIDStems = []string{"sessionkey", "sesskey", "sessionuuid", "sessuuid", "sessionguid", "sessguid"}

// sessionCookieKey reports whether k names a session id that the default
// secret key stems miss; such keys are secret too (attrMapper.secretKey,
// IsSecretKey), and fingerprinted as session ids. They are:
//   - keys whose last word is "sid" or "sess", before digits: Express's
//     connect.sid, sid, SID, userSid, sid2, Koa's koa.sess; the word must
//     start after a separator or any byte that is not a letter or digit,
//     at a camelCase boundary, after digits or at the start, so "side",
//     "consider", "residue" and "ssid" (a Wi-Fi network) are not;
//   - keys ending with one of sessionIDStems (session_key, sess_key,
//     session_uuid, …);
//   - classic ASP's ASPSESSIONID… and Drupal's SESS/SSESS and 32 hex
//     digits.
//
// It does not allocate.
func sessionCookieKey(k string) bool {
	if hasPrefixFold(k, "aspsessionid") || drupalSessionKey(k) {
		return true
	}
	end := len(k)
	for end > 0 && isDigitByte(k[end-1]) {
		end--
	}
	w := k[:end]
	if lastWordIs(w, "sid") || lastWordIs(w, "sess") {
		return true
	}
	for _, stem := range sessionIDStems {
		if endsWithStem(w, stem) {
			return true
		}
	}
	return false
}

// lastWordIs reports whether k ends with word (in any case) and the word
// starts a word of k (see sessionCookieKey).
func lastWordIs(k, word string) bool {
	i := len(k) - len(word)
	if i < 0 || !strings.EqualFold(k[i:], word) {
		return false
	}
	if i == 0 {
		return true
	}
	p, c := k[i-1], k[i]
	switch {
	case !isDigitByte(p) && !isLetterByte(p), isDigitByte(p):
		return true
	case isUpperByte(c) && !isUpperByte(p): // camelCase: userSid
		return true
	case isUpperByte(c): // capitals: a new word when a small letter follows (XMLSid), not inside one (PHPSID)
		return i+1 < len(k) && !isUpperByte(k[i+1])
	}
	return false
}

// endsWithStem reports whether k ends with stem (lowercase letters),
// compared in any case and across the separators _ - . and space.
func endsWithStem(k, stem string) bool {
	j := len(stem)
	for i := len(k) - 1; i >= 0 && j > 0; i-- {
		c := k[i]
		if isKeySep(c) {
			continue
		}
		if c|0x20 != stem[j-1] || !isLetterByte(c) {
			return false
		}
		j--
	}
	return j == 0
}

// drupalSessionKey reports whether k is a Drupal session cookie name:
// SESS or SSESS and 32 small hex digits.
func drupalSessionKey(k string) bool {
	h, ok := strings.CutPrefix(k, "SSESS")
	if !ok {
		if h, ok = strings.CutPrefix(k, "SESS"); !ok {
			return false
		}
	}
	if len(h) != 32 {
		return false
	}
	for i := range len(h) {
		if c := h[i]; !isDigitByte(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether s starts with prefix, in any case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isKeySep(c byte) bool     { return c == '_' || c == '-' || c == '.' || c == ' ' }
func isDigitByte(c byte) bool  { return c >= '0' && c <= '9' }
func isUpperByte(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isLetterByte(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// mark returns the fingerprint marker of s.
func (f *fingerprinter) mark(s string) string {
	var h hash.Hash
	if f.key != nil {
		h = hmac.New(sha256.New, f.key)
	} else {
		h = sha256.New()
	}
	h.Write([]byte(s))
	var sum [sha256.Size]byte
	return "[REDACTED:fp-" + hex.EncodeToString(h.Sum(sum[:0])[:8]) + "]"
}

// secretAttr is the attr that replaces the value v of a secret key (raw
// as given, key as written): its fingerprint when the fingerprinter takes
// it and v has a text form (see fingerprintText), otherwise [REDACTED].
// Each is counted under "key".
func (m *attrMapper) secretAttr(key, raw string, v slog.Value) slog.Attr {
	if m.fp.on(raw) {
		if s, ok := fingerprintText(v); ok {
			countRedaction("key")
			return slog.String(key, m.fp.mark(s))
		}
	}
	return redacted(key)
}

// secretField is secretAttr for a struct field or map entry the walk
// found under a secret key.
func (m *attrMapper) secretField(key, raw string, v reflect.Value) slog.Attr {
	switch {
	case !v.IsValid() || !m.fp.on(raw):
	case v.CanInterface():
		return m.secretAttr(key, raw, slog.AnyValue(v.Interface()))
	case v.Kind() == reflect.String:
		return m.secretAttr(key, raw, slog.StringValue(v.String()))
	}
	return redacted(key)
}

// fingerprintText is the text a secret value is fingerprinted by, the
// same for a typed id as for the equal string, so that a session id
// logged as a uuid.UUID on one record and as its string on the next
// gives one fingerprint: a string as it is; a number, bool, duration or
// time as slog writes it (numbers in decimal); a LogValuer by what it
// resolves to; a value of kind Any by its MarshalText, else its String
// method, a []byte as a string, and a named string or integer type by its
// value (through pointers). A group, a nil, an error, any other value, or
// a method that panics or fails has none: such a value is written
// [REDACTED].
func fingerprintText(v slog.Value) (s string, ok bool) {
	switch v.Kind() {
	case slog.KindGroup:
		return "", false
	case slog.KindLogValuer:
		v = v.Resolve() // a panic in LogValue resolves to an error: no text
		if k := v.Kind(); k == slog.KindGroup || k == slog.KindLogValuer {
			return "", false
		}
	}
	if v.Kind() != slog.KindAny {
		return v.String(), true
	}
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	return anyText(v.Any())
}

// maxTextDerefs bounds the pointers anyText follows.
const maxTextDerefs = 4

// anyText is fingerprintText for a value of kind Any.
func anyText(x any) (string, bool) {
	for range maxTextDerefs {
		switch t := x.(type) {
		case nil, error:
			return "", false
		case encoding.TextMarshaler:
			b, err := t.MarshalText()
			return string(b), err == nil
		case fmt.Stringer:
			return t.String(), true
		case []byte:
			return string(t), true
		}
		rv := reflect.ValueOf(x)
		switch rv.Kind() {
		case reflect.String:
			return rv.String(), true
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return strconv.FormatInt(rv.Int(), 10), true
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			return strconv.FormatUint(rv.Uint(), 10), true
		case reflect.Pointer:
			if rv.IsNil() || !rv.Elem().CanInterface() {
				return "", false
			}
			x = rv.Elem().Interface()
			continue
		}
		return "", false
	}
	return "", false
}

// fingerprinter is c's fingerprinter.
func (c *config) fingerprinter() fingerprinter {
	return fingerprinter{mode: c.fingerprint, key: c.fingerprintKey}
}

// setFingerprint sets the mode from its name.
func (c *config) setFingerprint(v string) error {
	switch f := Fingerprint(strings.ToLower(strings.TrimSpace(v))); f {
	case FingerprintSessions, FingerprintAll, FingerprintOff:
		c.fingerprint = f
		return nil
	}
	return errors.New("want sessions, all or off")
}

// setFingerprintKey reads the fingerprint key from the file at path: a
// regular file (opened without blocking) of 16 bytes to 4 KiB, one final
// newline trimmed.
func (c *config) setFingerprintKey(path string) error {
	k, err := securefile.ReadSecret(path, maxFingerprintKey)
	if err != nil {
		return err
	}
	if len(k) < minFingerprintKey {
		return fmt.Errorf("the key must be at least %d bytes", minFingerprintKey)
	}
	c.fingerprintKey = []byte(k)
	return nil
}

// checkFingerprint refuses FingerprintAll without a key.
func (c *config) checkFingerprint() error {
	if c.fingerprint == FingerprintAll && c.fingerprintKey == nil {
		return &ConfigError{Name: EnvPrefix + "FINGERPRINT", Value: string(FingerprintAll),
			Err: errors.New("fingerprinting every secret needs a key (CODOMYRMEX_LOG_FINGERPRINT_KEY_FILE): a hash without one can be looked up in a dictionary")}
	}
	return nil
}

// WithFingerprint says which key-redacted values are written as
// fingerprints (CODOMYRMEX_LOG_FINGERPRINT; see [Fingerprint]). Wrap and
// NewRedactingHandler take it too.
func WithFingerprint(f Fingerprint) Option {
	return option("WithFingerprint", byWrap|byRedacting, func(c *config) error {
		return optErr("WithFingerprint", string(f), c.setFingerprint(string(f)))
	})
}

// WithFingerprintKeyFile keys fingerprints with the content of the file at
// path (CODOMYRMEX_LOG_FINGERPRINT_KEY_FILE): HMAC-SHA256 instead of
// SHA-256. The file must be a regular file of 16 bytes to 4 KiB (one final
// newline is trimmed); `head -c 32 /dev/urandom | xxd -p -c 64 > key`
// makes one. Keep the same key across processes for the fingerprints to
// match. Wrap and NewRedactingHandler take it too.
func WithFingerprintKeyFile(path string) Option {
	return option("WithFingerprintKeyFile", byWrap|byRedacting, func(c *config) error {
		return optErr("WithFingerprintKeyFile", path, c.setFingerprintKey(path))
	})
}
