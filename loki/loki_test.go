package loki

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/loki/lokitest"
)

func testConfig(url string) Config {
	return Config{URL: url, BatchWait: 20 * time.Millisecond, QueueSize: 500, Timeout: 200 * time.Millisecond,
		FlushTimeout: 300 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, retryBaseDelay: 5 * time.Millisecond}
}

// flood pushes n entries, measuring each Push, and returns the p99 latency.
func flood(c *Client, n int, prefix string) time.Duration {
	lat := make([]time.Duration, n)
	for i := range n {
		start := time.Now()
		c.Push(Entry{Time: time.Now(), Line: fmt.Sprintf("%s %d", prefix, i), Labels: map[string]string{"level": "INFO"}})
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	return lat[n*99/100]
}

// checkAccounting asserts sent + dropped + pending == pushed and the queue bound.
func checkAccounting(t *testing.T, c *Client, pushed int) {
	t.Helper()
	st := c.Stats()
	assert.Equal(t, uint64(pushed), st.Sent+st.Dropped+uint64(st.Pending), "stats %+v", st)
	assert.LessOrEqual(t, st.Pending, c.cfg.QueueSize+c.cfg.QueueSize, "memory bounded by the queue")
}

func TestDeliversInOrderWithLabels(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.Tenant, cfg.Username, cfg.Password = "team-a", "user", "pw"
	cfg.Labels = map[string]string{"service": "api"}
	c, err := New(cfg)
	require.NoError(t, err)
	for i := range 300 {
		c.Push(Entry{Time: time.Now(), Line: fmt.Sprintf("line %03d", i)})
	}
	require.NoError(t, c.Close(context.Background()))
	lines := srv.Lines()
	require.Len(t, lines, 300)
	for i, l := range lines {
		assert.Equal(t, fmt.Sprintf("line %03d", i), l)
	}
	for _, r := range srv.Requests() {
		assert.Equal(t, "team-a", r.Header.Get("X-Scope-OrgID"))
		u, p, _ := (&http.Request{Header: r.Header}).BasicAuth()
		assert.Equal(t, "user:pw", u+":"+p)
	}
	checkAccounting(t, c, 300)
	assert.Equal(t, uint64(300), c.Stats().Sent)
}

func TestFaults(t *testing.T) {
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refusedURL := "http://" + refused.Addr().String()
	refused.Close()

	cases := []struct {
		name    string
		url     string // if not the server's
		fault   func(srv *lokitest.Server)
		clear   func(srv *lokitest.Server)
		recover bool // records sent during the fault arrive once it clears
	}{
		{"connection-refused", refusedURL, nil, nil, false},
		{"hanging-server", "", (*lokitest.Server).Hang, (*lokitest.Server).Release, true},
		{"500", "", func(s *lokitest.Server) { s.SetStatus(500) }, func(s *lokitest.Server) { s.SetStatus(0) }, true},
		{"429-retry-after", "", func(s *lokitest.Server) { s.SetRetryAfter("0"); s.SetStatus(429) }, func(s *lokitest.Server) { s.SetStatus(0) }, true},
		{"400", "", func(s *lokitest.Server) { s.SetStatus(400) }, func(s *lokitest.Server) { s.SetStatus(0) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := lokitest.NewServer()
			defer srv.Close()
			url := srv.URL
			if tc.url != "" {
				url = tc.url
			}
			var errs atomic.Int64
			cfg := testConfig(url)
			cfg.OnError = func(error) { errs.Add(1) }
			c, err := New(cfg)
			require.NoError(t, err)
			if tc.fault != nil {
				tc.fault(srv)
			}
			p99 := flood(c, 2000, "during")
			assert.Less(t, p99, time.Millisecond, "p99 Push latency during the fault")
			time.Sleep(350 * time.Millisecond) // longer than the request timeout: the fault is seen
			checkAccounting(t, c, 2000)
			assert.Greater(t, c.Stats().Dropped, uint64(0), "queue bound enforced by dropping")
			if tc.clear != nil {
				tc.clear(srv)
			}
			_ = c.Close(context.Background())
			checkAccounting(t, c, 2000)
			st := c.Stats()
			assert.Equal(t, 0, st.Pending)
			// A push that timed out after the server stored it is sent again (Loki
			// drops such exact duplicates): count each line once, and allow
			// repeats only where a retry happened.
			assert.Equal(t, uint64(srv.Distinct()), st.Sent, "what the server stored is what was counted as sent")
			if len(srv.Lines()) != srv.Distinct() {
				assert.Greater(t, st.Retries, uint64(0), "a line stored twice was retried")
			}
			if tc.recover {
				assert.Greater(t, st.Sent, uint64(0))
				assert.Greater(t, st.Retries, uint64(0))
			}
			if tc.name == "400" {
				assert.Greater(t, st.FailedBatches, uint64(0))
				assert.Equal(t, uint64(0), st.Sent)
			}
			assert.Greater(t, errs.Load(), int64(0), "the failure was reported")
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.SetRetryAfter("1")
	srv.SetStatus(429)
	cfg := testConfig(srv.URL)
	cfg.MaxBackoff = 5 * time.Second
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "x"})
	time.Sleep(600 * time.Millisecond)
	assert.Len(t, srv.Requests(), 1, "no retry before Retry-After")
	srv.SetStatus(0)
	require.Eventually(t, func() bool { return len(srv.Lines()) == 1 }, 3*time.Second, 10*time.Millisecond)
	require.NoError(t, c.Close(context.Background()))
}

func TestPriorityEntriesKept(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.Hang()
	cfg := testConfig(srv.URL)
	cfg.QueueSize = 100
	c, err := New(cfg)
	require.NoError(t, err)
	for i := range 1000 {
		c.Push(Entry{Time: time.Now(), Line: fmt.Sprint("n", i)})
		if i%10 == 0 {
			assert.True(t, c.Push(Entry{Time: time.Now(), Line: fmt.Sprint("security ", i), Priority: true}))
		}
	}
	c.mu.Lock()
	assert.Len(t, c.priority, 100, "every priority entry kept while ordinary ones were dropped")
	c.mu.Unlock()
	srv.Release()
	_ = c.Close(context.Background())
	checkAccounting(t, c, 1100)
}

func writeCA(t *testing.T, srv *lokitest.Server) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	der := srv.Certificate().Raw
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return path
}

func TestTLSWithCustomCA(t *testing.T) {
	srv := lokitest.NewTLSServer()
	defer srv.Close()

	cfg := testConfig(srv.URL)
	cfg.CAFile = writeCA(t, srv)
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "over tls"})
	require.NoError(t, c.Close(context.Background()))
	assert.Equal(t, []string{"over tls"}, srv.Lines())

	var mu sync.Mutex
	var errs []string
	cfg = testConfig(srv.URL) // no CA: the server's certificate is not trusted
	cfg.Timeout = 5 * time.Second
	cfg.OnError = func(err error) {
		mu.Lock()
		errs = append(errs, err.Error())
		mu.Unlock()
	}
	c, err = New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "refused"})
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(errs) > 0
	}, 10*time.Second, 5*time.Millisecond)
	mu.Lock()
	assert.Contains(t, errs[0], "certificate")
	mu.Unlock()
	_ = c.Close(context.Background())
	assert.Equal(t, uint64(1), c.Stats().Dropped)
	assert.Len(t, srv.Lines(), 1)
}

func TestConfigValidation(t *testing.T) {
	bad := []Config{
		{URL: "ftp://x"},
		{URL: "not a url"},
		{URL: "http://loki.example:3100", Username: "u", Password: "secret-pw"},
		{URL: "http://loki.example:3100", BearerToken: "secret-tok"},
		{URL: "https://u:p@loki.example"},
		{URL: "https://loki.example", Username: "u"},
		{URL: "https://loki.example", Labels: map[string]string{"__name__": "x"}},
		{URL: "https://loki.example", Labels: map[string]string{"1bad": "x"}},
	}
	for _, cfg := range bad {
		err := cfg.Validate()
		require.Error(t, err, "%+v", cfg)
		assert.NotContains(t, err.Error(), "secret-")
	}
	ok := []Config{
		{URL: "http://127.0.0.1:3100", Username: "u", Password: "p"},
		{URL: "http://localhost:3100", BearerToken: "t"},
		{URL: "http://loki.example:3100", BearerToken: "t", AllowInsecure: true},
		{URL: "https://loki.example", Username: "u", Password: "p", Labels: map[string]string{"service": "api"}},
	}
	for _, cfg := range ok {
		assert.NoError(t, cfg.Validate(), "%+v", cfg)
	}
	l, err := ParseLabels("service=api, env=prod")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"service": "api", "env": "prod"}, l)
	for _, s := range []string{"a", "a=", "bad-name=x", "__x=y"} {
		_, err := ParseLabels(s)
		assert.Error(t, err, s)
	}
}

func TestCloseReportsUnsent(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.SetStatus(503)
	c, err := New(testConfig(srv.URL))
	require.NoError(t, err)
	for i := range 50 {
		c.Push(Entry{Time: time.Now(), Line: fmt.Sprint(i)})
	}
	start := time.Now()
	err = c.Close(context.Background())
	assert.Less(t, time.Since(start), time.Second, "Close bounded by the flush timeout")
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "could not be sent"))
	st := c.Stats()
	assert.Equal(t, uint64(50), st.Dropped)
	assert.NoError(t, c.Close(context.Background()), "idempotent")
	_, _ = io.Discard.Write(nil)
}

func TestEncodingsRoundTrip(t *testing.T) {
	labels := map[string]string{"service": "api", "level": "INFO", "odd": "a\"b\\c\nd"}
	key := streamKey(labels)
	batch := []queued{
		{stream: key, labels: labels, ts: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC).UnixNano(), line: "first"},
		{stream: "{level=\"ERROR\"}", labels: map[string]string{"level": "ERROR"}, ts: 1, line: ""},
		{stream: key, labels: labels, ts: time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.UTC).UnixNano(), line: strings.Repeat("x", 70000) + "é"},
	}
	pb := encodeProtobuf(batch)
	js, err := encode(batch)
	require.NoError(t, err)
	for name, push := range map[string]struct {
		contentType string
		body        []byte
	}{
		"protobuf": {"application/x-protobuf", pb},
		"json":     {"application/json", js},
	} {
		t.Run(name, func(t *testing.T) {
			streams, err := lokitest.DecodePushRequest(push.contentType, bytes.NewReader(push.body))
			require.NoError(t, err)
			require.Len(t, streams, 2)
			m, err := streams[0].LabelMap()
			require.NoError(t, err)
			assert.Equal(t, labels, m)
			require.Len(t, streams[0].Entries, 2)
			assert.Equal(t, "first", streams[0].Entries[0].Line)
			assert.Equal(t, batch[0].ts, streams[0].Entries[0].Time.UnixNano())
			assert.Equal(t, batch[2].line, streams[0].Entries[1].Line)
			assert.Equal(t, batch[2].ts, streams[0].Entries[1].Time.UnixNano())
			assert.Equal(t, int64(1), streams[1].Entries[0].Time.UnixNano())
		})
	}
	_, err = lokitest.DecodePushRequest("application/x-protobuf", bytes.NewReader([]byte{0xff}))
	assert.Error(t, err)
}

func TestJSONEncodingOption(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.JSON = true
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "as json"})
	require.NoError(t, c.Close(context.Background()))
	assert.Equal(t, []string{"as json"}, srv.Lines())
	require.NotEmpty(t, srv.Requests())
	for _, r := range srv.Requests() {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Equal(t, "gzip", r.Header.Get("Content-Encoding"))
	}
}

// A prepared label set is the same stream as Push's labels: static labels
// merged in, invalid names and empty values left out.
func TestLabelSetMatchesPush(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Labels = map[string]string{"service": "api"}
	cfg.BatchWait = time.Hour // the entries stay queued for the comparison
	c, err := New(cfg)
	require.NoError(t, err)
	defer c.Close(context.Background())
	labels := map[string]string{"level": "INFO", "bad-name": "x", "empty": ""}
	ls := c.LabelSet(labels)
	assert.Equal(t, map[string]string{"service": "api", "level": "INFO"}, ls.labels)
	assert.Equal(t, `{level="INFO",service="api"}`, ls.key)
	require.True(t, c.Push(Entry{Labels: labels, Time: time.Now(), Line: "a"}))
	require.True(t, c.PushLabeled(ls, time.Now(), "b", false))
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Len(t, c.normal, 2)
	assert.Equal(t, c.normal[0].stream, c.normal[1].stream)
	assert.Equal(t, c.normal[0].labels, c.normal[1].labels)
}
