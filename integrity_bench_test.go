package logging

import (
	"path/filepath"
	"testing"
)

// BenchmarkFileChain is the caller's cost per record with the file sink,
// without and with the MAC chain (the pair for scripts/bench-pair.sh:
// 'BenchmarkFileChain/off' 'BenchmarkFileChain/on'). Run it with
// -test.cpu 1 to count the writer goroutine's sealing in full: on one
// processor the caller waits for it.
func BenchmarkFileChain(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			opts := []Option{WithConsole(nil), WithFile(filepath.Join(dir, "app.log")), WithOutputType(OutputJSON),
				WithRotation(Rotation{MaxSizeMB: 100, MaxBackups: 3})}
			if on {
				opts = append(opts, WithIntegrityKeyFile(newKeyFile(b, dir, "log.key")))
			}
			if err := Setup(opts...); err != nil {
				b.Fatal(err)
			}
			defer Close()
			benchLogger(b, Logger("bench"), realisticAttrs())
		})
	}
}
