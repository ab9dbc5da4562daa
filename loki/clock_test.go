package loki

import (
	"sync"
	"testing"
	"time"
)

// clock stands in for time.After, as Config.after, so that no test waits
// on the wall clock: time moves only when the test says. What a wait does
// depends on its duration (the durations of testConfig differ, so that a
// wait's duration tells what it is for):
//
//   - held, the default: the wait fires when the test fires it; clock.next
//     returns the held waits in the order the client asked for them;
//   - atOnce: the wait fires as soon as the client asks for it;
//   - never: the wait never fires, and clock.next passes it over.
type clock struct {
	mu      sync.Mutex
	policy  map[time.Duration]policy
	held    []*wait
	seen    int           // how many held waits next has returned
	changed chan struct{} // closed, and replaced, when a wait is held
}

type policy int

const (
	held policy = iota
	atOnce
	never
)

// wait is a wait the client asked for and the test fires.
type wait struct {
	d  time.Duration
	ch chan time.Time
}

// fire ends the wait; firing it again does nothing.
func (w *wait) fire() {
	select {
	case w.ch <- time.Time{}:
	default:
	}
}

// watchdog is how long a test waits for the client to do something before
// it fails; a passing test never reaches it.
const watchdog = 10 * time.Second

func newClock() *clock {
	return &clock{policy: map[time.Duration]policy{}, changed: make(chan struct{})}
}

// set makes the waits of duration d follow p.
func (c *clock) set(d time.Duration, p policy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.policy[d] = p
}

func (c *clock) after(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	switch c.policy[d] {
	case atOnce:
		ch <- time.Time{}
	case held:
		c.held = append(c.held, &wait{d, ch})
		close(c.changed)
		c.changed = make(chan struct{})
	}
	return ch
}

// next returns the next held wait, waiting for the client to ask for it.
func (c *clock) next(t *testing.T) *wait {
	t.Helper()
	for {
		c.mu.Lock()
		if c.seen < len(c.held) {
			w := c.held[c.seen]
			c.seen++
			c.mu.Unlock()
			return w
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-time.After(watchdog):
			t.Fatal("the client asked for no wait")
		}
	}
}

// receive returns what ch delivers, failing the test if it delivers
// nothing within the watchdog.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(watchdog):
		t.Fatal("nothing happened")
		var zero T
		return zero
	}
}
