package logging

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/codomyrmex/logging/loki"
	"github.com/codomyrmex/logging/loki/lokitest"
)

// lumberjack's compression goroutine outlives Close (lumberjack v2.2.1 has no
// way to stop it); it holds no file and is the only goroutine allowed to stay.
var ignoreLumberjack = goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun")

func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	require.NoError(t, err)
	return st.Mode().Perm()
}

func TestFileModesUnderUmask(t *testing.T) {
	for _, mask := range []int{0, 0o022, 0o077} {
		t.Run(fmt.Sprintf("%04o", mask), func(t *testing.T) {
			withUmask(t, mask)
			root := t.TempDir()
			dir := filepath.Join(root, "a", "b")
			path := filepath.Join(dir, "app.log")
			setup(t, WithFile(path), WithRotation(Rotation{MaxSizeMB: 1, MaxBackups: 0, MaxAgeDays: 0, Compress: true}))
			for range 40 { // 40 × 60 KB: several rotations, backups compressed
				Logger("m").Info(strings.Repeat("x", 60000))
			}
			sinks := fileSinks(load())
			require.NoError(t, Close())
			waitCompression(sinks)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			gz := 0
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".gz") {
					gz++
				} else {
					assert.Equal(t, "app.log", e.Name(), "every backup compressed when Close returns")
				}
			}
			assert.GreaterOrEqual(t, gz, 2)
			for _, e := range entries {
				assert.Equal(t, os.FileMode(0o600), mode(t, filepath.Join(dir, e.Name())), e.Name())
			}
			assert.Equal(t, os.FileMode(0o700), mode(t, filepath.Join(root, "a")))
			assert.Equal(t, os.FileMode(0o700), mode(t, dir))
		})
	}
}

func TestExistingFileTightened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	require.NoError(t, os.WriteFile(path, []byte("old line\n"), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	buf := setup(t, WithFile(path), WithOutputType(OutputJSON))
	Logger("m").Info("new line")
	require.NoError(t, Close())
	assert.Equal(t, os.FileMode(0o600), mode(t, path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "old line\n"), "existing content kept")
	assert.Contains(t, string(data), "new line")
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, 2)
	assert.Equal(t, "WARN", lines[0]["level"])
	assert.Contains(t, lines[0]["msg"], "tightened to 0600")
}

func TestSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("precious\n"), 0o644))
	for name, dest := range map[string]string{"existing": target, "dangling": filepath.Join(dir, "nowhere"),
		"security existing": target, "security dangling": filepath.Join(dir, "nowhere")} {
		t.Run(name, func(t *testing.T) {
			link := filepath.Join(dir, "link-"+strings.ReplaceAll(name, " ", "-")+".log")
			require.NoError(t, os.Symlink(dest, link))
			buf := &syncBuffer{}
			opt := WithFile(link)
			if strings.HasPrefix(name, "security") {
				opt = WithSecurityFile(link) // the security file has the same checks
			}
			err := Setup(WithConsole(buf), opt)
			t.Cleanup(func() { _ = Close() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), "symlink")
			assert.Contains(t, err.Error(), link)
			assert.ErrorIs(t, err, ErrSymlink)
			Logger("s").Info("console still works")
			assert.Contains(t, buf.String(), "console still works")
			data, err := os.ReadFile(target)
			require.NoError(t, err)
			assert.Equal(t, "precious\n", string(data))
			assert.Equal(t, os.FileMode(0o644), mode(t, target))
			_, err = os.Stat(filepath.Join(dir, "nowhere"))
			assert.True(t, errors.Is(err, os.ErrNotExist), "dangling target not created")
		})
	}
}

func TestSymlinkPlantedBeforeRotationRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("precious\n"), 0o600))
	var errs atomic.Int64
	setup(t, WithFile(path), WithRotation(Rotation{MaxSizeMB: 1, MaxBackups: 0, MaxAgeDays: 0, Compress: false}), WithErrorHandler(func(error) { errs.Add(1) }))
	l := Logger("r")
	l.Info("first")
	// An attacker swaps the file for a link; the next rotation must not follow it.
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.Symlink(target, path))
	big := strings.Repeat("x", 600<<10)
	l.Info(big[:60000])
	for range 20 {
		l.Info("fill", "v", big[:60000])
	}
	Flush()
	data, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "precious\n", string(data))
	assert.Greater(t, errs.Load(), int64(0), "refusals reported")
}

func TestPermissionDeniedAtSetup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locked")
	require.NoError(t, os.Mkdir(dir, 0o700))
	path := filepath.Join(dir, "app.log")
	var err error
	buf := &syncBuffer{}
	asUnprivileged(t, dir, func() {
		err = Setup(WithConsole(buf), WithFile(path))
	})
	t.Cleanup(func() { _ = Close() })
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.Contains(t, err.Error(), "CODOMYRMEX_LOG_FILE")
	Logger("p").Info("console still works")
	assert.Contains(t, buf.String(), "console still works")
}

// asUnprivileged runs f so that dir is not writable for it: as root, on a
// locked OS thread whose filesystem uid is "nobody" (which also drops the
// capabilities that bypass file permissions); otherwise with dir made 0500.
func asUnprivileged(t *testing.T, dir string, f func()) {
	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(dir, 0o500))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		f()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETFSUID, 65534, 0, 0); e != 0 {
			t.Errorf("setfsuid: %v", e)
			return
		}
		f()
	}()
	<-done
}

// countingWriter counts the Write calls it passes on to w.
type countingWriter struct {
	w     io.Writer
	calls atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.calls.Add(1)
	return c.w.Write(p)
}

// failingWriter fails with err while fail is set.
type failingWriter struct {
	fail atomic.Bool
	err  error
	buf  syncBuffer
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.fail.Load() {
		return 0, w.err
	}
	return w.buf.Write(p)
}

func TestDiskFullDevFull(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("/dev/full not available")
	}
	defer full.Close()
	var seen []error
	var mu sync.Mutex
	console := &syncBuffer{}
	before := Stats().WriteErrors
	disk := &countingWriter{w: full}
	setup(t, WithConsole(console), WithSink("disk", disk), WithErrorHandler(func(e error) {
		mu.Lock()
		seen = append(seen, e)
		mu.Unlock()
	}))
	for i := range 100 {
		Logger("d").Info("record", "i", i)
	}
	assert.Equal(t, int64(100), disk.calls.Load(), "one attempt per record: a full disk is never retried in the caller")
	assert.Equal(t, before+100, Stats().WriteErrors)
	require.Len(t, seen, 100)
	assert.ErrorIs(t, seen[0], syscall.ENOSPC)
	out := console.String()
	assert.Equal(t, 1, strings.Count(out, "no space left on device"), "first failure reported once:\n%s", out)
	assert.Equal(t, 100, strings.Count(out, "INFO - record"), "console lost nothing")
}

func TestSinkRecovers(t *testing.T) {
	w := &failingWriter{err: syscall.ENOSPC}
	console := &syncBuffer{}
	setup(t, WithConsole(console), WithSink("disk", w))
	w.fail.Store(true)
	for range 5 {
		Logger("d").Info("lost on disk")
	}
	w.fail.Store(false)
	Logger("d").Info("back")
	assert.Contains(t, console.String(), "disk sink recovered after 5 lost records")
	assert.Contains(t, w.buf.String(), "back")
}

func TestDirectoryRemovedWhileRunning(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "logs")
	path := filepath.Join(dir, "app.log")
	console := &syncBuffer{}
	clk := newFakeClock()
	setup(t, WithConsole(console), WithFile(path), withClock(clk))
	l := Logger("d")
	l.Info("before")
	Flush()
	require.NoError(t, os.RemoveAll(dir))
	// Block the directory from coming back: a file where it was.
	require.NoError(t, os.WriteFile(dir, nil, 0o600))
	clk.Advance(checkInterval) // the next write checks the path
	failed := Stats().WriteErrors
	for range 3 {
		l.Info("during")
	}
	Flush()
	assert.Equal(t, failed+3, Stats().WriteErrors, "each lost record counted once")
	assert.Equal(t, 1, strings.Count(console.String(), "file sink:"), "the first failure reported, the others counted: %s", console.String())
	require.NoError(t, os.Remove(dir))
	clk.Advance(checkInterval)
	l.Info("after")
	Flush()
	data, err := os.ReadFile(path)
	require.NoError(t, err, "file recreated when the fault cleared")
	assert.Contains(t, string(data), "after")
	assert.Equal(t, os.FileMode(0o700), mode(t, dir))
	assert.Equal(t, os.FileMode(0o600), mode(t, path))
	assert.Contains(t, console.String(), "file sink recovered after 3 lost records")
}

func TestExternalRotationReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	setup(t, WithFile(path))
	l := Logger("r")
	l.Info("one")
	require.NoError(t, os.Rename(path, path+".1")) // what logrotate does
	require.NoError(t, Reopen())
	l.Info("two")
	require.NoError(t, Close())
	old, _ := os.ReadFile(path + ".1")
	cur, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(old), "one")
	assert.Contains(t, string(cur), "two")
	assert.NotContains(t, string(cur), "one")
	assert.Equal(t, os.FileMode(0o600), mode(t, path))
}

func TestReopenOnSIGHUP(t *testing.T) {
	defer goleak.VerifyNone(t, ignoreLumberjack, goleak.IgnoreCurrent())
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	setup(t, WithFile(path), WithReopenOnSIGHUP())
	l := Logger("r")
	l.Info("one")
	require.NoError(t, os.Rename(path, path+".1"))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool { _, err := os.Stat(path); return err == nil }, 10*time.Second, 5*time.Millisecond)
	l.Info("two")
	require.NoError(t, Close())
	cur, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(cur), "two")
}

func TestCloseLeaksNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, ignoreLumberjack, goleak.IgnoreCurrent())
	path := filepath.Join(t.TempDir(), "app.log")
	require.NoError(t, Setup(WithConsole(io.Discard), WithFile(path), WithRotation(Rotation{MaxSizeMB: 1, MaxBackups: 0, MaxAgeDays: 0, Compress: true}), WithReopenOnSIGHUP()))
	for range 20 {
		Logger("g").Info(strings.Repeat("y", 60000))
	}
	sinks := fileSinks(load())
	require.NoError(t, Close())
	waitCompression(sinks)
}

// waitCompression waits for the compression that the sinks' bounded Close
// may have left running (see fileSink.close).
func waitCompression(sinks []*fileSink) {
	for _, s := range sinks {
		if s.millDone != nil {
			<-s.millDone
		}
	}
}

// readAllRecords reads every JSON line of the current file, the backups and
// the compressed backups in dir.
func readAllRecords(t *testing.T, dir string) (lines []string, files []string) {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		files = append(files, p)
		f, err := os.Open(p)
		require.NoError(t, err)
		var r io.Reader = f
		if strings.HasSuffix(p, ".gz") {
			gz, err := gzip.NewReader(f)
			require.NoError(t, err)
			r = gz
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	return lines, files
}

// TestRotationUnderLoad runs with the processors the machine has and with
// one, where the sink's writer goroutine is descheduled most (a rotation
// that lost its backup to a name clash was found that way).
func TestRotationUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	for _, procs := range []int{runtime.GOMAXPROCS(0), 1} {
		t.Run(fmt.Sprintf("procs=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			rotationUnderLoad(t)
		})
	}
}

func rotationUnderLoad(t *testing.T) {
	withUmask(t, 0o022)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	t.Setenv(EnvPrefix+"MAX_SIZE_MB", "1")
	t.Setenv(EnvPrefix+"MAX_BACKUPS", "0")
	t.Setenv(EnvPrefix+"MAX_AGE_DAYS", "0")
	t.Setenv(EnvPrefix+"COMPRESS", "true")
	require.NoError(t, Setup(WithConsole(io.Discard), WithFile(path), WithOutputType(OutputJSON)))
	const workers, per = 8, 25000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			l := Logger("load")
			for i := range per {
				l.Info("record", "id", fmt.Sprintf("%d-%d", w, i), "pad", "lorem ipsum dolor sit amet")
			}
		})
	}
	wg.Wait()
	fs := fileSinks(load())[0]
	require.NoError(t, Close()) // writes what is queued: rotations are counted after
	waitCompression([]*fileSink{fs})
	fs.mu.Lock()
	rotations := fs.rotations
	fs.mu.Unlock()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries { // every backup compressed
		if e.Name() != "app.log" {
			assert.True(t, strings.HasSuffix(e.Name(), ".gz"), e.Name())
		}
	}
	lines, files := readAllRecords(t, dir)
	assert.Greater(t, len(files), 5, "rotated several times")
	assert.Len(t, files, rotations+1, "one backup per rotation: no backup replaced another")
	seen := make(map[string]bool, workers*per)
	for _, line := range lines {
		var r struct{ ID string } // Unmarshal checks the whole line, then decodes only the id
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.ID == "" {
			require.NoError(t, err, "whole line: %q", line)
			require.NotEmpty(t, r.ID, "line with an id: %q", line)
		}
		if seen[r.ID] {
			require.False(t, seen[r.ID], "duplicate %s", r.ID)
		}
		seen[r.ID] = true
	}
	assert.Len(t, seen, workers*per, "every record present exactly once")
	for _, f := range files {
		assert.Equal(t, os.FileMode(0o600), mode(t, f), f)
	}
}

// writeAndRotate writes "record i" and rotates, n times.
func writeAndRotate(t *testing.T, fs *fileSink, n int) {
	t.Helper()
	for i := range n {
		fs.mu.Lock()
		require.NoError(t, fs.writeLocked(fmt.Appendf(nil, "record %d\n", i)))
		require.NoError(t, fs.rotate())
		fs.mu.Unlock()
	}
}

// Backups are named by the millisecond; rotations within one millisecond
// (the clock stands still here) still give every backup its own name,
// because a name already taken moves the next one a millisecond on.
func TestQuickRotationsKeepEveryBackup(t *testing.T) {
	dir := t.TempDir()
	fs, _, err := openFileSink(filepath.Join(dir, "app.log"), Rotation{MaxSizeMB: 1}, newFakeClock(), func(error, int) {}, func(error) {})
	require.NoError(t, err)
	defer fs.close()
	const n = 20
	writeAndRotate(t, fs, n)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, n+1, "%d backups and the current file", n)
	for i, e := range entries[:n] {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("record %d\n", i), string(b), "backups in order, none replaced: %s", e.Name())
	}
}

// A log path that another name also reaches (a hard link), or a file that
// belongs to another user, is refused at Setup, and that file is left
// exactly as it was: whoever can write to a shared log directory cannot
// aim the service at its own files.
func TestLogFileMustBelongToTheService(t *testing.T) {
	const backup = "app-2026-01-02T03-04-05.000.log"
	hardLink := func(name string) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			other := filepath.Join(dir, "config.yaml")
			require.NoError(t, os.WriteFile(other, []byte("secret: config\n"), 0o644))
			require.NoError(t, os.Chmod(other, 0o644))
			require.NoError(t, os.Link(other, filepath.Join(dir, name)))
			return other
		}
	}
	othersFile := func(name string) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give the file to another user")
			}
			p := filepath.Join(dir, name)
			require.NoError(t, os.WriteFile(p, []byte("theirs\n"), 0o644))
			require.NoError(t, os.Chmod(p, 0o644))
			require.NoError(t, os.Chown(p, 65534, 65534))
			return p
		}
	}
	cases := map[string]struct {
		named string // the file the error names
		plant func(t *testing.T, dir string) string
	}{
		"hard link":              {"app.log", hardLink("app.log")},
		"another user's file":    {"app.log", othersFile("app.log")},
		"backup hard link":       {backup, hardLink(backup)},
		"compressed backup link": {backup + ".gz", hardLink(backup + ".gz")},
		"another user's backup":  {backup, othersFile(backup)},
		"backup that is a symlink": {backup, func(t *testing.T, dir string) string {
			other := filepath.Join(dir, "config.yaml")
			require.NoError(t, os.WriteFile(other, []byte("secret: config\n"), 0o644))
			require.NoError(t, os.Chmod(other, 0o644))
			require.NoError(t, os.Symlink(other, filepath.Join(dir, backup)))
			return other
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			victim := c.plant(t, dir)
			before, err := os.ReadFile(victim)
			require.NoError(t, err)
			buf := &syncBuffer{}
			err = Setup(WithConsole(buf), WithFile(path), WithRotation(Rotation{MaxSizeMB: 1, MaxBackups: 1, Compress: true}))
			t.Cleanup(func() { _ = Close() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), "CODOMYRMEX_LOG_FILE")
			assert.Contains(t, err.Error(), filepath.Join(dir, c.named))
			Logger("f").Info("console still works")
			assert.Contains(t, buf.String(), "console still works")
			require.NoError(t, Close())
			after, err := os.ReadFile(victim)
			require.NoError(t, err)
			assert.Equal(t, string(before), string(after), "content unchanged")
			assert.Equal(t, os.FileMode(0o644), mode(t, victim), "mode unchanged")
		})
	}
}

// A link planted under the name of a backup's compressed copy, between the
// rotation and the compression, is never followed: the file it points to
// keeps its content, the backup stays uncompressed, and the failure is
// reported.
func TestCompressionRefusesPlantedLink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	victim := filepath.Join(dir, "authorized_keys")
	require.NoError(t, os.WriteFile(victim, []byte("ssh-ed25519 AAAA keep-me\n"), 0o600))
	clk := newFakeClock()
	var warned []error
	var mu sync.Mutex
	fs, _, err := openFileSink(path, Rotation{MaxSizeMB: 1}, clk, func(error, int) {}, func(err error) {
		mu.Lock()
		warned = append(warned, err)
		mu.Unlock()
	})
	require.NoError(t, err)
	fs.mu.Lock()
	require.NoError(t, fs.writeLocked([]byte("record 1\n")))
	require.NoError(t, fs.rotate()) // no compression: Compress is off for this sink
	fs.mu.Unlock()
	require.NoError(t, fs.close())
	names, err := backups(path)
	require.NoError(t, err)
	require.Len(t, names, 1)
	src := filepath.Join(dir, names[0])
	require.NoError(t, os.Symlink(victim, src+".gz"))

	err = compressBackups(path)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrExist)
	b, err := os.ReadFile(victim)
	require.NoError(t, err)
	assert.Equal(t, "ssh-ed25519 AAAA keep-me\n", string(b), "the link's target is untouched")
	b, err = os.ReadFile(src)
	require.NoError(t, err)
	assert.Equal(t, "record 1\n", string(b), "the backup is kept")

	// And a backup that is itself a link is not read through.
	require.NoError(t, os.Remove(src+".gz"))
	require.NoError(t, os.Remove(src))
	require.NoError(t, os.Symlink(victim, src))
	err = compressBackups(path)
	require.Error(t, err)
	_, err = os.Lstat(src + ".gz")
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing written from the link's target")
}

// Rotation compresses through the sink's own goroutine, which Close waits
// for: every backup is compressed when Close returns, 0600, and holds what
// was written before its rotation.
func TestRotationCompressesBackups(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	fs, _, err := openFileSink(path, Rotation{MaxSizeMB: 1, Compress: true}, newFakeClock(), func(error, int) {}, func(err error) { t.Error(err) })
	require.NoError(t, err)
	const n = 5
	writeAndRotate(t, fs, n)
	require.NoError(t, fs.close())
	names, err := backups(path)
	require.NoError(t, err)
	require.Len(t, names, n)
	for i, name := range names {
		require.True(t, strings.HasSuffix(name, ".gz"), name)
		p := filepath.Join(dir, name)
		assert.Equal(t, os.FileMode(0o600), mode(t, p))
		f, err := os.Open(p)
		require.NoError(t, err)
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		b, err := io.ReadAll(zr)
		f.Close()
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("record %d\n", i), string(b))
	}
}

// A write cut short (a full disk took part of a batch) leaves half a line;
// the next write ends that line first, so that a reader never sees two
// records on one line.
func TestShortWriteEndsTheLine(t *testing.T) {
	dir := t.TempDir()
	fs, _, err := openFileSink(filepath.Join(dir, "app.log"), Rotation{MaxSizeMB: 1}, newFakeClock(), func(error, int) {}, func(error) {})
	require.NoError(t, err)
	defer fs.close()
	real := fs.write
	short := true
	fs.write = func(b []byte) (int, error) {
		if short {
			short = false
			n, _ := real(b[:len(b)/2])
			return n, syscall.ENOSPC
		}
		return real(b)
	}
	fs.mu.Lock()
	require.ErrorIs(t, fs.writeLocked([]byte("first record, cut by a full disk\n")), syscall.ENOSPC)
	require.NoError(t, fs.writeLocked([]byte("second record\n")))
	fs.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(dir, "app.log"))
	require.NoError(t, err)
	assert.Equal(t, "first record, cu\nsecond record\n", string(b))
}

// A removed log file or directory is noticed at the next write, not a
// second later: the record goes to the file made again (0600 in a 0700
// directory), not to a file nobody can read any more.
func TestRemovalNoticedAtNextWrite(t *testing.T) {
	for _, what := range []string{"file", "directory"} {
		t.Run(what, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "logs")
			path := filepath.Join(dir, "app.log")
			clk := newFakeClock() // stands still: no periodic check comes
			setup(t, WithFile(path), withClock(clk))
			l := Logger("d")
			l.Info("before")
			Flush()
			if what == "file" {
				require.NoError(t, os.Remove(path))
			} else {
				require.NoError(t, os.RemoveAll(dir))
			}
			lost, reopened := Stats().WriteErrors, Stats().FilesReopened
			l.Info("after the removal")
			Flush()
			assert.Equal(t, reopened+1, Stats().FilesReopened, "counted")
			data, err := os.ReadFile(path)
			require.NoError(t, err, "made again at the next write")
			assert.Contains(t, string(data), "after the removal")
			assert.NotContains(t, string(data), "before")
			assert.Equal(t, lost, Stats().WriteErrors, "nothing lost")
			assert.Equal(t, os.FileMode(0o600), mode(t, path))
			assert.Equal(t, os.FileMode(0o700), mode(t, dir))
		})
	}
}

// A disk that fails is reported once per outage, with the count of lost
// records when it ends, and "recovered" only after a record was really
// written: records that wait before their call returns (ERROR) do not each
// print a failure and a recovery.
func TestFileFailureReportedOncePerOutage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	console := setup(t, WithFile(path))
	fs := fileSinks(load())[0]
	fs.mu.Lock()
	real := fs.write
	var failing atomic.Bool
	failing.Store(true)
	fs.write = func(b []byte) (int, error) {
		if failing.Load() {
			return 0, syscall.ENOSPC
		}
		return real(b)
	}
	fs.mu.Unlock()
	before := Stats().WriteErrors
	for i := range 5 {
		Logger("d").Error("failing", "i", i)
		Logger("d").Info("queued", "i", i)
	}
	Flush()
	out := console.String()
	assert.Equal(t, 1, strings.Count(out, "file sink: "), "one report for the outage:\n%s", out)
	assert.NotContains(t, out, "recovered", "nothing was written yet")
	assert.Equal(t, before+10, Stats().WriteErrors, "every lost record counted once")
	failing.Store(false)
	Logger("d").Error("written")
	Flush()
	out = console.String()
	assert.Equal(t, 1, strings.Count(out, "recovered"), out)
	assert.Contains(t, out, "file sink recovered after 10 lost records")
}

// Setup and Close, 300 times with a rotating, compressing file, a
// security file and Loki (issue #23), leave no goroutine (and no
// connection) behind: not even lumberjack's, which cannot be
// stopped; its closed Logger is kept for the next sink on the same file.
// Only the first cycle's goroutine of lumberjack remains.
func TestSetupCloseCyclesWithFileLeaveNoGoroutine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	security := filepath.Join(filepath.Dir(path), "security.log")
	srv := lokitest.NewServer()
	defer srv.Close()
	cycle := func(i int) {
		require.NoError(t, Setup(WithConsole(io.Discard), WithFile(path), WithSecurityFile(security),
			WithLoki(loki.Config{URL: srv.URL, BatchWait: time.Millisecond, SpoolDir: "off"}),
			WithRotation(Rotation{MaxSizeMB: 1, MaxBackups: 2, Compress: true}), WithReopenOnSIGHUP()))
		Logger("cycles").Info("record", "i", i)
		SecurityEvent(context.Background(), Event{Type: ConfigChange, Action: "cycle", Resource: strconv.Itoa(i)})
		require.NoError(t, Close())
	}
	cycle(0) // lumberjack's goroutines for the two files start here, once
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for i := 1; i <= 300; i++ {
		cycle(i)
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, 301, strings.Count(string(data), "cycles"), "every cycle's record is in the file")
	assert.Len(t, srv.KeptLines(), 2*301, "and in Loki, with the security events")
}

// Close waits for a compression in progress for at most closeCompressWait
// on the sink's clock, then returns; the compression goes on, and until
// it ends no .gz exists beside the backup (a process that exits meanwhile
// leaves the backup whole and uncompressed, never a partial .gz).
func TestCloseBoundsTheWaitForCompression(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	backup := filepath.Join(dir, "app-2026-12-01T11-00-00.000.log")
	content := strings.Repeat("left uncompressed by an earlier run\n", 100)
	require.NoError(t, os.WriteFile(backup, []byte(content), 0o600))

	started, release := make(chan struct{}), make(chan struct{})
	compressCopy = func(w io.Writer, r io.Reader) (int64, error) {
		n, err := io.CopyN(w, r, 10) // part of it, then a stuck disk
		close(started)
		<-release
		if err != nil {
			return n, err
		}
		m, err := io.Copy(w, r)
		return n + m, err
	}
	t.Cleanup(func() { compressCopy = io.Copy })
	clk := newFakeClock()
	s, _, err := openFileSink(path, Rotation{MaxSizeMB: 1, Compress: true}, clk, func(error, int) {}, func(err error) { t.Error(err) })
	require.NoError(t, err)
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	<-started

	closed := make(chan error, 1)
	go func() { closed <- s.close() }()
	for clk.Waiting() == 0 { // close is waiting for the compression, on the clock
		runtime.Gosched()
	}
	clk.Advance(closeCompressWait)
	require.NoError(t, <-closed)
	_, err = os.Lstat(backup + ".gz")
	assert.ErrorIs(t, err, os.ErrNotExist, "no .gz while the compression runs")
	assert.Equal(t, content, readFile(t, backup), "the backup whole")

	close(release)
	released = true
	<-s.millDone
	assert.Equal(t, content, gunzipFile(t, backup+".gz"))
	_, err = os.Lstat(backup)
	assert.ErrorIs(t, err, os.ErrNotExist, "removed once compressed")
}

// The partial copy of a compression cut short (the process exited after a
// bounded Close) is removed by the next sink on the file, which compresses
// the backup whole.
func TestInterruptedCompressionRedoneAtStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	backup := filepath.Join(dir, "app-2026-12-01T11-00-00.000.log")
	content := "whole backup\n"
	require.NoError(t, os.WriteFile(backup, []byte(content), 0o600))
	require.NoError(t, os.WriteFile(backup+".gz"+tmpSuffix, []byte("\x1f\x8b partial"), 0o600))

	s, _, err := openFileSink(path, Rotation{MaxSizeMB: 1, Compress: true}, newFakeClock(), func(error, int) {}, func(err error) { t.Error(err) })
	require.NoError(t, err)
	require.NoError(t, s.close())
	<-s.millDone

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"app.log", filepath.Base(backup) + ".gz"}, names)
	assert.Equal(t, content, gunzipFile(t, backup+".gz"))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func gunzipFile(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return string(b)
}

// A log file rotated between prepare's check and lumberjack's open (by
// the sink of the pipeline a new Setup replaces, still writing) is checked
// in turn, and the records go to the file the path names; a path replaced
// at every attempt fails Setup with a clear error.
func TestFileReplacedWhileOpening(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	rotate := func(p string) {
		require.NoError(t, os.Rename(p, p+fmt.Sprint(".", time.Now().UnixNano())))
		require.NoError(t, os.WriteFile(p, nil, FileMode))
	}
	calls := 0
	afterOpen = func(p string) {
		if calls++; calls == 1 {
			rotate(p)
		}
	}
	t.Cleanup(func() { afterOpen = func(string) {} })
	require.NoError(t, Setup(WithFile(path), WithOutputType(OutputJSON), WithConsole(io.Discard)))
	Logger("app").Info("after the rotation")
	require.NoError(t, Close())
	assert.Equal(t, 2, calls, "checked again once")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "after the rotation", "written to the file the path names")

	afterOpen = rotate // replaced every time
	err = Setup(WithFile(path), WithOutputType(OutputJSON), WithConsole(io.Discard))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was replaced while it was being opened")
}
