package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging"
)

// writeLog writes a sealed log with the package and returns the key file
// and the log file.
func writeLog(t *testing.T) (key, path string) {
	dir := t.TempDir()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	key = filepath.Join(dir, "log.key")
	require.NoError(t, os.WriteFile(key, []byte(hex.EncodeToString(k)), 0o600))
	path = filepath.Join(dir, "app.log")
	t.Setenv("CODOMYRMEX_LOG_CONSOLE", "none")
	require.NoError(t, logging.Setup(logging.WithFile(path), logging.WithIntegrityKeyFile(key)))
	for i := range 10 {
		logging.Logger("t").Info("record", "i", i)
	}
	require.NoError(t, logging.Close())
	return key, path
}

func TestLogverify(t *testing.T) {
	key, path := writeLog(t)
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"-key-file", key, path}, &out, &errb), errb.String())
	assert.Regexp(t, `^ok: 12 records, 1 files, 2 epochs, 1 chains \(file chain\)\n$`, out.String())

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, bytes.Replace(b, []byte("i=4"), []byte("i=5"), 1), 0o600))
	out.Reset()
	require.Equal(t, 1, run([]string{"-key-file", key, path}, &out, &errb))
	first, _, _ := strings.Cut(out.String(), "\n")
	assert.Equal(t, path+":6: modified: its MAC does not verify", first)

	out.Reset()
	require.Equal(t, 1, run([]string{path, "-key-file", key}, &out, &errb), "flags after the file names")
	first, _, _ = strings.Cut(out.String(), "\n")
	assert.Equal(t, path+":6: modified: its MAC does not verify", first)
	out.Reset()
	assert.Equal(t, 2, run([]string{"-key-file", key, "--", "-checkpoints"}, &out, &errb), "after --, a file name")
	assert.Contains(t, errb.String(), "-checkpoints")

	out.Reset()
	assert.Equal(t, 2, run([]string{path}, &out, &errb), "no key file")
	assert.Equal(t, 2, run([]string{"-key-file", filepath.Join(t.TempDir(), "none"), path}, &out, &errb))
}
