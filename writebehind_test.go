package logging

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a writer for the queue that holds its batches, and can be
// held back by a gate to make records pile up.
type recorder struct {
	mu      sync.Mutex
	batches [][]byte
	records []int
	gate    chan struct{} // when set, each batch waits for a value
	entered chan struct{} // signalled when a batch is about to wait at the gate
}

func (r *recorder) write(b []byte, n int) {
	if r.gate != nil {
		select {
		case r.entered <- struct{}{}:
		default:
		}
		<-r.gate
	}
	r.mu.Lock()
	r.batches = append(r.batches, bytes.Clone(b))
	r.records = append(r.records, n)
	r.mu.Unlock()
}

func (r *recorder) all() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	n := 0
	for i, x := range r.batches {
		b.Write(x)
		n += r.records[i]
	}
	return b.String(), n
}

func record(i int) []byte { return fmt.Appendf(nil, "record %06d %s\n", i, strings.Repeat("x", i%300)) }

// Records queued while the writer is busy go out together, in order, in
// batches of whole records no larger than maxBatch, and Close writes
// everything queued before it returns.
func TestWriteQueueBatchesWholeRecords(t *testing.T) {
	q := newWriteQueue(systemClock{})
	r := &recorder{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	go q.run(r.write)
	var want bytes.Buffer
	require.NoError(t, q.put(record(0), false))
	want.Write(record(0))
	<-r.entered // the writer holds the first batch at the gate
	const n = 3000
	for i := 1; i < n; i++ {
		require.NoError(t, q.put(record(i), false))
		want.Write(record(i))
	}
	go func() {
		for range r.gate {
		}
	}()
	r.gate <- struct{}{}
	close(r.gate)
	q.close()
	got, records := r.all()
	assert.Equal(t, want.String(), got, "every record once, in order")
	assert.Equal(t, n, records)
	assert.Less(t, len(r.batches), 10, "records that waited went out in few writes")
	for _, b := range r.batches {
		assert.LessOrEqual(t, len(b), maxBatch)
		assert.True(t, bytes.HasSuffix(b, []byte("\n")), "a batch ends with a whole record")
	}
	assert.ErrorIs(t, q.put(record(1), false), os.ErrClosed, "closed queue refuses records")
}

// A full queue makes the caller wait for the writer; nothing is dropped.
func TestWriteQueueBackPressure(t *testing.T) {
	q := newWriteQueue(systemClock{})
	r := &recorder{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	go q.run(r.write)
	rec := bytes.Repeat([]byte("y"), 999)
	rec = append(rec, '\n')
	require.NoError(t, q.put(rec, false))
	<-r.entered
	done := make(chan struct{})
	const n = 3 * maxQueued / 1000 // three times what the queue holds
	go func() {
		defer close(done)
		for range n {
			assert.NoError(t, q.put(rec, false))
		}
	}()
	select {
	case <-done:
		t.Fatal("the caller went on past a full queue while the writer was stuck")
	case <-time.After(200 * time.Millisecond):
	}
	close(r.gate) // the writer goes on
	<-done
	q.close()
	got, records := r.all()
	assert.Equal(t, n+1, records)
	assert.Equal(t, (n+1)*len(rec), len(got))
}

// A durable record is written before put returns; flush waits for every
// record queued before it.
func TestWriteQueueDurableAndFlush(t *testing.T) {
	q := newWriteQueue(systemClock{})
	r := &recorder{}
	go q.run(r.write)
	defer q.close()
	for i := range 50 {
		require.NoError(t, q.put(record(i), false))
	}
	require.NoError(t, q.put([]byte("durable\n"), true))
	got, _ := r.all()
	assert.True(t, strings.HasSuffix(got, "durable\n"), "the durable record and all before it are written")
	require.NoError(t, q.put([]byte("later\n"), false))
	q.flush()
	got, _ = r.all()
	assert.True(t, strings.HasSuffix(got, "later\n"))
}

// Through Setup: ERROR records and security events are in the file when
// the call returns, INFO records once Flush returns.
func TestFileDurability(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	sec := filepath.Join(dir, "security.log")
	setup(t, WithFile(path), WithSecurityFile(sec), WithOutputType(OutputJSON))
	read := func(p string) string {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return string(b)
	}
	l := Logger("d")
	for i := range 200 {
		l.Info("info", "i", i)
	}
	l.Error("boom")
	content := read(path)
	assert.Contains(t, content, `"msg":"boom"`, "an ERROR record is written before Error returns")
	assert.Equal(t, 201, strings.Count(content, "\n"), "with every record before it")
	SecurityEvent(t.Context(), Event{Type: AuthnFailure, UserID: "u-1"})
	assert.Contains(t, read(sec), "authn_failure", "a security event is written before the call returns")
	l.Info("last")
	Flush()
	assert.Contains(t, read(path), `"msg":"last"`)
}

// A durable record whose write is stuck returns after durableWait, and is
// still written once the writer goes on: the caller is never held for long,
// and nothing is dropped.
func TestWriteQueueDurableWaitIsBounded(t *testing.T) {
	clk := newFakeClock()
	q := newWriteQueue(clk)
	r := &recorder{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	go q.run(r.write)
	require.NoError(t, q.put([]byte("first\n"), false))
	<-r.entered // the writer is stuck in its write
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		assert.NoError(t, q.put([]byte("durable\n"), true))
	}()
	require.Eventually(t, func() bool { return clk.Waiting() == 1 }, 10*time.Second, time.Millisecond, "the durable put waits for its write")
	clk.Advance(durableWait - time.Nanosecond)
	select {
	case <-returned:
		t.Fatal("the durable put returned before its write or durableWait")
	default:
	}
	clk.Advance(time.Nanosecond)
	<-returned // and then goes on
	got, _ := r.all()
	assert.Empty(t, got, "the write was still stuck")
	close(r.gate)
	q.close()
	got, n := r.all()
	assert.Equal(t, "first\ndurable\n", got)
	assert.Equal(t, 2, n)
}

// The standard log package's records are written before the call returns
// (log.Fatal exits right after writing one), with the caller as source.
func TestStdLogDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	setup(t, WithFile(path), WithOutputType(OutputJSON), WithAddSource(true))
	for i := range 50 {
		Logger("busy").Info("queued", "i", i)
	}
	log.Printf("last words %d", 1) // no Flush: as if log.Fatal exited now
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := jsonLines(t, string(data))
	require.Len(t, lines, 51, "the std log record and every record before it")
	last := lines[50]
	assert.Equal(t, "last words 1", last["msg"])
	assert.Equal(t, "root", last["logger"])
	src, _ := last["source"].(map[string]any)
	assert.True(t, strings.HasSuffix(fmt.Sprint(src["file"]), "writebehind_test.go"), "source is the caller: %v", src)
}

// A panic inside the write (here: a sink without its lumberjack) becomes an
// error; the writer goroutine goes on.
func TestWritePanicBecomesError(t *testing.T) {
	s := &fileSink{path: filepath.Join(t.TempDir(), "x.log")}
	err := s.writeGuarded([]byte("record\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "panic while writing")
	assert.True(t, s.mu.TryLock(), "the lock was released")
}
