package logging

import (
	"sync"
	"sync/atomic"

	"github.com/codomyrmex/logging/loki"
)

// Statistics are the package's counters since the process started. They
// never hold a secret.
type Statistics struct {
	// Redactions counts redacted values by kind ("github-token", "key", …).
	Redactions map[string]uint64
	// WriteErrors counts the records a sink failed to write (a record that
	// two sinks fail counts twice).
	WriteErrors uint64
	// RateLimited counts records dropped by the rate limiter.
	RateLimited uint64
	// FilesReopened counts the times a file sink found that its path no
	// longer named the file it was writing (moved by logrotate, removed
	// with its directory, replaced) and opened the path anew, with the
	// file's 0600 and the directory's 0700.
	FilesReopened uint64
	// KnownSecrets is how many values the chain in force masks by value:
	// those given to Mask and those of the environment (never the values).
	KnownSecrets int
	// KnownSkipped is how many values of the environment were not
	// registered, being too short or too plain (see WithMaskEnv).
	KnownSkipped int
	// Loki counts what the Loki sinks sent, dropped (queue full, rejected,
	// unsent at Close) and retried, and what the one in force holds now.
	Loki loki.Stats
}

// Stats returns the package's counters.
func Stats() Statistics {
	s := Statistics{Redactions: map[string]uint64{}, WriteErrors: writeErrors.Load(), RateLimited: rateLimited.Load(),
		FilesReopened: filesReopened.Load()}
	lokiClosed.mu.Lock()
	addLokiStats(&s.Loki, lokiClosed.st, false)
	lokiClosed.mu.Unlock()
	s.KnownSkipped = int(envSkipped.Load())
	if p := current.Load(); p != nil && p.m.red != nil {
		s.KnownSecrets = p.m.red.KnownCount()
	}
	if p := current.Load(); p != nil && !p.closing.Load() {
		for _, st := range p.out.sinks {
			st.sink.stats(&s)
		}
	}
	redactionCounts.Range(func(k, v any) bool {
		if n := v.(*atomic.Uint64).Load(); n > 0 {
			s.Redactions[k.(string)] = n
		}
		return true
	})
	return s
}

// redactionCounts maps a kind to its *atomic.Uint64 counter.
var redactionCounts sync.Map

func countRedaction(kind string) {
	c, ok := redactionCounts.Load(kind)
	if !ok {
		c, _ = redactionCounts.LoadOrStore(kind, new(atomic.Uint64))
	}
	c.(*atomic.Uint64).Add(1)
}
