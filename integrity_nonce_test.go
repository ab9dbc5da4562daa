package logging

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/chain"
)

// allSealedLines adds to seen every sealed line of the files of path.
func allSealedLines(t *testing.T, path string, seen map[string]bool) {
	for _, f := range logFiles(t, path) {
		var ls []string
		if strings.HasSuffix(f, ".gz") {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
				continue // the backup the test made unreadable
			}
			ls = strings.SplitAfter(strings.TrimSuffix(gunzip(t, f), "\n"), "\n")
		} else {
			ls = readLines(t, f)
		}
		for _, l := range ls {
			if _, ok := chain.Parse([]byte(strings.TrimSuffix(l, "\n"))); ok {
				seen[strings.TrimSuffix(l, "\n")] = true
			}
		}
	}
}

// Every start of a writer draws a new run id, from which its keys are
// derived: chains started again and again over the same key (forced by a
// junk tail, a log rolled back to an earlier copy, a tail that cannot be
// read) never seal two lines under one (key, nonce), whatever the disk
// says. Before, each new chain began at run 0, sequence 0, under K(0,0)
// again, and two GMAC tags under one nonce gave a forgery.
func TestIntegrityNoKeyNonceRepeatsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	key := newKeyFile(t, dir, "log.key")
	path := filepath.Join(dir, "app.log")
	clk := newFakeClock()
	seen := map[string]bool{}
	starts := 0
	run := func(what string) {
		t.Helper()
		clk.Advance(time.Second)
		require.NoError(t, Setup(WithConsole(&syncBuffer{}), WithFile(path), WithIntegrityKeyFile(key), withClock(clk)))
		starts++
		for i := range 10 {
			Logger("worker0").Info("request served", "i", i, "what", what)
		}
		require.NoError(t, Close())
		allSealedLines(t, path, seen)
	}
	run("first")
	firstCopy, err := os.ReadFile(path)
	require.NoError(t, err)
	for i := range 4 { // a junk tail: a new chain each time
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteString("junk\n")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		run(fmt.Sprint("junk ", i))
	}
	for i := range 3 { // rolled back to the first run's file: resumed from the same line each time
		require.NoError(t, os.WriteFile(path, firstCopy, 0o600))
		run(fmt.Sprint("rolled back ", i))
	}
	require.NoError(t, os.WriteFile(path, nil, 0o600)) // the file emptied, the newest backup unreadable
	files := logFiles(t, path)
	require.NoError(t, os.WriteFile(files[len(files)-2], []byte("not a log\x00"), 0o600))
	run("unreadable")

	k0 := readK0(t, key)
	type use struct {
		key [chain.KeySize]byte
		seq uint64
	}
	uses := map[use]string{}
	runs := map[chain.RunID]bool{}
	for l := range seen {
		r := parseLine(t, l)
		k := chain.StartKey(k0, "file", r.Run)
		for range r.Epoch {
			chain.Evolve(&k)
		}
		u := use{k, r.Seq}
		prev, dup := uses[u]
		require.False(t, dup, "(key, nonce %d) sealed two lines:\n%s\n%s", r.Seq, prev, l)
		uses[u] = l
		runs[r.Run] = true
	}
	assert.Len(t, runs, starts, "a run id per start")
	assert.Greater(t, len(uses), 10*starts)
}

// gfElem is an element of GCM's field, GF(2^128) (SP 800-38D, bit-reflected).
type gfElem struct{ hi, lo uint64 }

func gfOf(b []byte) gfElem {
	return gfElem{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

func (x gfElem) bytes() []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, x.hi), x.lo)
}

func (x gfElem) add(y gfElem) gfElem { return gfElem{x.hi ^ y.hi, x.lo ^ y.lo} }

func (x gfElem) mul(y gfElem) gfElem {
	var z gfElem
	v := y
	for i := range 128 {
		bit := x.lo >> (127 - i) & 1
		if i < 64 {
			bit = x.hi >> (63 - i) & 1
		}
		if bit == 1 {
			z = z.add(v)
		}
		lsb := v.lo & 1
		v.lo, v.hi = v.lo>>1|v.hi<<63, v.hi>>1
		if lsb == 1 {
			v.hi ^= 0xe1 << 56
		}
	}
	return z
}

// The auditor's forgery: from the first lines of two chains started over
// the same key (a junk tail between them), both sequence 1, a GMAC under
// a repeated (key, nonce) is forged for a third body (T' = T1 + c·(T1+T2)
// for the body B1 + c·(B1+B2), GHASH being linear). With a run id per
// start the two lines were sealed under different keys, and the forged
// line is refused.
func TestIntegrityGMACForgeryFromTwoChainsRefused(t *testing.T) {
	l := writeChainedLog(t, OutputText, 16)
	first := readLines(t, l.path)[0]
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("junk\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	setup(t, WithFile(l.path), WithIntegrityKeyFile(l.key), withClock(newFakeClock()))
	Logger("t").Info("after the junk")
	require.NoError(t, Close())
	cur := readLines(t, l.path)
	a, b := parseLine(t, cur[0]), parseLine(t, first)
	require.Equal(t, uint64(1), a.Seq)
	require.Equal(t, a.Seq, b.Seq, "the same nonce")
	require.Equal(t, len(a.Body), len(b.Body))
	assert.NotEqual(t, a.Run, b.Run, "each chain its own run, hence its own key")

	const hdr = 2 + 2*8 + chain.RunIDSize + chain.MACSize // the MAC header (internal/chain)
	dT := gfOf(a.MAC[:]).add(gfOf(b.MAC[:]))
	for c := uint64(2); c < 1000; c++ {
		cc := gfElem{0, c}
		body := []byte(string(a.Body))
		for off := (16 - hdr%16) % 16; off+16 <= len(body); off += 16 { // the whole blocks of the body
			d := gfOf(a.Body[off : off+16]).add(gfOf(b.Body[off : off+16]))
			copy(body[off:], gfOf(a.Body[off:off+16]).add(cc.mul(d)).bytes())
		}
		if strings.ContainsAny(string(body), "\n\r") {
			continue
		}
		tag := gfOf(a.MAC[:]).add(cc.mul(dT)).bytes()
		forged := fmt.Sprintf("%s chain_seq=1 chain_mac=%s.0+:%s", body, a.Run, hex.EncodeToString(tag))
		cur[0] = forged + "\n"
		writeLines(t, l.path, cur)
		rep, err := VerifyLogFiles(l.key, []string{l.path})
		require.NoError(t, err)
		require.False(t, rep.OK(), "the forged line is refused")
		assert.Equal(t, 1, rep.Problems[0].Line, "%s", problems(rep))
		return
	}
	t.Fatal("no forgery without a line break")
}
