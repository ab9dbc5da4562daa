package logging

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
)

// Capture of the process's standard output and error
// (CODOMYRMEX_LOG_CAPTURE_STDIO, WithCaptureStdio): os.Stdout and os.Stderr
// are replaced by pipes whose lines become records of the loggers "stdout"
// (INFO) and "stderr" (WARNING), redacted and sanitized like any record;
// fmt.Print and a library that prints go through the chain. The console
// sink, and the package's own reports, keep writing to the original files,
// so nothing loops. What writes to the descriptors 1 and 2 directly (the
// Go runtime's panic and fatal error messages, C code) is not captured:
// a crash's message must reach the terminal even when no goroutine is
// left to read a pipe.

// maxCapturedLine is the longest captured line; a longer one becomes
// several records.
const maxCapturedLine = 64 << 10

var capture struct {
	mu             sync.Mutex
	on             bool
	stdout, stderr *os.File // the originals while on
	pipes          []*os.File
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
	capture.pipes = []*os.File{outW, errW}
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
	for _, w := range capture.pipes {
		_ = w.Close()
	}
	capture.pipes = nil
	capture.on = false
	capture.mu.Unlock()
	capture.done.Wait()
}

// readLines logs each line read from r as a record of logger at level,
// until r ends.
func captureLines(r *os.File, logger *slog.Logger, level slog.Level) {
	defer capture.done.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, maxCapturedLine)
	for {
		line, err := br.ReadSlice('\n')
		if n := len(line); n > 0 {
			if line[n-1] == '\n' {
				line = line[:n-1]
			}
			logger.Log(context.Background(), level, string(line))
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if !errors.Is(err, io.EOF) {
				logger.Log(context.Background(), slog.LevelError, "capture stopped: "+err.Error())
			}
			return
		}
	}
}

// WithCaptureStdio sends what the process writes to os.Stdout and
// os.Stderr through the chain (CODOMYRMEX_LOG_CAPTURE_STDIO; off by
// default): see the package documentation's note on capture. Close, or a
// Setup without it, puts the original files back.
func WithCaptureStdio(on bool) Option {
	return option("WithCaptureStdio", bySetup, func(c *config) error { c.captureStdio = on; return nil })
}
