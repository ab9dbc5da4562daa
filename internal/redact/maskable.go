package redact

// Maskable reports whether v, a value found in configuration (an
// environment variable, a secret file), is long enough and varied enough to
// be registered with [Redactor.Mask]: masking a value blanks it from every
// string logged, so a value that is an ordinary word would blank that word
// everywhere (POSTGRES_PASSWORD=postgres would erase "postgres" from every
// line). v must be:
//
//   - 8 to MaxKnownLen bytes long;
//
//   - made of at least 5 distinct bytes ("aaaaaaaa", "abababab" are out);
//
//   - no sequence: no run of bytes that each repeat the one before, or each
//     follow or precede it by one ("aaaa", "abcd", "4321"), as long as half
//     of it ("abcdefgh", "0123456789", "xyz0000000ab" are out);
//
//   - when shorter than 12 bytes, not word-like: not letters alone, all of
//     one case after an optional capital ("postgres", "changeme",
//     "Password"), nor digits alone ("20240101"), nor such a word followed
//     by digits and punctuation only ("admin123", "Summer2024!",
//     "changeme!"). A random value of 8 to 11 letters of one case is
//     refused too: that is the price of the rule.
//
//   - when 12 bytes or longer, not one or two plain words: letters alone,
//     each word lower case, capitalized or in capitals, whose letter pairs
//     are mostly common in English ("administrator", "configuration",
//     "production_database", "AdminPassword"; see plainWords).
//
// Values of 12 bytes or more that pass these tests are accepted, whatever
// their alphabet: random ones of lower-case letters (but for about one in
// two hundred that reads like English), hex, digits, base64, passphrases of
// three words or more. Dictionary words with substitutions ("Pa55w0rd")
// or a digit ("administrator1") pass: the rule judges shape, not a
// dictionary.
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
	if len(v) < 12 {
		return !wordLike(v)
	}
	return !plainWords(v)
}

// plainWords reports whether v is one or two words of letters alone, as
// text would hold them: segments of letters, split by one of - _ . or a
// space or at a camelCase boundary, each lower case, capitalized or in
// capitals, whose letter pairs are mostly common in English
// (englishPair, three pairs in four at least): "administrator",
// "Configuration", "production_database", "AdminPassword". A random string
// of letters has fewer such pairs (a third, on average): of random
// lower-case values of 12 to 16 letters, about one in two hundred is
// refused (and is still redacted by key and by pattern). Three words or
// more are a passphrase ("correct horse battery staple"), which no
// ordinary text holds whole.
func plainWords(v string) bool {
	words, pairs, common := 0, 0, 0
	for i := 0; i < len(v); {
		if words > 0 {
			if c := v[i]; c == '-' || c == '_' || c == '.' || c == ' ' {
				i++
			} else if !maskUpper(c) {
				return false
			}
		}
		// A word: capitals, then lower-case letters; a run of capitals
		// followed by a lower-case letter gives its last to the next word.
		j := i
		for j < len(v) && maskUpper(v[j]) {
			j++
		}
		if j < len(v) && maskLower(v[j]) {
			if j-i > 1 {
				j--
			}
			for j < len(v) && maskLower(v[j]) {
				j++
			}
		}
		if j == i {
			return false
		}
		words++
		if words > 2 {
			return false
		}
		for k := i + 1; k < j; k++ {
			pairs++
			if englishPair(v[k-1], v[k]) {
				common++
			}
		}
		i = j
	}
	return pairs > 0 && 4*common >= 3*pairs
}

// englishPairs are 219 of the most frequent letter pairs of English text
// (the head of Peter Norvig's bigram counts over the Google Books corpus):
// a third of the 676 pairs, which make up most of the pairs of its words.
const englishPairs = "th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng " +
	"se ha as ou io le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur ca el ta la ns " +
	"di fo ho pe ec pr no ct us ac ot il tr ly nc et ut ss so rs un lo wa ge ie wh ee wi em ad ol " +
	"rt po we na ul ni ts mo ow pa im mi ai sh ir su id os iv ia am fi ci vi pl ig tu ev ld ry mp " +
	"fe bl ab gh ty op wo sa ay ex ke fr oo av ag if ap gr od bo sp rd do uc bu ei ov by rm ep tt " +
	"oc fa ef cu rn sc gi da yo cr cl du ga qu ue ff ba ls va um pp ua up lu go ht ru ug ds lt " +
	"pi rc rr eg au ck ew mu br bi pt ak pu ui rg ib tl ny ki rk ys ob mm fu ph og ms ye ud mb ip"

var englishPairSet = func() (t [26][26]bool) {
	for i := 0; i+1 < len(englishPairs); i += 3 {
		t[englishPairs[i]-'a'][englishPairs[i+1]-'a'] = true
	}
	return t
}()

// englishPair reports whether a and b, letters in any case, are one of englishPairs.
func englishPair(a, b byte) bool { return englishPairSet[a|0x20-'a'][b|0x20-'a'] }

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
