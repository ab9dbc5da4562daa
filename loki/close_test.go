package loki

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
