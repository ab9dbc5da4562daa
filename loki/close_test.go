package loki

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/loki/lokitest"
)

// storeThenHold is a Loki that stores each push at once (in store) and
// answers it only once release is closed, or the client gives up: a slow
// Loki whose answer comes after the records are stored. stored delivers
// once per push, after it was stored.
func storeThenHold(t *testing.T) (srv *httptest.Server, store *lokitest.Server, stored chan struct{}, release chan struct{}) {
	t.Helper()
	store = lokitest.NewServer()
	t.Cleanup(store.Close)
	stored, release = make(chan struct{}, 16), make(chan struct{})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := httptest.NewRecorder()
		r2 := r.Clone(context.Background())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		store.Config.Handler.ServeHTTP(rec, r2)
		stored <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(rec.Code)
	}))
	t.Cleanup(srv.Close)
	return srv, store, stored, release
}

// startClosing starts Close and returns its result's channel once Close
// asked for its flush deadline, and the deadline, not fired.
func startClosing(t *testing.T, c *Client, clk *clock) (<-chan error, *wait) {
	t.Helper()
	closed := make(chan error, 1)
	go func() { closed <- c.Close(context.Background()) }()
	deadline := clk.next(t)
	for deadline.d != c.cfg.FlushTimeout {
		deadline = clk.next(t)
	}
	return closed, deadline
}

// Close while a push is under way (Loki stored it, its answer not yet
// come): Close waits for the answer, within its flush deadline, and does
// not send the batch again. Before, Close cancelled the push and sent its
// batch a second time: each record stored twice by one process.
func TestCloseWaitsForPushUnderWay(t *testing.T) {
	for _, spool := range []bool{false, true} {
		t.Run(fmt.Sprint("spool=", spool), func(t *testing.T) {
			srv, store, stored, release := storeThenHold(t)
			cfg, clk := testConfig(srv.URL)
			if spool {
				cfg, clk = spoolConfig(t, srv.URL)
			}
			c, err := New(cfg)
			require.NoError(t, err)
			want := lineList("r", 100)
			for i, l := range want {
				c.Push(Entry{Time: time.Unix(1, int64(i)), Line: l})
			}
			clk.next(t).fire() // the batch wait: one batch of 100
			receive(t, stored)
			closed, _ := startClosing(t, c, clk)
			assert.Empty(t, closed, "Close waits for the push's answer")
			close(release)
			require.NoError(t, receive(t, closed))
			assert.Equal(t, want, store.Lines(), "each record stored once, in order")
			st := c.Stats()
			assert.Equal(t, uint64(100), st.Sent)
			assert.Zero(t, st.Dropped)
			assert.Zero(t, st.Spooled)
		})
	}
}

// Close's flush deadline expires while a push is under way: the push is
// cancelled, and its batch is not sent again by this process (it may be
// stored: its answer never came). Without a spool it counts as dropped;
// with one it waits there, for the next start (a copy Loki stored is
// then sent again, and Loki drops the duplicate).
func TestCloseDeadlineCancelsPushUnderWay(t *testing.T) {
	for _, spool := range []bool{false, true} {
		t.Run(fmt.Sprint("spool=", spool), func(t *testing.T) {
			srv, store, stored, _ := storeThenHold(t)
			cfg, clk := testConfig(srv.URL)
			if spool {
				cfg, clk = spoolConfig(t, srv.URL)
			}
			c, err := New(cfg)
			require.NoError(t, err)
			for i := range 100 {
				c.Push(Entry{Time: time.Unix(1, int64(i)), Line: fmt.Sprint("r ", i)})
			}
			clk.next(t).fire()
			receive(t, stored)
			closed, deadline := startClosing(t, c, clk)
			deadline.fire()
			err = receive(t, closed)
			st := c.Stats()
			if spool {
				require.NoError(t, err)
				assert.Equal(t, uint64(100), st.Spooled, "the batch waits in the spool")
				assert.Zero(t, st.Dropped)
			} else {
				assert.ErrorContains(t, err, "100 records could not be sent")
				assert.Equal(t, uint64(100), st.Dropped)
			}
			assert.Zero(t, st.Sent, "its answer never came")
			assert.Len(t, store.Lines(), 100, "pushed once, not again by Close")
		})
	}
}

// nextWait returns the next held wait of duration d, passing over others.
func nextWait(t *testing.T, clk *clock, d time.Duration) *wait {
	t.Helper()
	w := clk.next(t)
	for w.d != d {
		w = clk.next(t)
	}
	return w
}

// The last push failed at once (503), so Close tries once more; that try
// hangs. Once HangAfter passed with its records in the spool, Close stops
// waiting for it and returns, without its flush deadline: the records
// wait in the spool for the next start. Before, Close waited out
// FlushTimeout.
func TestCloseExtraTryHangsReturnsAfterHangAfter(t *testing.T) {
	srv, cfg, clk := downWithSpool(t)
	clk.set(cfg.BatchWait, atOnce)
	clk.set(cfg.HangAfter, held)
	c, err := New(cfg)
	require.NoError(t, err)
	want := records("y", 11)
	pushRecords(c, want[:1])
	settled(t, c, 1)
	require.NoError(t, srv.WaitRequests(watched(t), 2), "the push, then the spool's")
	srv.Hang()
	pushRecords(c, want[1:])
	settled(t, c, 11) // Loki is down: each goes to the spool at the sender's wake
	closed, _ := startClosing(t, c, clk)
	hang := nextWait(t, clk, cfg.HangAfter) // Close's try
	require.NoError(t, srv.WaitRequests(watched(t), 3), "Close tries once more")
	assert.Empty(t, closed, "Close waits for its try until HangAfter")
	hang.fire()
	require.NoError(t, receive(t, closed), "the records are on disk: Close returns, its deadline never fired")
	st := c.Stats()
	assert.Equal(t, uint64(11), st.Spooled)
	assert.Zero(t, st.Dropped)
	assert.Zero(t, st.Sent)
	assert.Equal(t, want, readSpool(t, cfg.SpoolDir))
	assert.Len(t, srv.Requests(), 3, "no other try")
}

// Close while the sender's push hangs but HangAfter has not passed yet:
// Close waits for it until HangAfter, then its batch is on disk and Close
// returns; the next start sends each record once.
func TestCloseDuringPushBeforeHangAfter(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	want := records("z", 50)
	c, cfg, hang := hangingClient(t, srv, want[:10], want[10:])
	closed := make(chan error, 1)
	go func() { closed <- c.Close(context.Background()) }()
	hang.fire() // before or after Close stopped the sender: either way the batch goes to disk, and Close returns
	require.NoError(t, receive(t, closed))
	assert.Equal(t, uint64(50), c.Stats().Spooled)
	assert.Equal(t, want, readSpool(t, cfg.SpoolDir))

	next := lokitest.NewServer()
	defer next.Close()
	cfg2, _ := testConfig(next.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	sentAll(t, c2, len(want))
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, lines(want), next.Lines(), "each record sent once, in order")
}

// A batch Loki refuses (400), then Loki hangs while the batch is split:
// the batch waits in the spool while its halves are pushed, and once a
// half's push is unanswered for HangAfter, what is logged meanwhile goes
// to the spool too (at the sender's next wake), not only into memory
// until TIMEOUT. Before, the split's pushes were not watched: everything
// logged during them stayed in memory. Close then returns at once, and
// the next start sends each record once.
func TestSplitPushesWatchedForHang(t *testing.T) {
	var n atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if n.Add(1) == 1 {
			http.Error(w, "entry too far behind", http.StatusBadRequest)
			return
		}
		select { // Loki hangs
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	defer close(release)
	cfg, clk := spoolConfig(t, srv.URL)
	clk.set(cfg.HangAfter, held)
	c, err := New(cfg)
	require.NoError(t, err)
	want := records("a", 60)
	pushRecords(c, want[:10])
	nextWait(t, clk, cfg.BatchWait).fire() // one batch of 10
	nextWait(t, clk, cfg.HangAfter)        // the batch's push, answered 400
	settled(t, c, 10)
	assert.Equal(t, want[:10], readSpool(t, cfg.SpoolDir), "the refused batch waits in the spool while it is split")
	hang := nextWait(t, clk, cfg.HangAfter) // its first half's push, which hangs
	require.Eventually(t, func() bool { return n.Load() == 2 }, watchdog, time.Millisecond)
	pushRecords(c, want[10:35])
	hang.fire()
	settled(t, c, 35)
	for i := 35; i < len(want); i++ { // each at the sender's next wake
		pushRecords(c, want[i:i+1])
		settled(t, c, uint64(i+1))
	}
	assert.Equal(t, want, readSpool(t, cfg.SpoolDir), "in order")
	require.NoError(t, closeSpooling(t, c), "Loki hangs: Close leaves the records in the spool")
	st := c.Stats()
	assert.Zero(t, st.Dropped)
	assert.Zero(t, st.Sent)
	assert.Equal(t, int64(2), n.Load(), "the batch and its first half, no other push")

	next := lokitest.NewServer()
	defer next.Close()
	cfg2, _ := testConfig(next.URL)
	cfg2.SpoolDir = cfg.SpoolDir
	c2, err := New(cfg2)
	require.NoError(t, err)
	sentAll(t, c2, len(want))
	require.NoError(t, c2.Close(context.Background()))
	assert.Equal(t, lines(want), next.Lines(), "each record sent once, in order")
}
