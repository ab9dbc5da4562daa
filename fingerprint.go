package logging

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"strings"

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
	// JSESSIONID, …); other secrets stay [REDACTED]. The default: session
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
// "sessid" in any case.
func sessionKey(k string) bool {
	l := strings.ToLower(k)
	return strings.Contains(l, "session") || strings.Contains(l, "sessid")
}

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
// it and v is text or a scalar, otherwise [REDACTED]. Each is counted
// under "key".
func (m *attrMapper) secretAttr(key, raw string, v slog.Value) slog.Attr {
	if m.fp.on(raw) {
		switch v.Kind() {
		case slog.KindGroup, slog.KindAny, slog.KindLogValuer:
		default:
			countRedaction("key")
			return slog.String(key, m.fp.mark(v.String()))
		}
	}
	return redacted(key)
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
