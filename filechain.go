package logging

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/codomyrmex/logging/internal/chain"
	"github.com/codomyrmex/logging/internal/securefile"
)

// The MAC chain of the file sinks (CODOMYRMEX_LOG_INTEGRITY_KEY_FILE): every
// line a file sink writes is sealed by internal/chain, in write order, by
// the sink's writer goroutine (under s.mu, which it holds anyway while it
// writes a batch). An epoch ends with a checkpoint line, sealed with its
// key, after which the key evolves: at every rotation (the checkpoint is
// the new file's first line), after epochLines lines, and before
// epochInterval has passed since it began if it sealed a line. The
// checkpoint also goes to the sinks that are not files (Loki, WithSink
// writers, the console), so that a cut tail shows against what they keep.
const (
	epochLines    = 10000
	epochInterval = 60 * time.Second
	// epochCheckEvery is how often a timer looks for an epoch that is due, even
	// when nothing is logged: an epoch is due epochCheckEvery before
	// epochInterval, so that the tick that ends it comes at most
	// epochInterval after it began, whatever its phase.
	epochCheckEvery = 5 * time.Second
	// tailWindow is how much of the end of a file the sink reads at start
	// to find the line to continue from and check the chain's tail.
	tailWindow = 64 << 10
	// maxTailEvolve bounds the key evolutions of the check at start (the
	// epoch of the tail line says how many): about a second of work.
	maxTailEvolve = 1 << 22
	// keyFileMax bounds the key file: 64 hex digits and a newline.
	keyFileMax = 2*chain.KeySize + 2
)

// checkpointMsg is the message of checkpoint records.
const checkpointMsg = chain.CheckpointMessage

// fileChain is the chain state of one file sink. Every field is guarded by
// the sink's mu.
type fileChain struct {
	name       string // the sink's name: "file" or "security-file"
	sealer     *chain.Sealer
	buf        []byte    // the sealed batch, reused
	epochStart time.Time // when the current epoch began
	reason     string    // the first checkpoint's reason: "start" (a new chain) or "resume"
	started    bool      // the first checkpoint is written
	quiet      bool      // checkpoints are no longer emitted (the pipeline is closing)
	encode     func(dst []byte, r *slog.Record) []byte
	emit       func(r slog.Record)
	pending    []slog.Record // checkpoints to emit once s.mu is released
	stop, done chan struct{} // the epoch ticker
	finding    string        // what the check at start found wrong
	format     chain.Format
	// after, while the chain waits for the sink it replaces, closes when
	// that sink is closed; key is the initial key kept until then.
	after    <-chan struct{}
	key      []byte
	prevSink *fileSink            // the sink it replaces
	alert    func(finding string) // reports what a start that waited found wrong
}

// loadIntegrityKey reads the initial key from path: a regular file, not a
// symbolic link, of mode 0600 or stricter, owned by the process's user,
// holding 32 bytes as 64 hex digits or raw.
func loadIntegrityKey(path string) ([]byte, error) {
	b, err := securefile.ReadPrivate(path, keyFileMax)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	return chain.ParseKey(b)
}

// liveChains maps the path of every chained file sink not yet closed to
// the sink: a sink started on a path whose previous sink is still open
// (Setup called again: the old pipeline's records in flight, its queue and
// its last checkpoint are written after the new pipeline is built) must
// not read the tail before the old one's last line is written, or the two
// would seal two branches of one chain into one file.
var liveChains = struct {
	sync.Mutex
	m map[string]*fileSink
}{m: map[string]*fileSink{}}

// registerChain makes s the live chained sink of its path; it returns the
// channel that closes when the sink it replaces is closed (nil if none).
func registerChain(s *fileSink) (*fileSink, <-chan struct{}) {
	liveChains.Lock()
	defer liveChains.Unlock()
	s.chainDone = make(chan struct{})
	prev := liveChains.m[s.path]
	liveChains.m[s.path] = s
	if prev != nil {
		return prev, prev.chainDone
	}
	return nil, nil
}

// lastSealed returns the sequence number and MAC of the last line this
// process sealed in the chain of s, a closed sink (or of the sinks before
// it, when it sealed nothing).
func (s *fileSink) lastSealed() (seq uint64, head chain.MAC, ok bool) {
	for range 64 {
		if s == nil {
			return 0, head, false
		}
		s.mu.Lock()
		c := s.chain
		var prev *fileSink
		if c != nil && c.sealer != nil {
			seq, head, ok = c.sealer.Seq(), c.sealer.Head(), true
		} else if c != nil {
			prev = c.prevSink
		}
		s.mu.Unlock()
		if ok {
			return seq, head, true
		}
		s = prev
	}
	return 0, head, false
}

// unregisterChain says that s is closed: the next sink on its path may start.
func unregisterChain(s *fileSink) {
	if s.chainDone == nil {
		return
	}
	liveChains.Lock()
	if liveChains.m[s.path] == s {
		delete(liveChains.m, s.path)
	}
	liveChains.Unlock()
	close(s.chainDone)
	s.chainDone = nil
}

// startChain turns the chain on for s with the initial key k0 (read only;
// the caller wipes it). When another sink of this process still writes the
// file (a Setup called again), the start waits, in the sink's writer, for
// that sink to close (see resumeLocked); otherwise it starts now (see
// beginLocked). It returns what the check at start found wrong, "" if
// nothing; the error is a file that cannot be rotated.
func (s *fileSink) startChain(k0 []byte, name string, format chain.Format) (finding string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &fileChain{name: name, format: format}
	s.chain = c
	if prev, after := registerChain(s); after != nil {
		c.prevSink, c.after, c.key = prev, after, bytes.Clone(k0)
		return "", nil
	}
	finding, err = s.beginLocked(k0)
	if err != nil {
		s.chain = nil
		unregisterChain(s)
	}
	return finding, err
}

// resumeLocked starts a chain whose start waited for the sink it replaces:
// once that sink is closed (its last line written), the file is opened
// again (it may have rotated meanwhile) and the chain begins as at a
// restart, from the line that sink wrote last. Called by the writer with
// s.mu held; the sink it waits for never needs s.mu.
func (s *fileSink) resumeLocked() error {
	c := s.chain
	<-c.after
	if err := s.reopenLocked(); err != nil {
		return err // tried again at the next write
	}
	finding, err := s.beginLocked(c.key)
	if err != nil {
		return err
	}
	// This process knows where the chain it wrote ends: a file that ends
	// elsewhere lost its last lines (removed, or the file replaced) since.
	if seq, head, ok := c.prevSink.lastSealed(); ok && finding == "" && (c.sealer.Seq() != seq || c.sealer.Head() != head) {
		finding = fmt.Sprintf("the chain in the files continues from line seq %d, but this process sealed up to line seq %d in %s: lines were removed since, or the file was moved away or replaced", c.sealer.Seq(), seq, s.path)
		c.finding = finding
	}
	clear(c.key)
	c.key, c.after, c.prevSink = nil, nil, nil
	if finding != "" && c.alert != nil {
		c.alert(finding)
	}
	return nil
}

// beginLocked finds the sealed line to continue from (the last line of
// the file, or of its newest backup when the file is empty), checks the
// chain's tail there, and prepares the first checkpoint, which the next
// write writes. A file whose last line is not sealed (written before the
// chain was turned on, or cut), or whose tail cannot be read, is rotated
// away first, so that every file of a chain is sealed from its first line;
// a tail that cannot be read starts a new chain. Called with s.mu held.
func (s *fileSink) beginLocked(k0 []byte) (finding string, err error) {
	c := s.chain
	name := c.name
	window, whole, from, readErr := s.tail()
	if readErr != nil {
		window, whole = nil, true
	}
	lines := bytes.Split(bytes.TrimSuffix(window, []byte("\n")), []byte("\n"))
	if !whole && len(lines) > 0 {
		lines = lines[1:] // cut at the start of the window
	}
	var last *chain.Record
	sealedSeen := false
	for i, l := range lines {
		if r, ok := chain.Parse(l); ok {
			sealedSeen = true
			if i == len(lines)-1 {
				last = &r
			}
		}
	}
	c.reason, c.epochStart = "start", s.clock.Now()
	var seq uint64
	var prev chain.MAC
	newFile := last == nil
	switch {
	case readErr != nil:
		// A tail that cannot be read is for the verifier to judge (an
		// intruder's junk, a disk error), not a reason to stop sealing:
		// a new chain starts, in a file of its own.
		finding, newFile = fmt.Sprintf("the tail of %s cannot be read (%v): a new chain starts", from, readErr), true
	case last != nil:
		var wrongKey bool
		if finding, wrongKey = checkTail(k0, name, window, whole, from); wrongKey {
			// Another key (the operator's new one?) or another sink's
			// file: the new chain goes to a file of its own.
			finding, newFile = finding+": a new chain starts", true
			break
		}
		seq, prev = last.Seq, last.MAC
		c.reason = "resume"
	case sealedSeen:
		finding = fmt.Sprintf("the last line of %s is not sealed: a new chain starts", from)
	}
	switch {
	case from != s.path:
		// The file is empty or missing, and its backups are not: an
		// honest sink leaves an empty file only when it stopped between a
		// rotation and its next write. Deleting the newest file is how an
		// intruder rolls the chain back; only the checkpoints kept off the
		// host prove it, this is the best the writer can tell.
		what := "the chain continues from the last line of " + from
		if newFile {
			what = from + " ends without a sealed line: a new chain starts"
		}
		finding = joinFindings(fmt.Sprintf("%s is empty or missing while it has backups: its lines may have been deleted; %s", s.path, what), finding)
	case newFile && finding == "" && hasBackups(s.path):
		finding = fmt.Sprintf("a new chain starts in %s while older files of the log exist (expected once, when the chain is first turned on for a log that has older files)", s.path)
	}
	if newFile && (len(window) > 0 || readErr != nil && s.size > 0) && from == s.path {
		// Start the new chain in a file of its own.
		if err := s.rotate(); err != nil {
			return finding, err
		}
	}
	// Every start is a new run, with a run id of its own: whatever the
	// files say, no key ever seals two lines under one nonce.
	c.sealer = chain.NewSealer(c.format, k0, name, chain.NewRunID(), seq, prev)
	c.finding = finding
	return finding, nil
}

// joinFindings joins what the check at start found, "" meaning nothing.
func joinFindings(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// hasBackups reports whether the log file at path has backups.
func hasBackups(path string) bool {
	names, err := backups(path)
	return err == nil && len(names) > 0
}

// checkTail verifies the chain in the tail window of a file; it returns
// the first problem ("" if none) and whether no line verified at all
// (another key).
func checkTail(k0 []byte, name string, window []byte, whole bool, from string) (string, bool) {
	in := chain.Input{Name: from + " (tail)", Open: func() (io.ReadCloser, error) {
		w := window
		if !whole {
			if i := bytes.IndexByte(w, '\n'); i >= 0 {
				w = w[i+1:]
			}
		}
		return io.NopCloser(bytes.NewReader(w)), nil
	}}
	_, probs, err := chain.Verify(k0, []chain.Input{in}, nil, chain.Options{Tail: true, Sinks: []string{name}, Budget: maxTailEvolve})
	if err != nil {
		return err.Error(), false
	}
	if len(probs) == 0 {
		return "", false
	}
	p := probs[0]
	return fmt.Sprintf("the chain's tail in %s does not verify: %s: %s", from, p.Kind, p.Detail), p.Kind == chain.WrongKey
}

// tail returns the last tailWindow bytes of the file at s.path, or of its
// newest backup if the file is empty; whole says the window is the whole
// file; from names the file read.
func (s *fileSink) tail() (window []byte, whole bool, from string, err error) {
	if s.size > 0 {
		w, whole, err := readTail(s.path)
		return w, whole, s.path, err
	}
	for try := 0; ; try++ {
		names, err := backups(s.path)
		if err != nil || len(names) == 0 {
			return nil, true, s.path, nil
		}
		slices.Sort(names) // by time: the names differ only in their time stamps
		newest := filepath.Join(filepath.Dir(s.path), names[len(names)-1])
		w, whole, err := readTail(newest)
		if errors.Is(err, fs.ErrNotExist) && try < 3 {
			continue // compressed (or removed by retention) meanwhile: list again
		}
		return w, whole, newest, err
	}
}

// readTail reads the last tailWindow bytes of a log file or backup
// (decompressed, when it ends in .gz), without following a link.
func readTail(path string) ([]byte, bool, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if !st.Mode().IsRegular() {
		return nil, false, fmt.Errorf("%s: %w", path, securefile.ErrNotRegular)
	}
	if filepath.Ext(path) == gzSuffix {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		// Keep the last window of the stream; bounded by the largest backup.
		ring := make([]byte, 0, 2*tailWindow)
		whole := true
		buf := make([]byte, 32<<10)
		lim := io.LimitReader(zr, 4*int64(maxRotationMB)<<20)
		for {
			n, err := lim.Read(buf)
			ring = append(ring, buf[:n]...)
			if len(ring) > tailWindow {
				ring = append(ring[:0], ring[len(ring)-tailWindow:]...)
				whole = false
			}
			if err == io.EOF {
				return ring, whole, nil
			}
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	off := max(0, st.Size()-tailWindow)
	w := make([]byte, st.Size()-off)
	n, err := f.ReadAt(w, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, err
	}
	return w[:n], off == 0, nil
}

// startIntegrity writes the first checkpoint of s's chain and sets how
// checkpoints are encoded and where they are emitted.
func (s *fileSink) startIntegrity(encode func([]byte, *slog.Record) []byte, emit func(slog.Record)) {
	s.mu.Lock()
	c := s.chain
	c.encode, c.emit = encode, emit
	var err error
	if c.after == nil { // else the first write after the old sink closes writes it
		err = s.writeLocked(nil)
	}
	s.mu.Unlock()
	s.report(err, 0)
	s.emitCheckpoints()
	s.mu.Lock()
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	t := s.clock.NewTicker(epochCheckEvery)
	go every(t, c.stop, c.done, s.epochTick)
	s.mu.Unlock()
}

// epochTick ends an epoch that is due, even when nothing is logged, so
// that no key stays in memory much longer than epochInterval.
func (s *fileSink) epochTick() {
	s.mu.Lock()
	if s.chain.after != nil { // not started: nothing sealed yet
		s.mu.Unlock()
		return
	}
	err := s.writeLocked(nil)
	s.mu.Unlock()
	if err != nil && !errors.Is(err, os.ErrClosed) {
		s.report(err, 0)
	}
	s.emitCheckpoints()
}

// sealFinal ends the epoch in progress with a checkpoint (the last one the
// other sinks see) and stops emitting checkpoints: the pipeline is closing.
func (s *fileSink) sealFinal() {
	if s.chain == nil {
		return
	}
	s.flush()
	s.mu.Lock()
	c := s.chain
	var err error
	if !s.closed && c.after == nil && c.sealer.EpochLines > 0 { // a chain never started wrote nothing
		err = s.writeCheckpointLocked("close", s.clock.Now())
	}
	s.mu.Unlock()
	s.report(err, 0)
	s.emitCheckpoints()
	s.mu.Lock()
	c.quiet = true
	s.mu.Unlock()
}

// writeCheckpointLocked writes one checkpoint line (a new epoch). Called
// with s.mu held.
func (s *fileSink) writeCheckpointLocked(reason string, now time.Time) error {
	if s.closed {
		return os.ErrClosed
	}
	c := s.chain
	c.buf = c.checkpoint(c.buf[:0], reason, now, s.path)
	n, err := s.lj.Write(c.buf)
	s.size += int64(n)
	return err
}

// emitCheckpoints hands the checkpoints written to the other sinks, outside s.mu.
func (s *fileSink) emitCheckpoints() {
	s.mu.Lock()
	c := s.chain
	pending, emit := c.pending, c.emit
	c.pending = nil
	quiet := c.quiet
	s.mu.Unlock()
	if quiet || emit == nil {
		return
	}
	for _, r := range pending {
		emit(r)
	}
}

// stopChain stops the epoch ticker and wipes the key.
func (s *fileSink) stopChain() {
	c := s.chain
	if c == nil {
		return
	}
	s.mu.Lock()
	stop, done := c.stop, c.done
	c.stop = nil
	s.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	s.mu.Lock()
	if c.sealer != nil {
		c.sealer.Wipe()
	}
	clear(c.key)
	s.mu.Unlock()
}

// checkpoint appends the sealed checkpoint line that ends the epoch in
// progress (for reason "start" and "resume", the run's first line, alone
// in epoch 0): the run, the epoch, the sequence number and the MAC of the
// line before. It is sealed with the epoch's key, which then evolves: the
// lines after it are in the next epoch. Called with s.mu held.
func (c *fileChain) checkpoint(dst []byte, reason string, now time.Time, path string) []byte {
	if !c.started {
		reason, c.started = c.reason, true
	}
	c.epochStart = now
	head := c.sealer.Head()
	r := slog.NewRecord(now, slog.LevelInfo, checkpointMsg, 0)
	r.AddAttrs(
		slog.String("checkpoint_sink", c.name),
		slog.String("checkpoint_file", filepath.Base(path)),
		slog.String("checkpoint_reason", reason),
		slog.String("checkpoint_run", c.sealer.Run().String()),
		slog.Uint64("checkpoint_epoch", c.sealer.Epoch()),
		slog.Uint64("checkpoint_seq", c.sealer.Seq()),
		slog.String("checkpoint_head", hex.EncodeToString(head[:])),
	)
	line := c.encode(nil, &r)
	if !c.quiet {
		c.pending = append(c.pending, r)
	}
	return c.sealer.SealEnd(dst, line)
}

// due reports whether the epoch in progress must end before the next line:
// it holds epochLines lines, or it sealed a line and the next tick would
// come after epochInterval.
func (c *fileChain) due(now time.Time) bool {
	return c.sealer.EpochLines >= epochLines || c.sealer.EpochLines > 0 && now.Sub(c.epochStart) > epochInterval-epochCheckEvery
}

// writeChainLocked seals the records of batch p (whole lines) and writes
// them in one call, after rotating when the sealed batch would pass the
// size limit. A new file begins with a checkpoint (a new epoch), as does an
// epoch that is due. p may be empty: only the checkpoints due are written.
// Called with s.mu held, the path checked.
func (s *fileSink) writeChainLocked(p []byte, now time.Time) error {
	c := s.chain
	if c.encode == nil {
		return errors.New("the integrity chain is not started") // cannot happen: startIntegrity runs before any record
	}
	records := bytes.Count(p, []byte("\n"))
	est := int64(len(p) + (records+1)*chain.MaxSuffix + 512)
	if s.size > 0 && s.size+est > s.maxBytes && len(p) > 0 {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	buf := c.buf[:0]
	switch {
	case !c.started:
		buf = c.checkpoint(buf, "", now, s.path)
	case s.size == 0:
		buf = c.checkpoint(buf, "new_file", now, s.path) // rotated, or moved away by another tool
	case c.due(now):
		buf = c.checkpoint(buf, "epoch", now, s.path)
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			i = len(p) - 1
		}
		if c.due(now) {
			buf = c.checkpoint(buf, "epoch", now, s.path)
		}
		buf = c.sealer.Seal(buf, p[:i+1])
		p = p[i+1:]
	}
	if cap(buf) <= keepBuf {
		c.buf = buf
	} else {
		c.buf = nil
	}
	if len(buf) == 0 {
		return nil
	}
	_, err := s.writeFile(buf)
	return err
}
