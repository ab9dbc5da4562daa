package logging

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/chain"
)

// A user's redaction pattern that matches hex ([0-9a-f]{32}) does not
// reach the checkpoint records sent off the host: the library writes
// their fields, and they are encoded without the redactor (the writer
// still escapes them). Cut by 5 lines, the file's tail shows against them.
func TestIntegrityOffHostCheckpointsNotRedacted(t *testing.T) {
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run(out.String(), func(t *testing.T) {
			dir := t.TempDir()
			key := newKeyFile(t, dir, "log.key")
			path := filepath.Join(dir, "app.log")
			sink := &syncBuffer{}
			setup(t, WithFile(path), WithOutputType(out), WithIntegrityKeyFile(key), withClock(newFakeClock()),
				WithSink("offhost", sink), WithRedactPatterns(`[0-9a-f]{32}`))
			secret := strings.Repeat("0123456789abcdef", 2) // a value the pattern matches, outside a checkpoint
			Logger("t").Info("record", "token", secret)
			for i := range 30 {
				Logger("t").Info("record", "i", i)
			}
			require.NoError(t, Close())
			assert.NotContains(t, sink.String(), secret, "the pattern still applies to the records")
			assert.Equal(t, 2, strings.Count(sink.String(), checkpointMsg))
			assert.NotContains(t, strings.Join(grepLines(sink.String(), checkpointMsg), "\n"), "REDACTED")
			cps := filepath.Join(t.TempDir(), "cps")
			require.NoError(t, os.WriteFile(cps, []byte(sink.String()), 0o600))
			verifyOK(t, key, []string{path}, cps)

			ls := readLines(t, path)
			writeLines(t, path, ls[:len(ls)-5])
			rep, err := VerifyLogFiles(key, []string{path}, cps)
			require.NoError(t, err)
			require.False(t, rep.OK())
			assert.Equal(t, IntegrityKind("truncated"), rep.Problems[0].Kind, "%s", problems(rep))
		})
	}
}

// grepLines returns the lines of s that hold sub.
func grepLines(s, sub string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

// The verifier does not pass over checkpoints it cannot use: a checkpoint
// record whose fields cannot be read (redacted on its way by another
// tool) is a "bad checkpoint" problem naming its line, and so is a file
// of checkpoints that holds none of the chain verified (another chain's,
// numbered alike), which would leave a cut tail unseen.
func TestIntegrityUnusableCheckpointsReported(t *testing.T) {
	l := writeChainedLog(t, OutputText, 40)
	cps := grepLines(l.sink.String(), checkpointMsg)
	require.Len(t, cps, 2)

	redacted := filepath.Join(t.TempDir(), "redacted.log")
	mangled := cps[1][:strings.Index(cps[1], "checkpoint_head=")] + "checkpoint_head=[REDACTED:custom]"
	require.NoError(t, os.WriteFile(redacted, []byte(cps[0]+"\n"+mangled+"\n"), 0o600))
	rep, err := VerifyLogFiles(l.key, logFiles(t, l.path), redacted)
	require.NoError(t, err)
	require.False(t, rep.OK())
	require.Len(t, rep.Problems, 1, "%s", problems(rep))
	assert.Equal(t, IntegrityProblem{File: redacted, Line: 2, Kind: "bad checkpoint",
		Detail: "a checkpoint record whose fields cannot be read (redacted or cut on its way?)"}, rep.Problems[0])

	// Another chain's checkpoints (same sink, same numbers, another run)
	// do not check this one: said so, and no false "modified".
	other := writeChainedLog(t, OutputText, 40)
	otherCps := filepath.Join(t.TempDir(), "other.log")
	require.NoError(t, os.WriteFile(otherCps, []byte(other.sink.String()), 0o600))
	rep, err = VerifyLogFiles(l.key, logFiles(t, l.path), otherCps)
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1, "%s", problems(rep))
	assert.Equal(t, IntegrityKind("bad checkpoint"), rep.Problems[0].Kind)
	assert.Contains(t, rep.Problems[0].Detail, "no checkpoint of this file chain among 2 read")
}

// Cutting the last checkpoint line and everything after it shows against
// the checkpoint kept elsewhere, although the line it names is still in
// the file: it is matched to its own line (sequence, run, epoch).
func TestIntegrityCutCheckpointLineShows(t *testing.T) {
	l := writeChainedLog(t, OutputJSON, 40)
	cps := filepath.Join(t.TempDir(), "cps")
	require.NoError(t, os.WriteFile(cps, []byte(l.sink.String()), 0o600))
	ls := readLines(t, l.path)
	require.Contains(t, ls[len(ls)-1], checkpointMsg, "the close checkpoint")
	writeLines(t, l.path, ls[:len(ls)-1])
	verifyOK(t, l.key, []string{l.path})
	rep, err := VerifyLogFiles(l.key, []string{l.path}, cps)
	require.NoError(t, err)
	require.False(t, rep.OK())
	assert.Equal(t, IntegrityKind("truncated"), rep.Problems[0].Kind, "%s", problems(rep))
	assert.Equal(t, len(ls), rep.Problems[0].Line)
}

// An intruder empties the file and overwrites the newest backup with junk:
// at the next start the tail cannot be read. That is tampering, not a
// reason to stop sealing: Setup succeeds, a tampering_detected event names
// the backup, and a new chain is sealed, which verifies.
func TestIntegrityUnreadableTailStartsNewChain(t *testing.T) {
	l := writeChainedLog(t, OutputText, 2600)
	files := logFiles(t, l.path)
	newest := files[len(files)-2]
	require.True(t, strings.HasSuffix(newest, ".gz"))
	require.NoError(t, os.WriteFile(newest, []byte("not gzip"), 0o600))
	require.NoError(t, os.Truncate(l.path, 0))

	console := setup(t, WithFile(l.path), WithIntegrityKeyFile(l.key), withClock(newFakeClock()))
	Logger("t").Info("after the attack")
	require.NoError(t, Close())
	assert.Contains(t, console.String(), "tampering_detected")
	assert.Contains(t, console.String(), filepath.Base(newest))
	assert.Contains(t, console.String(), "cannot be read")
	b, err := os.ReadFile(l.path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "checkpoint_reason=start")
	assert.Contains(t, string(b), "after the attack")
	rep := verifyOK(t, l.key, []string{l.path})
	assert.Equal(t, 4, rep.Records, "start, the security event, the record, close: every line sealed")
}

// The key of an epoch that sealed a line is wiped at most epochInterval
// after the epoch began, even when nothing more is logged, whatever the
// epoch's phase against the timer (before, an epoch begun just after a
// tick kept its key almost two intervals). The timer's ticks are
// simulated, each at its own time.
func TestIntegrityQuietEpochEndsWithinInterval(t *testing.T) {
	t0 := newFakeClock().Now() // the timer starts: ticks at t0 + n·epochCheckEvery
	for phase := time.Duration(0); phase < epochCheckEvery; phase += epochCheckEvery / 20 {
		for _, lines := range []int{1, 2} {
			start := t0.Add(3*epochCheckEvery + phase) // an epoch begins between two ticks
			c := &fileChain{sealer: chain.NewSealer(chain.Text, make([]byte, 32), "file", chain.NewRunID(), 0, chain.MAC{}), epochStart: start}
			for range lines {
				c.sealer.Seal(nil, []byte("quiet\n"))
			}
			tick := t0
			for !tick.After(start) {
				tick = tick.Add(epochCheckEvery)
			}
			for !c.due(tick) {
				require.LessOrEqual(t, tick.Sub(start), epochInterval, "phase %v: not yet due", phase)
				tick = tick.Add(epochCheckEvery)
			}
			assert.LessOrEqual(t, tick.Sub(start), epochInterval, "phase %v: the key lived too long", phase)
		}
	}
	idle := &fileChain{sealer: chain.NewSealer(chain.Text, make([]byte, 32), "file", chain.NewRunID(), 0, chain.MAC{}), epochStart: t0}
	assert.False(t, idle.due(t0.Add(10*epochInterval)), "an epoch that sealed nothing has nothing to protect")
}

// The kinds the evidence allows: the last line of a backup deleted is
// "deleted" (no epoch ends in the gap, so no file is missing), a copy of
// a line is "duplicated", a line moved after its place is "reordered"
// (its MAC verifies after the line it follows), the first problem still
// naming where the chain first breaks.
func TestIntegrityDeletedDuplicatedMovedKinds(t *testing.T) {
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run(out.String(), func(t *testing.T) {
			l := writeChainedLog(t, out, 2600)
			type want struct {
				file string
				line int
				kind IntegrityKind
			}
			cases := map[string]func(files []string) []want{
				"the last line of a backup deleted": func(files []string) []want {
					ls := strings.SplitAfter(strings.TrimSuffix(gunzip(t, files[1]), "\n"), "\n")
					require.NoError(t, os.WriteFile(files[1], gzipBytes(t, strings.Join(ls[:len(ls)-1], "")), 0o600))
					return []want{{files[2], 1, "deleted"}}
				},
				"a line duplicated": func(files []string) []want {
					f := files[len(files)-1]
					ls := readLines(t, f)
					writeLines(t, f, slices.Insert(ls, 10, ls[9]))
					return []want{{f, 11, "duplicated"}}
				},
				"line 10 moved to line 30": func(files []string) []want {
					f := files[len(files)-1]
					ls := readLines(t, f)
					x := ls[9]
					ls = slices.Insert(slices.Delete(ls, 9, 10), 29, x)
					writeLines(t, f, ls)
					return []want{{f, 10, "deleted"}, {f, 30, "reordered"}}
				},
			}
			for name, tamper := range cases {
				t.Run(name, func(t *testing.T) {
					files := copyLog(t, l)
					require.GreaterOrEqual(t, len(files), 3)
					wants := tamper(files)
					rep, err := VerifyLogFiles(l.key, files)
					require.NoError(t, err)
					require.Len(t, rep.Problems, len(wants), "%s", problems(rep))
					for i, w := range wants {
						p := rep.Problems[i]
						assert.Equal(t, w, want{p.File, p.Line, p.Kind}, "%s", problems(rep))
					}
				})
			}
		})
	}
}
