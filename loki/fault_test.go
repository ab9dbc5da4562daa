package loki

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/codomyrmex/logging/loki/lokitest"
)

// reports collects what a client reports through OnError.
type reports struct {
	mu   sync.Mutex
	errs []error
	ch   chan error
}

func newReports(cfg *Config) *reports {
	r := &reports{ch: make(chan error, 64)}
	cfg.OnError = func(err error) {
		r.mu.Lock()
		r.errs = append(r.errs, err)
		r.mu.Unlock()
		r.ch <- err
	}
	return r
}

func (r *reports) all() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// certFile writes the certificate of a TLS test server to a PEM file, for
// CAFile.
func certFile(t *testing.T, srv *httptest.Server) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	return path
}

// A redirect is never followed: the credentials, the tenant and the
// records go nowhere but the configured URL, the batch is dropped (it was
// not sent), and the report names the status and a bounded location.
func TestRedirectsNotFollowed(t *testing.T) {
	pw := "pw-" + "5e2d91"
	target := lokitest.NewServer() // where a redirect points: it must see nothing
	defer target.Close()
	targetPort := target.Listener.Addr().String()[strings.LastIndex(target.Listener.Addr().String(), ":"):]
	longHost := strings.Repeat("a", 200_000) + ".example"
	cases := []struct {
		name, status, location string
		wantInReport           string
		ownClient              bool // Config.HTTPClient set: its redirect policy is overridden too
	}{
		{"308-https-to-http-same-host", "308", target.URL + lokitest.PushPath, "http://127.0.0.1" + targetPort, false},
		{"307-cross-host", "307", "http://localhost" + targetPort + lokitest.PushPath, "http://localhost" + targetPort, false},
		{"302-login-page", "302", "/login?next=%2Floki", `"/login"`, false},
		{"301-callers-client", "301", target.URL + lokitest.PushPath, "HTTP 301", true},
		{"303-huge-host", "303", "https://" + longHost + "/x", "HTTP 303", false},
		{"302-credentials-in-location", "302", "https://user:" + pw + "@login.example/?token=" + pw, `"https://login.example/"`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string // method and path of every request the redirecting server got
			redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Method+" "+r.URL.Path)
				mu.Unlock()
				if r.URL.Path == "/login" {
					_, _ = io.WriteString(w, "<html>sign in</html>") // a 200 that must not count as sent
					return
				}
				w.Header().Set("Location", tc.location)
				code := map[string]int{"301": 301, "302": 302, "303": 303, "307": 307, "308": 308}[tc.status]
				w.WriteHeader(code)
			}))
			defer redirector.Close()
			cfg, clk := testConfig(redirector.URL)
			cfg.Username, cfg.Password, cfg.Tenant = "svc", pw, "team-a"
			if tc.ownClient {
				cfg.HTTPClient = redirector.Client()
			} else {
				cfg.CAFile = certFile(t, redirector)
			}
			rep := newReports(&cfg)
			c, err := New(cfg)
			require.NoError(t, err)
			for i := range 3 {
				c.Push(Entry{Time: time.Now(), Line: fmt.Sprint("record ", i)})
			}
			clk.next(t).fire() // the batch wait: one batch of the three
			report := receive(t, rep.ch)
			require.NoError(t, c.Close(context.Background()))
			assert.Len(t, rep.all(), 1, "reported once")
			msg := report.Error()
			assert.Contains(t, msg, "HTTP "+tc.status)
			assert.Contains(t, msg, tc.wantInReport)
			assert.Contains(t, msg, "not followed")
			assert.NotContains(t, msg, pw)
			assert.NotContains(t, msg, "record ")
			assert.Less(t, len(msg), 600, "bounded whatever the server sends")
			st := c.Stats()
			assert.Equal(t, Stats{Dropped: 3, FailedBatches: 1, Outages: 1}, st, "dropped, not counted as sent")
			assert.Empty(t, target.Requests(), "nothing re-sent elsewhere")
			mu.Lock()
			// One POST; net/http itself may send it again on a fresh
			// connection when a reused one was closed before any answer.
			require.NotEmpty(t, seen)
			for _, s := range seen {
				assert.Equal(t, "POST "+lokitest.PushPath, s, "no GET of the login page, nothing but the push")
			}
			mu.Unlock()
		})
	}
}

// poisonServer answers 500 to every push that holds the line "poison" and
// stores the others in store.
func poisonServer(t *testing.T) (*httptest.Server, *lokitest.Server, *sync.Map) {
	store := lokitest.NewServer()
	t.Cleanup(store.Close)
	var tries sync.Map // line → *int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		streams, err := lokitest.DecodePushRequest(r.Header.Get("Content-Type"), bytes.NewReader(body))
		if err == nil {
			for _, st := range streams {
				for _, e := range st.Entries {
					if e.Line == "poison" {
						n, _ := tries.LoadOrStore("poison", new(int))
						*n.(*int)++
						w.WriteHeader(http.StatusInternalServerError)
						return
					}
				}
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		store.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, store, &tries
}

// A batch that the server always answers 500 is tried DefaultMaxTries
// times, then dropped and counted; the batches behind it go on.
func TestPoisonBatchDroppedAfterMaxTries(t *testing.T) {
	srv, store, tries := poisonServer(t)
	cfg, clk := testConfig(srv.URL)
	clk.set(cfg.BatchWait, atOnce)
	rep := newReports(&cfg)
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "poison"})
	retry := clk.next(t) // the first try failed
	assert.ErrorContains(t, receive(t, rep.ch), "HTTP 500")
	flood(c, 5, "innocent")                // behind the poison
	for i := 1; i < DefaultMaxTries; i++ { // the backoff after each failed try but the last
		require.LessOrEqual(t, retry.d, cfg.MaxBackoff, "a backoff wait")
		retry.fire()
		if i < DefaultMaxTries-1 {
			retry = clk.next(t)
		}
	}
	gaveUp := receive(t, rep.ch)
	assert.ErrorContains(t, gaveUp, fmt.Sprintf("failed %d times", DefaultMaxTries))
	assert.ErrorContains(t, gaveUp, "a batch of 1 records dropped")
	require.NoError(t, store.WaitLines(watched(t), 5), "the batches behind it go on")
	require.NoError(t, c.Close(context.Background()))
	n, _ := tries.Load("poison")
	assert.Equal(t, DefaultMaxTries, *n.(*int), "tried MaxTries times, no more")
	st := c.Stats()
	assert.Equal(t, uint64(5), st.Sent)
	assert.Equal(t, uint64(1), st.Dropped)
	assert.Equal(t, uint64(1), st.FailedBatches)
	assert.Equal(t, uint64(DefaultMaxTries-1), st.Retries)
	all := rep.all()
	require.Len(t, all, 3, "reported when it began failing, when it was dropped, and when pushes succeeded again: not once a try")
	assert.ErrorContains(t, all[2], "recovered after 10 failed pushes (last HTTP 500); 1 records in 1 batches dropped meanwhile")
	assert.Equal(t, uint64(1), st.Outages)
}

// A batch is retried for at most MaxRetryAge after its first failure: when
// that age is reached it gets one last try at once, then is dropped.
func TestRetryAgeBounds(t *testing.T) {
	srv, store, tries := poisonServer(t)
	cfg, clk := testConfig(srv.URL)
	clk.set(cfg.BatchWait, atOnce)
	clk.set(cfg.MaxRetryAge, held)
	cfg.MaxTries = 1000
	rep := newReports(&cfg)
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "poison"})
	age := clk.next(t)
	require.Equal(t, cfg.MaxRetryAge, age.d, "the age is timed from the first failure")
	backoff := clk.next(t)
	require.LessOrEqual(t, backoff.d, cfg.MaxBackoff)
	backoff.fire()
	clk.next(t) // the second backoff, left unfired
	flood(c, 3, "innocent")
	age.fire() // the backoff is cut short: one last try, then the batch is dropped
	require.NoError(t, store.WaitLines(watched(t), 3))
	require.NoError(t, c.Close(context.Background()))
	n, _ := tries.Load("poison")
	assert.Equal(t, 3, *n.(*int), "two tries, and one last when the age was reached")
	all := rep.all()
	require.Len(t, all, 3, "failing, dropped, recovered")
	assert.ErrorContains(t, all[1], "failed 3 times in 400ms")
	assert.ErrorContains(t, all[2], "recovered")
	st := c.Stats()
	assert.Equal(t, Stats{Sent: 3, Dropped: 1, Retries: 2, FailedBatches: 1, Outages: 1}, st)
}

// A 4xx other than 429 is not retried; the report quotes Loki's reason,
// its first line only and bounded, and leaves it out when it echoes a
// record or a credential.
func TestRejectionReason(t *testing.T) {
	tok := "tok-" + "3f9a0c7b1e"
	cases := []struct {
		name, body, want, notWant string
	}{
		{"loki-reason", "entry for stream '{level=\"INFO\"}' has timestamp too old\nsecond line", `"entry for stream '{level=\"INFO\"}' has timestamp too old"`, "second line"},
		{"control-characters", "bad\x1b[31m \xff", `"bad\x1b[31m \xff"`, "\x1b"},
		{"huge", strings.Repeat("r", 100_000), `"` + strings.Repeat("r", maxReason) + `"…`, strings.Repeat("r", maxReason+1)},
		{"echoes-record", "cannot parse line \"secret record line 0\"", "(the reason is left out: it quotes a record)", "secret record"},
		{"echoes-token", "bad token " + tok, "(the reason is left out: it quotes a credential)", tok},
		{"empty", "", "no reason given", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tries sync.Mutex
			n := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tries.Lock()
				n++
				tries.Unlock()
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			cfg, clk := testConfig(srv.URL)
			clk.set(cfg.BatchWait, atOnce)
			cfg.BearerToken = tok
			rep := newReports(&cfg)
			c, err := New(cfg)
			require.NoError(t, err)
			c.Push(Entry{Time: time.Now(), Line: "secret record line 0"})
			msg := receive(t, rep.ch).Error()
			require.NoError(t, c.Close(context.Background()))
			assert.Contains(t, msg, "HTTP 400: "+tc.want)
			if tc.notWant != "" {
				assert.NotContains(t, msg, tc.notWant)
			}
			assert.Less(t, len(msg), 2*maxReason, "bounded")
			assert.Len(t, rep.all(), 1, "reported once")
			tries.Lock()
			assert.Equal(t, 1, n, "not retried")
			tries.Unlock()
		})
	}
}

// The queue is bounded in bytes as well as in entries: with Loki stalled,
// records of 60 KiB fill QueueBytes and no more; a priority entry makes room
// by dropping as many ordinary ones as it needs.
func TestQueueBoundedInBytes(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.Hang()
	cfg, clk := testConfig(srv.URL)
	cfg.QueueSize, cfg.QueueBytes, cfg.MaxLineBytes = 10_000, 1<<20, 128<<10
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "first"})
	clk.next(t).fire() // the batch wait: "first" is sent, and Loki hangs
	require.NoError(t, srv.WaitRequests(watched(t), 1))
	big := strings.Repeat("x", 60<<10)
	for i := range 100 {
		c.Push(Entry{Time: time.Now(), Line: fmt.Sprint(i, big)})
	}
	fits := cfg.QueueBytes / (60<<10 + 2 + entryOverhead)
	st := c.Stats()
	assert.Equal(t, fits+1, st.Pending, "what fits in QueueBytes, and the batch in flight")
	assert.Equal(t, uint64(100-fits), st.Dropped)
	assert.True(t, c.Push(Entry{Time: time.Now(), Line: strings.Repeat("s", 120<<10), Priority: true}))
	c.mu.Lock()
	total := 0
	for _, q := range append(append([]queued(nil), c.normal...), c.priority...) {
		total += q.cost()
	}
	assert.Equal(t, total, c.qbytes, "the byte count is exact")
	assert.LessOrEqual(t, c.qbytes, cfg.QueueBytes)
	assert.Len(t, c.normal, fits-2, "the priority entry took the room of two ordinary ones")
	c.mu.Unlock()
	srv.Release()
	require.NoError(t, c.Close(context.Background()))
	checkAccounting(t, c, 102)
	c.mu.Lock()
	assert.Zero(t, c.qbytes)
	c.mu.Unlock()
}

// A line cut at MaxLineBytes is a copy: it does not keep the original,
// perhaps far longer, string alive in the queue.
func TestCutLineIsCopied(t *testing.T) {
	for _, max := range []int{8, 100} { // without the marker, and with it
		line := strings.Repeat("é", 1000)
		cut := truncate(line, max)
		start, end := uintptr(unsafe.Pointer(unsafe.StringData(line))), uintptr(unsafe.Pointer(unsafe.StringData(line)))+uintptr(len(line))
		p := uintptr(unsafe.Pointer(unsafe.StringData(cut)))
		assert.False(t, p >= start && p < end, "max %d: the cut line shares the original's memory", max)
		assert.LessOrEqual(t, len(cut), max)
	}
}

// Pushes are snappy-compressed: on lines like the library's own records,
// the body is far smaller than the lines it carries, and decodes to them.
func TestPushCompressed(t *testing.T) {
	labels := map[string]string{"service": "api", "level": "INFO", "logger": "http.access"}
	key := streamKey(labels)
	var batch []queued
	lineBytes := 0
	for i := range 1000 {
		line := fmt.Sprintf(`{"time":"2026-12-01T19:%02d:%02d.%06dZ","level":"INFO","logger":"http.access","msg":"request","method":"GET","path":"/api/v1/orders/%d","status":200,"bytes":%d,"duration":"%dµs","client":"10.0.%d.%d","user_agent":"Mozilla/5.0 (X11; Linux x86_64)","request_id":"%016x"}`,
			i/60%60, i%60, i*7919%1000000, 1000+i*37%500, 200+i*13%4000, 100+i*31%900, i%4, i%250, uint64(i)*0x9e3779b97f4a7c15)
		lineBytes += len(line)
		batch = append(batch, queued{stream: key, labels: labels, ts: int64(i) * 1e6, line: line})
	}
	body := encodeProtobuf(batch)
	ratio := float64(len(body)) / float64(lineBytes)
	t.Logf("%d bytes of lines, %d on the wire: %.3f bytes per byte of line, %.0f bytes per record", lineBytes, len(body), ratio, float64(len(body))/1000)
	assert.Less(t, ratio, 1.0/3, "compressed, as Loki's clients send")
	streams, err := lokitest.DecodePushRequest("application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	require.Len(t, streams, 1)
	require.Len(t, streams[0].Entries, 1000)
	for i, e := range streams[0].Entries {
		assert.Equal(t, batch[i].line, e.Line)
	}
}

// Close leaves no goroutine and no connection behind, Setup after Setup:
// the connection of the last push is closed, on the client's side and so
// on the server's.
func TestCloseLeavesNothing(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", tls), func(t *testing.T) {
			srv := lokitest.NewServer()
			if tls {
				srv = lokitest.NewTLSServer()
			}
			defer srv.Close()
			ca := ""
			if tls {
				ca = writeCA(t, srv)
			}
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			for i := range 300 {
				c, err := New(Config{URL: srv.URL, CAFile: ca, BatchWait: time.Hour})
				require.NoError(t, err)
				c.Push(Entry{Time: time.Now(), Line: fmt.Sprint("cycle ", i)})
				require.NoError(t, c.Close(context.Background()))
			}
			assert.Len(t, srv.Lines(), 300, "each cycle's record sent once")
		})
	}
}

// Any batch encodes to a snappy-compressed protobuf body that decodes to
// the same streams and lines.
func FuzzProtobufRoundTrip(f *testing.F) {
	f.Add("first line", "second", "api", int64(1))
	f.Add(strings.Repeat("ab", 5000), "", "x\"y", int64(-1))
	f.Fuzz(func(t *testing.T, a, b, service string, ts int64) {
		la := map[string]string{"service": service}
		lb := map[string]string{"level": "INFO"}
		batch := []queued{
			{stream: streamKey(la), labels: la, ts: ts, line: a},
			{stream: streamKey(lb), labels: lb, ts: ts + 1, line: b},
			{stream: streamKey(la), labels: la, ts: ts + 2, line: a + b},
		}
		streams, err := lokitest.DecodePushRequest("application/x-protobuf", bytes.NewReader(encodeProtobuf(batch)))
		require.NoError(t, err)
		require.Len(t, streams, 2)
		assert.Equal(t, streamKey(la), streams[0].Labels)
		require.Len(t, streams[0].Entries, 2)
		assert.Equal(t, a, streams[0].Entries[0].Line)
		assert.Equal(t, a+b, streams[0].Entries[1].Line)
		assert.Equal(t, ts+2, streams[0].Entries[1].Time.UnixNano())
		require.Len(t, streams[1].Entries, 1)
		assert.Equal(t, b, streams[1].Entries[0].Line)
	})
}

// BenchmarkEncodeProtobuf encodes a batch of 1,000 varied access records
// and reports the bytes on the wire per record.
func BenchmarkEncodeProtobuf(b *testing.B) {
	labels := map[string]string{"service": "api", "level": "INFO"}
	key := streamKey(labels)
	batch := make([]queued, 1000)
	for i := range batch {
		batch[i] = queued{stream: key, labels: labels, ts: int64(i), line: fmt.Sprintf(
			`{"time":"2026-12-01T19:00:%02d.%06dZ","level":"INFO","logger":"http.access","msg":"request","path":"/api/v1/orders/%d","status":200,"request_id":"%016x"}`,
			i%60, i*7919%1000000, 1000+i*37%500, uint64(i)*0x9e3779b97f4a7c15)}
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = len(encodeProtobuf(batch))
	}
	b.ReportMetric(float64(n)/float64(len(batch)), "wire-B/record")
}

// LabelSet leaves out what Loki would refuse, so that one bad label cannot
// make every batch that holds it fail: values longer than
// MaxLabelValueBytes, names longer than MaxLabelNameBytes, and labels
// beyond MaxLabels.
func TestLabelSetWithinLokiLimits(t *testing.T) {
	c, err := New(Config{URL: "http://127.0.0.1:1", Labels: map[string]string{"service": "api"}})
	require.NoError(t, err)
	defer c.Close(context.Background())
	labels := map[string]string{
		"long": strings.Repeat("v", MaxLabelValueBytes+1),
		"n" + strings.Repeat("a", MaxLabelNameBytes): "x",
		"service": "web", // replaces the static one, within the limit
	}
	for i := range 40 {
		labels[fmt.Sprintf("l%02d", i)] = "v"
	}
	st := c.LabelSet(labels)
	assert.Len(t, st.labels, MaxLabels)
	assert.Equal(t, "web", st.labels["service"])
	assert.NotContains(t, st.labels, "long")
	for k, v := range st.labels {
		assert.LessOrEqual(t, len(k), MaxLabelNameBytes)
		assert.LessOrEqual(t, len(v), MaxLabelValueBytes)
	}
	assert.Equal(t, "v", st.labels["l00"], "the first names in order are kept")
}
