package redact

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

func BenchmarkScanRecordStrings(b *testing.B) {
	a := defaultRedactor.ac
	strs := []string{"request served", "GET", "/api/v1/orders/81723", "u-28371", "10.1.2.3:51234",
		"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/131.0", "req-5f2c9a7e1b"}
	n := 0
	for _, s := range strs {
		n += len(s)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		for _, s := range strs {
			a.scan(s)
		}
	}
}

func BenchmarkRedactRecordStrings(b *testing.B) {
	strs := []string{"request served", "GET", "/api/v1/orders/81723", "u-28371", "10.1.2.3:51234",
		"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/131.0", "req-5f2c9a7e1b"}
	keys := []string{"method", "path", "status", "bytes", "duration", "user_id", "remote_addr", "user_agent", "request_id", "cache_hit"}
	r := defaultRedactor
	for b.Loop() {
		for _, s := range strs {
			r.Redact(s)
		}
		for _, k := range keys {
			r.SecretKey(k)
		}
	}
}

// worstCases are the inputs that cost the most per byte before redaction
// was made linear (see TestLinearWork): one trigger repeated, the shape of
// a long header that a client controls.
func worstCases(n int) map[string]string {
	rep := func(unit string) string { return strings.Repeat(unit, n/len(unit)+1)[:n] }
	return map[string]string{
		// Every value runs to the end and is not a credential: each was read to the end.
		"assignment": rep("token="),
		// No END line: the regexp looked for one to the end from every BEGIN line.
		"private-key": rep("-----BEGIN PRIVATE" + " KEY-----."),
		// Linear, but the regexp followed hundreds of threads per byte.
		"dsn": rep("app:"+strings.Repeat("x", 250)) + "@" + "tcp(",
		// A secret beside each marker: every span met every marker.
		"markers": rep("password=" + "ab [REDACTED:x] "),
	}
}

// BenchmarkRedactWorstCase redacts each worst case at 64 KiB.
func BenchmarkRedactWorstCase(b *testing.B) {
	cases := worstCases(64 << 10)
	for _, name := range []string{"assignment", "private-key", "dsn", "markers"} {
		s := cases[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				defaultRedactor.Redact(s)
			}
		})
	}
}

// BenchmarkLoghubFloor compares Redact over the real system log lines with
// a floor: one table lookup per byte, the least any scan of the text costs
// (target: Redact at least a quarter of the floor's speed).
func BenchmarkLoghubFloor(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "testdata", "loghub", "*.log"))
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join("testdata", "benign", "*.log"))
	}
	var lines []string
	n := 0
	for _, f := range files {
		for _, l := range redacttest.ReadLines(b, f) {
			lines = append(lines, l)
			n += len(l)
		}
	}
	var table [256]uint8
	for i := range table {
		table[i] = uint8(i * 7)
	}
	b.Run("byte-scan-floor", func(b *testing.B) {
		b.SetBytes(int64(n))
		var acc uint8
		for b.Loop() {
			for _, l := range lines {
				for i := 0; i < len(l); i++ {
					acc += table[l[i]]
				}
			}
		}
		sink = acc
	})
	b.Run("redact", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			for _, l := range lines {
				defaultRedactor.Redact(l)
			}
		}
	})
}

var sink uint8
