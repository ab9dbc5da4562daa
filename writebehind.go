package logging

import (
	"os"
	"sync"
	"time"
)

// The file sink writes behind the caller: a record is copied into a queue
// and the caller returns, while the sink's own goroutine writes everything
// queued in one write(2) per batch (whole records only, so no record is ever
// torn or interleaved). The caller no longer pays for the system call, and a
// busy program pays for one call per batch instead of one per record.
//
// Nothing is lost on the way: records at ERROR and above and security events
// are durable (the call returns once they are in the file, as with a
// synchronous write), Flush, Reopen and Close write everything queued
// first, and a full queue makes the caller wait for the writer rather than
// drop. What a crash can lose is what the writer had not yet written: the
// records of the last few microseconds below ERROR.

// Limits of the write-behind queue.
const (
	// maxQueued is how many bytes may wait; a caller that finds more waits
	// until the writer has taken them.
	maxQueued = 1 << 20
	// maxBatch bounds one write; a batch never exceeds a quarter of the
	// rotation size either, so rotation stays close to the configured size.
	maxBatch = 256 << 10
	// keepBuf is the largest queue buffer kept for reuse after a burst.
	keepBuf = 4 << 20
	// gatherDelay is how long the writer, woken by a first record, lets
	// more records join its batch before it writes; a durable record, Flush
	// and Close cut it short.
	gatherDelay = 100 * time.Microsecond
)

// writeQueue is the queue between callers and the writer goroutine.
type writeQueue struct {
	mu       sync.Mutex
	cond     sync.Cond // broadcast when the writer takes or finishes a batch
	buf      []byte    // queued records, whole
	ends     []int     // end offset in buf of each queued record
	spare    []byte    // the buffer the writer last wrote, for reuse
	spareEnd []int
	accepted uint64 // records queued so far
	done     uint64 // records the writer has finished (written or failed)
	parked   bool   // the writer waits for a first record
	gather   bool   // the writer lets records join its batch
	urgent   bool   // a durable record or a flush waits: write now
	closed   bool
	wake     chan struct{}
	exited   chan struct{}
}

func newWriteQueue() *writeQueue {
	q := &writeQueue{wake: make(chan struct{}, 1), exited: make(chan struct{})}
	q.cond.L = &q.mu
	return q
}

// put queues one record and returns its sequence number; a durable record
// returns only once the writer has finished it.
func (q *writeQueue) put(p []byte, durable bool) error {
	q.mu.Lock()
	for len(q.buf) >= maxQueued && !q.closed {
		q.cond.Wait() // back pressure: the writer takes the whole queue at once
	}
	if q.closed {
		q.mu.Unlock()
		return os.ErrClosed
	}
	q.buf = append(q.buf, p...)
	q.ends = append(q.ends, len(q.buf))
	q.accepted++
	if durable {
		q.waitLocked(q.accepted)
	} else {
		q.wakeLocked(len(q.buf) >= maxBatch) // a full batch need not wait
	}
	q.mu.Unlock()
	return nil
}

// wakeLocked wakes the writer if it is parked, or, when urgent, if it is
// gathering a batch. Called with q.mu held.
func (q *writeQueue) wakeLocked(urgent bool) {
	if q.parked || urgent && q.gather {
		q.parked, q.gather = false, false
		select {
		case q.wake <- struct{}{}:
		default: // a wake is pending already
		}
	}
}

// waitLocked returns once the writer has finished record seq, waking it
// without delay. Called with q.mu held.
func (q *writeQueue) waitLocked(seq uint64) {
	for q.done < seq {
		q.urgent = true
		q.wakeLocked(true)
		q.cond.Wait()
	}
}

// flush returns once every record queued before it has been finished.
func (q *writeQueue) flush() {
	q.mu.Lock()
	q.waitLocked(q.accepted)
	q.mu.Unlock()
}

// close refuses further records, lets the writer finish the queue and waits
// for it to exit.
func (q *writeQueue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		q.wakeLocked(true)
		q.cond.Broadcast() // callers waiting for space give up
	}
	q.mu.Unlock()
	<-q.exited
}

// run is the writer goroutine: it takes the whole queue at once and hands
// it to write in batches of whole records.
func (q *writeQueue) run(write func(batch []byte, records int)) {
	defer close(q.exited)
	timer := time.NewTimer(gatherDelay)
	defer timer.Stop()
	for {
		q.mu.Lock()
		for len(q.ends) == 0 && !q.closed {
			q.parked = true
			q.mu.Unlock()
			<-q.wake
			q.mu.Lock()
		}
		if len(q.ends) == 0 { // closed and drained
			q.mu.Unlock()
			return
		}
		if !q.urgent && !q.closed && len(q.buf) < maxBatch/2 {
			// Let records join: one write for many, one wake-up per batch.
			q.gather = true
			q.mu.Unlock()
			timer.Reset(gatherDelay)
			select {
			case <-q.wake:
			case <-timer.C:
			}
			q.mu.Lock()
			q.gather = false
		}
		q.urgent = false
		buf, ends, upTo := q.buf, q.ends, q.accepted
		q.buf, q.ends = q.spare[:0], q.spareEnd[:0]
		q.spare, q.spareEnd = nil, nil
		q.cond.Broadcast() // space for callers that wait
		q.mu.Unlock()

		start, n := 0, 0
		for i, end := range ends {
			n++
			last := i == len(ends)-1
			if last || ends[i+1]-start > maxBatch {
				write(buf[start:end], n)
				start, n = end, 0
			}
		}

		q.mu.Lock()
		q.done = upTo
		if cap(buf) <= keepBuf {
			q.spare, q.spareEnd = buf[:0], ends[:0]
		}
		q.cond.Broadcast()
		q.mu.Unlock()
	}
}
