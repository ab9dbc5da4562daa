package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/codomyrmex/logging/internal/securefile"
)

// File and directory modes of the file sink, whatever the umask.
const (
	FileMode = 0o600
	DirMode  = 0o700
)

// ErrSymlink is returned (wrapped, with the path) when the log path is a
// symbolic link.
var ErrSymlink = securefile.ErrSymlink

// checkInterval is how often the sink checks that its path still names the
// file it writes (external rotation, a removed directory).
const checkInterval = time.Second

// fileSink writes records to a file rotated by lumberjack. Rotation is
// triggered here, after the path has been checked again, never inside
// lumberjack, so that no open follows a symlink planted at the path.
// Records are written behind the caller by the sink's goroutine (see
// writebehind.go); mu guards the file and is held by that goroutine while it
// writes a batch, and by reopen and close.
type fileSink struct {
	q      *writeQueue
	report func(err error, records int) // the outcome of each batch
	warn   func(err error)              // a failure outside any batch (compressing a backup)
	clock  clock
	local  bool // backups named in local time, not UTC

	// millCh wakes the goroutine that compresses backups (nil when
	// Rotation.Compress is off); millDone closes when it has stopped.
	millCh   chan struct{}
	millDone chan struct{}

	mu        sync.Mutex
	path      string
	lj        *lumberjack.Logger // taken from ljPool, kept there again by close
	ljKey     ljKey
	maxBytes  int64
	size      int64
	info      os.FileInfo // the file the path named when it was last checked
	checked   time.Time
	broken    error // set while the path cannot be used; retried every checkInterval
	closed    bool
	rotations int
	midLine   bool                      // the last write ended in the middle of a line (see writeFile)
	write     func([]byte) (int, error) // lj.Write; tests put a failing writer in its place
	watch     *os.File                  // the file last checked, held open (see removed)
	watchFD   int
	chain     *fileChain    // the MAC chain, nil when off (filechain.go)
	chainDone chan struct{} // closed when the sink is closed, while it is chained (see liveChains)
}

// openFileSink prepares the log file and starts the sink's writer: parent
// directories are created 0700, the file is created 0600 or tightened to
// 0600 (with a warning), and a symlink at the path is refused, as are
// backups that are not the service's own files. report gets the outcome
// of every write, warn the failures of compression.
func openFileSink(path string, rot Rotation, clk clock, report func(err error, records int), warn func(error)) (*fileSink, []string, error) {
	path = filepath.Clean(path)
	s := &fileSink{
		q:        newWriteQueue(clk),
		report:   report,
		warn:     warn,
		clock:    clk,
		local:    rot.LocalTime,
		path:     path,
		maxBytes: int64(rot.MaxSizeMB) << 20,
		// lumberjack never rotates by itself: its limit is beyond ours,
		// and rotate renames the file itself. lumberjack keeps the
		// retention (it removes backups by name); the sink compresses.
		ljKey: ljKey{path: path, maxSize: rot.MaxSizeMB * 2, maxBackups: rot.MaxBackups, maxAgeDays: rot.MaxAgeDays, localTime: rot.LocalTime},
	}
	s.lj = takeLumberjack(s.ljKey)
	s.write = s.lj.Write
	warns, err := s.prepare()
	if err != nil {
		_ = s.lj.Close()
		keepLumberjack(s.ljKey, s.lj)
		return nil, nil, err
	}
	if rot.Compress {
		s.millCh, s.millDone = make(chan struct{}, 1), make(chan struct{})
		go s.millRun()
		s.mill() // backups left uncompressed by an earlier run
	}
	go s.q.run(s.writeBatch)
	return s, warns, nil
}

// mill asks the compressing goroutine for a pass, without waiting.
func (s *fileSink) mill() {
	if s.millCh != nil {
		select {
		case s.millCh <- struct{}{}:
		default: // a pass is already due: it will see the new backup
		}
	}
}

// millRun compresses backups, one pass per wake-up, until millCh closes.
func (s *fileSink) millRun() {
	defer close(s.millDone)
	for range s.millCh {
		if err := compressBackups(s.path); err != nil {
			s.warn(err)
		}
	}
}

// prepare creates or checks the path and records which file it names.
// Called with s.mu held (or before s is shared).
func (s *fileSink) prepare() ([]string, error) {
	var warns []string
	dir := filepath.Dir(s.path)
	if err := mkdirSecure(dir); err != nil {
		return nil, err
	}
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o002 != 0 && st.Mode()&os.ModeSticky == 0 {
		warns = append(warns, fmt.Sprintf("log directory %s is writable by others without the sticky bit: they can replace the log file", dir))
	}
	if err := checkBackups(s.path); err != nil {
		return nil, err
	}
	// The path may be rotated between the check and lumberjack's open by
	// another sink on the same file (the pipeline a new Setup replaces,
	// still writing): the new file is checked in turn, a few times.
	for attempt := 1; ; attempt++ {
		f, st, ws, err := s.openChecked()
		if err != nil {
			return nil, err
		}
		afterOpen(s.path)
		if now, err := os.Lstat(s.path); err == nil && os.SameFile(now, st) {
			s.info, s.size, s.checked = st, st.Size(), s.clock.Now()
			s.watchFile(f)
			return append(warns, ws...), nil
		}
		f.Close()
		_ = s.lj.Close() // it may have opened the file that replaced the checked one
		if attempt == maxOpenAttempts {
			return nil, fmt.Errorf("%s was replaced while it was being opened", s.path)
		}
	}
}

// afterOpen is called by prepare between lumberjack's open and the check
// that it opened the checked file (tests replace the file there).
var afterOpen = func(path string) {}

// maxOpenAttempts is how many times prepare checks a path that keeps
// being replaced before it gives up.
const maxOpenAttempts = 3

// openChecked opens the path with the checks of securefile.OpenLog (no
// symlink, a regular file of the service's own), tightens its mode, and
// makes lumberjack open the path right after: it returns the checked file,
// open, for prepare to compare with what the path names now.
func (s *fileSink) openChecked() (*os.File, os.FileInfo, []string, error) {
	var warns []string
	f, st, err := securefile.OpenLog(s.path, FileMode) // no symlink, a regular file of its own
	if err != nil {
		return nil, nil, nil, err
	}
	if st.Mode().Perm() != FileMode {
		if err := f.Chmod(FileMode); err != nil {
			f.Close()
			return nil, nil, nil, err
		}
		if st.Mode().Perm()&^FileMode != 0 {
			warns = append(warns, fmt.Sprintf("log file %s had mode %#o; tightened to %#o", s.path, st.Mode().Perm(), FileMode))
		}
	}
	// lumberjack opens the path itself (without O_NOFOLLOW): make it open
	// now, right after the checks (prepare makes sure it opened the checked
	// file).
	if _, err := s.lj.Write(nil); err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return f, st, warns, nil
}

// watchFile keeps f, the file the path named when it was checked, open, to
// tell with an fstat before every write whether it was removed (see
// removed); it closes the one watched before.
func (s *fileSink) watchFile(f *os.File) {
	if s.watch != nil {
		s.watch.Close()
	}
	s.watch, s.watchFD = f, -1
	if f != nil {
		s.watchFD = int(f.Fd())
	}
}

// removed reports whether the file being written has no name left: it, or
// its directory, was removed (rm, rm -r). One fstat of a descriptor held
// open, allocating nothing, before every write: records never go to a file
// nobody can read any more. A file moved away (logrotate) keeps its name
// elsewhere and is written until Reopen, as before.
func (s *fileSink) removed() bool {
	if s.watch == nil {
		return false
	}
	var st syscall.Stat_t
	return syscall.Fstat(s.watchFD, &st) == nil && st.Nlink == 0
}

// mkdirSecure creates dir and its missing parents with mode 0700, whatever
// the umask; existing directories are left as they are.
func mkdirSecure(dir string) error {
	st, err := os.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirSecure(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, DirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(dir, DirMode)
}

// verify checks that the path still names the file being written; if not
// (moved by logrotate, directory removed, replaced), it reopens the path
// with the same checks. Called with s.mu held.
func (s *fileSink) verify(now time.Time) error {
	s.checked = now
	st, err := os.Lstat(s.path)
	if err == nil && s.broken == nil && s.info != nil && os.SameFile(st, s.info) {
		return nil
	}
	if s.broken == nil && s.info != nil {
		filesReopened.Add(1) // the file it was writing is gone from the path
	}
	return s.reopenLocked()
}

// filesReopened counts the files found moved, removed or replaced
// (Statistics.FilesReopened).
var filesReopened atomic.Uint64

// reopenLocked closes lumberjack's file and prepares the path again;
// lumberjack then opens the prepared file on the next write. Called with s.mu held.
func (s *fileSink) reopenLocked() error {
	_ = s.lj.Close()
	if _, err := s.prepare(); err != nil {
		s.broken = err
		return err
	}
	s.broken = nil
	return nil
}

// put queues one record; a durable one is in the file (or reported failed)
// when put returns.
func (s *fileSink) put(e entry) error {
	err := s.q.put(e.line, e.durable)
	if err != nil {
		s.report(err, 1)
	}
	return err
}

// writeBatch writes whole records in one call and reports the outcome.
func (s *fileSink) writeBatch(batch []byte, records int) {
	s.report(s.writeGuarded(batch), records)
	if s.chain != nil {
		s.emitCheckpoints()
	}
}

// writeGuarded is writeLocked under s.mu, with a panic (of lumberjack, of
// the file system layer) turned into an error: the writer goroutine must
// not die, or callers waiting for it would wait forever.
func (s *fileSink) writeGuarded(batch []byte) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic while writing: %v", r)
		}
	}()
	return s.writeLocked(batch)
}

// writeLocked checks the path when it is due, rotates when the batch would
// pass the size limit, and writes the batch in one call. Called with s.mu held.
func (s *fileSink) writeLocked(p []byte) error {
	if s.closed {
		return os.ErrClosed
	}
	if s.chain != nil && s.chain.after != nil {
		if err := s.resumeLocked(); err != nil {
			return err
		}
	}
	now := s.clock.Now()
	if now.Sub(s.checked) >= checkInterval || s.broken == nil && s.removed() {
		if err := s.verify(now); err != nil {
			return err
		}
	} else if s.broken != nil {
		return s.broken
	}
	if s.chain != nil {
		return s.writeChainLocked(p, now)
	}
	if s.size > 0 && s.size+int64(len(p)) > s.maxBytes {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	_, err := s.writeFile(p)
	return err
}

// writeFile writes b to the file. After a write that ended in the middle
// of a line (a full disk took part of a batch), it first ends that line,
// so that a reader never sees two records on one line. Called with s.mu
// held.
func (s *fileSink) writeFile(b []byte) (int, error) {
	if s.midLine {
		m, err := s.write([]byte{'\n'})
		s.size += int64(m)
		if err != nil {
			return 0, err
		}
		s.midLine = false
	}
	n, err := s.write(b)
	s.size += int64(n)
	if n > 0 && n < len(b) && b[n-1] != '\n' {
		s.midLine = true
	}
	return n, err
}

// rotate checks the path, renames the file to a backup of its own name,
// and prepares a new file at the path (0600, O_NOFOLLOW, as at Setup);
// then it wakes the compressor. Called with s.mu held.
func (s *fileSink) rotate() error {
	st, err := os.Lstat(s.path)
	if err == nil && st.Mode()&os.ModeSymlink != 0 {
		s.broken = fmt.Errorf("%w: %s", ErrSymlink, s.path)
		return s.broken
	}
	_ = s.lj.Close()
	if _, err := renameToBackup(s.path, s.clock.Now(), s.local); err != nil {
		s.broken = err // prepared again by the next check of the path
		return err
	}
	s.rotations++
	if _, err := s.prepare(); err != nil {
		s.broken = err
		return err
	}
	s.mill()
	return nil
}

// reopen writes what is queued to the file open now, then closes it and
// reopens the path, with the same checks as at Setup.
func (s *fileSink) reopen() error {
	s.flush()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return os.ErrClosed
	}
	return s.reopenLocked()
}

// flush returns once every record queued before it is written (or failed).
func (s *fileSink) flush() { s.q.flush() }

func (s *fileSink) stats(*Statistics) {} // its failures are counted by report

// closeCompressWait bounds how long close waits for the compression of
// backups in progress (see close).
const closeCompressWait = 3 * time.Second

// close writes what is queued, stops the writer, closes the file and
// waits for the compression of backups in progress, for at most
// closeCompressWait on the sink's clock: a compression still running then
// goes on in the background (the process's next sink on the file waits
// for it before its own pass), and if the process exits first, the backup
// stays uncompressed, with no .gz beside it (see compressBackup), and is
// compressed by the next sink started on the file. lumberjack's own
// goroutine (its retention, started at the first open) cannot be stopped
// (lumberjack v2.2.1): the closed Logger is kept for the next sink on the
// same file (lumberjackpool.go), so Setup and Close cycles do not add
// goroutines.
func (s *fileSink) close() error {
	s.q.close()
	s.stopChain()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.lj.Close()
	keepLumberjack(s.ljKey, s.lj)
	s.watchFile(nil)
	unregisterChain(s) // its last line is written: the next sink on the path may start
	s.mu.Unlock()
	if s.millCh != nil {
		close(s.millCh)
		select {
		case <-s.millDone:
		case <-s.clock.After(closeCompressWait):
		}
	}
	return err
}

// Reopen makes the sinks of the chain in force write what they have queued
// and reopen their files, with the same checks as Setup. Call it after an
// external tool such as logrotate moved the file away
// ([WithReopenOnSIGHUP] does it on SIGHUP).
func Reopen() error { return load().reopen() }

// Flush returns once every record logged before it is in the log files. The
// file sinks write records behind the caller (only records at ERROR and
// above, security events and the standard log package's records are written
// before their call returns); call Flush before os.Exit, or when another
// process must read the file now. [Close] flushes too.
func Flush() { load().flush() }

// watchSIGHUP calls reopen on every SIGHUP until the returned stop function is called.
func watchSIGHUP(reopen func() error) func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				_ = reopen()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
