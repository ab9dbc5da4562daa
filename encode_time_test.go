package logging

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// appendTimeMicros must give exactly what the layout gives, for every
// fraction, zone and year, including years the fast path cannot write.
func TestAppendTimeMicrosMatchesLayout(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("plus", 5*3600+30*60), time.FixedZone("minus", -(9*3600 + 45*60)),
		time.FixedZone("secs", 3600+17), time.Local}
	rng := rand.New(rand.NewPCG(1, 2))
	times := []time.Time{{}, time.Unix(0, 0), time.Date(-42, 3, 4, 5, 6, 7, 8, time.UTC),
		time.Date(12345, 1, 2, 3, 4, 5, 999999999, time.UTC), time.Date(2026, 11, 23, 7, 0, 0, 1000, time.UTC),
		time.Date(2026, 11, 23, 7, 0, 0, 999, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}
	for range 2000 {
		times = append(times, time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)))
	}
	for _, tm := range times {
		for _, z := range zones {
			tz := tm.In(z)
			require.Equal(t, tz.Format(timeMicros), string(appendTimeMicros([]byte("x"), tz)[1:]), "%v", tz)
		}
	}
}

func BenchmarkAppendTime(b *testing.B) {
	tm := time.Date(2026, 11, 23, 7, 0, 0, 123456789, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("layout", func(b *testing.B) {
		for b.Loop() {
			buf = tm.AppendFormat(buf[:0], timeMicros)
		}
	})
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			buf = appendTimeMicros(buf[:0], tm)
		}
	})
}
