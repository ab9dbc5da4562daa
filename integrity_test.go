package logging

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// newKeyFile writes a fresh random key (hex) to a 0600 file.
func newKeyFile(t testing.TB, dir string) string {
	t.Helper()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	path := filepath.Join(dir, "log.key")
	require.NoError(t, os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600))
	require.NoError(t, os.Chmod(path, 0o600))
	return path
}

// logFiles returns the log file at path and its backups.
func logFiles(t testing.TB, path string) []string {
	t.Helper()
	names, err := backups(path)
	require.NoError(t, err)
	out := []string{}
	for _, n := range names {
		out = append(out, filepath.Join(filepath.Dir(path), n))
	}
	if _, err := os.Stat(path); err == nil {
		out = append(out, path)
	}
	return out
}

func problems(r *IntegrityReport) string {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func TestIntegritySmoke(t *testing.T) {
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run(out.String(), func(t *testing.T) {
			dir := t.TempDir()
			key := newKeyFile(t, dir)
			path := filepath.Join(dir, "app.log")
			setup(t, WithFile(path), WithOutputType(out), WithIntegrityKeyFile(key), withClock(newFakeClock()))
			for i := range 20 {
				Logger("t").Info("hello", "i", i)
			}
			require.NoError(t, Close())
			b, _ := os.ReadFile(path)
			t.Logf("%s", b)
			rep, err := VerifyLogFiles(key, logFiles(t, path))
			require.NoError(t, err)
			require.True(t, rep.OK(), problems(rep))
			t.Log(rep.Summary())
		})
	}
}
