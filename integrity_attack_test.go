package logging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/chain"
)

// readK0 reads the initial key of a key file, as the verifier does.
func readK0(t testing.TB, key string) []byte {
	t.Helper()
	b, err := os.ReadFile(key)
	require.NoError(t, err)
	k, err := chain.ParseKey(b)
	require.NoError(t, err)
	return k
}

// parseLine takes a sealed line of a log file apart.
func parseLine(t testing.TB, l string) chain.Record {
	t.Helper()
	r, ok := chain.Parse([]byte(strings.TrimSuffix(l, "\n")))
	require.True(t, ok, "not sealed: %q", l)
	return r
}

// writeEpochs writes a log whose evidence is in the first epoch of
// records, followed by two epochs ended by the clock and a last record in
// the epoch in progress; the WithSink writer keeps the checkpoints.
func writeEpochs(t *testing.T, out OutputType) (key, path string, sink *syncBuffer) {
	dir := t.TempDir()
	key = newKeyFile(t, dir, "log.key")
	path = filepath.Join(dir, "app.log")
	clk := newFakeClock()
	sink = &syncBuffer{}
	setup(t, WithFile(path), WithOutputType(out), WithIntegrityKeyFile(key), withClock(clk), WithSink("offhost", sink),
		WithRotation(Rotation{MaxSizeMB: 100}))
	for i := range 5 {
		Logger("auth").Info("EVIDENCE intruder login", "i", i)
	}
	Flush()
	clk.Advance(epochInterval)
	require.Eventually(t, func() bool { return strings.Count(sink.String(), checkpointMsg) == 2 }, 5*time.Second, time.Millisecond)
	for i := range 5 {
		Logger("t").Info("later", "i", i)
	}
	Flush()
	clk.Advance(epochInterval)
	require.Eventually(t, func() bool { return strings.Count(sink.String(), checkpointMsg) == 3 }, 5*time.Second, time.Millisecond)
	Logger("t").Info("latest")
	Flush()
	return key, path, sink
}

// The intruder holds the key of the epoch in progress (read from the
// running process's memory), not the initial key. Keeping the first line
// and re-sealing every later one under the current epoch, with the
// evidence rewritten, makes every MAC right; the verifier still names
// line 2, since epochs go up by one, only after a line that ends the
// epoch before, sealed with that epoch's key. With the same key the
// intruder can rewrite the lines of the epoch in progress (after the last
// checkpoint) unseen: the documented limit.
func TestIntegrityCurrentKeyCannotRewriteThePast(t *testing.T) {
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run(out.String(), func(t *testing.T) {
			key, path, _ := writeEpochs(t, out)
			ls := readLines(t, path)
			last := parseLine(t, ls[len(ls)-1])
			require.Equal(t, uint64(3), last.Epoch, "start (0), the evidence (1), later (2), latest (3)")
			stolen := chain.StartKey(readK0(t, key), "file", last.Run) // what the process's memory holds now…
			for range last.Epoch {
				chain.Evolve(&stolen) // …the key of epoch 3, its predecessors wiped
			}
			f := chain.Text
			if out == OutputJSON {
				f = chain.JSON
			}
			reseal := func(keep int, from []string) []string {
				r := parseLine(t, ls[keep-1])
				s := chain.NewSealerWithKey(f, &stolen, last.Run, last.Epoch, r.Seq, r.MAC)
				lines := append([]string{}, ls[:keep]...)
				for _, l := range from {
					body := strings.ReplaceAll(string(parseLine(t, l).Body), "EVIDENCE intruder login", "nothing to see")
					if f == chain.JSON {
						body += "}"
					}
					lines = append(lines, string(s.Seal(nil, []byte(body))))
				}
				return lines
			}

			writeLines(t, path, reseal(1, ls[1:]))
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NotContains(t, string(b), "EVIDENCE")
			rep, err := VerifyLogFiles(key, []string{path})
			require.NoError(t, err)
			require.False(t, rep.OK(), "the past re-sealed with the current key")
			assert.Equal(t, path, rep.Problems[0].File)
			assert.Equal(t, 2, rep.Problems[0].Line, "%s", problems(rep))
			assert.Equal(t, IntegrityKind("modified"), rep.Problems[0].Kind)
			assert.Contains(t, rep.Problems[0].Detail, "re-sealed with a later epoch's key")

			// The epoch in progress is the intruder's: "latest" rewritten.
			n := len(ls)
			require.True(t, parseLine(t, ls[n-2]).End, "the line before the last one ends epoch 2")
			writeLines(t, path, reseal(n-1, []string{strings.Replace(ls[n-1], "latest", "rewritten", 1)}))
			b, err = os.ReadFile(path)
			require.NoError(t, err)
			require.Contains(t, string(b), "rewritten")
			verifyOK(t, key, []string{path})
		})
	}
}
