package loki_test

import (
	"context"
	"fmt"
	"time"

	"github.com/codomyrmex/logging/loki"
	"github.com/codomyrmex/logging/loki/lokitest"
)

// A Client pushes lines to a Loki, here a test server. Push returns at
// once; Close sends what is still queued, security events (Priority) first.
func Example() {
	srv := lokitest.NewServer()
	defer srv.Close()

	c, err := loki.New(loki.Config{
		URL:       srv.URL,
		Labels:    map[string]string{"service": "api"},
		BatchWait: time.Minute, // a batch waits for more lines up to a minute; Close sends it sooner
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c.Push(loki.Entry{Time: t0, Line: "started", Labels: map[string]string{"level": "INFO"}})
	c.Push(loki.Entry{Time: t0.Add(time.Second), Line: "login failed", Labels: map[string]string{"level": "WARN"}, Priority: true})
	c.Push(loki.Entry{Time: t0.Add(2 * time.Second), Line: "ready", Labels: map[string]string{"level": "INFO"}})
	if err := c.Close(context.Background()); err != nil {
		fmt.Println(err)
	}

	for _, st := range srv.Streams() {
		for _, e := range st.Entries {
			fmt.Println(st.Labels, e.Time.UTC().Format(time.TimeOnly), e.Line)
		}
	}
	fmt.Printf("%+v\n", c.Stats())
	// Output:
	// {level="WARN",service="api"} 03:04:06 login failed
	// {level="INFO",service="api"} 03:04:05 started
	// {level="INFO",service="api"} 03:04:07 ready
	// {Sent:3 Dropped:0 Retries:0 FailedBatches:0 Pending:0 Spooled:0 Replayed:0 SpoolTorn:0 SpoolSkipped:0 Outages:0}
}
