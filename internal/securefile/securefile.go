// Package securefile reads the small files that hold a program's secrets (a
// password, a bearer token, a CA bundle, an integrity key) as hostile
// input, and checks the files a program writes for signs that someone else
// could swap or share them.
//
// A read never blocks and never reads without bound: the file is opened
// non-blocking, so that a named pipe cannot hold the open; the opened file
// (not its path, which could change meanwhile) must be a regular file; and
// at most a given number of bytes is read. Errors name the path and the
// limit, never what the file holds.
//
// The package is for Unix systems: CheckOwned reads the owner and link
// count from syscall.Stat_t.
package securefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"
	"syscall"
)

// ErrNotRegular is wrapped by the error of a read of anything but a regular
// file: a named pipe (FIFO), a device such as /dev/zero, a directory or a
// socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the error of a read of a file larger than the
// limit given.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads the regular file at path, of at most max bytes. It opens
// the file with O_RDONLY|O_NONBLOCK|O_CLOEXEC, so that the open of a named
// pipe returns at once; it checks the opened file with fstat and refuses
// anything that is not a regular file, before reading a byte; and it reads
// at most max bytes, refusing a larger file (the error says the limit).
// Symbolic links are followed, as Kubernetes mounts its secrets through
// them. Errors are *fs.PathError values; the refusals wrap ErrNotRegular or
// ErrTooLarge.
func ReadFile(path string, max int64) ([]byte, error) {
	if max < 0 {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("negative limit %d", max)}
	}
	f, fi, err := openRegular(path, os.O_RDONLY, 0, "read")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooLarge := &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
	if fi.Size() > max {
		return nil, tooLarge
	}
	// The file may have grown since fstat (and a file of /proc says size 0):
	// read one byte past the limit to tell.
	b, err := io.ReadAll(io.LimitReader(f, min(max, math.MaxInt64-1)+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, tooLarge
	}
	return b, nil
}

// openRegular opens path with flag and O_NONBLOCK|O_CLOEXEC, so that the
// open of a named pipe returns at once, and refuses, from fstat of the
// opened file, anything that is not a regular file.
func openRegular(path string, flag int, perm fs.FileMode, op string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NONBLOCK|syscall.O_CLOEXEC, perm)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &fs.PathError{Op: op, Path: path, Err: fmt.Errorf("%w: it is %s", ErrNotRegular, kind(fi.Mode()))}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// ErrSymlink is returned when a file that must be opened as itself is a
// symbolic link.
var ErrSymlink = errors.New("refusing to open a symlink")

// OpenLog opens (creating it with perm if it does not exist) the log file
// at path for appending, without following a symbolic link at path (a link
// planted there could aim the writes at any file the process can write),
// without blocking, and refuses anything but a regular file that belongs to
// the process: one hard link, owned by the effective user (see
// [CheckOwned]). A refused file is left as it was. The caller closes the
// file.
func OpenLog(path string, perm fs.FileMode) (*os.File, os.FileInfo, error) {
	f, fi, err := openRegular(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, perm, "open")
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, nil, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
		}
		return nil, nil, err
	}
	if err := CheckOwned(fi); err != nil {
		f.Close()
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return f, fi, nil
}

// kind names a file type that is not a regular file.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeDir != 0:
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	default:
		return "of type " + m.Type().String()
	}
}

// ReadSecret reads a credential (a password, a bearer token, a key) from
// the regular file at path, as [ReadFile] does: without blocking, refusing
// anything but a regular file and a file of more than max bytes. Symbolic
// links are followed, as Kubernetes mounts its secrets through them. One
// final "\n" or "\r\n" is trimmed, as editors and `echo` add one; anything
// else, a second newline included, is kept, for the caller to validate.
// Errors name the path and the limit, never the content.
func ReadSecret(path string, max int64) (string, error) {
	b, err := ReadFile(path, max)
	if err != nil {
		return "", err
	}
	s := string(b)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	return s, nil
}

// ErrHardLinked is wrapped by CheckOwned's error for a file with more than
// one hard link.
var ErrHardLinked = errors.New("file has more than one hard link")

// ErrNotOwned is wrapped by CheckOwned's error for a file owned by another
// user than the process's effective user.
var ErrNotOwned = errors.New("file is not owned by this process's user")

// CheckOwned refuses a file that someone else could swap or share, as
// OpenSSH and sudo refuse such files: one with more than one hard link
// (another name, perhaps in a directory others control, reaches the same
// file), or one whose owner is not the process's effective user. fi must
// come from os.Stat, os.Lstat or File.Stat, on a Unix system. The error
// wraps ErrHardLinked or ErrNotOwned and names the file, the link count or
// the owner's uid.
func CheckOwned(fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner or link count known for this file", fi.Name())
	}
	if n := uint64(st.Nlink); n > 1 {
		return fmt.Errorf("%s: %w (%d): another name reaches the same file", fi.Name(), ErrHardLinked, n)
	}
	if uid, euid := uint64(st.Uid), uint64(os.Geteuid()); uid != euid {
		return fmt.Errorf("%s: %w: owner uid %d, effective uid %d", fi.Name(), ErrNotOwned, uid, euid)
	}
	return nil
}

// ErrLooseMode is wrapped by ReadPrivate's error for a file whose mode
// allows more than 0600 (reading and writing by its owner).
var ErrLooseMode = errors.New("file mode allows access by others than its owner")

// ReadPrivate reads a private key from the regular file at path, of at
// most max bytes, as [ReadFile] does, and refuses more: a symbolic link at
// path (it is not followed), a file whose mode allows more than 0600
// (any access by its group or others, or execution), and a file that
// [CheckOwned] refuses (another owner, more than one hard link). The checks
// are made on the opened file. Errors name the path and the mode, never
// what the file holds.
func ReadPrivate(path string, max int64) ([]byte, error) {
	f, fi, err := openRegular(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0, "read")
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, &fs.PathError{Op: "read", Path: path, Err: ErrSymlink}
		}
		return nil, err
	}
	defer f.Close()
	if perm := fi.Mode().Perm(); perm&^0o600 != 0 {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: mode %#o, want 0600 or stricter", ErrLooseMode, perm)}
	}
	if err := CheckOwned(fi); err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if fi.Size() > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		clear(b)
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
	}
	return b, nil
}
