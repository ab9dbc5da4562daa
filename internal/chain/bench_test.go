package chain

import "testing"

// BenchmarkSeal is the writer's cost of sealing one realistic JSON record.
func BenchmarkSeal(b *testing.B) {
	s := NewSealer(JSON, testKey, "file", testRun, 0, MAC{})
	line := []byte(`{"time":"2026-12-01T12:00:00.000000Z","level":"INFO","logger":"bench","msg":"request served","method":"GET","path":"/api/v1/orders/81723","status":200,"duration_ms":12.5,"user_id":"u-1234","request_id":"req-7f3a9c","bytes":5123,"cache":"miss"}` + "\n")
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Seal(buf[:0], line)
	}
}
