package logging

import (
	"os"
	"sync"
	"time"
)

// The file sink writes behind the caller: a record is copied into a queue
// and the caller returns, while the sink's own goroutine writes what has
// queued in one write(2) per batch (whole records only, so no record is ever
// torn or interleaved). The caller does not pay for the system call, and a
// busy program pays for one call per batch instead of one per record.
//
// Nothing is lost on the way: records at ERROR and above and security events
// are durable (the call returns once they are in the file, as with a
// synchronous write, or after durableWait if the file is stuck), Flush,
// Reopen and Close write everything queued first, and a full queue makes the
// caller wait for the writer rather than drop. What a crash can lose is what
// the writer had not written yet: the records below ERROR of the last
// fraction of a millisecond.

// Limits of the write-behind queue.
const (
	// maxQueued is how many bytes may wait; a caller that finds more waits
	// until the writer has taken them.
	maxQueued = 1 << 20
	// maxBatch bounds one write. The smallest rotation size is 1 MiB, so a
	// batch is never more than a quarter of it.
	maxBatch = 256 << 10
	// keepBuf is the largest queue buffer kept for reuse after a burst.
	keepBuf = 4 << 20
	// gatherDelay is how long the writer, woken by a first record, lets
	// more records join its batch before it writes; a durable record, Flush,
	// Close and a full batch cut it short.
	gatherDelay = 100 * time.Microsecond
	// durableWait bounds how long a durable record waits for its write. A
	// record that is not written by then stays queued; only the caller goes
	// on (a stuck disk, or an error handler that logs from the writer).
	durableWait = time.Second
)

// writeQueue is the queue between callers and the writer goroutine.
type writeQueue struct {
	mu       sync.Mutex
	buf      []byte // queued records, whole
	ends     []int  // end offset in buf of each queued record
	spare    []byte // the buffer the writer last wrote, for reuse
	spareEnd []int
	accepted uint64        // records queued so far
	done     uint64        // records the writer has finished (written or failed)
	progress chan struct{} // closed (and replaced) when the writer takes or finishes a batch
	parked   bool          // the writer waits for a first record
	gather   bool          // the writer lets records join its batch
	urgent   bool          // a durable record or a flush waits: write now
	closed   bool
	wake     chan struct{}
	exited   chan struct{}
	after    func(time.Duration) <-chan time.Time // the clock's After, for durableWait
}

func newWriteQueue(c clock) *writeQueue {
	return &writeQueue{wake: make(chan struct{}, 1), exited: make(chan struct{}), progress: make(chan struct{}), after: c.After}
}

// put queues one record; a durable record returns only once the writer has
// finished it (or after durableWait).
func (q *writeQueue) put(p []byte, durable bool) error {
	q.mu.Lock()
	for len(q.buf) >= maxQueued && !q.closed {
		q.waitLocked(nil) // back pressure: the writer takes the whole queue at once
	}
	if q.closed {
		q.mu.Unlock()
		return os.ErrClosed
	}
	q.buf = append(q.buf, p...)
	q.ends = append(q.ends, len(q.buf))
	q.accepted++
	if durable {
		q.finishLocked(q.accepted, q.after(durableWait))
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

// waitLocked waits for the writer's next step, or for timeout; it reports
// whether the timeout came. Called with q.mu held; it is held again on return.
func (q *writeQueue) waitLocked(timeout <-chan time.Time) bool {
	ch := q.progress
	q.mu.Unlock()
	defer q.mu.Lock()
	select {
	case <-ch:
		return false
	case <-timeout:
		return true
	}
}

// finishLocked returns once the writer has finished record seq, waking it
// without delay, or when timeout comes (nil: never). Called with q.mu held.
func (q *writeQueue) finishLocked(seq uint64, timeout <-chan time.Time) {
	for q.done < seq {
		q.urgent = true
		q.wakeLocked(true)
		if q.waitLocked(timeout) {
			return
		}
	}
}

// flush returns once every record queued before it has been finished.
func (q *writeQueue) flush() {
	q.mu.Lock()
	q.finishLocked(q.accepted, nil)
	q.mu.Unlock()
}

// close refuses further records, lets the writer finish the queue and waits
// for it to exit.
func (q *writeQueue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		q.wakeLocked(true)
	}
	q.mu.Unlock()
	<-q.exited
}

// stepLocked tells waiters that the writer took or finished a batch.
// Called with q.mu held.
func (q *writeQueue) stepLocked() {
	close(q.progress)
	q.progress = make(chan struct{})
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
			q.stepLocked() // callers waiting for space see the queue closed
			q.mu.Unlock()
			return
		}
		if !q.urgent && !q.closed && len(q.buf) < maxBatch {
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
		q.stepLocked() // space for callers that wait
		q.mu.Unlock()

		start, n := 0, 0
		for i, end := range ends {
			n++
			if i == len(ends)-1 || ends[i+1]-start > maxBatch {
				write(buf[start:end], n)
				start, n = end, 0
			}
		}

		q.mu.Lock()
		q.done = upTo
		if cap(buf) <= keepBuf {
			q.spare, q.spareEnd = buf[:0], ends[:0]
		}
		q.stepLocked()
		q.mu.Unlock()
	}
}
