package logging

import (
	"strings"
	"sync/atomic"
	"unsafe"
)

// cleanCacheSize is how many strings a cleanCache remembers (a power of
// two; two slots for each string).
const (
	cleanCacheBits = 8
	cleanCacheSize = 1 << cleanCacheBits
)

// cleanCache remembers strings that the attrMapper left unchanged (keys,
// and whether each names a secret; messages), so that the keys and
// messages a program writes on every record (string constants, nearly
// always) are redacted and matched once, not on every record. A slot is
// chosen by the address of the string's bytes, which is the same for every
// use of a constant, and a hit compares the whole string with a copy kept
// by the cache, so that other bytes at the same address (a buffer turned
// into a string with unsafe and written again) are never taken for a
// remembered string. A
// string is remembered the second time it misses at the same address (so
// that strings made for one record, such as formatted messages, do not
// fill the cache at an allocation each). The cache only saves work: a miss
// (a string from user input, or one pushed out by another) is mapped in
// full. It is safe for concurrent use; the zero value is empty.
type cleanCache struct {
	slots [cleanCacheSize]atomic.Pointer[keyEntry]
	seen  [cleanCacheSize]atomic.Uint64 // the hash of the string that last missed, by first slot
	// gen is moved on by forget; entries of an older generation are not
	// used. An entry is stored with the generation read before its key was
	// mapped, so that a key mapped before a Mask and stored after it is
	// never used.
	gen atomic.Uint64
}

// keyEntry is a clean string and, for a key, whether it names a secret.
type keyEntry struct {
	key    string
	secret bool
	gen    uint64
}

// slot is the first of k's two slots (the other is the one beside it): a
// multiplicative hash of the address and the length (the linker packs
// string constants byte by byte, so that the low bits of nearby keys'
// addresses alone would often collide).
func (c *cleanCache) slot(k string) (int, uint64) {
	p := uint64(uintptr(unsafe.Pointer(unsafe.StringData(k))))
	h := (p ^ uint64(len(k))<<48) * 0x9E3779B97F4A7C15
	return int(h >> (64 - cleanCacheBits)), h
}

// get returns what is remembered of k: ok when k is remembered as clean,
// and then whether it names a secret.
func (c *cleanCache) get(k string) (secret, ok bool) {
	i, _ := c.slot(k)
	gen := c.gen.Load()
	for _, j := range [2]int{i, i ^ 1} {
		if e := c.slots[j].Load(); e != nil && e.key == k && e.gen == gen {
			return e.secret, true
		}
	}
	return false, false
}

// generation is the generation to store a key mapped from now on with.
func (c *cleanCache) generation() uint64 { return c.gen.Load() }

// forget makes every entry stale: the redactor changed (Mask).
func (c *cleanCache) forget() { c.gen.Add(1) }

// add remembers k as clean, and whether it names a secret, in one of its
// two slots that is empty or holds an entry of an older generation, if k
// missed at the same address before. A string whose slots both hold
// current entries is not remembered: replacing them would let two strings
// used on every record push each other out, at an allocation per record;
// the string is then mapped in full each time, as without a cache.
// Callers leave out long strings (maxCachedKey, maxCachedMessage): they
// are rarely written twice, and would be kept alive by the cache.
func (c *cleanCache) add(k string, secret bool, gen uint64) {
	i, h := c.slot(k)
	if c.seen[i].Swap(h) != h {
		return // first seen here: remembered if it misses again
	}
	cur := c.gen.Load()
	for _, j := range [2]int{i, i ^ 1} {
		if e := c.slots[j].Load(); e == nil || e.gen != cur {
			if c.slots[j].CompareAndSwap(e, &keyEntry{strings.Clone(k), secret, gen}) {
				return
			}
		}
	}
}

// maxCachedKey is the longest key a cleanCache remembers, and
// maxCachedMessage the longest message.
const (
	maxCachedKey     = 128
	maxCachedMessage = 256
)

// pathCache remembers whether group.key names a secret (attrMapper.
// pathSecret) for the pairs a program writes again and again: a slot is
// chosen by the addresses of the two strings' bytes, as cleanCache's is,
// and a hit compares both strings with the copies kept. A pair is
// remembered the second time it misses at the same addresses, in one of
// two slots, and never pushed out. The answer depends only on the mapper's
// key settings, which never change. It is safe for concurrent use; the
// zero value is empty.
type pathCache struct {
	slots [cleanCacheSize]atomic.Pointer[pathEntry]
	seen  [cleanCacheSize]atomic.Uint64
}

// pathEntry is a remembered pair and its answer.
type pathEntry struct {
	group, key string
	secret     bool
}

// slot is the pair's slot and hash.
func (c *pathCache) slot(group, key string) (int, uint64) {
	pg := uint64(uintptr(unsafe.Pointer(unsafe.StringData(group))))
	pk := uint64(uintptr(unsafe.Pointer(unsafe.StringData(key))))
	h := (pg ^ pk*0xBF58476D1CE4E5B9 ^ uint64(len(group))<<48 ^ uint64(len(key))<<32) * 0x9E3779B97F4A7C15
	return int(h >> (64 - cleanCacheBits)), h
}

// get returns the remembered answer for the pair, and whether there is one.
func (c *pathCache) get(group, key string) (secret, ok bool) {
	i, _ := c.slot(group, key)
	for _, j := range [2]int{i, i ^ 1} {
		if e := c.slots[j].Load(); e != nil && e.group == group && e.key == key {
			return e.secret, true
		}
	}
	return false, false
}

// add remembers the answer for the pair, at its second miss, in one of
// its two slots that is empty. A pair whose slots are both taken is not
// remembered: replacing an entry would let two pairs written on every
// record push each other out, at three allocations per record; the pair
// is then joined and matched each time, as without a cache.
func (c *pathCache) add(group, key string, secret bool) {
	i, h := c.slot(group, key)
	if c.seen[i].Swap(h) != h {
		return
	}
	for _, j := range [2]int{i, i ^ 1} {
		if c.slots[j].Load() == nil {
			if c.slots[j].CompareAndSwap(nil, &pathEntry{strings.Clone(group), strings.Clone(key), secret}) {
				return
			}
		}
	}
}
