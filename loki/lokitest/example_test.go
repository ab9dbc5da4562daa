package lokitest_test

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/codomyrmex/logging/loki/lokitest"
)

// A Server is a Loki that can be told to fail. Here it throttles a push,
// then stores it, twice, as Loki would when a client retries a push whose
// answer it did not get.
func Example() {
	srv := lokitest.NewServer()
	defer srv.Close()

	const body = `{"streams":[{"stream":{"service":"api","level":"INFO"},"values":[["1767323045000000000","started"]]}]}`
	push := func() {
		resp, err := http.Post(srv.URL+lokitest.PushPath, "application/json", strings.NewReader(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.Status, resp.Header.Values("Retry-After"))
	}

	srv.SetStatus(http.StatusTooManyRequests)
	srv.SetRetryAfter("2")
	push()
	srv.SetStatus(0) // store pushes again
	push()
	push()

	for _, st := range srv.Streams() {
		for _, e := range st.Entries {
			fmt.Println(st.Labels, e.Time.UTC().Format(time.RFC3339), e.Line)
		}
	}
	fmt.Println(len(srv.Requests()), "requests,", len(srv.Lines()), "lines stored,", srv.Distinct(), "distinct")
	// Output:
	// 429 Too Many Requests [2]
	// 204 No Content []
	// 204 No Content []
	// {level="INFO",service="api"} 2026-01-02T03:04:05Z started
	// {level="INFO",service="api"} 2026-01-02T03:04:05Z started
	// 3 requests, 2 lines stored, 1 distinct
}
