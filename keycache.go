package logging

import (
	"sync/atomic"
	"unsafe"
)

// keyCacheSize is how many clean keys a keyCache remembers (a power of
// two; two slots for each key).
const (
	keyCacheBits = 8
	keyCacheSize = 1 << keyCacheBits
)

// keyCache remembers keys that the attrMapper left unchanged, and whether
// each names a secret, so that the keys a program writes on every record
// (string constants, nearly always) are redacted and matched once, not on
// every record. A slot is chosen by the address
// of the key's bytes, which is the same for every use of a constant, and a
// hit compares the whole key, so that another key at a reused address is
// never taken for a remembered one. The cache only saves work: a miss (a
// key from user input, or one pushed out by another) is mapped in full.
// It is safe for concurrent use; the zero value is empty.
type keyCache struct {
	slots [keyCacheSize]atomic.Pointer[keyEntry]
	// gen is moved on by forget; entries of an older generation are not
	// used. An entry is stored with the generation read before its key was
	// mapped, so that a key mapped before a Mask and stored after it is
	// never used.
	gen atomic.Uint64
}

// keyEntry is a clean key and whether it names a secret.
type keyEntry struct {
	key    string
	secret bool
	gen    uint64
}

// slot is the first of k's two slots (the other is the one beside it): a
// multiplicative hash of the address and the length (the linker packs
// string constants byte by byte, so that the low bits of nearby keys'
// addresses alone would often collide).
func (c *keyCache) slot(k string) int {
	p := uint64(uintptr(unsafe.Pointer(unsafe.StringData(k))))
	h := (p ^ uint64(len(k))<<48) * 0x9E3779B97F4A7C15
	return int(h >> (64 - keyCacheBits))
}

// get returns what is remembered of k: ok when k is remembered as clean,
// and then whether it names a secret.
func (c *keyCache) get(k string) (secret, ok bool) {
	i, gen := c.slot(k), c.gen.Load()
	for _, j := range [2]int{i, i ^ 1} {
		if e := c.slots[j].Load(); e != nil && e.key == k && e.gen == gen {
			return e.secret, true
		}
	}
	return false, false
}

// generation is the generation to store a key mapped from now on with.
func (c *keyCache) generation() uint64 { return c.gen.Load() }

// forget makes every entry stale: the redactor changed (Mask).
func (c *keyCache) forget() { c.gen.Add(1) }

// add remembers k as clean, and whether it names a secret, in one of its
// two slots that is empty or holds an entry of an older generation. A key
// whose slots both hold current entries is not remembered: replacing them
// would let two keys used on every record push each other out, at an
// allocation per record; the key is then mapped in full each time, as
// without a cache. Keys longer than maxCachedKey are not remembered: they
// are rare, and would be kept alive by the cache.
func (c *keyCache) add(k string, secret bool, gen uint64) {
	if len(k) > maxCachedKey {
		return
	}
	i, cur := c.slot(k), c.gen.Load()
	for _, j := range [2]int{i, i ^ 1} {
		if e := c.slots[j].Load(); e == nil || e.gen != cur {
			if c.slots[j].CompareAndSwap(e, &keyEntry{k, secret, gen}) {
				return
			}
		}
	}
}

// maxCachedKey is the longest key a keyCache remembers.
const maxCachedKey = 128
