package logging

import (
	"fmt"
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

// kinds lists the kinds of the problems of rep.
func kinds(rep *IntegrityReport) []IntegrityKind {
	var out []IntegrityKind
	for _, p := range rep.Problems {
		out = append(out, p.Kind)
	}
	return out
}

// runChained runs one "process": Setup on path with the key, n records of
// about 1 KiB (rotating at 1 MiB), Close; it returns the console.
func runChained(t *testing.T, out OutputType, path, key string, sink *syncBuffer, n int, msg string) *syncBuffer {
	t.Helper()
	console := setup(t, WithFile(path), WithOutputType(out), WithIntegrityKeyFile(key), withClock(newFakeClock()),
		WithRotation(Rotation{MaxSizeMB: 1}), WithSink("offhost", sink))
	for i := range n {
		Logger("w").Info(msg, "i", i, "pad", pad)
	}
	require.NoError(t, Close())
	return console
}

// Rolling back by restart: the intruder deletes the current file (lines he
// cannot re-seal) and restarts the service, which goes on from the newest
// backup, numbering its lines as the deleted ones were. The restart raises
// tampering_detected (the file is missing while its backups are not), and
// the verifier, given the checkpoints kept off the host, names the
// checkpoints whose lines are in no file.
func TestIntegrityRollbackByRestartDetected(t *testing.T) {
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run(out.String(), func(t *testing.T) {
			dir := t.TempDir()
			key, path, sink := newKeyFile(t, dir, "log.key"), filepath.Join(dir, "app.log"), &syncBuffer{}
			runChained(t, out, path, key, sink, 2500, "before")
			verifyOK(t, key, logFiles(t, path), writeTemp(t, sink.String()))
			require.Greater(t, len(logFiles(t, path)), 1, "rotated")

			require.NoError(t, os.Remove(path))
			console := runChained(t, out, path, key, sink, 2500, "after restart")
			assert.Contains(t, console.String(), "tampering_detected")
			assert.Contains(t, console.String(), "is empty or missing while it has backups")

			rep, err := VerifyLogFiles(key, logFiles(t, path), writeTemp(t, sink.String()))
			require.NoError(t, err)
			require.False(t, rep.OK(), "a rolled-back chain verifies")
			assert.Contains(t, kinds(rep), IntegrityKind("deleted"), "%s", problems(rep))
			assert.Contains(t, problems(rep), "rolled back")
		})
	}
}

// The checkpoints kept off the host name lines that existed: one whose
// line is missing from the middle of the files is a deletion, whatever
// run numbers its lines alike. Without checkpoints the rollback leaves
// no trace in the files (the documented limit).
func TestIntegrityCheckpointOfAnotherRunsLineReported(t *testing.T) {
	dir := t.TempDir()
	key, path, sink := newKeyFile(t, dir, "log.key"), filepath.Join(dir, "app.log"), &syncBuffer{}
	runChained(t, OutputJSON, path, key, sink, 2500, "before")
	files := logFiles(t, path)
	require.NoError(t, os.Remove(path))
	runChained(t, OutputJSON, path, key, &syncBuffer{}, 10, "after restart") // the checkpoints of the new run never left
	rep, err := VerifyLogFiles(key, logFiles(t, path))
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%s", problems(rep))
	rep, err = VerifyLogFiles(key, logFiles(t, path), writeTemp(t, sink.String()))
	require.NoError(t, err)
	require.False(t, rep.OK())
	assert.Equal(t, IntegrityKind("deleted"), rep.Problems[0].Kind, "%s", problems(rep))
	assert.Equal(t, path, rep.Problems[0].File, "located at the line of the new run that took its number")
	assert.Len(t, files, len(logFiles(t, path)))
}

// A new chain silently started: the intruder removes the current file and
// plants an unsealed "newest backup"; at restart the sink starts a brand
// new chain. The start raises tampering_detected, and the verifier reports
// the planted file and the new chain's first line, with or without
// checkpoints; the summary of an intact log counts its chains.
func TestIntegrityNewChainAfterPlantedBackupReported(t *testing.T) {
	dir := t.TempDir()
	key, path, sink := newKeyFile(t, dir, "log.key"), filepath.Join(dir, "app.log"), &syncBuffer{}
	runChained(t, OutputText, path, key, sink, 2500, "before")
	require.NoError(t, os.Remove(path))
	fake := filepath.Join(dir, "app-2099-01-01T00-00-00.000.log")
	require.NoError(t, os.WriteFile(fake, []byte("nothing to see\n"), 0o600))
	console := runChained(t, OutputText, path, key, sink, 100, "after")
	assert.Contains(t, console.String(), "tampering_detected")
	assert.Contains(t, console.String(), "a new chain starts")
	first, _, _ := strings.Cut(readLines(t, path)[0], "\n")
	assert.Contains(t, first, "checkpoint_reason=start")

	for _, cps := range [][]string{nil, {writeTemp(t, sink.String())}} {
		rep, err := VerifyLogFiles(key, logFiles(t, path), cps...)
		require.NoError(t, err)
		require.False(t, rep.OK())
		assert.Contains(t, kinds(rep), IntegrityKind("unsealed file"), "%s", problems(rep))
		assert.Contains(t, kinds(rep), IntegrityKind("new chain"), "%s", problems(rep))
		assert.Equal(t, 2, rep.Chains)
	}
	rep := verifyOK(t, key, []string{path})
	assert.Equal(t, 1, rep.Chains)
	assert.Contains(t, rep.Summary(), "1 chains")
}

// A new chain started when older files exist (their last line unsealed)
// raises tampering_detected at start.
func TestIntegrityNewChainWithOlderFilesRaisesEvent(t *testing.T) {
	dir := t.TempDir()
	key, path := newKeyFile(t, dir, "log.key"), filepath.Join(dir, "app.log")
	// A backup of yesterday: one of 2020 would be past MAX_AGE_DAYS, and
	// lumberjack's retention would remove it while the sink starts.
	old := "app-" + time.Now().UTC().Add(-24*time.Hour).Format("2006-01-02T15-04-05.000") + ".log"
	require.NoError(t, os.WriteFile(filepath.Join(dir, old), []byte("old line\n"), 0o600))
	require.NoError(t, os.WriteFile(path, []byte("unsealed line\n"), 0o600))
	console := setup(t, WithFile(path), WithIntegrityKeyFile(key), withClock(newFakeClock()))
	Logger("t").Info("x")
	require.NoError(t, Close())
	assert.Contains(t, console.String(), "tampering_detected")
	assert.Contains(t, console.String(), "while older files of the log exist")
}

// The intruder who read the key of the epoch in progress deletes every
// file and writes one that begins with a checkpoint of that epoch, numbered
// past every checkpoint that left the host: every MAC verifies, but no
// checkpoint kept elsewhere is in it, so that with -checkpoints the file is
// not tied to the record and the verifier says so.
func TestIntegrityForgedStartWithCurrentKeyNotTied(t *testing.T) {
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run(out.String(), func(t *testing.T) {
			key, path, sink := writeEpochs(t, out)
			ls := readLines(t, path)
			last := parseLine(t, ls[len(ls)-1])
			stolen := chain.StartKey(readK0(t, key), "file", last.Run)
			for range last.Epoch {
				chain.Evolve(&stolen)
			}
			f := chain.Text
			if out == OutputJSON {
				f = chain.JSON
			}
			x := last.Seq + 5
			var head chain.MAC
			s := chain.NewSealerWithKey(f, &stolen, last.Run, last.Epoch, x-1, head)
			cp := fmt.Sprintf("x - logging - INFO - log chain checkpoint checkpoint_seq=%d checkpoint_head=%032x", x-1, 0)
			if f == chain.JSON {
				cp = fmt.Sprintf(`{"time":"x","level":"INFO","msg":"log chain checkpoint","checkpoint_seq":%d,"checkpoint_head":"%032x"}`, x-1, 0)
			}
			lines := []string{string(s.SealEnd(nil, []byte(cp)))}
			for i := range 3 {
				body := fmt.Sprintf("x - t - INFO - all quiet i=%d", i)
				if f == chain.JSON {
					body = fmt.Sprintf(`{"msg":"all quiet","i":%d}`, i)
				}
				lines = append(lines, string(s.Seal(nil, []byte(body))))
			}
			forged := filepath.Join(t.TempDir(), "app.log")
			writeLines(t, forged, lines)
			rep, err := VerifyLogFiles(key, []string{forged})
			require.NoError(t, err)
			assert.True(t, rep.OK(), "without checkpoints, the limit: %s", problems(rep))

			rep, err = VerifyLogFiles(key, []string{forged}, writeTemp(t, sink.String()))
			require.NoError(t, err)
			require.False(t, rep.OK(), "a wholly forged file verifies against the checkpoints")
			i := slices.IndexFunc(rep.Problems, func(p IntegrityProblem) bool { return p.Kind == "deleted" })
			require.GreaterOrEqual(t, i, 0, "%s", problems(rep))
			assert.Equal(t, forged, rep.Problems[i].File)
			assert.Equal(t, 1, rep.Problems[i].Line)
			assert.Contains(t, rep.Problems[i].Detail, "not tied")
		})
	}
}

// Retention removed the oldest files: the checkpoints of their lines come
// before the files given, and the files still verify against the
// checkpoints (the later ones are in them).
func TestIntegrityCheckpointsBeforeRetainedFilesAccepted(t *testing.T) {
	l := writeChainedLog(t, OutputJSON, 2600)
	files := logFiles(t, l.path)
	require.Greater(t, len(files), 2)
	rep := verifyOK(t, l.key, files[1:], writeTemp(t, l.sink.String()))
	assert.Positive(t, rep.Records)
}

// Lines removed from the file between a Setup and the new sink's start:
// the process knows the line it sealed last, and the start raises
// tampering_detected.
func TestIntegritySetupAgainNoticesRemovedLines(t *testing.T) {
	dir := t.TempDir()
	key, path := newKeyFile(t, dir, "log.key"), filepath.Join(dir, "app.log")
	opts := []Option{WithFile(path), WithIntegrityKeyFile(key), withClock(newFakeClock())}
	setup(t, opts...)
	for i := range 10 {
		Logger("w").Info("one", "i", i)
	}
	console := setup(t, opts...) // the old sink is closed when Setup returns; the new one has not started
	ls := readLines(t, path)
	writeLines(t, path, ls[:len(ls)-3])
	Logger("w").Info("two")
	Flush()
	load().alerts.Wait()
	assert.Contains(t, console.String(), "tampering_detected")
	assert.Contains(t, console.String(), "but this process sealed up to line seq")
}
