package loki

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/codomyrmex/logging/internal/securefile"
)

// DefaultSpoolMaxBytes bounds the spool directory when SpoolMaxBytes is 0.
const DefaultSpoolMaxBytes = 256 << 20

// The spool keeps, in a directory, the records that could not be sent (Loki
// unreachable) or held (the memory queue over half full), so that they are
// sent later, by this process or the next one to start with the same
// directory. It is used only by the sender goroutine, and by Close after
// the sender stopped: it needs no lock.
//
// A segment is an append-only file named by a 20-digit sequence number and
// ".seg"; records are read back from the oldest segment, and a segment is
// deleted once all its records were accepted (or rejected for good) by
// Loki. A record is a header, the payload's length and its CRC-32C (both
// 4 bytes, big-endian), then the payload: the timestamp in Unix
// nanoseconds (8 bytes), the length of the labels (4 bytes), the labels as
// a JSON object, then the line. A record cut short (a torn tail, after a
// crash or a failed write) ends its segment: it is skipped and counted,
// never sent. A record whose CRC passes but whose payload fails its checks
// is skipped, counted as torn and as dropped, and reading goes on at the
// next one, which its length gives. A record whose CRC fails, or whose
// length is impossible, may have a corrupt length: reading resumes at the
// next offset where a whole record passes its CRC (see resync); the bytes
// passed over are counted (skipped), and so is one record dropped: at
// least one was lost there, how many is not known. Found none, it was the
// segment's torn tail.
type spool struct {
	lock    *os.File // dir/lock, flock'ed while the spool is this client's
	held    bool
	dir     string
	max     int64 // bytes of segments on disk, at most
	segMax  int64 // a segment is sealed once it holds this many bytes
	recCap  int   // the longest payload read back
	maxLine int   // a longer line read back is cut, as Push cuts it
	segs    []segment
	total   int64    // bytes of segs
	w       *os.File // the last segment, open for appending; nil if sealed
	nextSeq uint64
	broken  bool  // a write failed: nothing more is written (reported once)
	fullAt  int64 // total when a priority record found no room; -1 once a segment was deleted since
	report  func(error)
	torn    func()                              // counts a torn record
	lost    func()                              // counts a corrupt record skipped, as dropped
	skipped func(int64)                         // counts the bytes resync passed over; nil: not counted
	writeTo func(*os.File, []byte) (int, error) // (*os.File).Write; tests fake a full disk

	r        *os.File      // the first segment, open for reading
	br       *bufio.Reader // on r
	off      int64         // the offset in r of the next record br reads
	headDone bool          // r reached the end of its segment or a torn record
	pending  []queued      // read from r, not yet committed
	skip     int           // records at the spool's head that Loki took already: read, not sent (see sent)
	labels   map[string][]byte
}

type segment struct {
	seq  uint64
	size int64
}

const spoolSuffix = ".seg"

// maxSpoolLabels bounds the JSON of a record's labels: at most MaxLabels
// names and values of Loki's lengths, escaped.
const maxSpoolLabels = 1 << 20

func (s *spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, spoolSuffix))
}

// openSpool prepares dir: created with mode 0700 (and its missing
// parents) if it does not exist; refused if it is a symbolic link or not
// a directory; its mode narrowed to 0700 if it allows more. The segments
// found there are kept, to be sent first.
//
// One client at a time uses a directory: it holds an exclusive flock on
// the file "lock" there. A client that finds the lock held (another
// client, perhaps of this process, as when Setup replaces a sink before it
// closes the old one) keeps its records in memory and tries again at each
// wake of its sender; once it holds the lock, it sends what the other left.
func openSpool(dir string, maxBytes int64, maxLine int, report func(error), torn, lost func(), skipped func(int64)) (*spool, error) {
	if err := spoolDir(dir); err != nil {
		return nil, err
	}
	lock, fi, err := securefile.OpenLog(filepath.Join(dir, "lock"), 0o600)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 { // a lock file left looser, as the directory is narrowed
		if err := lock.Chmod(0o600); err != nil {
			lock.Close()
			return nil, err
		}
	}
	s := &spool{lock: lock, dir: dir, max: maxBytes, segMax: min(max(maxBytes/16, 64<<10), 16<<20), recCap: 12 + maxSpoolLabels + max(maxLine, DefaultMaxLineBytes),
		maxLine: maxLine, report: report, torn: torn, lost: lost, skipped: skipped, writeTo: (*os.File).Write, nextSeq: 1, fullAt: -1, labels: map[string][]byte{}}
	s.acquire()
	return s, nil
}

// acquire takes the directory's lock, if it is free, and then lists the
// segments there. It reports whether the spool is this client's.
func (s *spool) acquire() bool {
	if s == nil || s.held {
		return s != nil
	}
	if s.lock == nil || syscall.Flock(int(s.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false
	}
	s.held = true
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		s.fail(err)
		return true
	}
	for _, e := range ents {
		name := e.Name()
		digits, ok := strings.CutSuffix(name, spoolSuffix)
		if !ok || len(digits) != 20 || !e.Type().IsRegular() {
			continue
		}
		seq, err := strconv.ParseUint(digits, 10, 64)
		if err != nil || seq == 0 || seq == ^uint64(0) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		s.segs = append(s.segs, segment{seq, fi.Size()})
		s.total += fi.Size()
		s.nextSeq = max(s.nextSeq, seq+1)
	}
	slices.SortFunc(s.segs, func(a, b segment) int { return cmpUint(a.seq, b.seq) })
	return true
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// spoolDir checks or makes the spool directory.
func spoolDir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return securefile.ErrSymlink
	case !fi.IsDir():
		return errors.New("not a directory")
	case fi.Mode().Perm()&0o077 != 0:
		return os.Chmod(dir, 0o700)
	}
	return nil
}

// has reports whether records may be waiting in the spool.
func (s *spool) has() bool { return s != nil && s.held && (len(s.segs) > 0 || s.pending != nil) }

// writable reports whether records may still be written.
func (s *spool) writable() bool { return s != nil && s.held && !s.broken }

// roomy reports whether the spool may have room: it is writable, and no
// priority record found it full since a segment was last deleted. The queue is not
// moved to a full spool over and over.
func (s *spool) roomy() bool { return s.writable() && (s.fullAt < 0 || s.total < s.fullAt) }

// fail stops the writing after an error, reported once.
func (s *spool) fail(err error) {
	if s.w != nil {
		s.w.Close()
		s.w = nil
	}
	if !s.broken {
		s.broken = true
		s.report(fmt.Errorf("loki spool: %v: records are no longer spooled, only held in memory", err))
	}
}

// labelsJSON is the JSON of a stream's labels, cached by its key.
func (s *spool) labelsJSON(q *queued) []byte {
	if b, ok := s.labels[q.stream]; ok {
		return b
	}
	b, _ := json.Marshal(q.labels) // a map of strings always encodes
	if len(s.labels) >= maxLokiStreamCache {
		clear(s.labels)
	}
	s.labels[q.stream] = b
	return b
}

const maxLokiStreamCache = 4096

// append writes the records of batch, in order, as long as they fit in the
// spool, and returns how many it wrote. The records are written in one
// write per segment.
func (s *spool) append(batch []queued) int {
	if !s.writable() {
		return 0
	}
	n := 0
	var buf []byte
	for n < len(batch) {
		if s.total+int64(20+len(s.labelsJSON(&batch[n]))+len(batch[n].line)) > s.limit(&batch[n]) {
			if batch[n].prio {
				s.fullAt = s.total
			}
			return n // full, for this record
		}
		if s.w == nil {
			path := s.path(s.nextSeq)
			f, _, err := securefile.OpenLog(path, 0o600)
			if err != nil {
				s.fail(err)
				return n
			}
			s.w = f
			s.segs = append(s.segs, segment{seq: s.nextSeq})
			s.nextSeq++
		}
		seg := &s.segs[len(s.segs)-1]
		buf = buf[:0]
		start := n
		for n < len(batch) && seg.size+int64(len(buf)) < s.segMax {
			q := &batch[n]
			labels := s.labelsJSON(q)
			size := 8 + 8 + 4 + len(labels) + len(q.line)
			if len(labels) > maxSpoolLabels || s.total+int64(len(buf)+size) > s.limit(q) {
				break
			}
			buf = binary.BigEndian.AppendUint32(buf, uint32(size-8))
			buf = append(buf, 0, 0, 0, 0) // the CRC, below
			p := len(buf)
			buf = binary.BigEndian.AppendUint64(buf, uint64(q.ts))
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(labels)))
			buf = append(buf, labels...)
			buf = append(buf, q.line...)
			binary.BigEndian.PutUint32(buf[p-4:], crc32.Checksum(buf[p:], castagnoli))
			n++
		}
		if len(buf) > 0 {
			if w, err := s.writeTo(s.w, buf); err != nil {
				// The records the write got on disk whole will be read back
				// and sent: they count as spooled, and are not sent from the
				// queue too. A torn tail after them is skipped when read.
				whole, size := wholeRecords(buf[:max(w, 0)])
				seg.size += int64(size)
				s.total += int64(size)
				s.fail(err)
				return start + whole
			}
			seg.size += int64(len(buf))
			s.total += int64(len(buf))
		}
		if n == start { // full
			return n
		}
		if seg.size >= s.segMax {
			s.seal()
		}
	}
	return n
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// limit is how full the spool may be after q is written: all of it for a
// priority record (a security event), 7/8 of it for an ordinary one. The
// last eighth is kept for priority records, so that security events
// spilled after ordinary records filled the spool still find room:
// ordinary records are dropped first.
func (s *spool) limit(q *queued) int64 {
	if q.prio {
		return s.max
	}
	return s.max - s.max/8
}

// wholeRecords counts the records at the start of p, as append writes
// them, that p holds whole, and their bytes.
func wholeRecords(p []byte) (n, size int) {
	for len(p)-size >= 8 {
		end := size + 8 + int(binary.BigEndian.Uint32(p[size:]))
		if end > len(p) {
			break
		}
		n, size = n+1, end
	}
	return n, size
}

// seal closes the segment being written; the next write starts another.
func (s *spool) seal() {
	if s.w != nil {
		if err := s.w.Close(); err != nil {
			s.fail(err)
		}
		s.w = nil
	}
}

// next returns the oldest records of the spool, about maxBytes of them (at
// least one), the same ones until commit. It returns none when the spool
// is empty.
func (s *spool) next(maxBytes int) []queued {
	for s.pending == nil && len(s.segs) > 0 {
		if s.headDone {
			s.dropHead()
			continue
		}
		if s.r == nil {
			if len(s.segs) == 1 {
				s.seal() // a segment is read only once sealed: it no longer grows
			}
			f, err := openSegment(s.path(s.segs[0].seq))
			if err != nil {
				s.report(fmt.Errorf("loki spool: %v: the segment is skipped", err))
				s.torn()
				s.headDone = true
				continue
			}
			s.r, s.br, s.off = f, bufio.NewReaderSize(f, 64<<10), 0
		}
		size := 0
		var batch []queued
		for size < maxBytes {
			q, ok := s.read()
			if !ok {
				s.headDone = true
				break
			}
			if s.skip > 0 {
				s.skip--
				continue
			}
			batch = append(batch, q)
			size += len(q.line) + 32
		}
		if len(batch) > 0 {
			s.pending = batch
		}
	}
	return s.pending
}

// sent marks the spool's first n records, not yet read, as sent: next
// reads them and passes them over, and the segments they fill are deleted
// as if they were sent. It is for a batch written to an empty spool while
// its push hung, and then accepted by Loki: sent once, by that push. (A
// process killed before they are passed over leaves them to the next,
// which sends them again: Loki drops the exact duplicates.)
func (s *spool) sent(n int) {
	if s != nil && n > 0 {
		s.skip += n
	}
}

// commit forgets the records next returned: Loki took them (or refused
// them for good). A segment read to its end is deleted.
func (s *spool) commit() {
	s.pending = nil
	if s.headDone {
		s.dropHead()
	}
}

// dropHead deletes the first segment.
func (s *spool) dropHead() {
	if s.r != nil {
		s.r.Close()
		s.r, s.br = nil, nil
	}
	if len(s.segs) == 1 {
		s.seal()
	}
	if err := os.Remove(s.path(s.segs[0].seq)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.fail(err)
	}
	s.total -= s.segs[0].size
	s.segs = s.segs[1:]
	s.headDone = false
	s.fullAt = -1
}

// openSegment opens a segment for reading: not through a symbolic link,
// without blocking, and only a regular file.
func openSegment(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: %w", path, securefile.ErrNotRegular)
	}
	if err == nil {
		err = securefile.CheckOwned(fi) // one link, the process's own
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// read reads the next record of the first segment; false at its end, or
// at a torn tail (counted). A record whose CRC passes but whose payload
// fails its checks is skipped by its length, counted as torn and as
// dropped. A record whose length is impossible, or that is cut short, or
// whose CRC fails, may have a corrupt length, which would make every
// record after it unreadable: reading resumes where resync finds the next
// whole record; none found, it was a torn tail.
func (s *spool) read() (queued, bool) {
	for {
		start := s.off
		var hdr [8]byte
		if k, err := io.ReadFull(s.br, hdr[:]); err != nil {
			if k > 0 {
				s.torn() // a header cut short: nothing can follow it
			}
			return queued{}, false
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		if n < 12 || int64(n) > int64(s.recCap) {
			if s.resync(start) {
				continue
			}
			return queued{}, false
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(s.br, p); err != nil || crc32.Checksum(p, castagnoli) != binary.BigEndian.Uint32(hdr[4:]) {
			p = nil // resync reads at most one record at a time
			if s.resync(start) {
				continue
			}
			return queued{}, false
		}
		s.off = start + 8 + int64(n)
		q, ok := decodeRecord(p)
		if !ok {
			s.torn()
			s.lost()
			continue
		}
		if len(q.line) > s.maxLine {
			q.line = truncate(q.line, s.maxLine)
		}
		return q, true
	}
}

// resync looks, after the bad record at offset bad, for the first offset
// where a whole record passes its CRC, and makes the reading go on there:
// the bytes before it are counted as skipped, and as one record torn and
// dropped (at least one record was lost in them; how many is not known).
// It reports whether it found one; if not, the bad record was the
// segment's torn tail, counted as torn only. Each candidate costs reading
// its header, and its payload only if its length fits; a candidate's
// payload is at most recCap bytes, as any record's.
func (s *spool) resync(bad int64) bool {
	s.torn()
	if s.r == nil {
		return false
	}
	fi, err := s.r.Stat()
	if err != nil {
		return false
	}
	size := fi.Size()
	const minRecord = 8 + 12
	var win []byte // the bytes from winAt, read ahead
	winAt := int64(0)
	var payload []byte
	for at := bad + 1; at+minRecord <= size; at++ {
		if at < winAt || at+8 > winAt+int64(len(win)) {
			win = make([]byte, min(64<<10, size-at))
			k, err := s.r.ReadAt(win, at)
			if k < 8 && err != nil {
				return false
			}
			win, winAt = win[:k], at
		}
		h := win[at-winAt:]
		n := int64(binary.BigEndian.Uint32(h))
		if n < 12 || n > int64(s.recCap) || at+8+n > size {
			continue
		}
		payload = slices.Grow(payload[:0], int(n))[:n]
		if _, err := s.r.ReadAt(payload, at+8); err != nil || crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(h[4:]) {
			continue
		}
		if _, err := s.r.Seek(at, io.SeekStart); err != nil {
			return false
		}
		s.br.Reset(s.r)
		s.off = at
		s.lost()
		if s.skipped != nil {
			s.skipped(at - bad)
		}
		return true
	}
	return false
}

// decodeRecord decodes a payload and checks its labels as LabelSet would
// keep them, and its line as UTF-8.
func decodeRecord(p []byte) (queued, bool) {
	ts := int64(binary.BigEndian.Uint64(p))
	ln := binary.BigEndian.Uint32(p[8:])
	if int64(ln) > int64(len(p)-12) {
		return queued{}, false
	}
	var labels map[string]string
	if json.Unmarshal(p[12:12+ln], &labels) != nil || len(labels) > MaxLabels {
		return queued{}, false
	}
	for k, v := range labels {
		if checkLabel(k, v) != nil {
			return queued{}, false
		}
	}
	line := p[12+ln:]
	if !utf8.Valid(line) {
		return queued{}, false
	}
	return queued{stream: streamKey(labels), labels: labels, ts: ts, line: string(line)}, true
}

// close closes the spool's files; the segments stay for the next start.
func (s *spool) close() {
	if s == nil {
		return
	}
	s.seal()
	if s.r != nil {
		s.r.Close()
		s.r, s.br = nil, nil
	}
	if s.lock != nil {
		s.lock.Close() // and the flock with it
		s.lock, s.held = nil, false
	}
}
