package securefile

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// watchdog is how long a read may take before the test fails: a read that
// blocks never returns, and a passing test never comes near it.
const watchdog = 10 * time.Second

// readWithin reads path as ReadSecret does, failing the test if the read
// has not returned within the watchdog.
func readWithin(t *testing.T, path string, max int64) (string, error) {
	t.Helper()
	type result struct {
		s   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := ReadSecret(path, max)
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		return r.s, r.err
	case <-time.After(watchdog):
		t.Fatalf("ReadSecret(%s) did not return within %v", path, watchdog)
		return "", nil
	}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestReadSecretTrimsOneFinalNewline(t *testing.T) {
	secret := "s3" + "cr3t"
	for _, tc := range []struct{ name, content, want string }{
		{"lf", secret + "\n", secret},
		{"crlf", secret + "\r\n", secret},
		{"none", secret, secret},
		{"two-lf", secret + "\n\n", secret + "\n"},
		{"lone-cr", secret + "\r", secret + "\r"},
		{"only-lf", "\n", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readWithin(t, write(t, "secret", tc.content), 64)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// Anything but a regular file is refused at once, before a byte is read:
// the open of a FIFO without a writer does not block, /dev/zero is not read
// for ever.
func TestReadSecretRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, tc := range []struct{ name, path, kind string }{
		{"fifo", fifo, "named pipe"},
		{"dev-zero", "/dev/zero", "device"},
		{"directory", dir, "directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Lstat(tc.path); err != nil {
				t.Skipf("no %s here: %v", tc.path, err)
			}
			_, err := readWithin(t, tc.path, 1<<20)
			require.ErrorIs(t, err, ErrNotRegular)
			assert.ErrorContains(t, err, tc.kind)
			assert.ErrorContains(t, err, tc.path)
		})
	}
	t.Run("socket", func(t *testing.T) {
		// A short relative path: a socket's path is limited to about 100 bytes.
		t.Chdir(dir)
		l, err := net.Listen("unix", "sock")
		if err != nil {
			t.Skipf("no unix socket here: %v", err)
		}
		defer l.Close()
		_, err = readWithin(t, "sock", 1<<20)
		assert.Error(t, err, "open refuses a socket (ENXIO), or fstat shows it is not a regular file")
	})
}

func TestReadSecretRefusesALargerFile(t *testing.T) {
	const max = 64
	content := "tok-" + strings.Repeat("9f8e", max/4) // max+4 bytes
	_, err := readWithin(t, write(t, "big", content), max)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorContains(t, err, strconv.Itoa(max), "the error says the limit")
	assert.NotContains(t, err.Error(), "9f8e", "never the content")

	got, err := readWithin(t, write(t, "exact", content[:max]), max)
	require.NoError(t, err, "a file of exactly the limit is read")
	assert.Equal(t, content[:max], got)

	_, err = readWithin(t, write(t, "one", "x"), -1)
	assert.Error(t, err, "a negative limit")
}

// A file whose size fstat does not know (those of /proc say 0) is still
// read up to the limit, and no further.
func TestReadFileOfUnknownSize(t *testing.T) {
	const path = "/proc/self/status"
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Skipf("no %s of size 0 here", path)
	}
	b, err := ReadFile(path, 1<<20)
	require.NoError(t, err)
	assert.Contains(t, string(b), "Name:")
	_, err = ReadFile(path, 8)
	assert.ErrorIs(t, err, ErrTooLarge)
}

// Symbolic links are followed, as Kubernetes mounts secrets through them
// (name -> ..data/name -> ..2026_01_01/name).
func TestReadSecretFollowsSymlinks(t *testing.T) {
	target := write(t, "target", "tok-"+"9f8e\n")
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(target, link))
	got, err := readWithin(t, link, 64)
	require.NoError(t, err)
	assert.Equal(t, "tok-"+"9f8e", got)

	_, err = readWithin(t, filepath.Join(t.TempDir(), "missing"), 64)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestCheckOwned(t *testing.T) {
	stat := func(path string) os.FileInfo {
		fi, err := os.Lstat(path)
		require.NoError(t, err)
		return fi
	}
	path := write(t, "log", "")
	assert.NoError(t, CheckOwned(stat(path)), "a file of one link owned by this user")

	t.Run("hard-linked", func(t *testing.T) {
		path := write(t, "log", "")
		require.NoError(t, os.Link(path, path+".other"))
		err := CheckOwned(stat(path))
		require.ErrorIs(t, err, ErrHardLinked)
		assert.ErrorContains(t, err, "(2)")
	})
	t.Run("owned-by-another", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("only root can give a file away")
		}
		path := write(t, "log", "")
		const nobody = 65534
		require.NoError(t, os.Chown(path, nobody, nobody))
		err := CheckOwned(stat(path))
		require.ErrorIs(t, err, ErrNotOwned)
		assert.ErrorContains(t, err, "uid "+strconv.Itoa(nobody))
	})
	t.Run("no-stat", func(t *testing.T) {
		assert.Error(t, CheckOwned(fakeInfo{}))
	})
}

// fakeInfo is a FileInfo without a syscall.Stat_t.
type fakeInfo struct{ fs.FileInfo }

func (fakeInfo) Name() string { return "fake" }
func (fakeInfo) Sys() any     { return nil }
