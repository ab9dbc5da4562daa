package chain

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// FileInput is the log file at path as an Input; a name ending in ".gz" is
// decompressed.
func FileInput(path string) Input {
	return Input{Name: path, Open: func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		if !strings.HasSuffix(path, ".gz") {
			return f, nil
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return gzReader{zr, f}, nil
	}}
}

type gzReader struct {
	*gzip.Reader
	f *os.File
}

func (g gzReader) Close() error {
	g.Reader.Close()
	return g.f.Close()
}

// maxCheckpoints bounds the checkpoints read from one file.
const maxCheckpoints = 1 << 20

// ReadCheckpoints reads the checkpoint records among the lines of r (TEXT or
// JSON, as the sinks write them; any other line is skipped). name is
// used in each checkpoint's Source. Lines longer than maxLine are skipped.
// A line that names itself a checkpoint (its message, or a checkpoint_head
// field) but cannot be read whole (a field redacted or cut on its way) is
// returned among bad, a BadCheckpoint problem: the verifier must not
// pass it over in silence.
func ReadCheckpoints(r io.Reader, name string, maxLine int) (cps []Checkpoint, bad []Problem, err error) {
	if maxLine <= 0 {
		maxLine = 4 << 20
	}
	lr := newLineReader(r, maxLine)
	for n := 1; ; n++ {
		line, long, ok := lr.next()
		if !ok {
			break
		}
		if long {
			continue
		}
		cp, ok := parseCheckpoint(line)
		if !ok {
			if looksLikeCheckpoint(line) && len(bad) < maxCheckpoints {
				bad = append(bad, Problem{File: name, Line: n, Kind: BadCheckpoint,
					Detail: "a checkpoint record whose fields cannot be read (redacted or cut on its way?)"})
			}
			continue
		}
		if len(cps) >= maxCheckpoints {
			return cps, bad, fmt.Errorf("%s: more than %d checkpoints", name, maxCheckpoints)
		}
		cp.Source = name + ":" + strconv.Itoa(n)
		cps = append(cps, cp)
	}
	return cps, bad, lr.err
}

// CheckpointMessage is the message of the checkpoint records.
const CheckpointMessage = "log chain checkpoint"

// looksLikeCheckpoint reports whether line says it is a checkpoint record.
func looksLikeCheckpoint(line []byte) bool {
	return bytes.Contains(line, []byte(CheckpointMessage)) || bytes.Contains(line, []byte("checkpoint_head"))
}

// parseCheckpoint reads the checkpoint_* fields of one line.
func parseCheckpoint(line []byte) (Checkpoint, bool) {
	var cp Checkpoint
	h, ok := field(line, "checkpoint_head")
	if !ok || len(h) != 2*MACSize || !lowerHex(h) {
		return cp, false
	}
	if _, err := hex.Decode(cp.Head[:], h); err != nil {
		return cp, false
	}
	s, ok := field(line, "checkpoint_sink")
	if !ok || len(s) == 0 || len(s) > 64 {
		return cp, false
	}
	cp.Sink = string(s)
	run, ok := field(line, "checkpoint_run")
	if !ok {
		return cp, false
	}
	if cp.Run, ok = ParseRunID(run); !ok {
		return cp, false
	}
	for _, f := range []struct {
		key string
		dst *uint64
	}{{"checkpoint_epoch", &cp.Epoch}, {"checkpoint_seq", &cp.Seq}} {
		v, ok := field(line, f.key)
		if !ok {
			return cp, false
		}
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return cp, false
		}
		*f.dst = n
	}
	return cp, true
}
