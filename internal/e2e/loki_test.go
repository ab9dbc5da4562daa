// Package e2e holds the end-to-end tests against a real Loki, in a package
// of their own so that they run beside the root package's tests.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/codomyrmex/logging"
	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/codomyrmex/logging/internal/testutil"
	"github.com/codomyrmex/logging/loki"
)

// The end-to-end tests run a real Loki, built from its Go module by
// scripts/loki-build.sh; .ci/run builds it and sets CODOMYRMEX_LOKI_BIN.

// TestMain clears the CODOMYRMEX_LOG_* environment so that the machine's
// settings never change what the tests see.
func TestMain(m *testing.M) {
	testutil.UnsetEnv(logging.EnvPrefix)
	os.Exit(m.Run())
}

const lokiConfig = `auth_enabled: true
server:
  log_level: warn
  grpc_server_max_recv_msg_size: 67108864
  grpc_server_max_send_msg_size: 67108864
  http_server_read_timeout: 60s
  http_server_write_timeout: 60s
common:
  instance_addr: 127.0.0.1
  path_prefix: {{DIR}}
  storage:
    filesystem:
      chunks_directory: {{DIR}}/chunks
      rules_directory: {{DIR}}/rules
  replication_factor: 1
  ring:
    kvstore:
      store: inmemory
ingester:
  lifecycler:
    min_ready_duration: 0s
    final_sleep: 0s
query_range:
  results_cache:
    cache:
      embedded_cache:
        enabled: false
limits_config:
  ingestion_rate_mb: 1000
  ingestion_burst_size_mb: 2000
  per_stream_rate_limit: 1000MB
  per_stream_rate_limit_burst: 2000MB
  max_entries_limit_per_query: 1000000
  reject_old_samples: false
  max_query_series: 100000
schema_config:
  configs:
    - from: 2020-10-24
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
analytics:
  reporting_enabled: false
`

type lokiServer struct {
	bin, dir, url string
	httpPort      int
	args          []string // extra flags, kept across restarts
	cmd           *exec.Cmd
	out           *bytes.Buffer
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func lokiBinary(t testing.TB) string {
	bin := os.Getenv("CODOMYRMEX_LOKI_BIN")
	if bin == "" {
		t.Skip("set CODOMYRMEX_LOKI_BIN to a Loki binary (bash scripts/loki-build.sh prints one); .ci/run does")
	}
	return bin
}

func startLoki(t testing.TB) *lokiServer { return startLokiWith(t, nil) }

// startLokiWith starts Loki with the extra flags args (each may name the
// server's directory as {{DIR}}), once prepare, if not nil, has written
// what it needs into that directory.
func startLokiWith(t testing.TB, prepare func(dir string), args ...string) *lokiServer {
	s := &lokiServer{bin: lokiBinary(t), dir: t.TempDir(), httpPort: freePort(t)}
	s.url = "http://127.0.0.1:" + strconv.Itoa(s.httpPort)
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "loki.yaml"), []byte(strings.ReplaceAll(lokiConfig, "{{DIR}}", s.dir)), 0o600))
	for _, a := range args {
		s.args = append(s.args, strings.ReplaceAll(a, "{{DIR}}", s.dir))
	}
	if prepare != nil {
		prepare(s.dir)
	}
	s.start(t)
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *lokiServer) start(t testing.TB) {
	grpc := freePort(t)
	s.out = &bytes.Buffer{}
	args := []string{"-config.file=" + filepath.Join(s.dir, "loki.yaml"),
		"-server.http-listen-address=127.0.0.1", "-server.http-listen-port=" + strconv.Itoa(s.httpPort),
		"-server.grpc-listen-address=127.0.0.1", "-server.grpc-listen-port=" + strconv.Itoa(grpc),
		// The query frontend looks for the scheduler every 10 s by default,
		// and Loki is not ready until it finds it: look every 100 ms.
		"-frontend.scheduler-dns-lookup-period=100ms", "-querier.dns-lookup-period=100ms",
		"-target=all"}
	s.cmd = exec.Command(s.bin, append(args, s.args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	require.NoError(t, s.cmd.Start())
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url + "/ready")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), "ready") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("loki did not become ready:\n%s", s.out.String())
}

func (s *lokiServer) stop(t testing.TB) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

type lokiStream struct {
	Stream map[string]string `json:"stream"`
	Values [][2]string       `json:"values"`
}

// query returns every entry of the tenant's streams matching selector,
// oldest first, paging by time.
func (s *lokiServer) query(t testing.TB, tenant, selector string, start, end time.Time) []lokiStream {
	var all []lokiStream
	from := start
	for {
		q := url.Values{"query": {selector}, "start": {strconv.FormatInt(from.UnixNano(), 10)},
			"end": {strconv.FormatInt(end.UnixNano(), 10)}, "limit": {"50000"}, "direction": {"forward"}}
		req, _ := http.NewRequest("GET", s.url+"/loki/api/v1/query_range?"+q.Encode(), nil)
		req.Header.Set("X-Scope-OrgID", tenant)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode, string(body))
		var r struct {
			Data struct {
				Result []lokiStream `json:"result"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(body, &r))
		n := 0
		var last int64
		for _, st := range r.Data.Result {
			n += len(st.Values)
			for _, v := range st.Values {
				ts, _ := strconv.ParseInt(v[0], 10, 64)
				last = max(last, ts)
			}
		}
		all = append(all, r.Data.Result...)
		if n < 50000 {
			return all
		}
		// Next page: strictly after the last timestamp seen (entries at that
		// very nanosecond are rare; the caller dedups by id anyway).
		from = time.Unix(0, last+1)
	}
}

type e2eRecord struct {
	ID     string `json:"id"`
	Msg    string `json:"msg"`
	Logger string `json:"logger"`
	Event  string `json:"security_event_type"`
	Seq    int    `json:"seq"`
}

func TestLokiEndToEnd(t *testing.T) {
	srv := startLoki(t)
	tok := redacttest.GHToken("gh" + "p")
	start := time.Now().Add(-time.Minute)
	const perTenant = 50000
	const loggers = 4
	sent := map[string]int{}
	base := logging.Stats().Loki
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		require.NoError(t, logging.Setup(logging.WithConsole(nil), logging.WithOutputType(logging.OutputJSON), logging.WithLoki(lokiTestConfig(srv.url, tenant))))
		var wg sync.WaitGroup
		for g := range loggers {
			wg.Go(func() {
				l := logging.Logger(fmt.Sprintf("e2e.w%d", g))
				for i := range perTenant / loggers {
					id := fmt.Sprintf("%s-%d-%d", tenant, g, i)
					switch i % 100 {
					case 7:
						l.Info("login with "+tok, "id", id, "seq", i, "password", "hunter2")
					case 13:
						l.Warn("user\r\nINFO forged\x1b[2J\u202e", "id", id, "seq", i)
					case 42:
						logging.SecurityEvent(context.Background(), logging.Event{Type: logging.AuthnFailure, UserID: "u-1", Attrs: []slog.Attr{slog.String("id", id), slog.Int("seq", i)}})
					default:
						l.Info("record", "id", id, "seq", i)
					}
				}
			})
		}
		wg.Wait()
		require.NoError(t, logging.Close())
		sent[tenant] = perTenant
	}
	assert.Equal(t, base.Dropped, logging.Stats().Loki.Dropped, "nothing dropped")
	end := time.Now().Add(time.Minute)
	for tenant, n := range sent {
		streams := srv.query(t, tenant, `{service="e2e"}`, start, end)
		seen := map[string]bool{}
		lastSeq := map[string]int{}
		for _, st := range streams {
			assert.Equal(t, "e2e", st.Stream["service"])
			assert.Contains(t, st.Stream, "level")
			assert.Contains(t, st.Stream, "logger")
			assert.NotContains(t, st.Stream, "user_id", "no high-cardinality labels")
			// 100,000 lines: the checks call testify only when they fail.
			for _, v := range st.Values {
				line := v[1]
				if strings.Contains(line, tok[4:]) || strings.Contains(line, "hunter2") {
					assert.Fail(t, "a secret reached Loki", line)
				}
				testutil.NoDangerous(t, line, "loki line")
				var r e2eRecord
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					require.NoError(t, err, line)
				}
				if r.Event != "" && r.Event != st.Stream["security_event_type"] {
					assert.Equal(t, r.Event, st.Stream["security_event_type"])
				}
				if seen[r.ID] {
					require.False(t, seen[r.ID], "duplicate %s", r.ID)
				}
				seen[r.ID] = true
				// In order per stream: the sequence grows within each writer.
				w := r.ID[:strings.LastIndexByte(r.ID, '-')] + st.Stream["level"] + st.Stream["security_event_type"]
				if prev, ok := lastSeq[w]; ok && r.Seq <= prev {
					assert.Greater(t, r.Seq, prev, "order within stream")
				}
				lastSeq[w] = r.Seq
			}
		}
		assert.Len(t, seen, n, "every record of %s arrived exactly once", tenant)
	}
}

func lokiTestConfig(url, tenant string) loki.Config {
	return loki.Config{URL: url, Tenant: tenant, Labels: map[string]string{"service": "e2e"},
		BatchWait: 100 * time.Millisecond, QueueSize: 200000, FlushTimeout: 60 * time.Second}
}

func TestLokiRestartMidRun(t *testing.T) {
	srv := startLoki(t)
	start := time.Now().Add(-time.Minute)
	cfg := lokiTestConfig(srv.url, "tenant-r")
	cfg.QueueSize = 5000 // smaller than the outage: some records must be dropped, and counted
	cfg.MaxBackoff = 500 * time.Millisecond
	cfg.MaxTries = 1000 // the outage outlasts the default 10 tries at 500 ms: this test is of what comes back
	base := logging.Stats().Loki
	local := &testutil.SyncBuffer{} // every record, drop summaries included, as Loki was offered them
	require.NoError(t, logging.Setup(logging.WithConsole(nil), logging.WithSink("local", local), logging.WithOutputType(logging.OutputJSON), logging.WithLoki(cfg)))
	l := logging.Logger("restart")
	const total = 30000
	// Loki stops after record 10,000 and starts again after record 20,000,
	// each when the logging goroutine gets there: a record that waited for
	// Loki during the outage would never let it come back.
	at := make(chan int)
	resume := make(chan struct{})
	go func() {
		defer close(at)
		for i := range total {
			if i == 10000 || i == 20000 {
				at <- i
				<-resume
			}
			l.Info("record", "id", fmt.Sprintf("r-%d", i), "seq", i)
		}
	}()
	next := func() (int, bool) {
		select {
		case i, ok := <-at:
			return i, ok
		case <-time.After(5 * time.Minute): // a deadlock, not a slow machine
			t.Fatal("logging waited for Loki while it was down")
			return 0, false
		}
	}
	i, _ := next()
	require.Equal(t, 10000, i)
	srv.stop(t) // Loki goes away mid-run
	resume <- struct{}{}
	i, _ = next()
	require.Equal(t, 20000, i, "the records of the outage were logged")
	srv.start(t) // and comes back
	resume <- struct{}{}
	_, more := next()
	require.False(t, more)
	_ = logging.Close() // may report records it could not send; they are counted as dropped
	st := logging.Stats().Loki
	streams := srv.query(t, "tenant-r", `{service="e2e"}`, start, time.Now().Add(time.Minute))
	seen := map[string]bool{}
	summaries := 0
	for _, s := range streams {
		for _, v := range s.Values {
			var r e2eRecord
			require.NoError(t, json.Unmarshal([]byte(v[1]), &r))
			if r.ID == "" {
				assert.Contains(t, r.Msg, "loki sink dropped", "the only record without an id is the drop summary")
				summaries++
				continue
			}
			seen[r.ID] = true
		}
	}
	offered := len(local.Lines()) // the records plus the drop summaries
	dropped := st.Dropped - base.Dropped
	t.Logf("offered %d, arrived %d (+%d summaries), dropped %d, retries %d", offered, len(seen), summaries, dropped, st.Retries-base.Retries)
	assert.Equal(t, offered, len(seen)+summaries+int(dropped), "every record arrived or was counted as dropped")
	assert.Greater(t, dropped, uint64(0), "the bounded queue dropped during the outage")
	retried := 0
	for i := 10000; i < 20000; i++ {
		if seen[fmt.Sprintf("r-%d", i)] {
			retried++
		}
	}
	assert.Greater(t, retried, 0, "records queued during the outage were retried and arrived")
	assert.Greater(t, st.Retries-base.Retries, uint64(0), "the outage caused retries")
}

// countingTransport counts the bytes of the request bodies it carries.
type countingTransport struct {
	base  http.RoundTripper
	bytes atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.bytes.Add(r.ContentLength)
	return c.base.RoundTrip(r)
}

// BenchmarkLokiDelivery measures records per second delivered to a real
// local Loki, and the bytes on the wire per record: log b.N records
// through logging.Setup, then Close flushes them. The protobuf body is
// snappy-compressed; JSON is gzipped. The spool variant has a spool
// directory: with Loki answering, a record goes to disk only when the
// queue is over half full (spooled/record says how many did).
func BenchmarkLokiDelivery(b *testing.B) {
	srv := startLoki(b)
	for _, v := range []struct {
		name        string
		json, spool bool
	}{{"protobuf-snappy", false, false}, {"json-gzip", true, false}, {"protobuf-snappy-spool", false, true}} {
		b.Run(v.name, func(b *testing.B) {
			cfg := lokiTestConfig(srv.url, "bench")
			cfg.QueueSize = max(b.N, 1000)
			cfg.JSON = v.json
			if v.spool { // Loki answers: the spool stays unused, and costs nothing
				cfg.SpoolDir = filepath.Join(b.TempDir(), "spool")
			}
			tr := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
			cfg.HTTPClient = &http.Client{Transport: tr}
			require.NoError(b, logging.Setup(logging.WithConsole(nil), logging.WithOutputType(logging.OutputJSON), logging.WithLoki(cfg)))
			l := logging.Logger("bench")
			as := testutil.RealisticAttrs()
			base := logging.Stats().Loki
			b.ReportAllocs()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				l.LogAttrs(context.Background(), slog.LevelInfo, "request served", as...)
			}
			require.NoError(b, logging.Close())
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
			b.ReportMetric(float64(tr.bytes.Load())/float64(b.N), "wire-B/record")
			if v.spool {
				b.ReportMetric(float64(logging.Stats().Loki.Spooled-base.Spooled)/float64(b.N), "spooled/record")
			}
			assert.Equal(b, uint64(b.N), logging.Stats().Loki.Sent-base.Sent, "every record sent")
			tr.base.(*http.Transport).CloseIdleConnections()
		})
	}
}

// Setup and Close, cycle after cycle against a real Loki, leave no
// goroutine and no connection of the library behind; every cycle's record
// arrives. (lumberjack's mill goroutine belongs to file sinks, which these
// cycles do not open; it is ignored by name all the same.)
func TestLokiSetupCloseCycles(t *testing.T) {
	srv := startLoki(t)
	start := time.Now().Add(-time.Minute)
	cycle := func(i int) {
		require.NoError(t, logging.Setup(logging.WithConsole(nil), logging.WithOutputType(logging.OutputJSON), logging.WithLoki(lokiTestConfig(srv.url, "tenant-cycles"))))
		logging.Logger("cycles").Info("record", "id", fmt.Sprint("c-", i), "seq", i)
		require.NoError(t, logging.Close())
	}
	cycle(-1) // what the package starts once, before the snapshot
	func() {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
		for i := range 300 {
			cycle(i)
		}
	}()
	seen := map[string]bool{}
	for _, st := range srv.query(t, "tenant-cycles", `{service="e2e"}`, start, time.Now().Add(time.Minute)) {
		for _, v := range st.Values {
			var r e2eRecord
			require.NoError(t, json.Unmarshal([]byte(v[1]), &r))
			seen[r.ID] = true
		}
	}
	assert.Len(t, seen, 301, "every cycle's record arrived (snappy-compressed, decoded by Loki)")
}

// With a spool (issue #16), a Loki outage mid-run loses nothing: the
// failed batches and the records of the outage wait on disk, with the
// default MaxTries, and all arrive exactly once when Loki is back; then a
// Close while Loki is down leaves records in the spool, and the next Setup
// on the same directory sends them.
func TestLokiSpoolRestart(t *testing.T) {
	srv := startLoki(t)
	start := time.Now().Add(-time.Minute)
	cfg := lokiTestConfig(srv.url, "tenant-s")
	cfg.QueueSize = 20000
	cfg.MaxBackoff = 500 * time.Millisecond
	cfg.SpoolDir = filepath.Join(t.TempDir(), "spool")
	base := logging.Stats().Loki
	require.NoError(t, logging.Setup(logging.WithConsole(nil), logging.WithOutputType(logging.OutputJSON), logging.WithLoki(cfg)))
	l := logging.Logger("spool")
	const total = 30000
	for i := range total {
		switch i {
		case 10000:
			srv.stop(t) // Loki goes away mid-run
		case 20000:
			srv.start(t) // and comes back
		}
		l.Info("record", "id", fmt.Sprintf("s-%d", i), "seq", i)
	}
	require.NoError(t, logging.Close())
	st := logging.Stats().Loki
	assert.Equal(t, base.Dropped, st.Dropped, "nothing dropped")
	assert.Greater(t, st.Spooled, base.Spooled, "the outage went to the spool")
	assert.Equal(t, st.Spooled-base.Spooled, st.Replayed-base.Replayed, "and all of it was sent")

	// Close while Loki is down: the next Setup sends what waits.
	srv.stop(t)
	cfg.FlushTimeout = time.Second
	require.NoError(t, logging.Setup(logging.WithConsole(nil), logging.WithOutputType(logging.OutputJSON), logging.WithLoki(cfg)))
	for i := total; i < total+1000; i++ {
		l.Info("record", "id", fmt.Sprintf("s-%d", i), "seq", i)
	}
	require.NoError(t, logging.Close(), "nothing lost: it waits in the spool")
	srv.start(t)
	cfg.FlushTimeout = 60 * time.Second
	require.NoError(t, logging.Setup(logging.WithConsole(nil), logging.WithOutputType(logging.OutputJSON), logging.WithLoki(cfg)))
	require.NoError(t, logging.Close())
	st = logging.Stats().Loki
	assert.Equal(t, base.Dropped, st.Dropped, "nothing dropped")

	seen := map[string]int{}
	for _, s := range srv.query(t, "tenant-s", `{service="e2e"}`, start, time.Now().Add(time.Minute)) {
		for _, v := range s.Values {
			var r e2eRecord
			require.NoError(t, json.Unmarshal([]byte(v[1]), &r))
			if r.ID != "" {
				seen[r.ID]++
			}
		}
	}
	for i := range total + 1000 {
		if n := seen[fmt.Sprintf("s-%d", i)]; n != 1 {
			t.Fatalf("record s-%d stored %d times", i, n)
		}
	}
	m, err := filepath.Glob(filepath.Join(cfg.SpoolDir, "*.seg"))
	require.NoError(t, err)
	assert.Empty(t, m, "every segment deleted once sent")
}
