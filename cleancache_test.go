package logging

import (
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// A message is remembered as clean by the address of its bytes, and a hit
// compares the whole message with the cache's own copy: other bytes at the
// same address and of the same length (a buffer a program turned into a
// string with unsafe, and wrote again) are mapped in full, and a secret
// in them redacted.
func TestMessageCacheComparesContent(t *testing.T) {
	m := &attrMapper{red: newRedactor(newConfig())}
	tok := redacttest.GHToken("gh" + "p")
	clean := "deploy finished " + strings.Repeat("x", len(tok))
	buf := []byte(clean)
	s := unsafe.String(&buf[0], len(buf))
	for range 2 { // remembered the second time
		b := newBudget()
		out, changed := m.message(s, &b)
		require.False(t, changed)
		require.Equal(t, clean, out)
	}
	_, ok := m.msgs.get(s)
	require.True(t, ok, "remembered as clean")
	copy(buf[len("deploy finished "):], tok)
	b := newBudget()
	out, changed := m.message(s, &b)
	assert.True(t, changed)
	assert.NotContains(t, out, tok)
	assert.Contains(t, out, "[REDACTED")
}

// A message remembered as clean holds a value registered later with Mask:
// Mask makes the cache forget, and the next record masks it.
func TestMessageCacheForgetsOnMask(t *testing.T) {
	for _, path := range []string{"setup", "wrap"} {
		t.Run(path, func(t *testing.T) {
			v := knownValue()
			msg := "connecting with " + v // one string, one address, as a constant has
			var out *syncBuffer
			var l *slog.Logger
			if path == "setup" {
				out = setup(t, WithOutputType(OutputJSON))
				l = Logger("m")
			} else {
				out = &syncBuffer{}
				l = slog.New(Wrap(slog.NewJSONHandler(out, nil)))
			}
			for range 3 {
				l.Info(msg)
			}
			require.Equal(t, 3, strings.Count(out.String(), v), "not registered yet: written as it is")
			require.NoError(t, Mask(v))
			l.Info(msg)
			var last string
			for _, line := range strings.Split(out.String(), "\n") {
				if strings.Contains(line, "connecting with") {
					last = line
				}
			}
			assert.NotContains(t, last, v)
			assert.Contains(t, last, "connecting with [REDACTED:known-secret]")
		})
	}
}

// A constant message costs no allocation once remembered, and formatted
// messages (a new string for each record) are not remembered: they never
// fill the cache.
func TestMessageCacheAdmitsRepeatedMessagesOnly(t *testing.T) {
	m := &attrMapper{red: newRedactor(newConfig())}
	for i := range 1000 {
		b := newBudget()
		m.message(strings.Repeat("y", 10)+string(rune('a'+i%26)), &b) // a new string each time
	}
	for i := range m.msgs.slots {
		require.Nil(t, m.msgs.slots[i].Load(), "a message seen once is not remembered")
	}
	const msg = "request served"
	for range 2 {
		b := newBudget()
		m.message(msg, &b)
	}
	allocs := testing.AllocsPerRun(100, func() {
		b := newBudget()
		m.message(msg, &b)
	})
	assert.Zero(t, allocs)
	_, ok := m.msgs.get(msg)
	assert.True(t, ok)
}

// A pair is remembered at its second miss, found again by its strings,
// and never answered for other strings.
func TestPathCache(t *testing.T) {
	var c pathCache
	g, k := "api", "key"
	_, ok := c.get(g, k)
	assert.False(t, ok)
	c.add(g, k, true)
	_, ok = c.get(g, k)
	assert.False(t, ok, "remembered only at the second miss")
	c.add(g, k, true)
	secret, ok := c.get(g, k)
	assert.True(t, ok)
	assert.True(t, secret)
	_, ok = c.get(g, "kez")
	assert.False(t, ok, "another key")
	_, ok = c.get(strings.Clone(g)+"x", k)
	assert.False(t, ok, "another group")
}

// Pairs whose slots are taken do not push out the pairs remembered there:
// two pairs a program writes on every record, in one slot, would
// otherwise replace each other at three allocations a record. Three pairs
// of one slot: the first two are remembered, the third is not, and
// missing again pushes neither out.
func TestPathCacheKeepsItsEntries(t *testing.T) {
	var c pathCache
	key := "key"
	var pairs []string
	slot := -1
	for i := 0; i < 1<<16 && len(pairs) < 3; i++ {
		g := "group" + strconv.Itoa(i) // each at an address of its own
		s, _ := c.slot(g, key)
		if slot < 0 {
			slot = s
		}
		if s == slot {
			pairs = append(pairs, g)
		}
	}
	require.Len(t, pairs, 3, "three groups in one slot")
	for _, g := range pairs {
		c.add(g, key, false)
		c.add(g, key, false)
	}
	for i, g := range pairs[:2] {
		_, ok := c.get(g, key)
		assert.True(t, ok, "pair %d remembered", i)
	}
	_, ok := c.get(pairs[2], key)
	assert.False(t, ok, "both slots taken: the third pair is not remembered")
	for range 3 {
		c.add(pairs[2], key, false)
	}
	for i, g := range pairs[:2] {
		_, ok := c.get(g, key)
		assert.True(t, ok, "pair %d still remembered", i)
	}
	assert.Zero(t, testing.AllocsPerRun(10, func() { c.add(pairs[2], key, false) }), "a pair not remembered costs no allocation")
}
