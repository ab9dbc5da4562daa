package loki

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/loki/lokitest"
)

// The records pushed while Loki hangs (a push unanswered past HangAfter)
// or refuses are on disk at the sender's next wake, not only in memory:
// a SIGKILL then loses none of them (issue #16).

// spooledRecord is a record as the spool holds it.
type spooledRecord struct {
	ns   int64
	line string
}

// readSpool reads every record of the segments in dir, oldest first, as
// the replay does (openSegment, spool.read), without deleting anything; a
// torn or corrupt record fails the test.
func readSpool(t *testing.T, dir string) []spooledRecord {
	t.Helper()
	var out []spooledRecord
	for _, path := range segments(t, dir) { // named by sequence number: in order
		f, err := openSegment(path)
		require.NoError(t, err)
		sp := &spool{br: bufio.NewReader(f), recCap: 12 + maxSpoolLabels + DefaultMaxLineBytes, maxLine: DefaultMaxLineBytes,
			torn: func() { t.Errorf("%s: a torn record", path) }, lost: func() { t.Errorf("%s: a corrupt record", path) }}
		for {
			q, ok := sp.read()
			if !ok {
				break
			}
			out = append(out, spooledRecord{q.ts, q.line})
		}
		require.NoError(t, f.Close())
	}
	return out
}

// records are n records: line prefix i, at second 7, nanosecond i.
func records(prefix string, n int) []spooledRecord {
	out := make([]spooledRecord, n)
	for i := range out {
		out[i] = spooledRecord{time.Unix(7, int64(i)).UnixNano(), fmt.Sprintf("%s %04d", prefix, i)}
	}
	return out
}

func pushRecords(c *Client, recs []spooledRecord) {
	for _, r := range recs {
		c.Push(Entry{Time: time.Unix(0, r.ns), Line: r.line, Labels: map[string]string{"level": "INFO"}})
	}
}

func lines(recs []spooledRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.line
	}
	return out
}

// settled waits until the client has spooled n records and holds none in
// memory. The watchdog bounds the wait: a passing test never reaches it.
func settled(t *testing.T, c *Client, n uint64) {
	t.Helper()
	require.Eventually(t, func() bool { st := c.Stats(); return st.Spooled == n && st.Pending == 0 },
		watchdog, time.Millisecond, "all %d records spooled, none left in memory", n)
}

// sentAll waits until c counts n records sent: Loki answered each push
// that carried them.
func sentAll(t *testing.T, c *Client, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return c.Stats().Sent == uint64(n) }, watchdog, time.Millisecond, "%d records sent", n)
}

// hangingClient starts a client with a spool against srv, which hangs;
// pushes first, all of it one batch (the batch wait ends once they are
// queued), waits until its push is held by the server, then pushes rest.
// It returns the client and the HangAfter wait of the push, not yet fired.
func hangingClient(t *testing.T, srv *lokitest.Server, first, rest []spooledRecord) (*Client, Config, *wait) {
	t.Helper()
	srv.Hang()
	cfg, clk := spoolConfig(t, srv.URL)
	clk.set(cfg.HangAfter, held)
	c, err := New(cfg)
	require.NoError(t, err)
	pushRecords(c, first)
	batchWait := clk.next(t)
	require.Equal(t, cfg.BatchWait, batchWait.d)
	batchWait.fire()
	hang := clk.next(t)
	require.Equal(t, cfg.HangAfter, hang.d, "the push is timed against HangAfter")
	require.NoError(t, srv.WaitRequests(watched(t), 1))
	pushRecords(c, rest)
	return c, cfg, hang
}

// Loki hangs: until HangAfter passes, the batch being pushed and the
// records queued behind it are only in memory (the window the README
// states); once it passes, the batch and the queue are in the spool's
// segments, and so is every record pushed after, at the sender's next
// wake, in order, with their timestamps. A new client on the same spool
// (the next process) against a Loki that answers sends each of them once.
func TestHangingPushSpooled(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	want := records("h", 400)
	c, cfg, hang := hangingClient(t, srv, want[:1], want[1:200]) // under half the queue (500)
	st := c.Stats()
	assert.Equal(t, 200, st.Pending, "before HangAfter: in memory")
	assert.Zero(t, st.Spooled)
	assert.Empty(t, segments(t, cfg.SpoolDir))

	hang.fire()
	settled(t, c, 200)
	assert.Equal(t, want[:200], readSpool(t, cfg.SpoolDir), "the batch in flight first, then the queue")
	for i := 200; i < len(want); i++ { // one at a time: each goes to the spool at the sender's next wake
		pushRecords(c, want[i:i+1])
		settled(t, c, uint64(i+1))
	}
	assert.Equal(t, want, readSpool(t, cfg.SpoolDir), "in order, timestamps and lines as pushed")
	assert.Len(t, srv.Requests(), 1, "no other push while the first hangs")

	require.NoError(t, closeSpooling(t, c), "Loki hangs: Close leaves the records in the spool at once")
	assert.Zero(t, c.Stats().Dropped)
	assert.Zero(t, c.Stats().Sent)

	next := lokitest.NewServer()
	defer next.Close()
	cfg2, _ := testConfig(next.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	sentAll(t, c2, len(want))
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, lines(want), next.Lines(), "each record sent once, in order")
	for i, e := range next.Kept()[0].Entries {
		assert.Equal(t, want[i].ns, e.Time.UnixNano(), "the original timestamp")
	}
	assert.Equal(t, uint64(len(want)), c2.Stats().Replayed)
	assert.Empty(t, segments(t, cfg.SpoolDir))
}

// A push that hangs past HangAfter, its batch spooled, and then is
// answered 204: the batch counts as sent by that push, and its copy in the
// spool is not sent again; the records spooled behind it are sent from
// the spool, each once, and the segments are deleted.
func TestHangThenAnswerSentOnce(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first, rest int
	}{{"batch only", 3, 0}, {"batch and queue", 2, 98}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := lokitest.NewServer()
			defer srv.Close()
			want := records("s", tc.first+tc.rest)
			c, cfg, hang := hangingClient(t, srv, want[:tc.first], want[tc.first:])
			hang.fire()
			settled(t, c, uint64(len(want)))
			require.Equal(t, want, readSpool(t, cfg.SpoolDir))

			srv.Release() // the held push is answered 204
			sentAll(t, c, len(want))
			require.Eventually(t, func() bool { return len(segments(t, cfg.SpoolDir)) == 0 }, watchdog, time.Millisecond,
				"the spooled copy of the batch is passed over, the rest sent: the segments are deleted")
			require.NoError(t, c.Close(context.Background()))
			assert.Equal(t, lines(want), srv.Lines(), "each record sent once, in order: the batch by its push, the rest from the spool")
			st := c.Stats()
			assert.Equal(t, uint64(len(want)), st.Sent)
			assert.Equal(t, uint64(tc.rest), st.Replayed, "only the records behind the batch were sent from the spool")
			assert.Equal(t, uint64(len(want)), st.Spooled)
			assert.Zero(t, st.Dropped)
			assert.Zero(t, st.Pending)
		})
	}
}

// A push that hangs past HangAfter, its batch spooled, then refused with a
// 400: the batch is split from the spool, once, and only the records Loki
// refuses are dropped; none is sent twice.
func TestHangThenRefusedSplitOnce(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	want := records("x", 4)
	c, cfg, hang := hangingClient(t, srv, want, nil)
	hang.fire()
	settled(t, c, 4)
	srv.SetStatus(400)
	srv.Release() // the held push is answered 400; so is the spool's, and its halves
	require.Eventually(t, func() bool { return c.Stats().Dropped == 4 }, watchdog, time.Millisecond)
	require.NoError(t, c.Close(context.Background()))
	st := c.Stats()
	assert.Equal(t, Stats{Dropped: 4, FailedBatches: 1, Spooled: 4, Outages: 1}, st)
	assert.Len(t, srv.Requests(), 4, "the held push, the spool's push, its two halves")
	assert.Empty(t, segments(t, cfg.SpoolDir))
}

// Loki refusing (503): the failed batch goes to the spool, and while the
// sender waits to retry, each record pushed is on disk at its next wake.
// The next client on the spool sends them all, once.
func TestRefusingLokiSpoolsEachWake(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	clk.set(cfg.BatchWait, atOnce)
	c, err := New(cfg)
	require.NoError(t, err)
	want := records("r", 300)
	pushRecords(c, want[:1])
	clk.next(t) // the push failed, was spooled, and the spool's failed too: the backoff, never fired
	for i := 1; i < len(want); i++ {
		pushRecords(c, want[i:i+1])
		settled(t, c, uint64(i+1))
	}
	assert.Equal(t, want, readSpool(t, cfg.SpoolDir))
	require.NoError(t, closeSpooling(t, c))

	srv.SetStatus(0)
	cfg2, _ := testConfig(srv.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	sentAll(t, c2, len(want))
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, lines(want), srv.Lines(), "each once, in order")
	assert.Empty(t, segments(t, cfg.SpoolDir))
}

// hangKillChildEnv carries the spool directory and Loki's URL to the child
// of TestHangingPushSurvivesSIGKILL.
const hangKillChildEnv = "LOKI_HANG_KILL_CHILD"

// A process whose pushes hang (Loki frozen), killed with SIGKILL once
// HangAfter passed and its sender woke: no Close, no deferred code. The
// next process on the same spool sends every record, once. The child's
// clock makes HangAfter pass at once, and its timeout never: the push
// hangs until the process dies.
func TestHangingPushSurvivesSIGKILL(t *testing.T) {
	const n = 500
	if arg := os.Getenv(hangKillChildEnv); arg != "" {
		var dir, url string
		_, err := fmt.Sscanf(arg, "%s %s", &dir, &url)
		require.NoError(t, err)
		cfg, clk := testConfig(url)
		cfg.SpoolDir = dir
		clk.set(cfg.BatchWait, atOnce)
		clk.set(cfg.HangAfter, atOnce)
		c, err := New(cfg)
		require.NoError(t, err)
		pushRecords(c, records("k", n))
		settled(t, c, n) // the parent's deadline bounds the wait
		fmt.Println("spooled")
		select {} // until killed
	}
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.Hang()
	dir := t.TempDir() + "/spool"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang, not a slow machine
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHangingPushSurvivesSIGKILL$", "-test.count=1")
	cmd.Env = append(os.Environ(), hangKillChildEnv+"="+dir+" "+srv.URL)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the child spooled and said so")
	require.Equal(t, "spooled\n", line)
	require.NoError(t, cmd.Process.Kill()) // SIGKILL
	_ = cmd.Wait()
	assert.Equal(t, records("k", n), readSpool(t, dir))
	require.Empty(t, srv.Lines(), "the child's push hung: nothing stored")

	srv.Release()
	cfg, _ := testConfig(srv.URL)
	cfg.SpoolDir = dir
	c, err := New(cfg)
	require.NoError(t, err)
	sentAll(t, c, n)
	require.NoError(t, c.Close(context.Background()))
	// The child's hung push may have reached the server whole before the
	// kill: released, the server stores it too. Loki drops such exact
	// duplicates (stream, time, line), as KeptLines does.
	assert.Equal(t, lines(records("k", n)), srv.KeptLines(), "each record once, in order")
	assert.Equal(t, uint64(n), c.Stats().Replayed)
	assert.Empty(t, segments(t, dir))
}
