package loki

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/securefile"
	"github.com/codomyrmex/logging/loki/lokitest"
)

// segments lists the spool's segment files.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+spoolSuffix))
	require.NoError(t, err)
	return m
}

// spoolConfig is testConfig with a spool in a new directory.
func spoolConfig(t *testing.T, url string) (Config, *clock) {
	cfg, clk := testConfig(url)
	cfg.SpoolDir = filepath.Join(t.TempDir(), "spool")
	return cfg, clk
}

// downWithSpool returns a test Loki that answers 503 until told otherwise
// (closed when the test ends) and a configuration with a spool for it.
func downWithSpool(t *testing.T) (*lokitest.Server, Config, *clock) {
	srv := lokitest.NewServer()
	t.Cleanup(srv.Close)
	srv.SetStatus(503)
	cfg, clk := spoolConfig(t, srv.URL)
	return srv, cfg, clk
}

// With the default sizes, a burst of 100,000 ordinary records fits in the
// queue (bounded in bytes, 64 MiB) and arrives complete, in order.
func TestBurstWithDefaultsArrivesComplete(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	clk := newClock()
	clk.set(DefaultBatchWait, atOnce)
	clk.set(DefaultTimeout, never)
	clk.set(DefaultMaxRetryAge, never)
	clk.set(DefaultFlushTimeout, never)
	c, err := New(Config{URL: srv.URL, after: clk.after})
	require.NoError(t, err)
	const n = 100_000
	for i := range n {
		c.Push(Entry{Time: time.Unix(0, int64(i+1)), Line: fmt.Sprintf("burst record %06d with some text", i)})
	}
	require.NoError(t, c.Close(context.Background()))
	st := c.Stats()
	assert.Equal(t, uint64(n), st.Sent, "%+v", st)
	assert.Zero(t, st.Dropped)
	lines := srv.Lines()
	require.Len(t, lines, n)
	for i, l := range lines {
		if l != fmt.Sprintf("burst record %06d with some text", i) {
			t.Fatalf("line %d is %q", i, l)
		}
	}
}

// Loki down, then up: the failed batch and the records pushed meanwhile go
// to the spool, and are all sent once, in order, when Loki answers again;
// the segments are then deleted.
func TestSpoolDownThenUp(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	clk.set(cfg.BatchWait, atOnce)
	r := newReports(&cfg)
	c, err := New(cfg)
	require.NoError(t, err)
	var want []string
	for i := range 50 {
		want = append(want, fmt.Sprintf("a %d", i))
		c.Push(Entry{Time: time.Unix(1, int64(i)), Line: want[len(want)-1]})
	}
	backoff := clk.next(t) // the first batch failed, was spooled, and the spool's push failed too
	assert.LessOrEqual(t, backoff.d, cfg.MaxBackoff)
	for i := range 400 { // over half the queue (500): spooled while Loki is down
		want = append(want, fmt.Sprintf("b %d", i))
		c.Push(Entry{Time: time.Unix(2, int64(i)), Line: want[len(want)-1]})
	}
	assert.NotEmpty(t, segments(t, cfg.SpoolDir))
	assert.Contains(t, receive(t, r.ch).Error(), "records wait in the spool")
	srv.SetStatus(0)
	backoff.fire()
	require.NoError(t, srv.WaitLines(watched(t), len(want)))
	require.NoError(t, c.Close(context.Background()))
	assert.Equal(t, want, srv.Lines(), "all, once, in order")
	st := c.Stats()
	assert.Equal(t, uint64(len(want)), st.Sent)
	assert.Zero(t, st.Dropped)
	assert.GreaterOrEqual(t, st.Spooled, uint64(50))
	assert.Equal(t, st.Spooled, st.Replayed)
	assert.Empty(t, segments(t, cfg.SpoolDir), "a segment is deleted once sent")
	fi, err := os.Stat(cfg.SpoolDir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
}

// closeSpooling closes c, which has a spool, while Loki is down: Close
// finds Loki down, leaves what is left in the spool and returns without
// waiting for its flush deadline, which the test's clock never fires.
func closeSpooling(t *testing.T, c *Client) error {
	t.Helper()
	closed := make(chan error, 1)
	go func() { closed <- c.Close(context.Background()) }()
	return receive(t, closed)
}

// closeWhileDown pushes lines to a client whose Loki is down and closes it:
// the records wait in the spool.
func closeWhileDown(t *testing.T, cfg Config, clk *clock, lines []string, priority func(int) bool) *Client {
	t.Helper()
	c, err := New(cfg)
	require.NoError(t, err)
	for i, l := range lines {
		level := "INFO"
		if priority(i) {
			level = "WARN"
		}
		c.Push(Entry{Time: time.Unix(100, int64(i)), Line: l, Labels: map[string]string{"level": level}, Priority: priority(i)})
	}
	require.NoError(t, closeSpooling(t, c), "nothing is lost: it waits in the spool")
	return c
}

func lineList(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s %02d", prefix, i))
	}
	return out
}

func none(int) bool { return false }

// Close while Loki is down leaves the records in the spool; the next client
// started on the same directory sends them, with their timestamps, and
// deletes the segment.
func TestSpoolReplayAfterRestart(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	want := lineList("r", 100)
	c := closeWhileDown(t, cfg, clk, want, none)
	st := c.Stats()
	assert.Equal(t, uint64(100), st.Spooled)
	assert.Zero(t, st.Dropped)
	assert.Zero(t, st.Sent)
	require.Len(t, segments(t, cfg.SpoolDir), 1)
	for _, f := range segments(t, cfg.SpoolDir) {
		fi, err := os.Lstat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}

	srv.SetStatus(0)
	cfg2, _ := testConfig(srv.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	require.NoError(t, srv.WaitLines(watched(t), 100))
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, want, srv.Lines())
	kept := srv.Kept()
	require.Len(t, kept, 1)
	assert.Equal(t, `{level="INFO"}`, kept[0].Labels)
	for i, e := range kept[0].Entries {
		assert.Equal(t, time.Unix(100, int64(i)).UnixNano(), e.Time.UnixNano(), "the original timestamp")
	}
	st2 := c2.Stats()
	assert.Equal(t, uint64(100), st2.Replayed)
	assert.Equal(t, uint64(100), st2.Sent)
	assert.Empty(t, segments(t, cfg.SpoolDir))
}

// A torn tail (the last record cut short, as by a crash) is skipped and
// counted; the records before it are sent.
func TestSpoolTornTailSkipped(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	want := lineList("t", 20)
	closeWhileDown(t, cfg, clk, want, none)
	segs := segments(t, cfg.SpoolDir)
	require.Len(t, segs, 1)
	fi, err := os.Stat(segs[0])
	require.NoError(t, err)
	require.NoError(t, os.Truncate(segs[0], fi.Size()-5)) // mid-record

	srv.SetStatus(0)
	cfg2, _ := testConfig(srv.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	require.NoError(t, srv.WaitLines(watched(t), 19))
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, want[:19], srv.Lines(), "the torn record is never sent, even in part")
	st := c2.Stats()
	assert.Equal(t, uint64(1), st.SpoolTorn)
	assert.Equal(t, uint64(19), st.Replayed)
	assert.Empty(t, segments(t, cfg.SpoolDir))
}

// A corrupt record in the middle of a segment (a flipped byte in its
// payload: its CRC fails) is skipped, counted as torn and as dropped, and
// the records after it are still sent: reading resumes at the next record.
// Before, it ended the segment, losing the rest uncounted.
func TestSpoolCorruptRecordSkipped(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	closeWhileDown(t, cfg, clk, lineList("c", 3), none)
	segs := segments(t, cfg.SpoolDir)
	require.Len(t, segs, 1)
	b, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	// A record of the spool is 8+8+4 bytes, its labels {"level":"INFO"}
	// (16) and its line "c 00" (4): 40 bytes.
	require.Len(t, b, 3*40)
	b[40+30] ^= 0xff // in the second record's labels
	require.NoError(t, os.WriteFile(segs[0], b, 0o600))
	// A huge length in a header is refused before anything is allocated.
	require.NoError(t, os.WriteFile(filepath.Join(cfg.SpoolDir, "00000000000000000009"+spoolSuffix), []byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 0o600))

	srv.SetStatus(0)
	cfg2, _ := testConfig(srv.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	require.NoError(t, c2.Close(context.Background()))
	st := c2.Stats()
	assert.Equal(t, uint64(2), st.SpoolTorn, "the corrupt record and the huge header")
	assert.Equal(t, []string{"c 00", "c 02"}, srv.Lines(), "the record after the corrupt one is sent")
	assert.Equal(t, uint64(1), st.Dropped, "the corrupt record counted as dropped")
	assert.Empty(t, segments(t, cfg.SpoolDir))
}

// A record whose length field is corrupt, in the middle of a segment:
// the reading resumes at the next whole record (the first offset where a
// record passes its CRC), so only the bad record is lost; it is counted as
// torn and as dropped, and the bytes passed over in SpoolSkipped. Before,
// a length pointing past the segment's end was read as a torn tail: the
// rest of the segment was lost, counted only in SpoolTorn; a length within
// it made the records after fail their checks in turn.
func TestSpoolCorruptLengthResyncs(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    uint32
	}{{"past the end", 70000}, {"within the segment", 13}, {"impossible", 1 << 31}, {"zero", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := lokitest.NewServer()
			defer srv.Close()
			srv.SetStatus(503)
			cfg, clk := spoolConfig(t, srv.URL)
			closeWhileDown(t, cfg, clk, lineList("c", 5), none)
			segs := segments(t, cfg.SpoolDir)
			require.Len(t, segs, 1)
			b, err := os.ReadFile(segs[0])
			require.NoError(t, err)
			require.Len(t, b, 5*40) // see TestSpoolCorruptRecordSkipped
			binary.BigEndian.PutUint32(b[40:], tc.n)
			require.NoError(t, os.WriteFile(segs[0], b, 0o600))

			srv.SetStatus(0)
			cfg2, _ := testConfig(srv.URL)
			cfg2.SpoolDir = cfg.SpoolDir
			c2, err := New(cfg2)
			require.NoError(t, err)
			require.NoError(t, c2.Close(context.Background()))
			assert.Equal(t, []string{"c 00", "c 02", "c 03", "c 04"}, srv.Lines(), "only the bad record lost")
			st := c2.Stats()
			assert.Equal(t, uint64(1), st.SpoolTorn)
			assert.Equal(t, uint64(1), st.Dropped, "the bad record counted as dropped")
			assert.Equal(t, uint64(40), st.SpoolSkipped, "the bad record's bytes passed over")
			assert.Equal(t, uint64(4), st.Replayed)
			assert.Empty(t, segments(t, cfg.SpoolDir))
		})
	}
}

// Two records corrupt in a row (the first's length, the second's
// payload): both are passed over in one stretch, counted as one record
// dropped (how many were lost is not known) and their bytes as skipped.
func TestSpoolCorruptStretchCounted(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	closeWhileDown(t, cfg, clk, lineList("c", 5), none)
	segs := segments(t, cfg.SpoolDir)
	b, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	binary.BigEndian.PutUint32(b[40:], 70000)
	b[80+30] ^= 0xff
	require.NoError(t, os.WriteFile(segs[0], b, 0o600))

	srv.SetStatus(0)
	cfg2, _ := testConfig(srv.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, []string{"c 00", "c 03", "c 04"}, srv.Lines())
	st := c2.Stats()
	assert.Equal(t, uint64(1), st.Dropped, "at least one record: the count is not known")
	assert.Equal(t, uint64(80), st.SpoolSkipped)
	assert.Equal(t, uint64(3), st.Replayed)
}

// Memory and spool both full: the spool takes the priority records first
// (they are taken first), the ordinary ones that find no room are dropped
// and counted exactly, and the security events all arrive.
func TestSpoolFullDropsOrdinaryFirst(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.SetStatus(503)
	cfg, _ := spoolConfig(t, srv.URL)
	// A record of the spool is 8+8+4 bytes, its labels {"level":"INFO"} (16)
	// and its line "n 00" (4): 40 bytes. Room for 8 records, of which
	// ordinary records may take 7/8 (315 bytes): 7 records.
	cfg.SpoolMaxBytes = 8*40 + 39
	lines := append(lineList("n", 10), lineList("p", 5)...)
	prio := func(i int) bool { return i >= 10 }
	c, err := New(cfg)
	require.NoError(t, err)
	for i, l := range lines {
		level := map[bool]string{false: "INFO", true: "WARN"}[prio(i)]
		c.Push(Entry{Time: time.Unix(100, int64(i)), Line: l, Labels: map[string]string{"level": level}, Priority: prio(i)})
	}
	err = closeSpooling(t, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "8 records")
	st := c.Stats()
	assert.Equal(t, uint64(7), st.Spooled)
	assert.Equal(t, uint64(8), st.Dropped)

	srv.SetStatus(0)
	cfg2, _ := testConfig(srv.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	require.NoError(t, srv.WaitLines(watched(t), 7))
	require.NoError(t, c2.Close(context.Background()))
	assert.ElementsMatch(t, append(lineList("p", 5), lineList("n", 2)...), srv.Lines(), "every security event, then the oldest ordinary records")
}

// A spool directory that is a symbolic link is refused by New, naming the
// field; so is a file.
func TestSpoolDirRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.Mkdir(target, 0o700))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	for _, path := range []string{link, file} {
		_, err := New(Config{URL: "http://127.0.0.1:1", SpoolDir: path})
		var fe *FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "SPOOL_DIR", fe.Field)
		assert.Equal(t, path, fe.Path)
	}
	_, err := New(Config{URL: "http://127.0.0.1:1", SpoolDir: link})
	assert.ErrorIs(t, err, securefile.ErrSymlink)
	_, err = New(Config{URL: "http://127.0.0.1:1", SpoolMaxBytes: -1})
	var fie *FieldError
	require.ErrorAs(t, err, &fie)
	assert.Equal(t, "SPOOL_MAX_MB", fie.Field)
}

// A loose directory is narrowed to 0700; a segment that is a symbolic link
// is not followed.
func TestSpoolDirNarrowedAndLinksRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	require.NoError(t, os.Mkdir(dir, 0o777))
	require.NoError(t, os.Chmod(dir, 0o777))
	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte("not a segment"), 0o600))
	require.NoError(t, os.Symlink(secret, filepath.Join(dir, "00000000000000000001"+spoolSuffix)))
	srv := lokitest.NewServer()
	defer srv.Close()
	cfg, _ := testConfig(srv.URL)
	cfg.SpoolDir = dir
	c, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, c.Close(context.Background()))
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	assert.Empty(t, srv.Lines(), "the link is not a segment")
	b, err := os.ReadFile(secret)
	require.NoError(t, err)
	assert.Equal(t, "not a segment", string(b))
}

// A spool that cannot be written (here its first segment's name is taken
// by a directory) is reported once; the client goes on as without a spool.
func TestSpoolUnwritableReportedOnce(t *testing.T) {
	_, cfg, clk := downWithSpool(t)
	require.NoError(t, os.MkdirAll(filepath.Join(cfg.SpoolDir, "00000000000000000001"+spoolSuffix), 0o700))
	r := newReports(&cfg)
	c, err := New(cfg)
	require.NoError(t, err)
	flood(c, 5, "u")
	err = closeAtDeadline(t, c, clk)
	require.Error(t, err, "without a spool, what Close could not send is lost")
	n := 0
	for _, e := range r.all() {
		if strings.Contains(e.Error(), "loki spool") {
			n++
		}
	}
	assert.Equal(t, 1, n, "reported once: %v", r.all())
	st := c.Stats()
	assert.Zero(t, st.Spooled)
	assert.Equal(t, uint64(5), st.Dropped)
	assert.False(t, errors.Is(err, securefile.ErrSymlink))
}

// Two clients on one directory (as when Setup replaces a sink before it
// closes the old one): the second keeps to memory while the first holds
// the directory, then takes it over and sends what the first left there.
func TestSpoolHandedOver(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.SetStatus(503)
	cfg, _ := spoolConfig(t, srv.URL)
	c1, err := New(cfg)
	require.NoError(t, err)
	cfg2, clk2 := testConfig(srv.URL)
	clk2.set(cfg2.BatchWait, atOnce)
	cfg2.SpoolDir = cfg.SpoolDir
	r2 := newReports(&cfg2)
	c2, err := New(cfg2)
	require.NoError(t, err)
	assert.False(t, c2.spool.held, "the first client holds the directory")
	want := lineList("h", 10)
	for i, l := range want {
		c1.Push(Entry{Time: time.Unix(100, int64(i)), Line: l})
	}
	require.NoError(t, closeSpooling(t, c1))
	assert.Equal(t, uint64(10), c1.Stats().Spooled)
	srv.SetStatus(0)
	c2.Push(Entry{Time: time.Unix(200, 0), Line: "after"}) // wakes c2's sender, which takes the directory over
	require.NoError(t, srv.WaitLines(watched(t), 11))
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, append(want, "after"), srv.Lines(), "the spool first, then the queue")
	st := c2.Stats()
	// "after" is replayed too if Close cut its push short after Loki stored it.
	assert.GreaterOrEqual(t, st.Replayed, uint64(10), "%+v %v", st, r2.all())
	assert.Equal(t, uint64(11), st.Sent)
	assert.Zero(t, st.Dropped)
	assert.Empty(t, segments(t, cfg.SpoolDir))
}

// A spool on a full disk (issue #16): the write that finds no space is
// reported once and the spool is no longer written; what it could not
// write waits in memory. Nothing is lost or sent twice: the records whole
// on disk are sent from the spool, the half-written one is skipped as a
// torn tail (counted) and sent from memory with those after it.
func TestSpoolDiskFull(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	clk.set(cfg.BatchWait, atOnce)
	r := newReports(&cfg)
	c, err := New(cfg)
	require.NoError(t, err)
	var room atomic.Int64 // bytes left on the disk
	room.Store(3000)
	c.spool.writeTo = func(f *os.File, p []byte) (int, error) {
		if int64(len(p)) <= room.Load() {
			room.Add(-int64(len(p)))
			return f.Write(p)
		}
		n, _ := f.Write(p[:room.Load()])
		room.Store(0)
		return n, syscall.ENOSPC
	}
	var want []string
	for i := range 50 {
		want = append(want, fmt.Sprintf("a %d", i))
		c.Push(Entry{Time: time.Unix(1, int64(i)), Line: want[len(want)-1]})
	}
	backoff := clk.next(t) // the first batch failed, was spooled, and the spool's push failed too
	for i := range 400 {   // spilled while Loki is down, until the disk is full
		want = append(want, fmt.Sprintf("b %d", i))
		c.Push(Entry{Time: time.Unix(2, int64(i)), Line: want[len(want)-1]})
	}
	require.Eventually(t, func() bool { return room.Load() == 0 }, watchdog, time.Millisecond)
	srv.SetStatus(0)
	backoff.fire()
	require.NoError(t, srv.WaitLines(watched(t), len(want)))
	require.NoError(t, c.Close(context.Background()))
	assert.Equal(t, want, srv.Lines(), "all, once, in order")
	st := c.Stats()
	assert.Zero(t, st.Dropped)
	assert.Equal(t, uint64(len(want)), st.Sent)
	assert.Greater(t, st.Spooled, uint64(0))
	assert.Less(t, st.Spooled, uint64(len(want)), "the disk had room for some")
	assert.Equal(t, st.Spooled, st.Replayed, "what was spooled whole was sent from the spool")
	assert.Equal(t, uint64(1), st.SpoolTorn, "the half-written record skipped")
	n := 0
	for _, e := range r.all() {
		if strings.Contains(e.Error(), "no space left on device") {
			n++
		}
	}
	assert.Equal(t, 1, n, "reported once: %v", r.all())
}

// Records spread over several segments are replayed in the order they were
// spooled, segment after segment, by the next start.
func TestSpoolReplayOrderAcrossSegments(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	cfg.QueueSize = 10_000
	cfg.SpoolMaxBytes = 1 << 20 // segments of 64 KiB
	pad := strings.Repeat("x", 100)
	var want []string
	for i := range 3000 { // about 400 KB: several segments of 64 KiB
		want = append(want, fmt.Sprintf("o %04d %s", i, pad))
	}
	closeWhileDown(t, cfg, clk, want, none)
	require.GreaterOrEqual(t, len(segments(t, cfg.SpoolDir)), 3, "several segments")

	srv.SetStatus(0)
	cfg2, _ := testConfig(srv.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	require.NoError(t, srv.WaitLines(watched(t), len(want)))
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, want, srv.Lines(), "oldest segment first, in order")
	assert.Empty(t, segments(t, cfg.SpoolDir))
}

// A spool's lock file left with loose permissions is narrowed to 0600, as
// the directory is narrowed to 0700.
func TestSpoolLockNarrowed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	require.NoError(t, os.Mkdir(dir, 0o700))
	lock := filepath.Join(dir, "lock")
	require.NoError(t, os.WriteFile(lock, nil, 0o600))
	require.NoError(t, os.Chmod(lock, 0o666))
	cfg, _ := testConfig("http://127.0.0.1:1")
	cfg.SpoolDir = dir
	c, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, c.Close(context.Background()))
	fi, err := os.Stat(lock)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

// Security events pushed after ordinary records filled the spool still
// find room: ordinary records may fill only 7/8 of it, the last eighth is
// kept for priority records. At Close the ordinary records left in memory
// are dropped, the security events are all kept and sent by the next
// start. Before, the spool full of ordinary records dropped them.
func TestSpoolKeepsRoomForSecurityEvents(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	clk.set(cfg.BatchWait, atOnce)
	// Records of 40 bytes (see TestSpoolFullDropsOrdinaryFirst): 40 fit,
	// ordinary records take at most 1,400 bytes: 35.
	cfg.SpoolMaxBytes = 40 * 40
	c, err := New(cfg)
	require.NoError(t, err)
	for i, l := range lineList("n", 50) {
		c.Push(Entry{Time: time.Unix(100, int64(i)), Line: l, Labels: map[string]string{"level": "INFO"}})
	}
	clk.next(t) // the batch failed, was spooled as far as it fits, and the spool's push failed: the backoff, never fired
	// What was pushed after the spool's push went to the spool at the
	// sender's next wake, while it waits: not before the backoff began.
	require.Eventually(t, func() bool { return c.Stats().Spooled == 35 }, watchdog, time.Millisecond, "the spool is full for ordinary records")
	for i, l := range lineList("p", 5) {
		c.Push(Entry{Time: time.Unix(101, int64(i)), Line: l, Labels: map[string]string{"level": "WARN"}, Priority: true})
	}
	err = closeSpooling(t, c) // Close spools what it can, priority records first
	require.Error(t, err)
	assert.Contains(t, err.Error(), "15 records")
	st := c.Stats()
	assert.Equal(t, uint64(40), st.Spooled, "the security events found room")
	assert.Equal(t, uint64(15), st.Dropped, "ordinary records only")

	srv.SetStatus(0)
	cfg2, _ := testConfig(srv.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	require.NoError(t, srv.WaitLines(watched(t), 40))
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, append(lineList("n", 50)[:35], lineList("p", 5)...), srv.Lines(), "every security event kept")
}
