package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Setup called again on the same chained file: the new sink starts from
// the line the old one wrote last (its records in flight, its queue and
// its closing checkpoint), so that the file holds one chain, not two
// branches of it; quiet, and while goroutines log through every swap.
func TestIntegritySetupAgainKeepsOneChain(t *testing.T) {
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run(out.String()+"/quiet", func(t *testing.T) {
			dir := t.TempDir()
			key, path, sink := newKeyFile(t, dir, "log.key"), filepath.Join(dir, "app.log"), &syncBuffer{}
			opts := []Option{WithFile(path), WithOutputType(out), WithIntegrityKeyFile(key), withClock(newFakeClock()), WithSink("offhost", sink)}
			setup(t, opts...)
			for i := range 100 {
				Logger("w").Info("one", "i", i)
			}
			setup(t, opts...)
			for i := range 100 {
				Logger("w").Info("two", "i", i)
			}
			require.NoError(t, Close())
			rep := verifyOK(t, key, logFiles(t, path), writeTemp(t, sink.String()))
			assert.Equal(t, 200+4, rep.Records, "the lines, two start and two close checkpoints")
		})
		t.Run(out.String()+"/busy", func(t *testing.T) {
			dir := t.TempDir()
			key, path, sink := newKeyFile(t, dir, "log.key"), filepath.Join(dir, "app.log"), &syncBuffer{}
			opts := []Option{WithFile(path), WithOutputType(out), WithIntegrityKeyFile(key), withClock(newFakeClock()),
				WithSink("offhost", sink), WithRotation(Rotation{MaxSizeMB: 1})}
			setup(t, opts...)
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						Logger(fmt.Sprint("w", g)).Info("busy", "i", i, "pad", pad[:200])
					}
				}()
			}
			for range 8 {
				setup(t, opts...)
				Logger("main").Info("reconfigured")
			}
			close(stop)
			wg.Wait()
			require.NoError(t, Close())
			rep := verifyOK(t, key, logFiles(t, path), writeTemp(t, sink.String()))
			assert.Greater(t, rep.Records, 8)
		})
	}
}

// writeTemp writes s to a new file and returns its path.
func writeTemp(t testing.TB, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "records.log")
	require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
	return p
}

// Setup called from several goroutines at once on one chained file: each
// call closes what it replaced before the next begins, so no new sink
// waits for a sink nobody will close, and the file holds one chain.
func TestIntegrityConcurrentSetupsKeepOneChain(t *testing.T) {
	dir := t.TempDir()
	key, path, sink := newKeyFile(t, dir, "log.key"), filepath.Join(dir, "app.log"), &syncBuffer{}
	opts := []Option{WithConsole(&syncBuffer{}), WithFile(path), WithIntegrityKeyFile(key), withClock(newFakeClock()), WithSink("offhost", sink)}
	t.Cleanup(func() { _ = Close() })
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				assert.NoError(t, Setup(opts...))
				Logger(fmt.Sprint("w", g)).Info("after setup", "i", i)
			}
		}()
	}
	wg.Wait()
	require.NoError(t, Close())
	rep := verifyOK(t, key, logFiles(t, path), writeTemp(t, sink.String()))
	assert.GreaterOrEqual(t, rep.Records, 20)
}
