package redact

// Maskable reports whether v, a value found in configuration (an
// environment variable, a secret file), is long enough and varied enough to
// be registered with [Redactor.Mask]: masking a value blanks it from every
// string logged, so a value that is an ordinary word would blank that word
// everywhere (POSTGRES_PASSWORD=postgres would erase "postgres" from every
// line). v must be:
//
//   - 8 to MaxKnownLen bytes long;
//   - made of at least 5 distinct bytes ("aaaaaaaa", "abababab" are out);
//   - no sequence: no run of bytes that each repeat the one before, or each
//     follow or precede it by one ("aaaa", "abcd", "4321"), as long as half
//     of it ("abcdefgh", "0123456789", "xyz0000000ab" are out);
//   - when shorter than 12 bytes, not word-like: not letters alone, all of
//     one case after an optional capital ("postgres", "changeme",
//     "Password"), nor digits alone ("20240101"), nor such a word followed
//     by digits and punctuation only ("admin123", "Summer2024!",
//     "changeme!"). A random value of 8 to 11 letters of one case is
//     refused too: that is the price of the rule.
//
// Values of 12 bytes or more that pass the first three tests are accepted,
// whatever their alphabet: random ones of lower-case letters, hex, digits,
// base64, passphrases of several words. Dictionary words with substitutions
// ("Pa55w0rd") pass: the rule judges shape, not a dictionary.
func Maskable(v string) bool {
	if len(v) < 8 || len(v) > MaxKnownLen {
		return false
	}
	var seen [256]bool
	distinct := 0
	run, longest, step := 1, 1, 2 // the longest run of bytes with one step of -1, 0 or +1
	for i := 0; i < len(v); i++ {
		if !seen[v[i]] {
			seen[v[i]] = true
			distinct++
		}
		if i == 0 {
			continue
		}
		switch d := int(v[i]) - int(v[i-1]); {
		case d < -1 || d > 1:
			run, step = 1, 2
		case d == step:
			run++
		default:
			run, step = 2, d
		}
		longest = max(longest, run)
	}
	if distinct < 5 || 2*longest >= len(v) {
		return false
	}
	return len(v) >= 12 || !wordLike(v)
}

// wordLike reports whether v is capitals, or at most one capital and
// lower-case letters, followed by digits and ASCII punctuation only (each
// part may be empty).
func wordLike(v string) bool {
	i := 0
	for i < len(v) && maskUpper(v[i]) {
		i++
	}
	if i <= 1 {
		for i < len(v) && maskLower(v[i]) {
			i++
		}
	}
	for ; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || maskUpper(c) || maskLower(c) {
			return false
		}
	}
	return true
}

func maskUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func maskLower(c byte) bool { return c >= 'a' && c <= 'z' }
