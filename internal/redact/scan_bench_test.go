package redact

import "testing"

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
