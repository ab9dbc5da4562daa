package securefile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ReadPrivate refuses a symlink, a mode looser than 0600 and a large file,
// and reads a 0600 or 0400 file.
func TestReadPrivate(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode, size int) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, make([]byte, size), 0o600))
		require.NoError(t, os.Chmod(p, mode))
		return p
	}
	ok := write("ok", 0o600, 32)
	b, err := ReadPrivate(ok, 64)
	require.NoError(t, err)
	assert.Len(t, b, 32)
	_, err = ReadPrivate(write("ro", 0o400, 32), 64)
	require.NoError(t, err)

	for _, mode := range []os.FileMode{0o640, 0o604, 0o660, 0o700, 0o666} {
		_, err := ReadPrivate(write("loose", mode, 32), 64)
		require.ErrorIs(t, err, ErrLooseMode, "%#o", mode)
		assert.Contains(t, err.Error(), "want 0600 or stricter")
	}
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(ok, link))
	_, err = ReadPrivate(link, 64)
	require.ErrorIs(t, err, ErrSymlink)
	_, err = ReadPrivate(write("big", 0o600, 100), 64)
	require.ErrorIs(t, err, ErrTooLarge)
	_, err = ReadPrivate(dir, 64)
	require.ErrorIs(t, err, ErrNotRegular)
}
