package logging

import "time"

// clock is where the package's timing decisions get the time: the rate
// limiter's buckets, the file sink's path checks, how long a durable record
// waits for a stuck disk, and the periodic summaries of dropped records. A
// pipeline takes it from its configuration, so that tests drive time
// explicitly instead of sleeping through it (as zap's zapcore.Clock).
type clock interface {
	Now() time.Time
	// After is time.After: the channel receives once d has passed.
	After(d time.Duration) <-chan time.Time
	// NewTicker is time.NewTicker.
	NewTicker(d time.Duration) ticker
}

// ticker is the part of *time.Ticker the package uses.
type ticker interface {
	Chan() <-chan time.Time
	Stop()
}

// systemClock is the real time.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (systemClock) NewTicker(d time.Duration) ticker       { return systemTicker{time.NewTicker(d)} }

type systemTicker struct{ *time.Ticker }

func (t systemTicker) Chan() <-chan time.Time { return t.C }

// every calls f on each tick of t until stop is closed, then stops t and
// closes done. The caller makes the ticker before it starts the goroutine,
// so that the first interval counts from then.
func every(t ticker, stop <-chan struct{}, done chan<- struct{}, f func()) {
	defer close(done)
	defer t.Stop()
	for {
		select {
		case <-t.Chan():
			f()
		case <-stop:
			return
		}
	}
}
