package logging

import (
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The rule: a rune is written as it is when unicode.IsPrint reports it
// printable (letters, marks, numbers, punctuation and symbols of every script,
// and the ASCII space), the rule of strconv.Quote and slog's TextHandler.
// Every other rune is escaped: controls, format characters (category Cf:
// zero-width space, joiners, BOM, soft hyphen, bidi controls, tag
// characters…), spaces other than U+0020, line and paragraph separators,
// private-use and unassigned code points (as of the Unicode version of the
// Go release that builds the program). Escape syntax used by [Sanitize]
// (documented in SECURITY.md):
//
//	LF, CR, TAB                          \n  \r  \t
//	other C0 controls, DEL               \x00 … \x1f, \x7f
//	invalid UTF-8 byte                   \xNN (the byte's value)
//	other runes up to U+FFFF             \uNNNN       (U+00A0 → \u00a0, U+200B → \u200b)
//	other runes above U+FFFF             \UNNNNNNNN   (U+E0041 → \U000e0041)
//
// Hex digits are lower case, as strconv.Quote writes them. A backslash in the
// input is not doubled: the escapes are for a human reader and cannot create
// a line break or hide text, so a literal `\n` in the input is harmless.

// asciiUnsafe marks the ASCII bytes that are escaped: C0 controls and DEL.
var asciiUnsafe = func() (t [256]bool) {
	for b := 0; b < 0x20; b++ {
		t[b] = true
	}
	t[0x7f] = true
	for b := 0x80; b < 0x100; b++ {
		t[b] = true // non-ASCII: decided by dangerousRune after decoding
	}
	return t
}()

// plainRun returns an index j >= i such that s[i:j] is plain: printable
// ASCII other than '"' and '\\', which needs no escaping in any mode. It
// tests eight bytes at a time (SWAR) and stops at the first block of eight
// that is not plain or when fewer than eight bytes are left (a last block
// that overlaps the one before may still make it return len(s)), so the
// byte loops that follow it run only near bytes that need a look.
func plainRun(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if !plainWord(word8(s[i : i+8])) {
			return i
		}
	}
	if i < len(s) && len(s) >= 8 && plainWord(word8(s[len(s)-8:])) {
		return len(s)
	}
	return i
}

// word8 is the first eight bytes of w as one little-endian word (one load
// where the processor allows it).
func word8(w string) uint64 {
	_ = w[7]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// plainWord reports whether the eight bytes of x are all plain.
func plainWord(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// A high bit in t marks (at least) one byte that is below 0x20, '"',
	// '\\', DEL or not ASCII: x itself, x-0x20 (a borrow), and Mycroft's
	// zero-byte test on x^c for each of the three bytes.
	q, bs, del := x^(ones*'"'), x^(ones*'\\'), x^(ones*0x7f)
	t := x | (x - ones*0x20) | (q-ones)&^q | (bs-ones)&^bs | (del-ones)&^del
	return t&highs == 0
}

// printBits holds one bit per rune of planes 0 and 1 (the BMP, and the
// emoji, symbols and historic scripts of plane 1), set where unicode.IsPrint
// reports the rune printable. It is built from unicode.PrintRanges, the
// tables IsPrint reads, so that the common runes cost one load instead of a
// binary search per category.
var printBits = func() (t [0x20000 / 64]uint64) {
	set := func(lo, hi, stride uint32) {
		hi = min(hi, uint32(len(t))*64-1)
		for r := lo; r <= hi; {
			if stride != 1 {
				t[r>>6] |= 1 << (r & 63)
				r += stride
				continue
			}
			end := min(hi, r|63) // the range's bits in the word of r, at once
			t[r>>6] |= ^uint64(0) >> (63 - (end - r)) << (r & 63)
			r = end + 1
		}
	}
	set(' ', ' ', 1)
	for _, tab := range unicode.PrintRanges {
		for _, rg := range tab.R16 {
			set(uint32(rg.Lo), uint32(rg.Hi), uint32(rg.Stride))
		}
		for _, rg := range tab.R32 {
			set(rg.Lo, rg.Hi, rg.Stride)
		}
	}
	return t
}()

// dangerousRune reports whether r (already decoded, valid) must be escaped:
// whether unicode.IsPrint reports it not printable. Above plane 1 (rare: CJK
// extensions, tag characters, private use) it asks strconv.IsPrint, which
// has the definition of unicode.IsPrint and searches one table, not five.
// It is small enough to be inlined into the loops that call it.
func dangerousRune(r rune) bool {
	if r < rune(len(printBits)*64) { // r >= 0: a decoded rune
		return printBits[r>>6]&(1<<(r&63)) == 0
	}
	return !strconv.IsPrint(r)
}

// IsClean reports whether s would come back from [Sanitize] unchanged, that is,
// whether it is valid UTF-8 with no rune that [Sanitize] escapes.
// It does not allocate.
func IsClean(s string) bool {
	for i := plainRun(s, 0); i < len(s); {
		b := s[i]
		if !asciiUnsafe[b] {
			i++
			continue
		}
		if b < utf8.RuneSelf {
			return false
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || dangerousRune(r) {
			return false
		}
		i += size
	}
	return true
}

// Sanitize returns s with every character that could forge a log line or hide
// text escaped visibly: every rune that unicode.IsPrint reports not printable,
// which includes CR, LF and every other C0 control, DEL, the C1 controls
// (including NEL), ESC and thus every ANSI/VT escape sequence, U+2028 and
// U+2029, the bidi controls, zero-width characters, the BOM, the soft hyphen,
// tag characters and spaces other than U+0020; and each byte of invalid
// UTF-8. Printable text of every script is left as it is. A clean string is
// returned as is, without allocating.
// The escape syntax is described in SECURITY.md.
func Sanitize(s string) string {
	if IsClean(s) {
		return s
	}
	return string(appendEscaped(make([]byte, 0, len(s)+16), s, quoteNone))
}

// quoting modes for appendEscaped.
const (
	quoteNone = iota // escapes only
	quoteText        // also \" and \\, for a double-quoted TEXT value
	quoteJSON        // JSON string content: JSON's own escapes, which decode to the rune itself
	// quoteNoneButSlogJSON: escapes only, but not of the runes slog's
	// JSONHandler escapes itself (C0 controls, U+2028, U+2029).
	quoteNoneButSlogJSON
	// quoteNoneButSlogText: escapes only of DEL, the one dangerous rune
	// slog's TextHandler writes as it is (it quotes a string holding any
	// other, escaping it as strconv.Quote does).
	quoteNoneButSlogText
)

const hexDigits = "0123456789abcdef"

// appendEscaped appends s to dst with dangerous runes escaped (see Sanitize)
// and, depending on mode, the quoting of the target syntax applied.
func appendEscaped(dst []byte, s string, mode int) []byte {
	start := 0
	for i := plainRun(s, 0); i < len(s); {
		b := s[i]
		if !asciiUnsafe[b] {
			if mode != quoteNone && (b == '"' || b == '\\') {
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', b)
				i++
				start = i
				continue
			}
			i++
			continue
		}
		var r rune
		size := 1
		if b < utf8.RuneSelf {
			r = rune(b)
		} else {
			r, size = utf8.DecodeRuneInString(s[i:])
			if !(r == utf8.RuneError && size == 1) && !dangerousRune(r) {
				i += size
				continue
			}
		}
		if mode == quoteNoneButSlogJSON && (r < 0x20 || r == '\u2028' || r == '\u2029') ||
			mode == quoteNoneButSlogText && r != 0x7f {
			i += size // left to slog's handler, which escapes it once
			continue
		}
		dst = append(dst, s[start:i]...)
		if mode == quoteJSON {
			// JSON: one escape, JSON's own, as slog and encoding/json
			// write it: the line holds no dangerous rune, and decoding
			// gives back the rune itself (see appendJSONEscape).
			dst = appendJSONEscape(dst, r, size, b)
			i += size
			start = i
			continue
		}
		// TEXT, quoted or not: one escape, as slog's TextHandler and
		// strconv.Quote write it (a quoted value escapes the backslashes
		// of its input, so the escape is unambiguous).
		dst = append(dst, '\\')
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, 'x', hexDigits[b>>4], hexDigits[b&0xf])
		case r == '\n':
			dst = append(dst, 'n')
		case r == '\r':
			dst = append(dst, 'r')
		case r == '\t':
			dst = append(dst, 't')
		case r < utf8.RuneSelf:
			dst = append(dst, 'x', hexDigits[b>>4], hexDigits[b&0xf])
		case r <= 0xffff:
			dst = append(dst, 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		default:
			dst = append(dst, 'U', '0', '0', hexDigits[r>>20&0xf], hexDigits[r>>16&0xf],
				hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// appendJSONEscape appends the JSON escape of the dangerous rune r (size
// bytes of input, the first b; RuneError of size 1 is the invalid byte b): \n, \r, \t,
// \u00XX for other controls, \uXXXX, and a surrogate pair beyond the BMP.
// An invalid byte, which no JSON string can hold, is written as the text
// \xNN (its backslash escaped), as TEXT writes it.
func appendJSONEscape(dst []byte, r rune, size int, b byte) []byte {
	switch {
	case r == utf8.RuneError && size == 1:
		// Not \ufffd: it would decode as the rune U+FFFD, which a key may
		// hold as it is, and two keys written apart would read alike.
		return append(dst, '\\', '\\', 'x', hexDigits[b>>4], hexDigits[b&0xf])
	case r == '\n':
		return append(dst, '\\', 'n')
	case r == '\r':
		return append(dst, '\\', 'r')
	case r == '\t':
		return append(dst, '\\', 't')
	case r > 0xffff:
		r1, r2 := utf16.EncodeRune(r)
		return appendU4(appendU4(dst, r1), r2)
	}
	return appendU4(dst, r)
}

// appendU4 appends \uXXXX.
func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// truncate cuts s to at most max bytes (on a rune boundary) and marks how
// many bytes were cut. max <= 0 means no limit.
func truncate(s string, max int) string { return truncateMore(s, max, 0) }

// truncateMore is truncate for a string that had more bytes after s, which
// were never looked at: they are counted as cut, and always marked.
func truncateMore(s string, max, more int) string {
	if max <= 0 || len(s) <= max && more == 0 {
		return s
	}
	cut := min(max, len(s))
	for cut > 0 && cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[truncated " + strconv.Itoa(len(s)-cut+more) + " bytes]"
}
