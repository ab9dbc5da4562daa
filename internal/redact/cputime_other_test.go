//go:build !linux

package redact

import "time"

// cpuTime returns how long f takes (wall clock: the thread's CPU time is
// read on Linux only).
func cpuTime(f func()) time.Duration {
	t := time.Now()
	f()
	return time.Since(t)
}
