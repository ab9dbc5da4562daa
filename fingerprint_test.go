package logging

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

var fpMarker = regexp.MustCompile(`\[REDACTED:fp-[0-9a-f]{16}\]`)

// Session ids correlate without leaking: ContextWithSessionID and any
// attr whose key names a session are written as the same fingerprint on
// every record, in every chain (and process: the fingerprint is a pure
// function of the id and the key), never raw and never a bare [REDACTED].
func TestSessionFingerprints(t *testing.T) {
	sid := redacttest.Gen(redacttest.AlnumChars, 24)
	other := redacttest.Gen(redacttest.AlnumChars, 24)
	buf := setup(t, WithOutputType(OutputJSON))
	ctx := ContextWithSessionID(t.Context(), sid)
	Logger("web").InfoContext(ctx, "login")
	Logger("web").Info("page", "sessionId", sid)
	Logger("web").Info("cookie", "JSESSIONID", sid, "session_token", other)
	out := buf.String()
	assert.NotContains(t, out, sid)
	assert.NotContains(t, out, other)
	want := (&fingerprinter{mode: FingerprintSessions}).mark(sid)
	assert.Equal(t, 3, strings.Count(out, want), out)
	assert.Contains(t, out, (&fingerprinter{mode: FingerprintSessions}).mark(other))
	assert.NotEqual(t, want, (&fingerprinter{mode: FingerprintSessions}).mark(other))

	buf = setup(t, WithOutputType(OutputJSON)) // a new chain, as after a restart
	Logger("web").InfoContext(ctx, "again")
	assert.Contains(t, buf.String(), want, "stable across chains")

	buf = setup(t, WithOutputType(OutputJSON))
	Logger("web").Info("m", "password", sid)
	assert.Contains(t, buf.String(), `"password":"[REDACTED]"`, "other secrets stay blank by default")
}

// With a key, every key-redacted value can be fingerprinted, so that the
// use of a leaked key can be traced; without a key that is refused (a
// dictionary would undo a plain hash of a password). The key changes the
// fingerprints.
func TestFingerprintAllNeedsAKey(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "fp.key")
	require.NoError(t, os.WriteFile(keyFile, []byte(redacttest.Gen(redacttest.HexChars, 64)+"\n"), 0o600))
	pw := redacttest.Gen(redacttest.AlnumChars, 12)

	err := Setup(WithConsole(&syncBuffer{}), WithFingerprint(FingerprintAll))
	t.Cleanup(func() { _ = Close() })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FINGERPRINT_KEY_FILE")

	buf := setup(t, WithOutputType(OutputJSON), WithFingerprint(FingerprintAll), WithFingerprintKeyFile(keyFile))
	Logger("a").Info("m", "password", pw, "api_key", pw)
	out := buf.String()
	assert.NotContains(t, out, pw)
	assert.Equal(t, 2, len(fpMarker.FindAllString(out, -1)), out)
	assert.NotContains(t, out, (&fingerprinter{mode: FingerprintAll}).mark(pw), "keyed, not a plain hash")

	t.Setenv(EnvPrefix+"FINGERPRINT_KEY_FILE", filepath.Join(dir, "short"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "short"), []byte("abc"), 0o600))
	err = Setup(WithConsole(&syncBuffer{}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "at least 16 bytes")
}

// sha256Mark is the fingerprint of s without a key, computed here from its
// definition (the first 64 bits of SHA-256, in hex), not by the package.
func sha256Mark(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "[REDACTED:fp-" + hex.EncodeToString(sum[:8]) + "]"
}

// testUUID is shaped like github.com/google/uuid.UUID: an array with a
// String method on the value, and MarshalText.
type testUUID [16]byte

func (u testUUID) String() string {
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (u testUUID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// testStringer is a session id with only a String method.
type testStringer struct{ id string }

func (s testStringer) String() string { return s.id }

// testTextID is a session id with only MarshalText.
type testTextID struct{ id string }

func (s testTextID) MarshalText() ([]byte, error) { return []byte(s.id), nil }

// testNamedID and testNamedNum are session ids of named basic types.
type (
	testNamedID  string
	testNamedNum uint32
)

// testIDValuer resolves to its id.
type testIDValuer struct{ id string }

func (v testIDValuer) LogValue() slog.Value { return slog.StringValue(v.id) }

// testPanicID panics when formatted.
type testPanicID struct{}

func (testPanicID) String() string { panic("no") }

// A session id of any type with a text form is fingerprinted by that text,
// the same fingerprint as the equal string: typed ids (uuid.UUID, a
// Stringer, a TextMarshaler, []byte, numbers, named string and integer
// types, pointers to them, LogValuers), as attrs and as struct fields and
// map entries, on Setup's encoder and behind Wrap. Values without a text
// form stay [REDACTED], never raw.
func TestSessionFingerprintsOfTypedIDs(t *testing.T) {
	var u testUUID
	_, err := rand.Read(u[:])
	require.NoError(t, err)
	us := u.String()
	str := redacttest.Gen(redacttest.AlnumChars, 24)
	num := uint32(0)
	for _, c := range []byte(redacttest.Gen(redacttest.DigitChars, 8)) {
		num = num*10 + uint32(c-'0')
	}
	numText := fmt.Sprint(num)

	cases := []struct {
		name string
		v    any
		text string // the string the fingerprint must equal that of
	}{
		{"uuid", u, us},
		{"uuid pointer", &u, us},
		{"stringer", testStringer{str}, str},
		{"text marshaler", testTextID{str}, str},
		{"bytes", []byte(str), str},
		{"named string", testNamedID(str), str},
		{"int", int(num), numText},
		{"int64", int64(num), numText},
		{"named uint", testNamedNum(num), numText},
		{"log valuer", testIDValuer{str}, str},
	}
	type carrier struct {
		SessionID any `json:"session_id"`
	}
	for _, tc := range cases {
		want := sha256Mark(tc.text)
		require.Equal(t, (&fingerprinter{mode: FingerprintSessions}).mark(tc.text), want)
		t.Run(tc.name, func(t *testing.T) {
			buf := setup(t, WithOutputType(OutputJSON))
			Logger("web").Info("a", "SessionID", tc.v)
			Logger("web").Info("b", "session_id", tc.text)
			Logger("web").Info("c", "req", carrier{tc.v}, "m", map[string]any{"sessionId": tc.v})
			out := buf.String()
			assert.Equal(t, 4, strings.Count(out, want), out)
			assert.NotContains(t, out, `"[REDACTED]"`)
			assert.NotContains(t, out, tc.text)

			var b bytes.Buffer
			slog.New(Wrap(slog.NewTextHandler(&b, nil))).Info("d", "SessionID", tc.v, "req", carrier{tc.v})
			assert.Equal(t, 2, strings.Count(b.String(), want), b.String())
			assert.NotContains(t, b.String(), tc.text)
		})
	}

	buf := setup(t, WithOutputType(OutputJSON))
	Logger("web").Info("none", "session_id", testPanicID{}, "sessid", (*testUUID)(nil),
		"session_token", errors.New(str), "session_cookie", slog.GroupValue(slog.String("v", str)))
	out := buf.String()
	assert.NotContains(t, out, str)
	assert.Equal(t, 4, strings.Count(out, `"[REDACTED]"`), out)
	assert.NotRegexp(t, fpMarker, out)
}

// The session cookie and key names of the common frameworks are secret and
// written as fingerprints, also those the default stems miss (sid, sess,
// session_key, ASPSESSIONID…, Drupal's SESS…, sess_id); words that only
// contain the letters (side, consider, residue, ssid) stay as they are.
func TestSessionKeyNames(t *testing.T) {
	id := redacttest.Gen(redacttest.AlnumChars, 24)
	want := sha256Mark(id)
	drupal := "SESS" + redacttest.Gen(redacttest.HexChars, 32)
	sessions := []string{
		"sid", "SID", "connect.sid", "sails.sid", "userSid", "sid2", "koa.sess", "koa:sess",
		"sess_id", "Sess-Id", "session_key", "sessionKey", "sess_key", "session_uuid",
		"PHPSESSID", "JSESSIONID", "ASP.NET_SessionId", "laravel_session", "ci_session",
		"ASPSESSIONID" + redacttest.Gen(redacttest.UpperChars, 8), drupal, "S" + drupal,
		"session_id", "sessionid", "sessid", "session",
	}
	for _, k := range sessions {
		t.Run(k, func(t *testing.T) {
			assert.True(t, IsSecretKey(k))
			buf := setup(t, WithOutputType(OutputJSON))
			Logger("web").Info("m", k, id)
			Logger("web").Info("m", "req", map[string]string{k: id})
			out := buf.String()
			assert.NotContains(t, out, id)
			assert.Equal(t, 2, strings.Count(out, want), out)
		})
	}

	benign := []string{"side", "consider", "residue", "inside", "ssid", "SSID", "sidebar", "sids",
		"sid_count", "Sidney", "obsess", "assess", "sessions", "session_keys", "PHPSID", "SESS" + id}
	buf := setup(t, WithOutputType(OutputJSON))
	for _, k := range benign {
		assert.False(t, IsSecretKey(k), k)
		Logger("web").Info("m", k, id)
	}
	assert.Equal(t, len(benign), strings.Count(buf.String(), `":"`+id+`"`), buf.String())

	buf = setup(t, WithOutputType(OutputJSON), WithRedactAllowKeys("ORACLE_SID"))
	Logger("db").Info("m", "ORACLE_SID", id, "sid", id)
	out := buf.String()
	assert.Contains(t, out, `"ORACLE_SID":"`+id+`"`, "allowed back")
	assert.Contains(t, out, `"sid":"`+want+`"`)
}
