package redact

import (
	"fmt"
	"testing"
)

// BenchmarkRedactCleanKnown redacts a clean ~300-byte line with 0 and with
// 100 registered values: the values join the keyword automaton, so the
// clean path stays one pass.
func BenchmarkRedactCleanKnown(b *testing.B) {
	for _, n := range []int{0, 100} {
		r := knownRedactor(n)
		b.Run(fmt.Sprintf("values=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(cleanLine)))
			for b.Loop() {
				r.Redact(cleanLine)
			}
		})
	}
}
