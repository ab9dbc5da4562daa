package logging

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/codomyrmex/logging/internal/chain"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/loki"
	"github.com/codomyrmex/logging/loki/lokitest"
)

// newKeyFile writes a fresh random key (hex) to a 0600 file named name in dir.
func newKeyFile(t testing.TB, dir, name string) string {
	t.Helper()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600))
	require.NoError(t, os.Chmod(path, 0o600))
	return path
}

// logFiles returns the log file at path and its backups, in name order.
func logFiles(t testing.TB, path string) []string {
	t.Helper()
	names, err := backups(path)
	require.NoError(t, err)
	slices.Sort(names)
	out := []string{}
	for _, n := range names {
		out = append(out, filepath.Join(filepath.Dir(path), n))
	}
	if _, err := os.Stat(path); err == nil {
		out = append(out, path)
	}
	return out
}

func problems(r *IntegrityReport) string {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

// verifyOK verifies files and fails the test on any problem.
func verifyOK(t testing.TB, key string, files []string, cps ...string) *IntegrityReport {
	t.Helper()
	rep, err := VerifyLogFiles(key, files, cps...)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%s", problems(rep))
	return rep
}

// chainedLog is a log written through several rotations with compression,
// by 8 goroutines, with its key and the records a WithSink writer kept.
type chainedLog struct {
	dir, key, path string
	sink           *syncBuffer
}

// pad makes records of about 1 KiB, so that a few thousand pass the
// smallest rotation size several times.
var pad = strings.Repeat("abcdefghij", 100)

func writeChainedLog(t testing.TB, out OutputType, records int) *chainedLog {
	t.Helper()
	dir := t.TempDir()
	l := &chainedLog{dir: dir, key: newKeyFile(t, dir, "log.key"), path: filepath.Join(dir, "app.log"), sink: &syncBuffer{}}
	setup(t, WithFile(l.path), WithOutputType(out), WithIntegrityKeyFile(l.key), withClock(newFakeClock()),
		WithRotation(Rotation{MaxSizeMB: 1, Compress: true}), WithSink("offhost", l.sink))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lg := Logger(fmt.Sprintf("worker%d", g))
			for i := range records / 8 {
				lg.Info("request served", "i", i, "pad", pad)
			}
		}()
	}
	wg.Wait()
	require.NoError(t, Close())
	return l
}

// copyLog copies the files of l into a new directory and returns their paths there.
func copyLog(t testing.TB, l *chainedLog) []string {
	t.Helper()
	dir := t.TempDir()
	var out []string
	for _, f := range logFiles(t, l.path) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		p := filepath.Join(dir, filepath.Base(f))
		require.NoError(t, os.WriteFile(p, b, 0o600))
		out = append(out, p)
	}
	return out
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

func writeLines(t testing.TB, path string, lines []string) {
	t.Helper()
	s := strings.Join(lines, "")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	require.NoError(t, os.WriteFile(path, []byte(s), 0o600))
}

// Intact logs verify: 8 goroutines through several rotations with
// compression, in TEXT and in JSON, and again after a restart that
// appends to the same file.
func TestIntegrityIntactAcrossRotationsAndRestart(t *testing.T) {
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run(out.String(), func(t *testing.T) {
			l := writeChainedLog(t, out, 4000)
			files := logFiles(t, l.path)
			require.GreaterOrEqual(t, len(files), 4, "several rotations")
			gz := 0
			for _, f := range files {
				if strings.HasSuffix(f, ".gz") {
					gz++
				}
			}
			require.Positive(t, gz, "compressed backups")
			rep := verifyOK(t, l.key, files)
			assert.Equal(t, len(files), rep.Files)
			assert.GreaterOrEqual(t, rep.Records, 4000)
			assert.GreaterOrEqual(t, rep.Epochs, len(files), "an epoch per rotation at least")
			// The oldest backups removed by retention: the rest verifies.
			verifyOK(t, l.key, files[2:])
			// In any order given.
			slices.Reverse(files)
			verifyOK(t, l.key, files)

			// A restart appends to the same file: its first line continues
			// the chain; the intact tail raises no tampering event.
			console := setup(t, WithFile(l.path), WithOutputType(out), WithIntegrityKeyFile(l.key), withClock(newFakeClock()),
				WithRotation(Rotation{MaxSizeMB: 1, Compress: true}))
			Logger("again").Info("after the restart")
			require.NoError(t, Close())
			rep2 := verifyOK(t, l.key, logFiles(t, l.path))
			assert.Greater(t, rep2.Records, rep.Records)
			b, err := os.ReadFile(l.path)
			require.NoError(t, err)
			assert.Contains(t, string(b), "resume", "the restart says it continues the chain")
			assert.Contains(t, string(b), "after the restart")
			assert.NotContains(t, console.String(), "tampering_detected")
		})
	}
}

// A TEXT log is verified by the command too, built and run as an
// operator runs it: exit 0 and a one-line summary; exit 1 naming the
// line once a byte is changed, with -checkpoints after the file names too.
func TestLogverifyCommandOnIntactLog(t *testing.T) {
	l := writeChainedLog(t, OutputText, 400)
	rep := verifyOK(t, l.key, logFiles(t, l.path))
	bin := filepath.Join(t.TempDir(), "logverify")
	build := exec.Command("go", "build", "-o", bin, "./cmd/logverify")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	cps := filepath.Join(t.TempDir(), "cps.log")
	require.NoError(t, os.WriteFile(cps, []byte(l.sink.String()), 0o600))

	run := func(args ...string) (string, int) {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return stdout.String() + stderr.String(), code
	}
	got, code := run("-key-file", l.key, "-checkpoints", cps, l.path)
	assert.Equal(t, 0, code, got)
	assert.Equal(t, rep.Summary()+"\n", got)
	assert.Regexp(t, `^ok: \d+ records, 1 files, \d+ epochs, 1 chains \(file chain\)\n$`, got)

	ls := readLines(t, l.path)
	ls[5] = strings.Replace(ls[5], "request served", "request servee", 1)
	writeLines(t, l.path, ls)
	got, code = run("-key-file", l.key, l.path, "-checkpoints", cps)
	assert.Equal(t, 1, code, got)
	assert.True(t, strings.HasPrefix(got, l.path+":6: modified: its MAC does not verify\n"), got)
}

// Each kind of tampering is detected, and the first problem names the
// file and line of the first bad line.
func TestIntegrityTamperingDetectedAndLocated(t *testing.T) {
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run(out.String(), func(t *testing.T) {
			l := writeChainedLog(t, out, 2600)
			require.GreaterOrEqual(t, len(logFiles(t, l.path)), 3)
			verifyOK(t, l.key, logFiles(t, l.path)) // intact before
			current := func(files []string) string { return files[len(files)-1] }
			type tc struct {
				tamper func(t *testing.T, files []string) (file string, line int)
				kind   IntegrityKind
			}
			cases := map[string]tc{
				"one byte of a message": {func(t *testing.T, files []string) (string, int) {
					f := current(files)
					ls := readLines(t, f)
					ls[5] = strings.Replace(ls[5], "request served", "request servee", 1)
					writeLines(t, f, ls)
					return f, 6
				}, "modified"},
				"a line deleted": {func(t *testing.T, files []string) (string, int) {
					f := current(files)
					ls := readLines(t, f)
					writeLines(t, f, slices.Delete(ls, 7, 8))
					return f, 8
				}, "deleted"},
				"a forged line inserted": {func(t *testing.T, files []string) (string, int) {
					f := current(files)
					ls := readLines(t, f)
					forged := strings.Replace(ls[9], "request served", "login by admin", 1)
					i := strings.LastIndex(forged, ":")
					guess := make([]byte, chain.MACSize)
					_, _ = rand.Read(guess)
					forged = forged[:i+1] + hex.EncodeToString(guess) + forged[i+1+2*chain.MACSize:]
					writeLines(t, f, slices.Insert(ls, 10, forged))
					return f, 11
				}, "inserted"},
				"two lines swapped": {func(t *testing.T, files []string) (string, int) {
					f := current(files)
					ls := readLines(t, f)
					ls[11], ls[12] = ls[12], ls[11]
					writeLines(t, f, ls)
					return f, 12
				}, "reordered"},
				"a whole backup removed": {func(t *testing.T, files []string) (string, int) {
					require.NoError(t, os.Remove(files[1]))
					return files[2], 1
				}, "missing file"},
				"the first line of a backup deleted": {func(t *testing.T, files []string) (string, int) {
					f := files[1]
					require.True(t, strings.HasSuffix(f, ".gz"))
					plain := gunzip(t, f)
					_, rest, _ := strings.Cut(plain, "\n")
					require.NoError(t, os.WriteFile(f, gzipBytes(t, rest), 0o600))
					return f, 1
				}, "deleted"},
				"a .gz backup rewritten": {func(t *testing.T, files []string) (string, int) {
					var f string
					for _, g := range files {
						if strings.HasSuffix(g, ".gz") {
							f = g
						}
					}
					require.NotEmpty(t, f)
					plain := gunzip(t, f)
					ls := strings.SplitAfter(strings.TrimSuffix(plain, "\n"), "\n")
					ls[20] = strings.Replace(ls[20], `i`, `j`, 1)
					require.NoError(t, os.WriteFile(f, gzipBytes(t, strings.Join(ls, "")), 0o600))
					return f, 21
				}, "modified"},
			}
			for name, c := range cases {
				t.Run(name, func(t *testing.T) {
					files := copyLog(t, l)
					file, line := c.tamper(t, files)
					var kept []string
					for _, f := range files {
						if _, err := os.Stat(f); err == nil {
							kept = append(kept, f)
						}
					}
					rep, err := VerifyLogFiles(l.key, kept)
					require.NoError(t, err)
					require.False(t, rep.OK())
					first := rep.Problems[0]
					assert.Equal(t, c.kind, first.Kind, "%s", problems(rep))
					assert.Equal(t, file, first.File, "%s", problems(rep))
					assert.Equal(t, line, first.Line, "%s", problems(rep))
				})
			}
		})
	}
}

func gunzip(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return string(b)
}

func gzipBytes(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// Cutting the tail is the edit a chain alone cannot show: the files still
// verify by themselves, and the checkpoints kept by the WithSink writer
// (as Loki keeps them) show it.
func TestIntegrityTruncatedTailDetectedWithCheckpoints(t *testing.T) {
	for _, out := range []OutputType{OutputText, OutputJSON} {
		t.Run(out.String(), func(t *testing.T) {
			l := writeChainedLog(t, out, 800)
			assert.Contains(t, l.sink.String(), checkpointMsg, "checkpoints went to the WithSink writer")
			cps := filepath.Join(t.TempDir(), "checkpoints.log")
			require.NoError(t, os.WriteFile(cps, []byte(l.sink.String()), 0o600))
			files := copyLog(t, l)
			verifyOK(t, l.key, files, cps)

			f := files[len(files)-1]
			ls := readLines(t, f)
			writeLines(t, f, ls[:len(ls)-5])
			verifyOK(t, l.key, files) // without the checkpoints: not visible
			rep, err := VerifyLogFiles(l.key, files, cps)
			require.NoError(t, err)
			require.False(t, rep.OK())
			assert.Equal(t, IntegrityKind("truncated"), rep.Problems[0].Kind, "%s", problems(rep))
			assert.Equal(t, f, rep.Problems[0].File)
			assert.Equal(t, len(ls)-5+1, rep.Problems[0].Line)
		})
	}
}

// The wrong key is named as such, not as a modification of every line.
func TestIntegrityWrongKey(t *testing.T) {
	l := writeChainedLog(t, OutputJSON, 400)
	other := newKeyFile(t, t.TempDir(), "other.key")
	rep, err := VerifyLogFiles(other, logFiles(t, l.path))
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1, "%s", problems(rep))
	assert.Equal(t, IntegrityKind("wrong key"), rep.Problems[0].Kind)
}

// A key file that others may read, or a symlink to a key file, is refused
// at Setup, naming the variable; the file is written without the chain.
func TestIntegrityKeyFileRefused(t *testing.T) {
	dir := t.TempDir()
	good := newKeyFile(t, dir, "good.key")
	loose := newKeyFile(t, dir, "loose.key")
	require.NoError(t, os.Chmod(loose, 0o640))
	link := filepath.Join(dir, "link.key")
	require.NoError(t, os.Symlink(good, link))
	short := filepath.Join(dir, "short.key")
	require.NoError(t, os.WriteFile(short, []byte("abcd\n"), 0o600))
	for name, key := range map[string]string{"loose mode": loose, "symlink": link, "not a key": short} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			t.Setenv(EnvPrefix+"INTEGRITY_KEY_FILE", key)
			err := Setup(WithConsole(io.Discard), WithFile(path))
			t.Cleanup(func() { _ = Close() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), "CODOMYRMEX_LOG_INTEGRITY_KEY_FILE")
			Logger("t").Info("still logged")
			require.NoError(t, Close())
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Contains(t, string(b), "still logged")
			assert.NotContains(t, string(b), "chain_mac", "the chain stays off")
		})
	}
	t.Run("good key", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		setup(t, WithFile(path), WithIntegrityKeyFile(good))
		Logger("t").Info("sealed")
		require.NoError(t, Close())
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Contains(t, string(b), "chain_mac")
	})
}

// Each file sink has its own chain: the security file's verifies as the
// security-file chain, the main file's as the file chain.
func TestIntegritySecurityFileHasItsOwnChain(t *testing.T) {
	dir := t.TempDir()
	key := newKeyFile(t, dir, "log.key")
	path, sec := filepath.Join(dir, "app.log"), filepath.Join(dir, "security.log")
	setup(t, WithFile(path), WithSecurityFile(sec), WithIntegrityKeyFile(key), withClock(newFakeClock()))
	for range 3 {
		SecurityEvent(context.Background(), Event{Type: AuthnFailure, UserID: "u1"})
		Logger("t").Info("plain")
	}
	require.NoError(t, Close())
	assert.Equal(t, "file", verifyOK(t, key, []string{path}).Sink)
	assert.Equal(t, "security-file", verifyOK(t, key, []string{sec}).Sink)
}

// An epoch ends after 60 s (even when nothing is logged) and after 10,000
// lines: each begins with a checkpoint that also reaches the WithSink
// writer, and the key evolves (the verifier sees the epochs).
func TestIntegrityEpochsByTimeAndCount(t *testing.T) {
	dir := t.TempDir()
	key := newKeyFile(t, dir, "log.key")
	path := filepath.Join(dir, "app.log")
	clk := newFakeClock()
	sink := &syncBuffer{}
	setup(t, WithFile(path), WithIntegrityKeyFile(key), withClock(clk), WithSink("offhost", sink),
		WithRotation(Rotation{MaxSizeMB: 100}))
	Logger("t").Info("one")
	Flush()
	clk.Advance(epochInterval)
	require.Eventually(t, func() bool { return strings.Contains(sink.String(), "checkpoint_reason=epoch") },
		10*time.Second, time.Millisecond, "the ticker ends the epoch without a record")
	for i := range epochLines + 10 {
		Logger("t").Info("many", "i", i)
	}
	require.NoError(t, Close())
	rep := verifyOK(t, key, []string{path})
	assert.GreaterOrEqual(t, rep.Epochs, 4, "start, 60 s, 10,000 lines, close")
	assert.Equal(t, 4, strings.Count(sink.String(), checkpointMsg), "%s", sink.String())
}

// At start the sink checks the tail of the file it appends to: a break is
// a tampering_detected security event, and logging goes on, the chain
// continuing from the line on disk.
func TestIntegritySelfCheckAtStart(t *testing.T) {
	l := writeChainedLog(t, OutputJSON, 200)
	ls := readLines(t, l.path)
	ls[len(ls)-3] = strings.Replace(ls[len(ls)-3], "request served", "request servee", 1)
	writeLines(t, l.path, ls)
	console := setup(t, WithFile(l.path), WithOutputType(OutputJSON), WithIntegrityKeyFile(l.key), withClock(newFakeClock()))
	Logger("t").Info("logging goes on")
	require.NoError(t, Close())
	assert.Contains(t, console.String(), `"security_event_type":"tampering_detected"`)
	assert.Contains(t, console.String(), "modified")
	b, err := os.ReadFile(l.path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "logging goes on")
	assert.Contains(t, string(b), "tampering_detected")
	rep, err := VerifyLogFiles(l.key, logFiles(t, l.path))
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1, "only the line changed: %s", problems(rep))
	assert.Equal(t, IntegrityKind("modified"), rep.Problems[0].Kind)
	assert.Equal(t, len(ls)-2, rep.Problems[0].Line)

}

// The chain adds no allocation to the sink's write of a batch: sealing
// reuses the sink's buffer.
func TestIntegrityWriteDoesNotAllocate(t *testing.T) {
	dir := t.TempDir()
	fs, _, err := openFileSink(filepath.Join(dir, "app.log"), Rotation{MaxSizeMB: 100}, newFakeClock(), func(error, int) {}, func(error) {})
	require.NoError(t, err)
	defer fs.close()
	k0 := make([]byte, 32)
	_, err = fs.startChain(k0, "file", 'J')
	require.NoError(t, err)
	fs.startIntegrity(func(dst []byte, r *slog.Record) []byte { return append(dst, "{\"msg\":\"checkpoint\"}\n"...) }, func(slog.Record) {})
	batch := []byte(strings.Repeat(`{"level":"INFO","msg":"request served","status":200}`+"\n", 50))
	fs.mu.Lock()
	defer fs.mu.Unlock()
	require.NoError(t, fs.writeLocked(batch))
	assert.Zero(t, testing.AllocsPerRun(50, func() { _ = fs.writeLocked(batch) }))
}

// The checkpoints reach Loki through the normal record path (as JSON, even
// when the file is TEXT), and the lines Loki keeps serve as the
// verifier's checkpoints: a cut tail shows against them.
func TestIntegrityCheckpointsReachLoki(t *testing.T) {
	srv := lokitest.NewServer()
	defer srv.Close()
	dir := t.TempDir()
	key := newKeyFile(t, dir, "log.key")
	path := filepath.Join(dir, "app.log")
	setup(t, WithFile(path), WithIntegrityKeyFile(key), withClock(newFakeClock()),
		WithLoki(loki.Config{URL: srv.URL, AllowInsecure: true}))
	for i := range 30 {
		Logger("t").Info("record", "i", i)
	}
	require.NoError(t, Close())
	var cps []string
	for _, l := range srv.KeptLines() {
		if strings.Contains(l, checkpointMsg) {
			cps = append(cps, l)
		}
	}
	require.Len(t, cps, 2, "start and close")
	cpFile := filepath.Join(t.TempDir(), "loki.log")
	require.NoError(t, os.WriteFile(cpFile, []byte(strings.Join(cps, "\n")+"\n"), 0o600))
	verifyOK(t, key, []string{path}, cpFile)

	ls := readLines(t, path)
	writeLines(t, path, ls[:len(ls)-2]) // the last record and the close checkpoint
	verifyOK(t, key, []string{path})
	rep, err := VerifyLogFiles(key, []string{path}, cpFile)
	require.NoError(t, err)
	require.False(t, rep.OK())
	assert.Equal(t, IntegrityKind("truncated"), rep.Problems[0].Kind, "%s", problems(rep))
}

// A file whose last line is not sealed (cut, or appended to by someone
// else) is rotated away at start, and a new chain starts in a new file,
// saying so; the check at start reports it as tampering. The new file
// verifies alone; with the old one, the foreign line is named.
func TestIntegrityNewChainWhenTailNotSealed(t *testing.T) {
	l := writeChainedLog(t, OutputText, 100)
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("2026-12-01 12:00:00,000 - auth - INFO - nothing happened\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	nOld := len(readLines(t, l.path))

	console := setup(t, WithFile(l.path), WithIntegrityKeyFile(l.key), withClock(newFakeClock()))
	Logger("t").Info("after")
	require.NoError(t, Close())
	assert.Contains(t, console.String(), "tampering_detected")
	assert.Contains(t, console.String(), "is not sealed")
	b, err := os.ReadFile(l.path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "checkpoint_reason=start")
	assert.Contains(t, string(b), "checkpoint_seq=0 ")
	verifyOK(t, l.key, []string{l.path})

	files := logFiles(t, l.path)
	require.Len(t, files, 2)
	rep, err := VerifyLogFiles(l.key, files)
	require.NoError(t, err)
	require.Len(t, rep.Problems, 2, "%s", problems(rep))
	assert.Equal(t, IntegrityKind("inserted"), rep.Problems[0].Kind)
	assert.Equal(t, files[0], rep.Problems[0].File)
	assert.Equal(t, nOld, rep.Problems[0].Line)
	assert.Equal(t, IntegrityKind("new chain"), rep.Problems[1].Kind, "the new chain is a finding too")
	assert.Equal(t, files[1], rep.Problems[1].File)
	assert.Equal(t, 1, rep.Problems[1].Line)
}

// A file moved away by another tool (logrotate, then Reopen) keeps the
// chain: the new file begins with a checkpoint naming the moved file's
// last line.
func TestIntegrityExternalRotation(t *testing.T) {
	dir := t.TempDir()
	key := newKeyFile(t, dir, "log.key")
	path := filepath.Join(dir, "app.log")
	setup(t, WithFile(path), WithIntegrityKeyFile(key), withClock(newFakeClock()))
	Logger("t").Info("before the move")
	Flush()
	moved := filepath.Join(dir, "app.log.1")
	require.NoError(t, os.Rename(path, moved))
	require.NoError(t, Reopen())
	Logger("t").Info("after the move")
	require.NoError(t, Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "checkpoint_reason=new_file")
	rep := verifyOK(t, key, []string{path, moved})
	assert.Equal(t, 2, rep.Files)
}

// A restart that finds the file empty continues the chain from the last
// line of the newest backup, compressed or not, and raises
// tampering_detected (the newest lines may have been deleted).
func TestIntegrityResumeFromNewestBackup(t *testing.T) {
	l := writeChainedLog(t, OutputJSON, 100)
	backup := filepath.Join(l.dir, "app-2030-01-01T00-00-00.000.log.gz") // newer than any backup the fake clock names
	require.NoError(t, os.WriteFile(backup, gzipBytes(t, strings.Join(readLines(t, l.path), "")), 0o600))
	require.NoError(t, os.Remove(l.path))
	console := setup(t, WithFile(l.path), WithOutputType(OutputJSON), WithIntegrityKeyFile(l.key), withClock(newFakeClock()))
	Logger("t").Info("after")
	require.NoError(t, Close())
	b, err := os.ReadFile(l.path)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"checkpoint_reason":"resume"`)
	// A missing file beside its backups is how a rollback looks: an event.
	assert.Contains(t, console.String(), `"security_event_type":"tampering_detected"`)
	verifyOK(t, l.key, []string{backup, l.path})
}

// A redaction pattern that matches hex strings does not mangle the
// checkpoint in the file: the verifier still reads the MAC it names, and
// verifies a file whose predecessor retention removed.
func TestIntegrityCheckpointNotRedacted(t *testing.T) {
	dir := t.TempDir()
	key := newKeyFile(t, dir, "log.key")
	path := filepath.Join(dir, "app.log")
	setup(t, WithFile(path), WithIntegrityKeyFile(key), withClock(newFakeClock()), WithRotation(Rotation{MaxSizeMB: 1}),
		WithRedactPatterns(`[0-9a-f]{32}`))
	for range 1500 {
		Logger("t").Info("r", "pad", pad)
	}
	require.NoError(t, Close())
	files := logFiles(t, path)
	require.GreaterOrEqual(t, len(files), 2)
	verifyOK(t, key, files)
	verifyOK(t, key, files[1:])
}

// A restart with another key (the operator changed it) does not link to
// lines it cannot verify: it says so and starts a new chain in a new file,
// which verifies with the new key while the old files verify with the old.
func TestIntegrityRestartWithAnotherKey(t *testing.T) {
	l := writeChainedLog(t, OutputText, 100)
	old := logFiles(t, l.path)
	newKey := newKeyFile(t, t.TempDir(), "new.key")
	console := setup(t, WithFile(l.path), WithIntegrityKeyFile(newKey), withClock(newFakeClock()))
	Logger("t").Info("under the new key")
	require.NoError(t, Close())
	assert.Contains(t, console.String(), "tampering_detected")
	assert.Contains(t, console.String(), "wrong key")
	files := logFiles(t, l.path)
	require.Len(t, files, len(old)+1)
	verifyOK(t, newKey, []string{l.path})
	verifyOK(t, l.key, files[:len(files)-1])
}

// A file sink whose chain cannot start is left out when the chains start,
// instead of failing the pipeline, and the error says why: here the file
// holds unsealed lines (so the new chain needs a file of its own) and the
// path was replaced by a symlink after the sink opened it (so it can be
// neither read nor rotated).
func TestIntegrityChainThatCannotStartIsLeftOut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(path, []byte("2026-12-01 12:00:00,000 - t - INFO - before the chain\n"), 0o600))
	fs, _, err := openFileSink(path, Rotation{MaxSizeMB: 100}, newFakeClock(), func(error, int) {}, func(error) {})
	require.NoError(t, err)
	defer fs.close()
	require.NoError(t, os.Rename(path, filepath.Join(dir, "moved.log")))
	require.NoError(t, os.Symlink(filepath.Join(dir, "moved.log"), path))

	errs := fs.chainOn(make([]byte, 32), "file", &config{})
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrSymlink)
	assert.Contains(t, errs[0].Error(), "file sink: starting the integrity chain")
	require.Nil(t, fs.chain, "the chain is off")

	setup(t, WithFile(filepath.Join(dir, "other.log")), WithIntegrityKeyFile(newKeyFile(t, dir, "log.key")))
	p := load()
	before := len(p.onClose)
	require.NotPanics(t, func() { p.startChains([]*fileSink{fs}) })
	assert.Len(t, p.onClose, before, "nothing to seal at close for the sink left out")
}
