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

// sealedLog seals n records in format f, beginning with a checkpoint line
// and with a new epoch (begun by a checkpoint) every 4 records.
func sealedLog(f Format, n int) []byte {
	s := NewSealer(f, testKey, "file", 0, 0, MAC{})
	var out []byte
	cp := func() {
		h := s.Head()
		if f == JSON {
			out = s.Seal(out, fmt.Appendf(nil, `{"msg":"log chain checkpoint","checkpoint_seq":%d,"checkpoint_head":"%s"}`, s.Seq(), hex.EncodeToString(h[:])))
		} else {
			out = s.Seal(out, fmt.Appendf(nil, "INFO log chain checkpoint checkpoint_seq=%d checkpoint_head=%s", s.Seq(), hex.EncodeToString(h[:])))
		}
	}
	cp()
	for i := range n {
		if i > 0 && i%4 == 0 {
			s.NextEpoch()
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
		assert.Equal(t, 3, sum.Epochs)
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
	for _, l := range []string{
		"x chain_seq=01 chain_mac=0.0:" + mac,
		"x chain_seq=1 chain_mac=0.00:" + mac,
		"x chain_seq=1 chain_mac=0.0:" + strings.ToUpper(mac),
		"x chain_seq=1 chain_mac=0.0:" + mac[2:],
		"x chain_seq=18446744073709551616 chain_mac=0.0:" + mac,
		"x chain_seq= chain_mac=0.0:" + mac,
		"x chain_mac=0.0:" + mac,
		`{"a":1,"chain_seq":1,"chain_mac":"0.0:` + mac + `}`,
	} {
		_, ok := Parse([]byte(l))
		assert.False(t, ok, l)
	}
	_, ok := Parse([]byte("x chain_seq=1 chain_mac=0.0:" + mac))
	assert.True(t, ok)
}

// The key evolves one way: the next key is not the previous, and the MAC
// of a line depends on the epoch's key.
func TestEvolveChangesKey(t *testing.T) {
	k := StartKey(testKey, "file", 0)
	k1 := k
	Evolve(&k1)
	assert.NotEqual(t, k, k1)
	assert.NotEqual(t, StartKey(testKey, "file", 0), StartKey(testKey, "security-file", 0), "each sink its own keys")
	assert.NotEqual(t, StartKey(testKey, "file", 0), StartKey(testKey, "file", 1), "each run its own keys")
}

// Sealing allocates nothing once the buffer has room.
func TestSealDoesNotAllocate(t *testing.T) {
	s := NewSealer(JSON, testKey, "file", 0, 0, MAC{})
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
		_, _ = ReadCheckpoints(bytes.NewReader(data), "cp", 1<<12)
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
	in := "noise\n" +
		"2026 - logging - INFO - log chain checkpoint checkpoint_sink=file checkpoint_run=1 checkpoint_epoch=2 checkpoint_seq=30 checkpoint_head=" + h + "\n" +
		`{"msg":"log chain checkpoint","checkpoint_sink":"security-file","checkpoint_run":0,"checkpoint_epoch":5,"checkpoint_seq":7,"checkpoint_head":"` + h + `"}` + "\n" +
		"checkpoint_head=zz\n"
	cps, err := ReadCheckpoints(strings.NewReader(in), "cp.log", 0)
	require.NoError(t, err)
	require.Len(t, cps, 2)
	assert.Equal(t, Checkpoint{Sink: "file", Run: 1, Epoch: 2, Seq: 30, Head: cps[0].Head, Source: "cp.log:2"}, cps[0])
	assert.Equal(t, "security-file", cps[1].Sink)
	assert.Equal(t, uint64(7), cps[1].Seq)
}
