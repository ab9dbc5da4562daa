// Package chain makes log files tamper-evident: every line carries a
// sequence number and a MAC (GMAC, AES-256-GCM over no plaintext) that
// chains it to the line before, made
// with a key that evolves one way at every epoch (Schneier and Kelsey's
// secure audit logs), and a verifier that walks the chain and names the
// first line that breaks it.
//
// # Line format
//
// A sealed line is the record's own bytes followed by a suffix. In TEXT:
//
//	<record> chain_seq=<N> chain_mac=<R>.<E>:<32 hex digits>
//
// In JSON, two fields close the object:
//
//	{<record fields>,"chain_seq":<N>,"chain_mac":"<R>.<E>:<32 hex digits>"}
//
// N is the line's sequence number (1 for the first line of a chain, one
// more for every line after it, across rotations and restarts), R the run:
// 32 hex digits, 128 random bits drawn by the writer when it starts (every
// start of a writer is a new run, whether it continues the chain on disk
// or begins a new one), E the epoch within the run (0, then one more after
// every line that ends an epoch). The line that ends its epoch (a
// checkpoint) has a '+' after E: `<R>.<E>+:<MAC>`; the next line of the
// run is in epoch E+1, sealed with the next key. Numbers are decimal
// without leading zeros, hex lower case.
//
// # MAC
//
// The MAC of a line is GMAC(K(R,E), nonce N, header ‖ body) — AES-256-GCM
// with no plaintext and header ‖ body as its additional data, the 16-byte
// tag (see gmac.go) — where body is the
// record's bytes as written before the suffix (in JSON, without the closing
// brace), and header is one byte for the format ('T' or 'J'), one byte
// saying whether the line ends its epoch (1) or not (0), N and E as
// 8-byte big-endian numbers, R (16 bytes) and the MAC of the line before
// (16 zero bytes for the first line of a chain): 50 bytes. The keys serve
// this MAC only (their derivation names it), so the header needs no
// domain string.
//
// # Keys
//
// From the initial key K0 (32 bytes) and the sink's name S ("file",
// "security-file"), the first key of run R is
//
//	K(R,0) = HMAC-SHA256(K0, "codomyrmex-log-chain-v1 start" ‖ 0 ‖ S ‖ 0 ‖ R)
//
// and every epoch evolves it one way:
//
//	K(R,E+1) = SHA-256("codomyrmex-log-chain-v1 evolve" ‖ K(R,E))
//
// The writer holds only the key of the epoch in progress and wipes the one
// before, so that who takes the host later cannot make a MAC of an earlier
// epoch; a restart needs K0 again (it starts a new run).
//
// # Nonces
//
// A GMAC key must never authenticate two messages under one nonce. Each
// key serves one epoch of one run, and R is drawn at random at every start
// of a writer, whatever the files on disk say (a chain restarted over a
// junk tail, a log rolled back to an earlier copy, a forged run number):
// two runs share a key only if their 128-bit R collide. Within a run one
// Sealer, in memory, seals every line, and N grows by one at each: no
// (key, nonce) pair is ever used twice.
//
// # Epoch order
//
// The verifier enforces the order of epochs within a run: the first line
// of a run is in epoch 0 and ends it; a line is in the epoch of the line
// before, or in the next one if the line before ended its epoch; never
// another. So the key of epoch E cannot re-seal lines of an earlier epoch
// (they would have to follow a line that ended epoch E-1, made with
// K(R,E-1)), and who holds K(R,E) can rewrite only the lines sealed after
// the last line that ended epoch E-1.
package chain

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strconv"
)

// Sizes of keys, MACs and run ids.
const (
	KeySize   = 32
	MACSize   = 16
	RunIDSize = 16
)

// MAC is a line's GMAC tag.
type MAC [MACSize]byte

// RunID names a run: 128 random bits drawn when a writer starts.
type RunID [RunIDSize]byte

// String is the id as the lines write it, 32 lower-case hex digits.
func (id RunID) String() string { return hex.EncodeToString(id[:]) }

// NewRunID draws a run id from crypto/rand.
func NewRunID() RunID {
	var id RunID
	_, _ = rand.Read(id[:]) // never fails (crypto/rand panics rather than return an error)
	return id
}

// ParseRunID reads a run id written by String.
func ParseRunID(b []byte) (RunID, bool) {
	var id RunID
	if len(b) != 2*RunIDSize || !lowerHex(b) {
		return id, false
	}
	_, err := hex.Decode(id[:], b)
	return id, err == nil
}

// Format is how a line is sealed: 'T' (TEXT suffix) or 'J' (JSON fields).
type Format byte

// The formats.
const (
	Text Format = 'T'
	JSON Format = 'J'
)

const (
	domain = "codomyrmex-log-chain-v1"
	// The header: format, end flag, N, E, R, the MAC before. The nonce
	// is N, at nonceAt.
	nonceAt   = 2
	headerLen = 2 + 2*8 + RunIDSize + MACSize

	textSeq = " chain_seq="
	textMAC = " chain_mac="
	jsonSeq = `,"chain_seq":`
	jsonMAC = `,"chain_mac":"`

	// MaxSuffix bounds the bytes a seal adds to a line (the JSON suffix
	// with two 20-digit numbers, the run id and the end mark).
	MaxSuffix = len(jsonSeq) + 20 + len(jsonMAC) + 2*RunIDSize + 1 + 20 + 1 + 1 + 2*MACSize + 2
)

// StartKey is the first key of run run of the sink sink, K(R,0).
func StartKey(k0 []byte, sink string, run RunID) [KeySize]byte {
	m := hmac.New(sha256.New, k0)
	m.Write([]byte(domain + " start\x00"))
	m.Write([]byte(sink))
	m.Write([]byte{0})
	m.Write(run[:])
	var k [KeySize]byte
	m.Sum(k[:0])
	return k
}

// Evolve replaces *k with the key of the next epoch, SHA-256 of a domain
// string and k; the old value is overwritten in place.
func Evolve(k *[KeySize]byte) {
	var b [len(domain) + len(" evolve") + KeySize]byte
	n := copy(b[:], domain+" evolve")
	copy(b[n:], k[:])
	*k = sha256.Sum256(b[:])
	clear(b[:])
}

// header fills h with the MAC header of a line.
func header(h *[headerLen]byte, f Format, end bool, seq, epoch uint64, run *RunID, prev *MAC) {
	h[0] = byte(f)
	h[1] = 0
	if end {
		h[1] = 1
	}
	binary.BigEndian.PutUint64(h[nonceAt:], seq)
	binary.BigEndian.PutUint64(h[nonceAt+8:], epoch)
	copy(h[nonceAt+16:], run[:])
	copy(h[nonceAt+16+RunIDSize:], prev[:])
}

// Sealer seals the lines of one run of a chain, in order. It is not safe
// for concurrent use: one writer goroutine owns it.
type Sealer struct {
	format Format
	key    [KeySize]byte
	mac    hash.Hash
	run    RunID
	epoch  uint64
	seq    uint64 // of the last line sealed
	prev   MAC    // of the last line sealed
	hdr    [headerLen]byte
	// EpochLines counts the lines sealed in the current epoch.
	EpochLines int
}

// NewSealer returns a sealer for run run of sink's chain, whose next line
// follows the line seq with MAC prev (seq 0 and a zero MAC: a new chain).
// run must be drawn by NewRunID for every sealer (tests excepted): it is
// what keeps nonces unique. k0 is only read; the caller wipes it.
func NewSealer(f Format, k0 []byte, sink string, run RunID, seq uint64, prev MAC) *Sealer {
	s := &Sealer{format: f, run: run, seq: seq, prev: prev}
	s.key = StartKey(k0, sink, run)
	s.mac = newGMAC(&s.key)
	return s
}

// NewSealerWithKey returns a sealer that holds key as the key of epoch
// epoch of run run, its next line following line seq with MAC prev: what
// an intruder who read a writer's memory holds. The tests of the verifier
// play that intruder with it; the sinks use NewSealer.
func NewSealerWithKey(f Format, key *[KeySize]byte, run RunID, epoch, seq uint64, prev MAC) *Sealer {
	s := &Sealer{format: f, key: *key, run: run, epoch: epoch, seq: seq, prev: prev}
	s.mac = newGMAC(&s.key)
	return s
}

// Seal appends line (one record, with or without its final '\n') to dst,
// sealed, ending in '\n'. It does not allocate when dst has room for
// len(line)+MaxSuffix bytes.
func (s *Sealer) Seal(dst, line []byte) []byte { return s.seal(dst, line, false) }

// SealEnd seals line as Seal does, as the last line of the epoch in
// progress (a checkpoint), then moves to the next epoch: the key evolves
// one way and the old one is wiped.
func (s *Sealer) SealEnd(dst, line []byte) []byte {
	dst = s.seal(dst, line, true)
	s.nextEpoch()
	return dst
}

func (s *Sealer) seal(dst, line []byte, end bool) []byte {
	body := line
	if n := len(body); n > 0 && body[n-1] == '\n' {
		body = body[:n-1]
	}
	f := Text
	if s.format == JSON && len(body) > 0 && body[len(body)-1] == '}' {
		f, body = JSON, body[:len(body)-1]
	}
	s.seq++
	header(&s.hdr, f, end, s.seq, s.epoch, &s.run, &s.prev)
	s.mac.Reset()
	s.mac.Write(s.hdr[:])
	s.mac.Write(body)
	s.mac.Sum(s.prev[:0])
	s.EpochLines++
	dst = append(dst, body...)
	if f == JSON {
		dst = append(dst, jsonSeq...)
	} else {
		dst = append(dst, textSeq...)
	}
	dst = strconv.AppendUint(dst, s.seq, 10)
	if f == JSON {
		dst = append(dst, jsonMAC...)
	} else {
		dst = append(dst, textMAC...)
	}
	dst = hex.AppendEncode(dst, s.run[:])
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, s.epoch, 10)
	if end {
		dst = append(dst, '+')
	}
	dst = append(dst, ':')
	dst = hex.AppendEncode(dst, s.prev[:])
	if f == JSON {
		dst = append(dst, '"', '}')
	}
	return append(dst, '\n')
}

// nextEpoch evolves the key one way and wipes the old one.
func (s *Sealer) nextEpoch() {
	Evolve(&s.key)
	s.mac = newGMAC(&s.key)
	s.epoch++
	s.EpochLines = 0
}

// Wipe clears the key; the sealer must not be used afterwards. Go's
// garbage collector may have copied the key before (and the AES cipher keeps
// values derived from it): the wipe narrows the window, it cannot promise.
func (s *Sealer) Wipe() {
	clear(s.key[:])
	s.mac = nil
}

// Seq is the sequence number of the last line sealed.
func (s *Sealer) Seq() uint64 { return s.seq }

// Run is the sealer's run.
func (s *Sealer) Run() RunID { return s.run }

// Epoch is the current epoch within the run.
func (s *Sealer) Epoch() uint64 { return s.epoch }

// Head is the MAC of the last line sealed.
func (s *Sealer) Head() MAC { return s.prev }

// Record is a sealed line taken apart.
type Record struct {
	Body   []byte // the bytes the MAC covers after the header (aliases the line)
	Format Format
	Seq    uint64
	Run    RunID
	Epoch  uint64
	End    bool // the line ends its epoch (a '+' after the epoch)
	MAC    MAC
}

// Parse takes a sealed line (without its '\n') apart. It reads the suffix
// from the end, in time linear in the suffix, and accepts only the
// canonical form Seal writes (decimal without leading zeros, lower-case
// hex), so that no two lines differ only in how a number is spelled.
func Parse(line []byte) (Record, bool) {
	var r Record
	rest := line
	seqKey, macKey := textSeq, textMAC
	r.Format = Text
	if n := len(rest); n >= 2 && rest[n-2] == '"' && rest[n-1] == '}' {
		rest = rest[:n-2]
		seqKey, macKey = jsonSeq, jsonMAC
		r.Format = JSON
	}
	if len(rest) < 2*MACSize+1 {
		return r, false
	}
	if _, err := hex.Decode(r.MAC[:], rest[len(rest)-2*MACSize:]); err != nil || !lowerHex(rest[len(rest)-2*MACSize:]) {
		return r, false
	}
	rest = rest[:len(rest)-2*MACSize]
	if len(rest) == 0 || rest[len(rest)-1] != ':' {
		return r, false
	}
	rest = rest[:len(rest)-1]
	if n := len(rest); n > 0 && rest[n-1] == '+' {
		r.End, rest = true, rest[:n-1]
	}
	var ok bool
	if rest, r.Epoch, ok = cutNumber(rest); !ok || len(rest) < 2*RunIDSize+1 || rest[len(rest)-1] != '.' {
		return r, false
	}
	rest = rest[:len(rest)-1]
	if r.Run, ok = ParseRunID(rest[len(rest)-2*RunIDSize:]); !ok {
		return r, false
	}
	rest = rest[:len(rest)-2*RunIDSize]
	if rest, ok = cutSuffix(rest, macKey); !ok {
		return r, false
	}
	if rest, r.Seq, ok = cutNumber(rest); !ok {
		return r, false
	}
	if rest, ok = cutSuffix(rest, seqKey); !ok {
		return r, false
	}
	r.Body = rest
	return r, true
}

func cutSuffix(b []byte, s string) ([]byte, bool) {
	if len(b) < len(s) || string(b[len(b)-len(s):]) != s {
		return b, false
	}
	return b[:len(b)-len(s)], true
}

// cutNumber takes the decimal number at the end of b: 1 to 20 digits, no
// leading zero, no overflow.
func cutNumber(b []byte) ([]byte, uint64, bool) {
	i := len(b)
	for i > 0 && len(b)-i < 21 && b[i-1] >= '0' && b[i-1] <= '9' {
		i--
	}
	d := b[i:]
	if len(d) == 0 || len(d) > 20 || len(d) > 1 && d[0] == '0' {
		return b, 0, false
	}
	n, err := strconv.ParseUint(string(d), 10, 64)
	if err != nil {
		return b, 0, false
	}
	return b[:i], n, true
}

func lowerHex(b []byte) bool {
	for _, c := range b {
		if c >= 'A' && c <= 'F' {
			return false
		}
	}
	return true
}

// Sum is the MAC of r following prev, computed with m: a reusable
// MAC (GMAC) made with the key of r's run and epoch.
func Sum(m hash.Hash, r *Record, prev *MAC) MAC {
	var h [headerLen]byte
	header(&h, r.Format, r.End, r.Seq, r.Epoch, &r.Run, prev)
	m.Reset()
	m.Write(h[:])
	m.Write(r.Body)
	var out MAC
	m.Sum(out[:0])
	return out
}

// ParseKey reads an initial key: 64 hex digits (one final newline allowed)
// or exactly 32 raw bytes.
func ParseKey(b []byte) ([]byte, error) {
	t := b
	if n := len(t); n > 0 && t[n-1] == '\n' {
		t = t[:n-1]
		if n := len(t); n > 0 && t[n-1] == '\r' {
			t = t[:n-1]
		}
	}
	if len(t) == 2*KeySize {
		k := make([]byte, KeySize)
		if _, err := hex.Decode(k, t); err == nil {
			return k, nil
		}
		clear(k)
	}
	if len(b) == KeySize {
		return append([]byte(nil), b...), nil
	}
	return nil, errKeyFormat
}

type keyError string

func (e keyError) Error() string { return string(e) }

const errKeyFormat = keyError("want 32 random bytes, as 64 hex digits or raw")
