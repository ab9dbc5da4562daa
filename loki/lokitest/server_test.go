package lokitest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonPush is a push of one line in Loki's JSON format.
func jsonPush(ns int64, line string) string {
	return fmt.Sprintf(`{"streams":[{"stream":{"service":"api","level":"INFO"},"values":[["%d",%q]]}]}`, ns, line)
}

// post sends body to the server's path and returns the status.
func post(t *testing.T, client *http.Client, url, contentType string, body io.Reader) int {
	t.Helper()
	resp, err := client.Post(url, contentType, body)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestServerStoresPushes(t *testing.T) {
	s := NewServer()
	defer s.Close()
	url := s.URL + PushPath
	assert.Equal(t, http.StatusNoContent, post(t, http.DefaultClient, url, "application/json", strings.NewReader(jsonPush(1, "plain"))))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(jsonPush(2, "gzipped")))
	require.NoError(t, zw.Close())
	assert.Equal(t, http.StatusNoContent, post(t, http.DefaultClient, url, "application/json", &gz))
	// A protobuf PushRequest with one stream, {a="b"}, and no entries, in a
	// snappy block of one literal.
	pb := []byte{0x0a, 0x09, 0x0a, 0x07, '{', 'a', '=', '"', 'b', '"', '}'}
	body := append([]byte{byte(len(pb)), byte(len(pb)-1) << 2}, pb...)
	assert.Equal(t, http.StatusNoContent, post(t, http.DefaultClient, url, "application/x-protobuf", bytes.NewReader(body)))

	assert.Equal(t, []string{"plain", "gzipped"}, s.Lines())
	streams := s.Streams()
	require.Len(t, streams, 3)
	assert.Equal(t, `{level="INFO",service="api"}`, streams[0].Labels)
	assert.Equal(t, []DecodedEntry{{time.Unix(0, 2), "gzipped"}}, streams[1].Entries)
	assert.Equal(t, `{a="b"}`, streams[2].Labels)
	assert.Empty(t, streams[2].Entries)
	reqs := s.Requests()
	require.Len(t, reqs, 3)
	for _, r := range reqs {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, PushPath, r.Path)
		assert.Equal(t, http.StatusNoContent, r.Status)
	}
	assert.Equal(t, "application/x-protobuf", reqs[2].Header.Get("Content-Type"))
}

func TestServerRejects(t *testing.T) {
	s := NewServer()
	defer s.Close()
	url := s.URL + PushPath
	assert.Equal(t, http.StatusNotFound, post(t, http.DefaultClient, s.URL+"/api/prom/push", "application/json", strings.NewReader(jsonPush(1, "x"))))
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, http.StatusBadRequest, post(t, http.DefaultClient, url, "application/json", strings.NewReader("{")))
	assert.Equal(t, http.StatusBadRequest, post(t, http.DefaultClient, url, "application/x-protobuf", strings.NewReader("\xff")))
	// A stream whose label set is not {name="value", ...}.
	pb := []byte{0x0a, 0x06, 0x0a, 0x04, 'n', 'o', 'p', 'e'}
	body := append([]byte{byte(len(pb)), byte(len(pb)-1) << 2}, pb...)
	assert.Equal(t, http.StatusBadRequest, post(t, http.DefaultClient, url, "application/x-protobuf", bytes.NewReader(body)))
	assert.Empty(t, s.Lines())
	assert.Empty(t, s.Streams())
	assert.Len(t, s.Requests(), 5)
	_, err = (Stream{Labels: "nope"}).LabelMap()
	assert.ErrorIs(t, err, ErrCorrupt)
}

func TestServerStatusAndRetryAfter(t *testing.T) {
	s := NewServer()
	defer s.Close()
	url := s.URL + PushPath
	s.SetStatus(http.StatusTooManyRequests)
	s.SetRetryAfter("3")
	resp, err := http.Post(url, "application/json", strings.NewReader(jsonPush(1, "throttled")))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "3", resp.Header.Get("Retry-After"))
	s.SetStatus(http.StatusInternalServerError)
	s.SetRetryAfter("")
	resp, err = http.Post(url, "application/json", strings.NewReader(jsonPush(1, "failed")))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Empty(t, resp.Header.Values("Retry-After"))
	assert.Empty(t, s.Lines(), "a push answered with a fault is not stored")
	s.SetStatus(0)
	assert.Equal(t, http.StatusNoContent, post(t, http.DefaultClient, url, "application/json", strings.NewReader(jsonPush(1, "stored"))))
	assert.Equal(t, []string{"stored"}, s.Lines())
	var statuses []int
	for _, r := range s.Requests() {
		statuses = append(statuses, r.Status)
	}
	assert.Equal(t, []int{429, 500, 204}, statuses)
}

func TestServerHangAndRelease(t *testing.T) {
	s := NewServer()
	defer s.Close()
	s.Hang()
	answered := make(chan int, 1)
	go func() {
		answered <- post(t, http.DefaultClient, s.URL+PushPath, "application/json", strings.NewReader(jsonPush(1, "held")))
	}()
	require.NoError(t, s.WaitRequests(t.Context(), 1))
	assert.Equal(t, 0, s.Requests()[0].Status, "held: not answered")
	assert.Empty(t, answered)
	assert.Empty(t, s.Lines())
	s.Release()
	assert.Equal(t, http.StatusNoContent, <-answered)
	assert.Equal(t, []string{"held"}, s.Lines())
	assert.Equal(t, http.StatusNoContent, s.Requests()[0].Status)
	assert.Equal(t, http.StatusNoContent, post(t, http.DefaultClient, s.URL+PushPath, "application/json", strings.NewReader(jsonPush(2, "after"))), "no longer held")
}

func TestServerCloseReleases(t *testing.T) {
	s := NewServer()
	s.Hang()
	answered := make(chan int, 1)
	go func() {
		answered <- post(t, http.DefaultClient, s.URL+PushPath, "application/json", strings.NewReader(jsonPush(1, "held")))
	}()
	require.NoError(t, s.WaitRequests(t.Context(), 1))
	s.Close()
	assert.Equal(t, http.StatusNoContent, <-answered)
	assert.Equal(t, []string{"held"}, s.Lines())
}

func TestServerHangClientGivesUp(t *testing.T) {
	s := NewServer()
	defer s.Close()
	s.Hang()
	ctx, cancel := context.WithCancel(t.Context())
	failed := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+PushPath, strings.NewReader(jsonPush(1, "abandoned")))
		req.Header.Set("Content-Type", "application/json")
		_, err := http.DefaultClient.Do(req)
		failed <- err
	}()
	require.NoError(t, s.WaitRequests(t.Context(), 1))
	cancel()
	require.ErrorIs(t, <-failed, context.Canceled)
	s.Server.Close() // without releasing: returns once the handler saw the client go
	assert.Equal(t, 0, s.Requests()[0].Status)
	assert.Empty(t, s.Lines())
}

func TestServerDistinctAndWaitLines(t *testing.T) {
	s := NewTLSServer()
	defer s.Close()
	url := s.URL + PushPath
	for _, body := range []string{jsonPush(1, "a"), jsonPush(1, "a"), jsonPush(2, "a"), jsonPush(1, "b")} {
		assert.Equal(t, http.StatusNoContent, post(t, s.Client(), url, "application/json", strings.NewReader(body)))
	}
	assert.Len(t, s.Lines(), 4)
	assert.Equal(t, 3, s.Distinct(), "the repeat of the same timestamp and line counts once")
	assert.Equal(t, []string{"a", "a", "b"}, s.KeptLines(), "kept as Loki keeps them: the repeat left out")
	assert.Len(t, s.Kept(), 3, "the stream of the repeat alone is left out")
	require.NoError(t, s.WaitLines(t.Context(), 4))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, s.WaitLines(ctx, 5), context.Canceled)
	waited := make(chan error, 1)
	go func() { waited <- s.WaitLines(t.Context(), 5) }()
	assert.Equal(t, http.StatusNoContent, post(t, s.Client(), url, "application/json", strings.NewReader(jsonPush(3, "c"))))
	assert.NoError(t, <-waited)
}
