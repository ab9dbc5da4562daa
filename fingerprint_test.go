package logging

import (
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
