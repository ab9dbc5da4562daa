package loki

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/loki/lokitest"
)

// testConfig is a client configuration for tests against url, on a clock
// the test drives. A request never times out unless the test says so; the
// batch wait, backoff, Retry-After and the flush deadline wait for the test
// (clock.next) unless it makes them fire at once. The durations differ, so
// that a wait's duration tells what it is for: batch wait 100 ms, request
// timeout 200 ms, flush deadline 300 ms, backoff at most 50 ms, retry age
// 400 ms (which never ends unless the test says so), HangAfter 250 ms
// (which never ends unless the test says so).
func testConfig(url string) (Config, *clock) {
	clk := newClock()
	cfg := Config{URL: url, BatchWait: 100 * time.Millisecond, QueueSize: 500, Timeout: 200 * time.Millisecond,
		FlushTimeout: 300 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, retryBaseDelay: 5 * time.Millisecond,
		MaxRetryAge: 400 * time.Millisecond, HangAfter: 250 * time.Millisecond, after: clk.after}
	clk.set(cfg.Timeout, never)
	clk.set(cfg.MaxRetryAge, never)
	clk.set(cfg.HangAfter, never)
	return cfg, clk
}

// watched is a context for waits on the test server, ended by the
// watchdog.
func watched(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), watchdog)
	t.Cleanup(cancel)
	return ctx
}

// closeAtDeadline closes c while Loki keeps failing. Close asks for its
// flush deadline, fails to push and waits to retry; only then does the test
// fire the deadline, and Close gives up and returns its error.
func closeAtDeadline(t *testing.T, c *Client, clk *clock) error {
	t.Helper()
	closed := make(chan error, 1)
	go func() { closed <- c.Close(context.Background()) }()
	deadline := clk.next(t)
	for deadline.d != c.cfg.FlushTimeout { // the sender's waits, left unfired: Close stops it
		deadline = clk.next(t)
	}
	retry := clk.next(t)
	assert.LessOrEqual(t, retry.d, c.cfg.MaxBackoff, "Close's push failed and waits to retry")
	assert.Empty(t, closed, "Close waits for its flush deadline")
	deadline.fire()
	return receive(t, closed)
}

// flood pushes n entries. While a fault holds the sender (a hanging
// server, a backoff on the test's clock that never fires by itself), a
// Push that waited for the sender would never return: flood returning is
// the proof that Push does not block.
func flood(c *Client, n int, prefix string) {
	for i := range n {
		c.Push(Entry{Time: time.Now(), Line: fmt.Sprintf("%s %d", prefix, i), Labels: map[string]string{"level": "INFO"}})
	}
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
	cfg, _ := testConfig(srv.URL) // the batch wait does not end: Close sends the batch
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
	reqs := srv.Requests()
	require.Len(t, reqs, 1, "one batch")
	assert.Equal(t, "team-a", reqs[0].Header.Get("X-Scope-OrgID"))
	u, p, _ := (&http.Request{Header: reqs[0].Header}).BasicAuth()
	assert.Equal(t, "user:pw", u+":"+p)
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
		retried bool // the client retries a failed push; else it drops the batch
		recover bool // records sent during the fault arrive once it clears
	}{
		{"connection-refused", refusedURL, nil, nil, true, false},
		{"hanging-server", "", (*lokitest.Server).Hang, (*lokitest.Server).Release, true, true},
		{"500", "", func(s *lokitest.Server) { s.SetStatus(500) }, func(s *lokitest.Server) { s.SetStatus(0) }, true, true},
		{"429-retry-after", "", func(s *lokitest.Server) { s.SetRetryAfter("0"); s.SetStatus(429) }, func(s *lokitest.Server) { s.SetStatus(0) }, true, true},
		{"400", "", func(s *lokitest.Server) { s.SetStatus(400) }, func(s *lokitest.Server) { s.SetStatus(0) }, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := lokitest.NewServer()
			defer srv.Close()
			url := srv.URL
			if tc.url != "" {
				url = tc.url
			}
			cfg, clk := testConfig(url)
			clk.set(cfg.BatchWait, atOnce) // the sender sends batch after batch, as it would
			hanging := tc.name == "hanging-server"
			if hanging {
				clk.set(cfg.Timeout, held) // the test times the hanging push out
			}
			var errs atomic.Int64
			reported := make(chan struct{}, 1)
			cfg.OnError = func(error) {
				errs.Add(1)
				select {
				case reported <- struct{}{}:
				default:
				}
			}
			c, err := New(cfg)
			require.NoError(t, err)
			if tc.fault != nil {
				tc.fault(srv)
			}
			flood(c, 2000, "during") // returns although the sender is held by the fault
			// The fault is seen.
			if hanging {
				require.NoError(t, srv.WaitRequests(watched(t), 1), "the first push hangs")
				timeout := clk.next(t)
				require.Equal(t, cfg.Timeout, timeout.d)
				timeout.fire()
			}
			if tc.retried {
				retry := clk.next(t)
				assert.GreaterOrEqual(t, retry.d, cfg.retryBaseDelay/2, "the first retry waits half the base delay or more")
				assert.LessOrEqual(t, retry.d, cfg.retryBaseDelay)
			} else {
				receive(t, reported) // reported once, not once a batch
				require.Eventually(t, func() bool { return c.Stats().Pending == 0 }, watchdog, time.Millisecond, "each rejected batch is dropped")
			}
			checkAccounting(t, c, 2000)
			assert.Greater(t, c.Stats().Dropped, uint64(0), "queue bound enforced by dropping")
			if tc.clear != nil {
				tc.clear(srv)
			}
			if tc.url == refusedURL {
				assert.Error(t, closeAtDeadline(t, c, clk), "Loki is still down: Close gives up at its deadline")
			} else {
				assert.NoError(t, c.Close(context.Background()))
			}
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
	srv.SetStatus(http.StatusTooManyRequests)
	cfg, clk := testConfig(srv.URL)
	cfg.MaxBackoff = 5 * time.Second
	clk.set(cfg.BatchWait, atOnce)
	reports := make(chan error, 16)
	cfg.OnError = func(err error) { reports <- err }
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "x"})
	retry := clk.next(t)
	assert.Equal(t, time.Second, retry.d, "the client waits exactly as long as Retry-After says")
	assert.ErrorContains(t, receive(t, reports), "HTTP 429")
	// The client waits on retry's channel alone: nothing else can make it retry.
	assert.Len(t, srv.Requests(), 1, "no retry before Retry-After")
	srv.SetStatus(0)
	retry.fire()
	assert.ErrorContains(t, receive(t, reports), "recovered after 1 failed pushes (last HTTP 429)")
	assert.Equal(t, []string{"x"}, srv.Lines())
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.StatusTooManyRequests, reqs[0].Status)
	assert.Equal(t, http.StatusNoContent, reqs[1].Status)
	require.NoError(t, c.Close(context.Background()))
	assert.Len(t, srv.Requests(), 2, "nothing left for Close to send")
	st := c.Stats()
	assert.Equal(t, uint64(1), st.Sent)
	assert.Equal(t, uint64(1), st.Retries)
}

// Retries back off exponentially, with jitter, up to MaxBackoff, which also
// caps a longer Retry-After.
func TestBackoffGrowsToMax(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.SetStatus(http.StatusServiceUnavailable)
	cfg, clk := testConfig(srv.URL)
	clk.set(cfg.BatchWait, atOnce)
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "x"})
	delay := cfg.retryBaseDelay
	for attempt := 1; attempt <= 6; attempt++ { // 5, 10, 20, 40, then 50 ms twice
		retry := clk.next(t)
		assert.Len(t, srv.Requests(), attempt, "one request a retry")
		assert.GreaterOrEqual(t, retry.d, delay/2, "attempt %d", attempt)
		assert.LessOrEqual(t, retry.d, delay, "attempt %d", attempt)
		if attempt == 6 {
			srv.SetRetryAfter("120")
		}
		retry.fire()
		delay = min(2*delay, cfg.MaxBackoff)
	}
	retry := clk.next(t)
	assert.Equal(t, cfg.MaxBackoff, retry.d, "Retry-After cut to MaxBackoff")
	srv.SetStatus(0)
	retry.fire()
	require.NoError(t, srv.WaitLines(watched(t), 1))
	require.NoError(t, c.Close(context.Background()))
	assert.Len(t, srv.Lines(), 1, "sent once")
	st := c.Stats()
	assert.Equal(t, uint64(1), st.Sent)
	assert.Equal(t, uint64(7), st.Retries)
}

func TestPriorityEntriesKept(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.Hang()
	cfg, clk := testConfig(srv.URL)
	cfg.QueueSize = 100
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "first"})
	batchWait := clk.next(t)
	require.Equal(t, cfg.BatchWait, batchWait.d)
	batchWait.fire() // the sender pushes "first", and Loki hangs
	require.NoError(t, srv.WaitRequests(watched(t), 1))
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
	require.NoError(t, c.Close(context.Background()))
	checkAccounting(t, c, 1101)
	st := c.Stats()
	assert.Equal(t, uint64(101), st.Sent, "first and every priority entry")
	assert.Equal(t, uint64(1000), st.Dropped)
	lines := srv.Lines()
	for i := 0; i < 1000; i += 10 {
		assert.Contains(t, lines, fmt.Sprint("security ", i))
	}
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

	cfg, _ := testConfig(srv.URL)
	cfg.CAFile = writeCA(t, srv)
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "over tls"})
	require.NoError(t, c.Close(context.Background()))
	assert.Equal(t, []string{"over tls"}, srv.Lines())

	var mu sync.Mutex
	var errs []string
	cfg, clk := testConfig(srv.URL) // no CA: the server's certificate is not trusted
	clk.set(cfg.BatchWait, atOnce)
	cfg.OnError = func(err error) {
		mu.Lock()
		errs = append(errs, err.Error())
		mu.Unlock()
	}
	c, err = New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "refused"})
	retry := clk.next(t) // the push failed, was reported, and waits to retry
	assert.LessOrEqual(t, retry.d, cfg.MaxBackoff)
	mu.Lock()
	require.NotEmpty(t, errs)
	assert.Contains(t, errs[0], "certificate")
	mu.Unlock()
	assert.Error(t, closeAtDeadline(t, c, clk))
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
	for _, s := range []string{"a", "a=", "bad-name=x", "__x=y", "a=b\x00", "a=\xff"} {
		_, err := ParseLabels(s)
		assert.Error(t, err, s)
	}
}

// Validate refuses every value that would become a broken (or smuggled)
// HTTP header or a label Loki rejects, naming the field and never quoting a
// password or token.
func TestValidateHeaderAndLabelValues(t *testing.T) {
	pw, tok := "pw-"+"4c1b9e", "tok-"+"77e0aa"
	type testCase struct {
		name  string
		set   func(c *Config)
		field string // named by the error
	}
	var bad []testCase
	for _, ctl := range []struct{ name, s string }{
		{"cr", "\r"}, {"lf", "\n"}, {"header-injection", "\r\nX-Injected: 1"}, {"nul", "\x00"}, {"esc", "\x1b"}, {"del", "\x7f"},
	} {
		bad = append(bad,
			testCase{"tenant-" + ctl.name, func(c *Config) { c.Tenant = "team" + ctl.s }, "Tenant"},
			testCase{"username-" + ctl.name, func(c *Config) { c.Username, c.Password = "u"+ctl.s, pw }, "Username"},
			testCase{"password-" + ctl.name, func(c *Config) { c.Username, c.Password = "u", pw+ctl.s }, "Password"},
			testCase{"token-" + ctl.name, func(c *Config) { c.BearerToken = ctl.s + tok }, "BearerToken"},
			testCase{"url-" + ctl.name, func(c *Config) { c.URL += "/" + ctl.s }, "URL"},
			testCase{"label-value-" + ctl.name, func(c *Config) { c.Labels = map[string]string{"service": "api" + ctl.s} }, "label service"},
		)
	}
	bad = append(bad,
		testCase{"username-colon", func(c *Config) { c.Username, c.Password = "u:x", pw }, "Username"},
		testCase{"label-value-empty", func(c *Config) { c.Labels = map[string]string{"service": ""} }, "label service"},
		testCase{"label-value-not-utf8", func(c *Config) { c.Labels = map[string]string{"service": "api\xff"} }, "label service"},
		testCase{"label-value-c1-control", func(c *Config) { c.Labels = map[string]string{"service": "api\u0085"} }, "label service"},
		testCase{"label-value-tab", func(c *Config) { c.Labels = map[string]string{"service": "a\tb"} }, "label service"},
		testCase{"label-name", func(c *Config) { c.Labels = map[string]string{"bad-name": "x"} }, "label name"},
		testCase{"url-c1-control", func(c *Config) { c.URL += "/\u0085" }, "URL"},
		testCase{"tenant-utf8", func(c *Config) { c.Tenant = "équipe-1" }, "Tenant"},
		testCase{"tenant-space", func(c *Config) { c.Tenant = "team a" }, "Tenant"},
		testCase{"tenant-dotdot", func(c *Config) { c.Tenant = ".." }, "Tenant"},
		testCase{"tenant-long", func(c *Config) { c.Tenant = strings.Repeat("t", MaxTenantBytes+1) }, "Tenant"},
		testCase{"tenant-1MiB", func(c *Config) { c.Tenant = strings.Repeat("t", 1<<20) }, "Tenant"},
		testCase{"label-value-long", func(c *Config) { c.Labels = map[string]string{"service": strings.Repeat("v", MaxLabelValueBytes+1)} }, "label service"},
		testCase{"label-name-long", func(c *Config) { c.Labels = map[string]string{"n" + strings.Repeat("a", MaxLabelNameBytes): "x"} }, "label name"},
		testCase{"labels-too-many", func(c *Config) { c.Labels = manyLabels(MaxLabels + 1) }, "labels"},
		testCase{"labels-2000", func(c *Config) { c.Labels = manyLabels(2000) }, "labels"},
		testCase{"queue-bytes-below-a-line", func(c *Config) { c.QueueBytes = DefaultMaxLineBytes }, "QueueBytes"},
	)
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{URL: "https://loki.example"}
			tc.set(&cfg)
			err := cfg.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field)
			assert.Less(t, len(err.Error()), 300, "bounded, whatever the value's length")
			var fe *FieldError
			assert.ErrorAs(t, err, &fe, "names the field as its variable")
			assert.NotContains(t, err.Error(), pw)
			assert.NotContains(t, err.Error(), tok)
			_, err = New(cfg)
			assert.Error(t, err, "New validates")
		})
	}
	for _, tc := range []testCase{
		{"tenant-loki-characters", func(c *Config) { c.Tenant = "team_1-a.b!*'()" }, ""},
		{"password-space-and-tab", func(c *Config) { c.Username, c.Password = "u", pw+" \t"+pw }, ""},
		{"label-value-utf8", func(c *Config) { c.Labels = map[string]string{"service": "café \ufffd"} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{URL: "https://loki.example"}
			tc.set(&cfg)
			assert.NoError(t, cfg.Validate())
		})
	}
}

func manyLabels(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprint("l", i)] = "v"
	}
	return m
}

// PasswordFile and BearerTokenFile are read by New (final newline
// trimmed) and sent as the credentials; a file that cannot be read, or a
// value given twice, is a *FileError naming the field and the path only.
func TestCredentialFiles(t *testing.T) {
	dir := t.TempDir()
	pw, tok := "pw-"+"4c1b9e", "tok-"+"77e0aa"
	pwFile, tokFile := filepath.Join(dir, "pw"), filepath.Join(dir, "tok")
	require.NoError(t, os.WriteFile(pwFile, []byte(pw+"\n"), 0o600))
	require.NoError(t, os.WriteFile(tokFile, []byte(tok+"\r\n"), 0o600))
	srv := lokitest.NewServer()
	defer srv.Close()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Username: "u", PasswordFile: pwFile}, "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+pw))},
		{Config{BearerTokenFile: tokFile}, "Bearer " + tok},
	} {
		tc.cfg.URL = srv.URL
		c, err := New(tc.cfg)
		require.NoError(t, err)
		c.Push(Entry{Time: time.Now(), Line: "x"})
		require.NoError(t, c.Close(context.Background()))
		reqs := srv.Requests()
		require.NotEmpty(t, reqs)
		assert.Equal(t, tc.want, reqs[len(reqs)-1].Header.Get("Authorization"))
	}
	for _, cfg := range []Config{
		{URL: srv.URL, Username: "u", PasswordFile: filepath.Join(dir, "missing")},
		{URL: srv.URL, Username: "u", Password: pw, PasswordFile: pwFile},
		{URL: srv.URL, BearerToken: tok, BearerTokenFile: tokFile},
	} {
		_, err := New(cfg)
		var fe *FileError
		require.ErrorAs(t, err, &fe, "%+v", cfg)
		assert.Contains(t, []string{"PASSWORD_FILE", "BEARER_TOKEN_FILE"}, fe.Field)
		assert.NotContains(t, err.Error(), pw)
		assert.NotContains(t, err.Error(), tok)
	}
}

// The files of a Config are read without blocking and within their
// limits, and a credential read is checked as Validate checks one: a FIFO,
// a device, a directory, a file larger than the limit or a credential that
// is not a valid header value is a *FileError at once, naming the field and
// the path and never the content.
func TestFilesReadSafely(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	secret := "tok-" + "9f8e"
	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat(secret, MaxCAFileSize/len(secret)+1)), 0o600))
	bigSecret := filepath.Join(dir, "big-secret")
	require.NoError(t, os.WriteFile(bigSecret, []byte(strings.Repeat(secret, MaxSecretFileSize/len(secret)+1)), 0o600))
	twoLines := filepath.Join(dir, "two-lines") // read, then refused as a header value
	require.NoError(t, os.WriteFile(twoLines, []byte(secret+"\n"+secret+"\n"), 0o600))
	strayCR := filepath.Join(dir, "stray-cr")
	require.NoError(t, os.WriteFile(strayCR, []byte(secret+"\r\r\n"), 0o600))
	url := "https://loki.example"
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
		path  string
		want  string // in the error
	}{
		{"password-fifo", Config{URL: url, Username: "u", PasswordFile: fifo}, "PASSWORD_FILE", fifo, "named pipe"},
		{"token-fifo", Config{URL: url, BearerTokenFile: fifo}, "BEARER_TOKEN_FILE", fifo, "named pipe"},
		{"ca-fifo", Config{URL: url, CAFile: fifo}, "CA_FILE", fifo, "named pipe"},
		{"token-dev-zero", Config{URL: url, BearerTokenFile: "/dev/zero"}, "BEARER_TOKEN_FILE", "/dev/zero", "device"},
		{"ca-dev-zero", Config{URL: url, CAFile: "/dev/zero"}, "CA_FILE", "/dev/zero", "device"},
		{"token-directory", Config{URL: url, BearerTokenFile: dir}, "BEARER_TOKEN_FILE", dir, "directory"},
		{"password-too-large", Config{URL: url, Username: "u", PasswordFile: bigSecret}, "PASSWORD_FILE", bigSecret, strconv.Itoa(MaxSecretFileSize)},
		{"ca-too-large", Config{URL: url, CAFile: big}, "CA_FILE", big, strconv.Itoa(MaxCAFileSize)},
		{"password-two-lines", Config{URL: url, Username: "u", PasswordFile: twoLines}, "PASSWORD_FILE", twoLines, "control character 0x0a"},
		{"token-stray-cr", Config{URL: url, BearerTokenFile: strayCR}, "BEARER_TOKEN_FILE", strayCR, "control character 0x0d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Lstat(tc.path); err != nil {
				t.Skipf("no %s here", tc.path)
			}
			done := make(chan error, 1)
			go func() {
				c, err := New(tc.cfg)
				if err == nil {
					_ = c.Close(context.Background())
				}
				done <- err
			}()
			err := receive(t, done) // New returns: a FIFO's open does not wait for a writer
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
			assert.Equal(t, tc.path, fe.Path)
			assert.ErrorContains(t, err, tc.want)
			assert.NotContains(t, err.Error(), "9f8e", "never the content")
			assert.Equal(t, 1, strings.Count(err.Error(), tc.path), "the path once: %v", err)
		})
	}
}

func TestCloseReportsUnsent(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.SetStatus(503)
	cfg, clk := testConfig(srv.URL) // the batch wait does not end: Close sends
	c, err := New(cfg)
	require.NoError(t, err)
	for i := range 50 {
		c.Push(Entry{Time: time.Now(), Line: fmt.Sprint(i)})
	}
	err = closeAtDeadline(t, c, clk) // Close bounded by the flush timeout
	require.Error(t, err)
	assert.Contains(t, err.Error(), "could not be sent")
	st := c.Stats()
	assert.Equal(t, uint64(50), st.Dropped)
	assert.NoError(t, c.Close(context.Background()), "idempotent")
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
	cfg, _ := testConfig(srv.URL)
	cfg.JSON = true
	c, err := New(cfg)
	require.NoError(t, err)
	c.Push(Entry{Time: time.Now(), Line: "as json"})
	require.NoError(t, c.Close(context.Background()))
	assert.Equal(t, []string{"as json"}, srv.Lines())
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"))
	assert.Equal(t, "gzip", reqs[0].Header.Get("Content-Encoding"))
}

// A prepared label set is the same stream as Push's labels: static labels
// merged in, invalid names and values (empty, not UTF-8, holding a control
// character) left out.
func TestLabelSetMatchesPush(t *testing.T) {
	cfg, _ := testConfig("http://127.0.0.1:1") // the batch wait does not end: the entries stay queued
	cfg.Labels = map[string]string{"service": "api"}
	c, err := New(cfg)
	require.NoError(t, err)
	defer func() { // close without sending
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = c.Close(ctx)
	}()
	labels := map[string]string{"level": "INFO", "bad-name": "x", "empty": "", "broken": "a\xff", "newline": "a\nb"}
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

// A line longer than MaxLineBytes is cut on a character boundary, wherever
// a multi-byte character falls, and ends with a marker saying how much was
// cut, the whole within MaxLineBytes.
func TestTruncateOnRuneBoundary(t *testing.T) {
	const max = 64
	marker := regexp.MustCompile(`…\[truncated (\d+) bytes\]$`)
	for _, r := range []string{"é", "€", "𝄞"} { // 2, 3 and 4 bytes
		for pad := max - 30; pad <= max+1; pad++ { // the character straddles every cut, and the limit itself
			line := strings.Repeat("a", pad) + r + strings.Repeat("b", 40)
			t.Run(fmt.Sprintf("%s-at-%d", r, pad), func(t *testing.T) {
				got := truncate(line, max)
				assert.LessOrEqual(t, len(got), max)
				assert.True(t, utf8.ValidString(got), "%q", got)
				m := marker.FindStringSubmatch(got)
				require.NotNil(t, m, "%q ends with the marker", got)
				kept := strings.TrimSuffix(got, m[0])
				assert.True(t, strings.HasPrefix(line, kept), "what is kept is the line's start")
				assert.Equal(t, strconv.Itoa(len(line)-len(kept)), m[1], "N is what was cut")
				assert.Greater(t, len(kept)+len(m[0])+utf8.UTFMax, max, "as much kept as fits")
			})
		}
	}
	assert.Equal(t, "éé", truncate("ééé", 5), "no room for the marker: only cut")
	assert.Equal(t, "", truncate("é", 1))
}

// Loki is never sent invalid UTF-8: a long line is cut on a character
// boundary, and a line's invalid bytes are replaced.
func TestPushedLinesAreValidUTF8(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	cfg, _ := testConfig(srv.URL) // the batch wait does not end: Close sends the batch
	cfg.MaxLineBytes = 64
	c, err := New(cfg)
	require.NoError(t, err)
	long := strings.Repeat("a", 40) + "é" + strings.Repeat("b", 24) // 66 bytes: the cut, at 41, falls inside é
	c.Push(Entry{Time: time.Now(), Line: long})
	c.Push(Entry{Time: time.Now(), Line: "bad \xff\xfe byte"})
	c.Push(Entry{Time: time.Now(), Line: strings.Repeat("\xffa", 20)}) // 40 bytes, 80 once replaced: cut
	require.NoError(t, c.Close(context.Background()))
	lines := srv.Lines()
	require.Len(t, lines, 3)
	for _, l := range lines {
		assert.True(t, utf8.ValidString(l), "%q", l)
		assert.LessOrEqual(t, len(l), cfg.MaxLineBytes)
	}
	assert.Equal(t, strings.Repeat("a", 40)+"…[truncated 26 bytes]", lines[0])
	assert.Equal(t, "bad \ufffd byte", lines[1], "a run of invalid bytes becomes one U+FFFD")
	assert.True(t, strings.HasPrefix(lines[2], "\ufffda\ufffda"))
	assert.Contains(t, lines[2], "…[truncated")

	_, err = New(Config{URL: srv.URL, MaxLineBytes: -1})
	assert.Error(t, err, "a negative MaxLineBytes")
}
