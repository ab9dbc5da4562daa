package chain

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testKey = bytes.Repeat([]byte{7}, KeySize)

// testRun is the run id of the tests' logs.
var testRun = RunID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

// checkpointLine is a checkpoint record as the sinks write it, before
// its seal, naming the last line s sealed.
func checkpointLine(f Format, s *Sealer) []byte {
	h := s.Head()
	if f == JSON {
		return fmt.Appendf(nil, `{"msg":"log chain checkpoint","checkpoint_sink":"file","checkpoint_run":"%s","checkpoint_epoch":%d,"checkpoint_seq":%d,"checkpoint_head":"%s"}`,
			s.Run(), s.Epoch(), s.Seq(), hex.EncodeToString(h[:]))
	}
	return fmt.Appendf(nil, "INFO log chain checkpoint checkpoint_sink=file checkpoint_run=%s checkpoint_epoch=%d checkpoint_seq=%d checkpoint_head=%s",
		s.Run(), s.Epoch(), s.Seq(), hex.EncodeToString(h[:]))
}

// sealedLog seals n records in format f, beginning with a checkpoint line
// and with a checkpoint ending the epoch every 4 records.
func sealedLog(f Format, n int) []byte {
	s := NewSealer(f, testKey, "file", testRun, 0, MAC{})
	var out []byte
	cp := func() { out = s.SealEnd(out, checkpointLine(f, s)) }
	cp()
	for i := range n {
		if i > 0 && i%4 == 0 {
			cp()
		}
		if f == JSON {
			out = s.Seal(out, fmt.Appendf(nil, `{"msg":"record %d","user":"u%d"}`+"\n", i, i))
		} else {
			out = s.Seal(out, fmt.Appendf(nil, "INFO record %d user=u%d\n", i, i))
		}
	}
	return out
}

func verifyBytes(t testing.TB, b []byte, cps []Checkpoint) (Summary, []Problem) {
	in := Input{Name: "x.log", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
	sum, probs, err := Verify(testKey, []Input{in}, cps, Options{MaxLine: 1 << 12})
	require.NoError(t, err)
	return sum, probs
}

func TestSealParseRoundTrip(t *testing.T) {
	for _, f := range []Format{Text, JSON} {
		log := sealedLog(f, 10)
		sum, probs := verifyBytes(t, log, nil)
		require.Empty(t, probs)
		assert.Equal(t, 13, sum.Records) // 10 records and 3 checkpoints
		assert.Equal(t, 4, sum.Epochs)   // the start checkpoint's, then one after each checkpoint
		for _, l := range bytes.Split(bytes.TrimSuffix(log, []byte("\n")), []byte("\n")) {
			r, ok := Parse(l)
			require.True(t, ok, "%s", l)
			assert.Equal(t, f, r.Format)
		}
	}
}

// Parse accepts only the canonical suffix.
func TestParseRefusesNonCanonical(t *testing.T) {
	mac := strings.Repeat("ab", MACSize)
	run := testRun.String()
	for _, l := range []string{
		"x chain_seq=01 chain_mac=" + run + ".0:" + mac,
		"x chain_seq=1 chain_mac=" + run + ".00:" + mac,
		"x chain_seq=1 chain_mac=" + run + ".0:" + strings.ToUpper(mac),
		"x chain_seq=1 chain_mac=" + run + ".0:" + mac[2:],
		"x chain_seq=1 chain_mac=" + strings.ToUpper(run) + ".0:" + mac,
		"x chain_seq=1 chain_mac=" + run[2:] + ".0:" + mac,
		"x chain_seq=1 chain_mac=0.0:" + mac,
		"x chain_seq=1 chain_mac=" + run + ".0++:" + mac,
		"x chain_seq=1 chain_mac=" + run + ".+0:" + mac,
		"x chain_seq=18446744073709551616 chain_mac=" + run + ".0:" + mac,
		"x chain_seq= chain_mac=" + run + ".0:" + mac,
		"x chain_mac=" + run + ".0:" + mac,
		`{"a":1,"chain_seq":1,"chain_mac":"` + run + `.0:` + mac + `}`,
	} {
		_, ok := Parse([]byte(l))
		assert.False(t, ok, l)
	}
	r, ok := Parse([]byte("x chain_seq=1 chain_mac=" + run + ".0:" + mac))
	require.True(t, ok)
	assert.Equal(t, testRun, r.Run)
	assert.False(t, r.End)
	r, ok = Parse([]byte("x chain_seq=1 chain_mac=" + run + ".7+:" + mac))
	require.True(t, ok)
	assert.True(t, r.End)
	assert.Equal(t, uint64(7), r.Epoch)
}

// The key evolves one way: the next key is not the previous, and the MAC
// of a line depends on the epoch's key.
func TestEvolveChangesKey(t *testing.T) {
	k := StartKey(testKey, "file", testRun)
	k1 := k
	Evolve(&k1)
	assert.NotEqual(t, k, k1)
	assert.NotEqual(t, StartKey(testKey, "file", testRun), StartKey(testKey, "security-file", testRun), "each sink its own keys")
	other := testRun
	other[15]++
	assert.NotEqual(t, StartKey(testKey, "file", testRun), StartKey(testKey, "file", other), "each run its own keys")
}

// Sealing allocates nothing once the buffer has room.
func TestSealDoesNotAllocate(t *testing.T) {
	s := NewSealer(JSON, testKey, "file", testRun, 0, MAC{})
	line := []byte(`{"msg":"request served","status":200}` + "\n")
	buf := make([]byte, 0, 4096)
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = s.Seal(buf[:0], line) }))
}

// A line longer than the limit is a problem, read in bounded memory.
func TestVerifyLongLine(t *testing.T) {
	log := sealedLog(Text, 4)
	long := append(bytes.Repeat([]byte("A"), 10000), '\n')
	_, probs := verifyBytes(t, append(append([]byte{}, log...), long...), nil)
	require.NotEmpty(t, probs)
	assert.Equal(t, Modified, probs[0].Kind)
}

func lines(b []byte) []string {
	s := string(b)
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// contiguous reports whether sub is a run of whole lines of all.
func contiguous(sub, all []string) bool {
	for i := 0; i+len(sub) <= len(all); i++ {
		match := true
		for j := range sub {
			if sub[j] != all[i+j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// FuzzVerify feeds the verifier hostile files: it never panics, and it
// accepts a file only if its lines are a run of the sealed log's lines
// (the whole log, a cut tail, or a run beginning at a checkpoint): no
// modified line is ever accepted.
func FuzzVerify(f *testing.F) {
	for _, format := range []Format{Text, JSON} {
		log := sealedLog(format, 12)
		f.Add(log)
		ls := lines(log)
		f.Add([]byte(strings.Join(append(append([]string{}, ls[:3]...), ls[4:]...), "\n") + "\n"))
		f.Add(bytes.Replace(log, []byte("record 3"), []byte("record 4"), 1))
		f.Add(bytes.Replace(log, []byte("chain_seq"), []byte("chain_sep"), 1))
		f.Add([]byte(strings.Join([]string{ls[1], ls[0], ls[2]}, "\n")))
	}
	f.Add([]byte("\n\n\n"))
	f.Add([]byte{})
	originals := [][]string{lines(sealedLog(Text, 12)), lines(sealedLog(JSON, 12))}
	f.Fuzz(func(t *testing.T, data []byte) {
		sum, probs := verifyBytes(t, data, nil)
		for _, l := range bytes.Split(data, []byte("\n")) {
			_, _ = Parse(l)
		}
		_, _, _ = ReadCheckpoints(bytes.NewReader(data), "cp", 1<<12)
		if len(probs) > 0 || sum.Records == 0 {
			return
		}
		got := lines(data)
		if !contiguous(got, originals[0]) && !contiguous(got, originals[1]) {
			t.Fatalf("accepted a file that is not a run of the sealed lines:\n%s", data)
		}
	})
}

// Checkpoints are read from TEXT and JSON records among other lines.
func TestReadCheckpoints(t *testing.T) {
	h := strings.Repeat("0f", MACSize)
	run := testRun.String()
	in := "noise\n" +
		"2026 - logging - INFO - log chain checkpoint checkpoint_sink=file checkpoint_run=" + run + " checkpoint_epoch=2 checkpoint_seq=30 checkpoint_head=" + h + "\n" +
		`{"msg":"log chain checkpoint","checkpoint_sink":"security-file","checkpoint_run":"` + run + `","checkpoint_epoch":5,"checkpoint_seq":7,"checkpoint_head":"` + h + `"}` + "\n" +
		"checkpoint_head=zz\n" +
		"2026 - logging - INFO - log chain checkpoint checkpoint_sink=file checkpoint_run=" + run + " checkpoint_epoch=3 checkpoint_seq=40 checkpoint_head=[REDACTED:custom]\n"
	cps, bad, err := ReadCheckpoints(strings.NewReader(in), "cp.log", 0)
	require.NoError(t, err)
	require.Len(t, cps, 2)
	assert.Equal(t, Checkpoint{Sink: "file", Run: testRun, Epoch: 2, Seq: 30, Head: cps[0].Head, Source: "cp.log:2"}, cps[0])
	require.Len(t, bad, 2, "the records that say they are checkpoints but cannot be read")
	assert.Equal(t, []int{4, 5}, []int{bad[0].Line, bad[1].Line})
	assert.Equal(t, BadCheckpoint, bad[1].Kind)
	assert.Equal(t, "security-file", cps[1].Sink)
	assert.Equal(t, uint64(7), cps[1].Seq)
}

// intruderLog seals a log of 4 epochs of records (checkpoints ending
// each), and returns its lines and the key of the epoch in progress at its
// end: what an intruder who reads the writer's memory takes.
func intruderLog(f Format) (ls []string, key [KeySize]byte, epoch uint64) {
	log := sealedLog(f, 14) // epochs 0 (the start), 1 to 3 ended, 4 in progress
	ls = lines(log)
	last, _ := Parse([]byte(ls[len(ls)-1]))
	key = StartKey(testKey, "file", testRun)
	for range last.Epoch {
		Evolve(&key)
	}
	return ls, key, last.Epoch
}

// reseal seals the bodies of ls again with s, replacing what, each line
// ending its epoch as before when end says so.
func reseal(s *Sealer, f Format, ls []string, what, with string, end bool) []string {
	var out []string
	for _, l := range ls {
		r, _ := Parse([]byte(l))
		body := strings.ReplaceAll(string(r.Body), what, with)
		if f == JSON {
			body += "}"
		}
		if end && r.End {
			out = append(out, strings.TrimSuffix(string(s.SealEnd(nil, []byte(body))), "\n"))
		} else {
			out = append(out, strings.TrimSuffix(string(s.Seal(nil, []byte(body))), "\n"))
		}
	}
	return out
}

func joinLines(ls []string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }

// An intruder holding only the key of the epoch in progress cannot
// rewrite the past: re-sealing every line after the first under that
// epoch (the MACs are right, the epochs are not) is reported at the first
// rewritten line; so is cutting an earlier epoch short (its last lines
// replaced by lines of the current epoch). What the key does give: the
// lines of the epoch in progress, after the checkpoint that ended the one
// before, can be rewritten unseen.
func TestVerifyEpochOrderStopsTheCurrentKey(t *testing.T) {
	for _, f := range []Format{Text, JSON} {
		ls, key, epoch := intruderLog(f)
		require.Equal(t, uint64(4), epoch)
		_, probs := verifyBytes(t, joinLines(ls), nil)
		require.Empty(t, probs)

		first, _ := Parse([]byte(ls[0]))
		s := NewSealerWithKey(f, &key, testRun, epoch, first.Seq, first.MAC)
		forged := append([]string{ls[0]}, reseal(s, f, ls[1:], "record 2", "record X", false)...)
		sum, probs := verifyBytes(t, joinLines(forged), nil)
		require.NotEmpty(t, probs, "the past re-sealed with the current key")
		assert.Equal(t, Problem{File: "x.log", Line: 2, Kind: Modified,
			Detail: "sealed in epoch 4 where the chain is in epoch 1: re-sealed with a later epoch's key (this line and the ones after it were rewritten)"}, probs[0])
		assert.Less(t, sum.Records, len(ls))

		// Epoch 3's last records and its checkpoint replaced by lines of
		// epoch 4 (the evidence cut from the end of epoch 3).
		i := len(ls) - 4 // the first line of epoch 3 after its records 8..11: record 9
		r, _ := Parse([]byte(ls[i-1]))
		require.Equal(t, uint64(3), r.Epoch)
		s = NewSealerWithKey(f, &key, testRun, epoch, r.Seq, r.MAC)
		forged = append(append([]string{}, ls[:i]...), reseal(s, f, ls[len(ls)-2:], "", "", false)...)
		_, probs = verifyBytes(t, joinLines(forged), nil)
		require.NotEmpty(t, probs, "an epoch cut short")
		assert.Equal(t, i+1, probs[0].Line)
		assert.Equal(t, Modified, probs[0].Kind)

		// The epoch in progress rewritten after the checkpoint that ended
		// the one before: the documented limit, verifies.
		j := len(ls) - 2 // records 12 and 13, epoch 4
		r, _ = Parse([]byte(ls[j-1]))
		require.True(t, r.End)
		s = NewSealerWithKey(f, &key, testRun, epoch, r.Seq, r.MAC)
		forged = append(append([]string{}, ls[:j]...), reseal(s, f, ls[j:], "record 13", "record Y", false)...)
		_, probs = verifyBytes(t, joinLines(forged), nil)
		assert.Empty(t, probs, "the epoch in progress is the intruder's")
	}
}

// A run begins in epoch 0 with a line that ends it, and epochs never go
// back: a later epoch's key cannot pass its lines off as a new chain (seq
// 1) or as the start of a run.
func TestVerifyNewChainNeedsEpochZero(t *testing.T) {
	for _, f := range []Format{Text, JSON} {
		ls, key, epoch := intruderLog(f)
		s := NewSealerWithKey(f, &key, testRun, epoch, 0, MAC{})
		forged := reseal(s, f, ls, "record", "rec", true)
		_, probs := verifyBytes(t, joinLines(forged), nil)
		require.NotEmpty(t, probs, "a whole chain made with epoch 4's key")
		assert.Equal(t, 1, probs[0].Line)
	}
}

// No two runs share a key, and a run's sealer makes every nonce once:
// sealers started over and over from the same on-disk state (the same
// sequence number and MAC to continue from, as after a junk tail or a
// log rolled back) never seal two lines under one (key, nonce).
func TestNoKeyNonceRepeats(t *testing.T) {
	type use struct {
		key [KeySize]byte
		seq uint64
	}
	seen := map[use]bool{}
	for range 200 {
		s := NewSealer(Text, testKey, "file", NewRunID(), 0, MAC{})
		for i := range 12 {
			k := s.key
			if i%5 == 4 {
				s.SealEnd(nil, []byte("checkpoint"))
			} else {
				s.Seal(nil, []byte("line"))
			}
			u := use{k, s.Seq()}
			require.False(t, seen[u], "(key, nonce) used twice")
			seen[u] = true
		}
	}
}

// The verifier's key cache is wiped after use: the keys it derived (a
// writer's check at start derives those of the previous run) are zeros.
func TestKeyCacheWipe(t *testing.T) {
	k0 := make([]byte, KeySize)
	k0[0] = 1
	kc := newKeyCache(k0, "file", 1000, 0)
	run := NewRunID()
	require.NotNil(t, kc.mac(run, anchorEvery+3))
	rk := kc.runs[run]
	require.NotNil(t, rk)
	anchors := rk.anchors
	require.Len(t, anchors, 2)
	var zero [KeySize]byte
	require.NotEqual(t, zero, rk.cur)
	kc.wipe()
	assert.Equal(t, zero, rk.cur)
	for _, a := range anchors {
		assert.Equal(t, zero, a)
	}
	assert.Empty(t, kc.runs)
	assert.Nil(t, kc.last)
}
