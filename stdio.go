package logging

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
)

// Capture of the process's standard output and error
// (CODOMYRMEX_LOG_CAPTURE_STDIO, WithCaptureStdio): os.Stdout and os.Stderr
// are replaced by pipes whose lines become records of the loggers "stdout"
// (INFO) and "stderr" (WARNING), redacted and sanitized like any record;
// fmt.Print and a library that prints go through the chain. The console
// sink, and the package's own reports, keep writing to the original files,
// so nothing loops: a console or WithSink writer that is one of the pipes
// (os.Stderr read after capture started, given to a later Setup) is
// replaced by the original file it stands for. Each pipe is drained by a
// goroutine that never waits for the chain: the lines wait in a queue of
// at most captureQueueBytes for the goroutine that logs them, and lines
// that do not fit are dropped and counted (reported as one WARNING
// record), so that a writer that still feeds a pipe back (a WithHandler
// handler writing to os.Stderr) cannot make the reader, and with it every
// logging call, wait for itself. What writes to the descriptors 1 and 2
// directly (the Go runtime's panic and fatal error messages, C code) is
// not captured: a crash's message must reach the terminal even when no
// goroutine is left to read a pipe.

// maxCapturedLine is the longest captured line; a longer one becomes
// several records.
const maxCapturedLine = 64 << 10

// captureQueueBytes bounds the captured lines (of one stream) read but not
// logged yet.
const captureQueueBytes = 1 << 20

var capture struct {
	mu             sync.Mutex
	on             bool
	stdout, stderr *os.File // the originals while on
	outW, errW     *os.File // the pipes in their place while on
	done           sync.WaitGroup
}

// stdoutFile and stderrFile return the process's standard output and error:
// the original files while they are captured.
func stdoutFile() *os.File { return stdFile(&os.Stdout, &capture.stdout) }

func stderrFile() *os.File { return stdFile(&os.Stderr, &capture.stderr) }

func stdFile(current, original **os.File) *os.File {
	capture.mu.Lock()
	defer capture.mu.Unlock()
	if capture.on {
		return *original
	}
	return *current
}

// uncaptured returns w, or the original file when w is one of the capture
// pipes: the chain's own writers never write into a pipe it reads.
func uncaptured(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return w
	}
	capture.mu.Lock()
	defer capture.mu.Unlock()
	switch {
	case !capture.on:
		return w
	case f == capture.outW:
		return capture.stdout
	case f == capture.errW:
		return capture.stderr
	}
	return w
}

// startCapture replaces os.Stdout and os.Stderr with pipes read line by
// line into records; it does nothing while they are captured already.
func startCapture() error {
	capture.mu.Lock()
	defer capture.mu.Unlock()
	if capture.on {
		return nil
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	capture.on, capture.stdout, capture.stderr = true, os.Stdout, os.Stderr
	capture.outW, capture.errW = outW, errW
	os.Stdout, os.Stderr = outW, errW
	capture.done.Add(2)
	go captureLines(outR, Logger("stdout"), slog.LevelInfo)
	go captureLines(errR, Logger("stderr"), slog.LevelWarn)
	return nil
}

// stopCapture puts the original files back, and returns once every line
// written before is logged.
func stopCapture() {
	capture.mu.Lock()
	if !capture.on {
		capture.mu.Unlock()
		return
	}
	os.Stdout, os.Stderr = capture.stdout, capture.stderr
	_ = capture.outW.Close()
	_ = capture.errW.Close()
	capture.outW, capture.errW = nil, nil
	capture.on = false
	capture.mu.Unlock()
	capture.done.Wait()
}

// captureLines logs each line read from r as a record of logger at level,
// until r ends. It reads r without ever waiting for the chain (see
// lineQueue); another goroutine logs the lines.
func captureLines(r *os.File, logger *slog.Logger, level slog.Level) {
	defer capture.done.Done()
	defer r.Close()
	q := newLineQueue(captureQueueBytes)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		logQueued(q, logger, level)
	}()
	err := readCaptured(r, q)
	q.close()
	<-logged
	if err != nil {
		logAt(context.Background(), logger, slog.LevelError, 0, "capture stopped: "+err.Error(), nil)
	}
}

// readCaptured queues each line read from r, without its newline, until r
// ends; it returns the read error, nil at the end of r.
func readCaptured(r io.Reader, q *lineQueue) error {
	br := bufio.NewReaderSize(r, maxCapturedLine)
	for {
		line, err := br.ReadSlice('\n')
		if n := len(line); n > 0 {
			if line[n-1] == '\n' {
				line = line[:n-1]
			}
			q.push(string(line))
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// logQueued logs the lines of q as records of logger at level until q is
// closed and empty, and reports the lines q dropped.
func logQueued(q *lineQueue, logger *slog.Logger, level slog.Level) {
	ctx := context.Background()
	for {
		lines, dropped, ok := q.take()
		if !ok {
			return
		}
		for _, l := range lines {
			logAt(ctx, logger, level, 0, l, nil) // no source: no line of the program wrote it
		}
		if dropped > 0 {
			logAt(ctx, logger, slog.LevelWarn, 0, strconv.Itoa(dropped)+" captured lines dropped: the chain did not keep up", nil)
		}
	}
}

// lineQueue holds captured lines between the goroutine that reads a pipe
// and the one that logs them. push never waits: a line that does not fit
// within the queue's bound is dropped and counted.
type lineQueue struct {
	mu      sync.Mutex
	lines   []string
	bytes   int // of lines, one more per line
	limit   int
	dropped int // since the last take
	closed  bool
	wake    chan struct{}
}

func newLineQueue(limit int) *lineQueue {
	return &lineQueue{limit: limit, wake: make(chan struct{}, 1)}
}

// push queues line, or counts it dropped when the queue is full; it never
// blocks.
func (q *lineQueue) push(line string) {
	q.mu.Lock()
	if n := len(line) + 1; q.bytes+n > q.limit {
		q.dropped++
	} else {
		q.lines = append(q.lines, line)
		q.bytes += n
	}
	q.mu.Unlock()
	q.signal()
}

// close marks the end of the lines; take returns the ones queued first.
func (q *lineQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *lineQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// take waits for lines and returns every queued one with the count of
// lines dropped since the last take; ok is false once q is closed and
// empty.
func (q *lineQueue) take() (lines []string, dropped int, ok bool) {
	for {
		q.mu.Lock()
		if len(q.lines) > 0 || q.dropped > 0 {
			lines, dropped = q.lines, q.dropped
			q.lines, q.bytes, q.dropped = nil, 0, 0
			q.mu.Unlock()
			return lines, dropped, true
		}
		if q.closed {
			q.mu.Unlock()
			return nil, 0, false
		}
		q.mu.Unlock()
		<-q.wake
	}
}

// WithCaptureStdio sends what the process writes to os.Stdout and
// os.Stderr through the chain (CODOMYRMEX_LOG_CAPTURE_STDIO; off by
// default): see the package documentation's note on capture. Close, or a
// Setup without it, puts the original files back.
func WithCaptureStdio(on bool) Option {
	return option("WithCaptureStdio", bySetup, func(c *config) error { c.captureStdio = on; return nil })
}
