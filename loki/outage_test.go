package loki

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/loki/lokitest"
)

// tried is how many pushes holding the line "poison" poisonServer got.
func tried(tries interface{ Load(any) (any, bool) }) int {
	n, ok := tries.Load("poison")
	if !ok {
		return 0
	}
	return *n.(*int)
}

// With a spool, a batch the server answers 500 every time is bounded as
// it is without one (issue #23): MaxTries tries, the one made before it
// was spooled included, then it is dropped, counted and reported, and the
// records spooled behind it are sent. Before, it was retried without end,
// and stayed on disk to block every later start too.
func TestPoisonBatchInSpoolDropped(t *testing.T) {
	srv, store, tries := poisonServer(t)
	cfg, clk := spoolConfig(t, srv.URL)
	clk.set(cfg.BatchWait, atOnce)
	rep := newReports(&cfg)
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Unix(1, 0), Line: "poison"})
	retry := clk.next(t) // spooled after its first try; its second, from the spool, failed too
	flood(c, 5, "innocent")
	for i := 2; i < DefaultMaxTries; i++ {
		require.LessOrEqual(t, retry.d, cfg.MaxBackoff, "a backoff wait")
		retry.fire()
		if i < DefaultMaxTries-1 {
			retry = clk.next(t)
		}
	}
	require.NoError(t, store.WaitLines(watched(t), 5), "the records behind it go on")
	require.NoError(t, c.Close(context.Background()))
	assert.Equal(t, DefaultMaxTries, tried(tries), "tried MaxTries times in all, no more")
	st := c.Stats()
	assert.Equal(t, uint64(5), st.Sent)
	assert.Equal(t, uint64(5), st.Replayed)
	assert.Equal(t, uint64(1), st.Dropped)
	assert.Equal(t, uint64(1), st.FailedBatches)
	assert.Empty(t, segments(t, cfg.SpoolDir), "nothing left to block the next start")
	var dropped []error
	for _, e := range rep.all() {
		if strings.Contains(e.Error(), "dropped") && !strings.Contains(e.Error(), "recovered") {
			dropped = append(dropped, e)
		}
	}
	require.Len(t, dropped, 1, "%v", rep.all())
	assert.ErrorContains(t, dropped[0], fmt.Sprintf("failed %d times", DefaultMaxTries))
	assert.ErrorContains(t, dropped[0], "1 record dropped")
}

// A poison record an earlier process left in the spool, in one batch with
// innocent records: the next process tries the batch MaxTries times, then
// splits it to find the record the server refuses; only that one is
// dropped, the others are sent, and the spool is emptied.
func TestPoisonInSpoolSplitAtNextStart(t *testing.T) {
	down := lokitest.NewServer()
	defer down.Close()
	down.SetStatus(503)
	cfg, clk := spoolConfig(t, down.URL)
	lines := []string{"a 0", "a 1", "poison", "a 2", "a 3", "a 4"}
	closeWhileDown(t, cfg, clk, lines, none)
	require.Len(t, segments(t, cfg.SpoolDir), 1)

	srv, store, tries := poisonServer(t)
	cfg2, clk2 := testConfig(srv.URL)
	cfg2.SpoolDir, cfg2.MaxTries = cfg.SpoolDir, 3
	c, err := New(cfg2)
	require.NoError(t, err)
	clk2.next(t).fire() // the backoff after the first try
	clk2.next(t).fire() // after the second
	require.NoError(t, store.WaitLines(watched(t), 5))
	require.Eventually(t, func() bool { return c.Stats().Dropped == 1 }, watchdog, time.Millisecond, "the poison record found and dropped")
	require.NoError(t, c.Close(context.Background()))
	assert.ElementsMatch(t, []string{"a 0", "a 1", "a 2", "a 3", "a 4"}, store.Lines())
	// 3 tries of the batch, then its halves {a 0, a 1, poison} (refused)
	// and {a 2, a 3, a 4} (sent), then {a 0} (sent) and {a 1, poison}
	// (refused), then {a 1} (sent) and {poison} (refused): dropped.
	assert.Equal(t, 3+3, tried(tries))
	st := c.Stats()
	assert.Equal(t, uint64(5), st.Replayed)
	assert.Equal(t, uint64(1), st.Dropped)
	assert.Equal(t, uint64(1), st.FailedBatches)
	assert.Empty(t, segments(t, cfg.SpoolDir))
}

// A batch Loki refuses (400) without a spool: split the same way, so one
// bad record costs only itself; a batch refused whole is dropped after
// three pushes (itself and its two halves), not one push per record.
func TestRefusedBatchSplit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bad     func(line string) bool
		sent    int
		pushes  int
		dropped uint64
	}{
		{"one-bad-record", func(l string) bool { return l == "r 5" }, 7, 1 + 2 + 2 + 2, 1},
		{"all-bad", func(string) bool { return true }, 0, 3, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := lokitest.NewServer()
			defer store.Close()
			var pushes atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				pushes.Add(1)
				body, _ := io.ReadAll(r.Body)
				streams, err := lokitest.DecodePushRequest(r.Header.Get("Content-Type"), bytes.NewReader(body))
				assert.NoError(t, err)
				for _, st := range streams {
					for _, e := range st.Entries {
						if tc.bad(e.Line) {
							http.Error(w, "entry has timestamp too old", http.StatusBadRequest)
							return
						}
					}
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				store.Config.Handler.ServeHTTP(w, r)
			}))
			defer srv.Close()
			cfg, clk := testConfig(srv.URL)
			rep := newReports(&cfg)
			c, err := New(cfg)
			require.NoError(t, err)
			for i := range 8 {
				c.Push(Entry{Time: time.Unix(1, int64(i)), Line: fmt.Sprint("r ", i)})
			}
			clk.next(t).fire() // the batch wait: one batch of 8
			require.NoError(t, c.Close(context.Background()))
			st := c.Stats()
			assert.Equal(t, uint64(tc.sent), st.Sent)
			assert.Equal(t, tc.dropped, st.Dropped)
			assert.Equal(t, int64(tc.pushes), pushes.Load())
			assert.Len(t, store.Lines(), tc.sent)
			assert.Len(t, rep.all(), 1, "reported once: %v", rep.all())
		})
	}
}

// A persistent redirect (or any failure) is reported once, not once a
// batch; its end is reported with what it cost, and Stats counts the
// episode.
func TestFailureReportedOncePerEpisode(t *testing.T) {
	store := lokitest.NewServer()
	defer store.Close()
	var redirecting atomic.Bool
	redirecting.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if redirecting.Load() {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		store.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg, clk := testConfig(srv.URL)
	clk.set(cfg.BatchWait, atOnce)
	rep := newReports(&cfg)
	c, err := New(cfg)
	require.NoError(t, err)
	for i := range 20 { // one batch each
		c.Push(Entry{Time: time.Unix(1, int64(i)), Line: fmt.Sprint("r ", i)})
		require.Eventually(t, func() bool { return c.Stats().FailedBatches == uint64(i+1) }, watchdog, time.Millisecond)
	}
	all := rep.all()
	require.Len(t, all, 1, "20 batches, one report: %v", all)
	assert.ErrorContains(t, all[0], "HTTP 302")
	redirecting.Store(false)
	c.Push(Entry{Time: time.Unix(2, 0), Line: "after"})
	assert.ErrorContains(t, receive(t, rep.ch), "HTTP 302")
	assert.ErrorContains(t, receive(t, rep.ch), "recovered after 20 failed pushes (last HTTP 302); 20 records in 20 batches dropped meanwhile")
	require.NoError(t, c.Close(context.Background()))
	st := c.Stats()
	assert.Equal(t, Stats{Sent: 1, Dropped: 20, FailedBatches: 20, Outages: 1}, st)
	assert.Equal(t, []string{"after"}, store.Lines())
}

// A spool that meets a 401 (a rotated token), 403, 404 (a wrong URL) or a
// 3xx is kept: those refuse the client, not the records. The client backs
// off and reports once; nothing is dropped; the next start with the right
// settings sends it all. Before, the first such answer dropped the whole
// spool.
func TestSpoolKeptWhenLokiRefusesTheClient(t *testing.T) {
	for _, status := range []int{401, 403, 404, 302} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := lokitest.NewServer()
			defer srv.Close()
			srv.SetStatus(503)
			cfg, clk := spoolConfig(t, srv.URL)
			want := lineList("k", 50)
			closeWhileDown(t, cfg, clk, want, none)

			srv.SetStatus(status)
			cfg2, clk2 := testConfig(srv.URL)
			cfg2.SpoolDir = cfg.SpoolDir
			rep := newReports(&cfg2)
			c2, err := New(cfg2)
			require.NoError(t, err)
			for range 2 * DefaultMaxTries { // beyond any bound on tries
				b := clk2.next(t)
				require.LessOrEqual(t, b.d, cfg2.MaxBackoff, "a backoff")
				b.fire()
			}
			require.NoError(t, closeSpooling(t, c2), "the records wait in the spool")
			st := c2.Stats()
			assert.Zero(t, st.Dropped, "%+v", st)
			assert.Zero(t, st.FailedBatches)
			assert.Equal(t, uint64(1), st.Outages)
			assert.Len(t, rep.all(), 1, "reported once: %v", rep.all())
			assert.ErrorContains(t, rep.all()[0], fmt.Sprint("HTTP ", status))
			assert.NotEmpty(t, segments(t, cfg.SpoolDir), "the spool is kept")

			srv.SetStatus(0)
			cfg3, _ := testConfig(srv.URL)
			cfg3.SpoolDir = cfg.SpoolDir
			c3, err := New(cfg3)
			require.NoError(t, err)
			require.NoError(t, srv.WaitLines(watched(t), len(want)))
			require.NoError(t, c3.Close(context.Background()))
			assert.Equal(t, want, srv.Lines())
			assert.Empty(t, segments(t, cfg.SpoolDir))
		})
	}
}

// With a spool, Close while Loki is known down does not wait for its
// flush deadline (the test's clock never fires it): it tries once (Loki
// may be back), and at that failure what is queued goes to the spool at
// once, and the next start sends it. Before, Close spent the whole
// FlushTimeout retrying.
func TestCloseWhileDownSpoolsAtOnce(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	clk.set(cfg.BatchWait, atOnce)
	c, err := New(cfg)
	require.NoError(t, err)
	want := lineList("d", 100)
	c.Push(Entry{Time: time.Unix(1, 0), Line: want[0]})
	clk.next(t) // the push failed, and its retry from the spool: Loki is known down; the backoff is never fired
	for i, l := range want[1:] {
		c.Push(Entry{Time: time.Unix(1, int64(i+1)), Line: l})
	}
	require.NoError(t, closeSpooling(t, c))
	requests := len(srv.Requests())
	st := c.Stats()
	assert.Equal(t, uint64(100), st.Spooled)
	assert.Zero(t, st.Dropped)
	assert.Equal(t, uint64(1), st.Retries, "the sender's one retry wait, and none by Close")

	srv.SetStatus(0)
	cfg2, _ := testConfig(srv.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	require.NoError(t, srv.WaitLines(watched(t), 100))
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, want, srv.Lines())
	assert.Equal(t, 3, requests, "Close made one push of its own, and no retry: Loki was known down")
}

// Loki found down by the last push but back by the time of Close: Close's
// own try finds it, and everything is sent (the spool too) before Close
// returns, not left for a next start.
func TestCloseAfterOutageEndedSends(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	clk.set(cfg.BatchWait, atOnce)
	c, err := New(cfg)
	require.NoError(t, err)
	want := lineList("b", 50)
	c.Push(Entry{Time: time.Unix(1, 0), Line: want[0]})
	clk.next(t) // the push failed, and its retry from the spool: Loki is known down
	for i, l := range want[1:] {
		c.Push(Entry{Time: time.Unix(1, int64(i+1)), Line: l})
	}
	srv.SetStatus(0) // back, while the sender waits out its backoff
	require.NoError(t, closeSpooling(t, c))
	assert.Equal(t, want, srv.Lines())
	st := c.Stats()
	assert.Zero(t, st.Dropped)
	assert.Equal(t, st.Spooled, st.Replayed, "what was spooled was sent")
	segs, err := filepath.Glob(filepath.Join(cfg.SpoolDir, "*.seg"))
	require.NoError(t, err)
	assert.Empty(t, segs, "nothing left for a next start")
}
