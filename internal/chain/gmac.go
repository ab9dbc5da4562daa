package chain

import (
	"crypto/aes"
	"crypto/cipher"
	"hash"
)

// gmac is the MAC of a line: GMAC, AES-256-GCM with no plaintext, whose
// additional data is what was written (the header and the line's body) and
// whose nonce is the line's sequence number (8 bytes of the header, at
// nonceAt): unique under each key, since a key serves one epoch of one run
// (a run id drawn at random at every start), where one sealer makes every
// sequence number once, in order (see the package comment, "Nonces"). With AES-NI and carry-less multiplication it
// costs about a quarter of HMAC-SHA256 per line.
//
// It satisfies hash.Hash so that the sealer and the verifier write and sum
// it as they would a hash: Write gathers the data (in a buffer reused from
// line to line), Sum appends the 16-byte tag.
type gmac struct {
	aead  cipher.AEAD
	buf   []byte
	tag   []byte
	nonce [12]byte // a field, not a local: given to an interface method, a local would escape
}

var _ hash.Hash = (*gmac)(nil)

func newGMAC(key *[KeySize]byte) *gmac {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic("chain: " + err.Error()) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("chain: " + err.Error())
	}
	return &gmac{aead: aead}
}

func (g *gmac) Write(p []byte) (int, error) {
	g.buf = append(g.buf, p...)
	return len(p), nil
}

// Sum appends the tag of what was written to b. The nonce is the sequence
// number of the header written first; data shorter than the header (never
// written by this package) gets a zero nonce.
func (g *gmac) Sum(b []byte) []byte {
	clear(g.nonce[:])
	if len(g.buf) >= nonceAt+8 {
		copy(g.nonce[:8], g.buf[nonceAt:nonceAt+8])
	}
	g.tag = g.aead.Seal(g.tag[:0], g.nonce[:], nil, g.buf)
	return append(b, g.tag...)
}

func (g *gmac) Reset()         { g.buf = g.buf[:0] }
func (g *gmac) Size() int      { return MACSize }
func (g *gmac) BlockSize() int { return 16 }
