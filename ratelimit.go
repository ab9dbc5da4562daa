package logging

import (
	"fmt"
	"hash/maphash"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"
)

// limiter is a token bucket per call site (or per message), implemented as
// GCRA: one atomic "theoretical arrival time" per bucket, updated by
// compare-and-swap, so the hot path takes no lock.
type limiter struct {
	interval  int64 // nanoseconds between tokens
	tolerance int64 // (burst-1) × interval
	byMessage bool
	table     [tableSize]atomic.Pointer[bucket] // open addressing by call site or message hash
	overflow  bucket                            // shared by keys that find the table full
	dropped   atomic.Uint64
	stop      chan struct{}
	done      chan struct{}
	clock     clock
	emit      func(slog.Record) // writes a summary through the limiter's own pipeline
}

type bucket struct {
	tat     atomic.Int64
	dropped atomic.Uint64
	pc      uintptr // the key, by call site
	msg     string  // the key, by message
	site    string  // the call site (see callSite) or the message, for the summary
}

// tableSize bounds the distinct call sites (or messages) with a bucket of their own.
const tableSize = 4096

var msgSeed = maphash.MakeSeed()

// rateLimited counts records dropped by every limiter since the process started.
var rateLimited atomic.Uint64

// summaryInterval is how often dropped records are summarized.
const summaryInterval = 5 * time.Second

func newLimiter(perSecond float64, burst int, byMessage bool, clk clock, emit func(slog.Record)) *limiter {
	if burst < 1 {
		burst = 1
	}
	iv := int64(float64(time.Second) / perSecond)
	if iv < 1 {
		iv = 1
	}
	l := &limiter{interval: iv, tolerance: int64(burst-1) * iv, byMessage: byMessage,
		stop: make(chan struct{}), done: make(chan struct{}), clock: clk, emit: emit}
	l.overflow.site = "other call sites"
	go every(clk.NewTicker(summaryInterval), l.stop, l.done, l.flushSummary) // drops summarized in a WARNING record
	return l
}

// bucketFor finds or adds the record's bucket without a lock or an allocation
// on the hot path: a fixed table probed linearly, slots claimed by CAS.
func (l *limiter) bucketFor(r *slog.Record) *bucket {
	var h uint64
	if l.byMessage {
		h = maphash.String(msgSeed, r.Message)
	} else {
		h = uint64(r.PC) * 0x9E3779B97F4A7C15
	}
	for probe := range uint64(tableSize) {
		slot := &l.table[(h+probe)%tableSize]
		b := slot.Load()
		if b == nil {
			nb := l.newBucket(r)
			if slot.CompareAndSwap(nil, nb) {
				return nb
			}
			b = slot.Load()
		}
		if l.byMessage && b.msg == r.Message || !l.byMessage && b.pc == r.PC {
			return b
		}
	}
	return &l.overflow
}

func (l *limiter) newBucket(r *slog.Record) *bucket {
	nb := &bucket{pc: r.PC}
	if l.byMessage {
		nb.msg, nb.site = r.Message, r.Message
	} else {
		nb.site = callSite(r.PC)
	}
	return nb
}

// allow reports whether the record may pass, counting it if not.
func (l *limiter) allow(r *slog.Record) bool {
	b := l.bucketFor(r)
	now := l.clock.Now().UnixNano()
	for {
		tat := b.tat.Load()
		base := max(tat, now)
		if base-now > l.tolerance {
			b.dropped.Add(1)
			l.dropped.Add(1)
			rateLimited.Add(1)
			return false
		}
		if b.tat.CompareAndSwap(tat, base+l.interval) {
			return true
		}
	}
}

// flushSummary logs one summary record if anything was dropped.
func (l *limiter) flushSummary() {
	type site struct {
		name string
		n    uint64
	}
	var sites []site
	var total uint64
	collect := func(b *bucket) {
		if n := b.dropped.Swap(0); n > 0 {
			sites = append(sites, site{b.site, n})
			total += n
		}
	}
	for i := range l.table {
		if b := l.table[i].Load(); b != nil {
			collect(b)
		}
	}
	collect(&l.overflow)
	if total == 0 {
		return
	}
	sort.Slice(sites, func(i, j int) bool { return sites[i].n > sites[j].n })
	group := make([]slog.Attr, 0, len(sites))
	for i, s := range sites {
		if i == 20 {
			group = append(group, slog.Int("more_sites", len(sites)-20))
			break
		}
		group = append(group, slog.Uint64(s.name, s.n))
	}
	r := slog.NewRecord(l.clock.Now(), slog.LevelWarn, fmt.Sprintf("rate limit dropped %d records", total), 0)
	r.AddAttrs(slog.Uint64("dropped", total), slog.Attr{Key: "sites", Value: slog.GroupValue(group...)})
	if l.emit != nil {
		l.emit(r)
	}
}

// close stops the summary goroutine; the caller then calls flushSummary
// once more when no record is in flight.
func (l *limiter) close() {
	close(l.stop)
	<-l.done
}
