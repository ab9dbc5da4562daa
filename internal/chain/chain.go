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
// more for every line after it, across rotations and restarts), R the run
// (0 for the first run of a chain, one more at every restart of the
// writer), E the epoch within the run (0, then one more at every epoch
// change). Numbers are decimal without leading zeros, the MAC lower-case hex.
//
// # MAC
//
// The MAC of a line is GMAC(K(R,E), nonce N, header ‖ body) — AES-256-GCM
// with no plaintext and header ‖ body as its additional data, the 16-byte
// tag (see gmac.go) — where body is the
// record's bytes as written before the suffix (in JSON, without the closing
// brace), and header is one byte for the format ('T' or 'J'), N, R and E
// as 8-byte big-endian numbers, and the MAC of the line before (16 zero
// bytes for the first line of a chain): 41 bytes. The keys serve this MAC
// only (their derivation names it), so the header needs no domain string.
//
// # Keys
//
// From the initial key K0 (32 bytes) and the sink's name S ("file",
// "security-file"), the first key of run R is
//
//	K(R,0) = HMAC-SHA256(K0, "codomyrmex-log-chain-v1 start" ‖ 0 ‖ S ‖ 0 ‖ R as 8 bytes)
//
// and every epoch evolves it one way:
//
//	K(R,E+1) = SHA-256("codomyrmex-log-chain-v1 evolve" ‖ K(R,E))
//
// The writer holds only the key of the epoch in progress and wipes the one
// before, so that who takes the host later cannot make a MAC of an earlier
// epoch; a restart needs K0 again (it starts a new run).
package chain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strconv"
)

// Sizes of keys and MACs.
const (
	KeySize = 32
	MACSize = 16
)

// MAC is a line's GMAC tag.
type MAC [MACSize]byte

// Format is how a line is sealed: 'T' (TEXT suffix) or 'J' (JSON fields).
type Format byte

// The formats.
const (
	Text Format = 'T'
	JSON Format = 'J'
)

const (
	domain    = "codomyrmex-log-chain-v1"
	headerLen = 1 + 3*8 + MACSize

	textSeq = " chain_seq="
	textMAC = " chain_mac="
	jsonSeq = `,"chain_seq":`
	jsonMAC = `,"chain_mac":"`

	// MaxSuffix bounds the bytes a seal adds to a line (the JSON suffix
	// with three 20-digit numbers).
	MaxSuffix = len(jsonSeq) + 20 + len(jsonMAC) + 20 + 1 + 20 + 1 + 2*MACSize + 2
)

// StartKey is the first key of run run of the sink sink, K(R,0).
func StartKey(k0 []byte, sink string, run uint64) [KeySize]byte {
	m := hmac.New(sha256.New, k0)
	m.Write([]byte(domain + " start\x00"))
	m.Write([]byte(sink))
	var b [9]byte
	binary.BigEndian.PutUint64(b[1:], run)
	m.Write(b[:])
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
func header(h *[headerLen]byte, f Format, seq, run, epoch uint64, prev *MAC) {
	h[0] = byte(f)
	n := 1
	binary.BigEndian.PutUint64(h[n:], seq)
	binary.BigEndian.PutUint64(h[n+8:], run)
	binary.BigEndian.PutUint64(h[n+16:], epoch)
	copy(h[n+24:], prev[:])
}

// Sealer seals the lines of one chain, in order. It is not safe for
// concurrent use: one writer goroutine owns it.
type Sealer struct {
	format Format
	key    [KeySize]byte
	mac    hash.Hash
	run    uint64
	epoch  uint64
	seq    uint64 // of the last line sealed
	prev   MAC    // of the last line sealed
	hdr    [headerLen]byte
	// EpochLines counts the lines sealed in the current epoch.
	EpochLines int
}

// NewSealer returns a sealer for run run of sink's chain, whose next line
// follows the line seq with MAC prev (seq 0 and a zero MAC: a new chain).
// k0 is only read; the caller wipes it.
func NewSealer(f Format, k0 []byte, sink string, run, seq uint64, prev MAC) *Sealer {
	s := &Sealer{format: f, run: run, seq: seq, prev: prev}
	s.key = StartKey(k0, sink, run)
	s.mac = newGMAC(&s.key)
	return s
}

// Seal appends line (one record, with or without its final '\n') to dst,
// sealed, ending in '\n'. It does not allocate when dst has room for
// len(line)+MaxSuffix bytes.
func (s *Sealer) Seal(dst, line []byte) []byte {
	body := line
	if n := len(body); n > 0 && body[n-1] == '\n' {
		body = body[:n-1]
	}
	f := Text
	if s.format == JSON && len(body) > 0 && body[len(body)-1] == '}' {
		f, body = JSON, body[:len(body)-1]
	}
	s.seq++
	header(&s.hdr, f, s.seq, s.run, s.epoch, &s.prev)
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
	dst = strconv.AppendUint(dst, s.run, 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, s.epoch, 10)
	dst = append(dst, ':')
	dst = hex.AppendEncode(dst, s.prev[:])
	if f == JSON {
		dst = append(dst, '"', '}')
	}
	return append(dst, '\n')
}

// NextEpoch evolves the key one way and wipes the old one.
func (s *Sealer) NextEpoch() {
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
func (s *Sealer) Run() uint64 { return s.run }

// Epoch is the current epoch within the run.
func (s *Sealer) Epoch() uint64 { return s.epoch }

// Head is the MAC of the last line sealed.
func (s *Sealer) Head() MAC { return s.prev }

// Record is a sealed line taken apart.
type Record struct {
	Body   []byte // the bytes the MAC covers after the header (aliases the line)
	Format Format
	Seq    uint64
	Run    uint64
	Epoch  uint64
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
	var ok bool
	if rest, r.Epoch, ok = cutNumber(rest[:len(rest)-1]); !ok || len(rest) == 0 || rest[len(rest)-1] != '.' {
		return r, false
	}
	if rest, r.Run, ok = cutNumber(rest[:len(rest)-1]); !ok {
		return r, false
	}
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
	header(&h, r.Format, r.Seq, r.Run, r.Epoch, prev)
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
