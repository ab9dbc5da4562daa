package logging

import (
	"sync/atomic"
	"unsafe"
)

// keyCacheSize is how many clean keys a keyCache remembers (a power of two).
const keyCacheSize = 256

// keyCache remembers keys that the attrMapper left unchanged, so that the
// keys a program writes on every record (string constants, nearly always)
// are redacted once, not on every record. A slot is chosen by the address
// of the key's bytes, which is the same for every use of a constant, and a
// hit compares the whole key, so that another key at a reused address is
// never taken for a remembered one. The cache only saves work: a miss (a
// key from user input, or one pushed out by another) is mapped in full.
// It is safe for concurrent use; the zero value is empty.
type keyCache struct {
	slots [keyCacheSize]atomic.Pointer[string]
}

func (c *keyCache) slot(k string) *atomic.Pointer[string] {
	p := uintptr(unsafe.Pointer(unsafe.StringData(k)))
	return &c.slots[(p>>3^p>>11^uintptr(len(k)))&(keyCacheSize-1)]
}

// has reports whether k is remembered as clean.
func (c *keyCache) has(k string) bool {
	if k == "" {
		return true // the empty key needs nothing
	}
	e := c.slot(k).Load()
	return e != nil && *e == k
}

// add remembers k as clean, in place of the key in its slot. Keys longer
// than maxCachedKey are not remembered: they are rare, and would be kept
// alive by the cache.
func (c *keyCache) add(k string) {
	if len(k) <= maxCachedKey {
		c.slot(k).Store(&k)
	}
}

// maxCachedKey is the longest key a keyCache remembers.
const maxCachedKey = 128
