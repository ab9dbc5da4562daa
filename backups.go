package logging

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/codomyrmex/logging/internal/securefile"
)

// Backups of a log file are named as lumberjack names them, so that its
// retention (MaxBackups, MaxAgeDays) counts and removes them: "app.log"
// rotates to "app-2026-12-01T19-17-10.000.log", compressed to
// "app-2026-12-01T19-17-10.000.log.gz". The sink renames and compresses
// them itself, never through a path that could follow a link planted in
// the directory (lumberjack creates the new file and the compressed copy
// with O_TRUNC and without O_NOFOLLOW).
const (
	backupTimeFormat = "2006-01-02T15-04-05.000"
	gzSuffix         = ".gz"
)

// backupNames splits a log path into what its backups' names start and end with.
func backupNames(path string) (dir, prefix, ext string) {
	dir, base := filepath.Split(path)
	ext = filepath.Ext(base)
	return filepath.Clean(dir), strings.TrimSuffix(base, ext) + "-", ext
}

// isBackup reports whether name is a backup of the log file whose names
// start with prefix and end with ext, compressed or not.
func isBackup(name, prefix, ext string) (ok, compressed bool) {
	rest, found := strings.CutPrefix(name, prefix)
	if !found {
		return false, false
	}
	if ts, found := strings.CutSuffix(rest, ext+gzSuffix); found {
		_, err := time.Parse(backupTimeFormat, ts)
		return err == nil, true
	}
	if ts, found := strings.CutSuffix(rest, ext); found {
		_, err := time.Parse(backupTimeFormat, ts)
		return err == nil, false
	}
	return false, false
}

// backups lists the backups of the log file at path, as base names.
func backups(path string) (names []string, err error) {
	dir, prefix, ext := backupNames(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if ok, _ := isBackup(e.Name(), prefix, ext); ok {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// checkBackups refuses the backups of the log file at path that someone
// else could swap or share, as the log file itself is refused: a symbolic
// link, anything but a regular file, a file with more than one hard link,
// a file of another user. The error names the backup; the backup is left
// as it was.
func checkBackups(path string) error {
	names, err := backups(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	for _, n := range names {
		p := filepath.Join(dir, n)
		st, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // removed meanwhile (retention)
		case err != nil:
			return err
		case st.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("log backup %s: %w", p, ErrSymlink)
		case !st.Mode().IsRegular():
			return fmt.Errorf("log backup %s: %w", p, securefile.ErrNotRegular)
		}
		if err := securefile.CheckOwned(st); err != nil {
			return fmt.Errorf("log backup %s: %w", p, err)
		}
	}
	return nil
}

// maxNameTries bounds the search for a free backup name: one millisecond
// later per try.
const maxNameTries = 1000

// renameToBackup moves the log file at path to a backup named after now,
// one millisecond later per name already taken (by a quick rotation or by
// anything else in the directory): rename(2) would replace an existing
// name, and no backup may replace another.
func renameToBackup(path string, now time.Time, local bool) (string, error) {
	if !local {
		now = now.UTC()
	}
	dir, prefix, ext := backupNames(path)
	for range maxNameTries {
		name := filepath.Join(dir, prefix+now.Format(backupTimeFormat)+ext)
		_, errPlain := os.Lstat(name)
		_, errGz := os.Lstat(name + gzSuffix)
		if errors.Is(errPlain, fs.ErrNotExist) && errors.Is(errGz, fs.ErrNotExist) {
			return name, os.Rename(path, name)
		}
		now = now.Add(time.Millisecond)
	}
	return "", fmt.Errorf("rotating %s: no free backup name after %d tries", path, maxNameTries)
}

// tmpSuffix ends the name a compressed backup is written under
// ("app-2026-12-01T19-17-10.000.log.gz.tmp") until it is whole: neither a
// backup for isBackup nor for lumberjack's retention.
const tmpSuffix = ".tmp"

// compressMu makes one compression pass at a time in the process: a pass
// that outlived its sink's close (see fileSink.close) and the next sink's
// first pass never write the same file.
var compressMu sync.Mutex

// compressBackups compresses every uncompressed backup of the log file at
// path (see compressBackup) and returns the first error. The compressed
// copies a pass cut short left (the process exited during it) are removed
// first; their backups are still there, uncompressed, and compressed
// again. A directory that cannot be listed is not its error: the writer
// reports it.
func compressBackups(path string) error {
	compressMu.Lock()
	defer compressMu.Unlock()
	dir, prefix, ext := backupNames(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if gz, found := strings.CutSuffix(n, tmpSuffix); found {
			if ok, compressed := isBackup(gz, prefix, ext); ok && compressed {
				_ = os.Remove(filepath.Join(dir, n)) // a partial copy; remove never follows a link
			}
			continue
		}
		if ok, _ := isBackup(n, prefix, ext); ok {
			names = append(names, n)
		}
	}
	var first error
	for _, n := range names {
		if _, gz := isBackup(n, prefix, ext); !gz {
			if err := compressBackup(filepath.Join(dir, n)); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// compressCopy copies the backup into the gzip writer; tests hold a
// compression in the middle through it.
var compressCopy = io.Copy

// compressBackup writes src gzipped to src+".gz" (0600) and removes src.
// src is opened without following a link and without blocking, and must
// be a regular file of the process's own. The compressed copy is written
// under src+".gz.tmp", created new (O_EXCL|O_NOFOLLOW), synced, and only
// then renamed to src+".gz", which must not exist: a .gz is always whole,
// neither a link nor a file planted under either name is read or written,
// and no backup replaces another. src is removed last. On failure src is
// kept and the partial copy removed; a process that exits in the middle
// leaves src and the .tmp, which the next pass removes (see
// compressBackups). A backup that retention removed meanwhile is not an
// error.
func compressBackup(src string) (err error) {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("log backup %s: %w", src, securefile.ErrNotRegular)
	}
	if err := securefile.CheckOwned(st); err != nil {
		return fmt.Errorf("log backup %s: %w", src, err)
	}
	dst := src + gzSuffix
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		return &fs.PathError{Op: "open", Path: dst, Err: syscall.EEXIST} // as O_EXCL says it
	}
	tmp := dst + tmpSuffix
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, FileMode)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	zw := gzip.NewWriter(out)
	err = out.Chmod(FileMode) // exactly 0600, whatever the umask
	if err == nil {
		_, err = compressCopy(zw, in)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if _, lerr := os.Lstat(dst); !errors.Is(lerr, fs.ErrNotExist) {
			err = &fs.PathError{Op: "rename", Path: dst, Err: syscall.EEXIST}
		} else {
			err = os.Rename(tmp, dst)
		}
	}
	if err != nil {
		return fmt.Errorf("compressing log backup %s: %w", src, err)
	}
	if err := os.Remove(src); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
