package redact

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Hand-written matchers for the generic rules that fire most often in real
// text, and for the rules whose regexp would cost more than a pass over the
// text. Each has a regular expression in builtinRules that documents it (and
// that the naive benchmark runs); the redactor calls these instead, because a
// regexp without a literal prefix scans the whole string slowly.
//
// Each matcher also returns how many bytes it examined, an upper bound of
// its work that tests read (see Redactor.work) to prove it linear: every
// matcher costs O(len(s)) whatever s holds, because no scan starts again
// from each candidate (a cursor resumes where the last scan stopped) and a
// backward scan never crosses the byte that ended the previous one.

const (
	letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	digits  = "0123456789"
)

// byteSet is a set of bytes, for scans.
type byteSet [256]bool

// not returns the complement of b.
func (b *byteSet) not() *byteSet {
	var c byteSet
	for i := range c {
		c[i] = !b[i]
	}
	return &c
}

func setOf(chars string) *byteSet {
	var b byteSet
	for i := 0; i < len(chars); i++ {
		b[chars[i]] = true
	}
	return &b
}

// cursor answers "where is the first byte of set at or after pos" (len(s)
// if none) for positions asked in increasing order: a scan resumes where
// the last one stopped, so that over one string each byte is examined at
// most once, however many positions are asked. (A position below the last
// one asked gets a new scan: correct, not amortized.)
type cursor struct {
	set      *byteSet
	from, at int // no byte of set in s[from:at]; s[at] is one, or at == len(s)
}

func newCursor(set *byteSet) cursor { return cursor{set: set, from: 1} } // from > at: nothing known yet

// next returns the first index i >= pos with s[i] in the set, or len(s),
// and adds the bytes it examined to *work.
func (c *cursor) next(s string, pos int, work *int) int {
	if pos >= c.from && pos <= c.at {
		return c.at
	}
	i := pos
	for i < len(s) && !c.set[s[i]] {
		i++
	}
	*work += i - pos + 1
	c.from, c.at = pos, i
	return i
}

// kvSecretKeys are the key stems whose value in key=value text is always
// secret, whatever it holds: passwords, secrets and keys. A key matches as
// keySet describes (any case, any separator, whole segments for the short
// stems, suffixes such as "_confirmation").
var kvSecretKeys = newKeySet(kvSecretStems)

var kvSecretStems = []string{
	"password", "passwd", "passphrase", "pass", "pwd", "secret", "apikey", "accesskey",
	"secretkey", "privatekey", "clientsecret", "credential", "credentials", "signature",
	"passcode", "signingkey", "encryptionkey", "masterkey", "hmackey",
}

// kvTokenKeys are the key stems of tokens and sessions. Their value is
// secret whatever its characters and length ("token=abc123", a
// percent-encoded access_token), except for the object handles that system
// logs print under the same names (see isHandle): Android's
// "token=Token{a64f992 ActivityRecord{…}}", macOS's "token:
// com.apple.xpc.activity/4505", ZooKeeper's "sessionid: 0x34ed9ac1c1e00ae".
// The keys that hold passwords and keys (kvSecretKeys) have no such guard:
// no log prints a handle under them.
var kvTokenKeys = newKeySet(kvTokenStems)

var kvTokenStems = []string{"token", "accesskeyid", "sessionid", "sessid", "sessiontoken", "sessionkey"}

// kvSessionIDKeys are the keys named "sid", the short name of a session id
// (Express's connect.sid, a login line's "sid=…", userSid), as a whole
// segment: not "ssid" (a Wi-Fi network), "resid", "inside". The same name
// holds short numbers and names that are no credential (ZooKeeper's "sid:1",
// a process's session id, Oracle's "(SID=ORCL)", a Windows security
// identifier), so that its value must look like a session id too (see
// sessionIDValue).
var kvSessionIDKeys = newKeySet(kvSessionIDStems)

var kvSessionIDStems = []string{"sid"}

// minSessionID is the fewest bytes of a value under "sid" that is redacted:
// a session id worth the name holds at least 64 bits (OWASP), 11 base64
// characters, and the short names and numbers of kvSessionIDKeys are fewer
// than 8.
const minSessionID = 8

// sessionIDValue reports whether v, the value of a "sid" key, may be a
// session id: at least minSessionID bytes before any closing bracket (in an
// Oracle connect descriptor, "(SID=ORCL)(SERVER=DEDICATED)", the value runs
// on: see valueEnds), not a number of 10 digits or fewer (a process's or a
// server's id), and not a Windows security identifier (S-1-5-21-…). It
// reads at most the value's first 11 bytes: the value of a key repeated
// may run to the end of the text.
func sessionIDValue(v string) bool {
	head := v[:min(len(v), 11)]
	if i := strings.IndexAny(head, ")]}"); i >= 0 {
		head, v = head[:i], head[:i]
	}
	if len(v) < minSessionID || (v[0] == 'S' || v[0] == 's') && v[1] == '-' && isDigit(v[2]) {
		return false
	}
	return len(v) > 10 || strings.Trim(head, digits) != ""
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

var (
	valueStop  = setOf(" \t\r\n,;&\"'<>") // ends a value without quotes (see valueEnds)
	newlines   = setOf("\r\n")
	dquote     = setOf(`"`)
	squote     = setOf("'")
	lessThan   = setOf("<")
	assignTrig = setOf("=:,>") // the bytes findAssignments looks at
	// afterCloser: a closing bracket followed by one of these (or the end)
	// ends a value without quotes.
	afterCloser = setOf(" \t\r\n,;.:&\"'<>)]}")
)

// valueEnds reports whether an unquoted value ends at s[i]: at a byte of
// valueStop; at a closing bracket that ends a word ("(token=abc)",
// "[api_key: abc]", "S(aws_secret_access_key=…)": the bracket is the
// text's, not the secret's, and must stay); or at an escaped newline, tab
// or quote (a .env file inside a JSON string: "API_TOKEN=abc\nDEBUG=1").
func valueEnds(s string, i int) bool {
	switch c := s[i]; {
	case valueStop[c]:
		return true
	case c == ')' || c == ']' || c == '}':
		return i+1 == len(s) || afterCloser[s[i+1]]
	case c == '\\':
		return i+1 < len(s) && (s[i+1] == 'n' || s[i+1] == 'r' || s[i+1] == 't' || s[i+1] == '"' || s[i+1] == '\'')
	}
	return false
}

// endCursor is a cursor over the positions where valueEnds holds.
type endCursor struct{ from, at int }

func (c *endCursor) next(s string, pos int, work *int) int {
	if pos >= c.from && pos <= c.at {
		return c.at
	}
	i := pos
	for i < len(s) && !valueEnds(s, i) {
		i++
	}
	*work += i - pos + 2
	c.from, c.at = pos, i
	return i
}

// typeWords are the types of a typed declaration between a key and its
// value: Go's "var apiToken string = …", Kotlin's and TypeScript's
// "val apiToken: String = …", Rust's "let api_token: &str = …".
var typeWords = []string{"string", "String", "str", "&str", "[]byte", "byte", "*string"}

func isTypeWord(w string) bool { return slices.Contains(typeWords, w) }

// typeEnd: a type word is made of key bytes and these.
func typeByte(c byte) bool { return isKeyByte(c) || c == '[' || c == ']' || c == '&' || c == '*' }

// envLookups start an expression that reads a value from the environment
// by its name, in the languages whose code and configuration logs print:
// Python, Go, Ruby, Node, Deno and Vite, Java, C#, C and PHP, Laravel,
// Perl, Rust.
var envLookups = []string{
	"os.environ[", "os.environ.get(", "os.getenv(", "os.Getenv(", "os.LookupEnv(", "ENV[", "ENV.fetch(",
	"process.env.", "process.env[", "Deno.env.get(", "import.meta.env.", "System.getenv(",
	"Environment.GetEnvironmentVariable(", "getenv(", "env(", "$_ENV[", "$_SERVER[", "$ENV{",
	"env::var(", "std::env::var(",
}

// envLookup reports whether the value that starts at s[v] looks a secret
// up by its name (password = os.environ["DB_PASSWORD"], token:
// process.env.API_TOKEN, System.getenv("DB_PASSWORD")): one of envLookups,
// then a name, in quotes (also escaped ones, \") or not. Such a value names
// where the secret is, not the secret, and is left whole; a literal
// default after the name (os.environ.get("DB_PASSWORD", "…")) is a setter
// call's value and is still redacted. It compares s[v:] with each lookup
// that starts with the same byte, and reads at most three bytes after the
// one that matches.
func envLookup(s string, v int, work *int) bool {
	for _, l := range envLookups {
		if l[0] != s[v] {
			continue
		}
		*work += len(l)
		if !strings.HasPrefix(s[v:], l) {
			continue
		}
		n := v + len(l)
		if n < len(s) && (s[n] == '"' || s[n] == '\'') {
			n++
		} else if n+1 < len(s) && s[n] == '\\' && s[n+1] == '"' {
			n += 2
		}
		*work += n - v - len(l) + 1
		return n < len(s) && isKeyByte(s[n])
	}
	return false
}

// sourceExts are the extensions of source files, in lowercase: a name that
// ends with one of them before ':' and a line number is a file's, not a
// key (see sourceFile).
var sourceExts = []string{
	"go", "py", "js", "ts", "jsx", "tsx", "mjs", "cjs", "java", "rb", "c", "h", "cc", "cpp", "cxx", "hpp", "hh",
	"rs", "kt", "kts", "swift", "php", "cs", "scala", "m", "mm", "pl", "pm", "sh", "ex", "exs", "erl", "hs",
	"lua", "dart", "groovy", "vue",
}

// lineNumber reports whether a line number starts at s[i]: digits, then
// no letter, digit or '_' (a value that only starts with digits, as
// "3kx9…" does, is no line number). It reads the digits, at most eight,
// and the byte after them, and adds them to *work.
func lineNumber(s string, i int, work *int) bool {
	j := i
	for j < len(s) && j-i < 8 && isDigit(s[j]) {
		j++
	}
	*work += j - i + 1
	return j > i && (j == len(s) || !(isLetterByte(s[j]) || isDigit(s[j]) || s[j] == '_'))
}

// sourceFile reports whether key, which a line number follows, is the
// name of a source file before its line number, as compilers, stack traces
// and test failures print it ("password_test.go:42: got …",
// "src/token.rs:12:5", "(Password.java:88)"): a name whose last dot starts
// one of sourceExts. It reads at most the key's last seven bytes.
func sourceFile(key string, work *int) bool {
	d := len(key) - 1
	for d > 0 && d >= len(key)-7 && key[d] != '.' {
		d--
	}
	*work += len(key) - d
	return d > 0 && key[d] == '.' && containsFold(sourceExts, key[d+1:])
}

// isHandle reports whether the value of a token or session key is an
// object handle that system logs print (see kvTokenKeys), not a
// credential: a 0x hex number (ZooKeeper session ids), a name followed by
// '{' or '@' (Java's and Android's toString: "Token{a64f992",
// "android.os.BinderProxy@2bd79ce"), or a reverse-DNS name
// ("com.apple.xpc.activity/4505"). It reads at most the value's first word.
func isHandle(v string) (bool, int) {
	if len(v) > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X') {
		i := 2
		for i < len(v) && (isDigit(v[i]) || v[i] >= 'a' && v[i] <= 'f' || v[i] >= 'A' && v[i] <= 'F') {
			i++
		}
		return i == len(v), i
	}
	i := 0
	dots, lowerOnly := 0, true
	for i < len(v) && (isKeyByte(v[i]) || v[i] == '$') {
		c := v[i]
		if c == '.' {
			dots++
		} else if !(c >= 'a' && c <= 'z') {
			lowerOnly = false
		}
		i++
	}
	if i == 0 || !isLetterByte(v[0]) {
		return false, i
	}
	if i < len(v) && (v[i] == '{' || v[i] == '@') {
		return true, i + 1
	}
	return lowerOnly && dots >= 2 && v[i-1] != '.', i
}

// findAssignments finds the values of secret keys in text: key=value,
// key: value, "key": "value", key => value, query parameters; the
// assignment operators := ::= ?= .= += (Go, Make, PHP); typed declarations
// ("var apiToken string = …", "val apiToken: String = …"); setter calls
// with a key string and a value string (System.setProperty("API_TOKEN",
// "…"), os.Setenv("DB_PASSWORD", "…")); XML elements and attributes (see
// xmlTag; an attribute password="…" is key="value"); and, under a quoted key, a JSON object or
// array, whose strings and scalars are redacted one by one (see walkJSON);
// an index that names a secret (os.environ["DB_PASSWORD"] = …, see
// indexKey); a YAML value on the line after its key, or a block scalar's
// text (see keyColumn, nextLine, yamlBlock), or the values and items of a
// YAML mapping or sequence under the key, one by one (see yamlNested).
// Which keys and which values:
// kvSecretKeys and kvTokenKeys, and kvSessionIDKeys ("sid") with
// sessionIDValue; not a count after a plural key nor true or false after a
// question (countOrFlag).
//
// Near misses it leaves: the shell's PWD (see keySet) and "pwd" followed by
// a path (a directory), go test's and automake's "--- PASS: TestName" (the
// key PASS in capitals before ':'), comparisons (==), URLs (scheme://), a
// source file's name before its line number ("password_test.go:42: got …",
// see sourceFile), a value that looks the secret up in the environment by
// its name (password = os.environ["DB_PASSWORD"], see envLookup).
//
// Every forward scan (a value's end, its closing quote) goes through a
// cursor, and the positions asked only grow, so that text made of one
// trigger repeated ("token=token=…", whose values all run to the end) costs
// one pass, not one pass per trigger. A key is read backwards no further
// than the previous trigger byte (= : , >), which no key, type or blank holds.
func findAssignments(s string, out [][2]int) ([][2]int, int) {
	work := len(s)
	var stop endCursor
	stop.from = 1
	nl, lt := newCursor(newlines), newCursor(lessThan)
	dq, sq := newCursor(dquote), newCursor(squote)
	tagFrom := 0 // the backward scans of xmlTag stop here: no byte is read by two
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !assignTrig[c] {
			continue
		}
		var k, end, v int // the key is s[k:end]; the value starts at v
		quotedKey := byte(0)
		switch c {
		case '=':
			if i+1 < len(s) && s[i+1] == '=' || i > 0 && s[i-1] == '=' { // a comparison
				continue
			}
			k = i
			if k > 0 && (s[k-1] == ':' || s[k-1] == '?' || s[k-1] == '.' || s[k-1] == '+') {
				k--
				if s[k] == ':' && k > 0 && s[k-1] == ':' {
					k--
				}
			}
			k, end, quotedKey = readKey(s, k, &work)
			if k == end && k > 0 && s[k-1] == ']' { // os.environ["DB_PASSWORD"] = …
				k, end = indexKey(s, k, &work)
			}
			if k < end && isTypeWord(s[k:end]) { // var apiToken string = …
				t := k
				if t >= 2 && s[t-2:t] == "[]" {
					t -= 2
				} else if t > 0 && (s[t-1] == '&' || s[t-1] == '*') {
					t--
				}
				for t > 0 && (s[t-1] == ' ' || s[t-1] == '\t') {
					t--
				}
				work += k - t
				if t < k {
					if k2, end2, _ := readKey(s, t, &work); k2 < end2 {
						k, end = k2, end2
					}
				}
			}
			v = i + 1
			if v < len(s) && s[v] == '>' {
				v++
			}
		case ':':
			if i+1 < len(s) && (s[i+1] == '=' || s[i+1] == ':' || s[i+1] == '/') { // := ::= scheme://
				continue
			}
			k, end, quotedKey = readKey(s, i, &work)
			if quotedKey == 0 && lineNumber(s, i+1, &work) && sourceFile(s[k:end], &work) { // password_test.go:42
				continue
			}
			v = i + 1
		case ',': // a setter call: f("KEY", "value")
			j := i
			for j > 0 && s[j-1] == ' ' {
				j--
			}
			work += i - j
			if j == 0 || s[j-1] != '"' && s[j-1] != '\'' {
				continue
			}
			q := s[j-1]
			k, end, _ = readKey(s, j, &work)
			if k == end || k == 0 || s[k-1] != q {
				continue
			}
			p := k - 1
			for p > 0 && s[p-1] == ' ' {
				p--
			}
			work += k - p
			if p == 0 || s[p-1] != '(' {
				continue
			}
			v = i + 1
			for v < len(s) && s[v] == ' ' {
				v++
			}
			work += v - i
			if v >= len(s) || s[v] != '"' && s[v] != '\'' {
				continue
			}
		case '>': // an XML start tag (see xmlTag)
			var next int
			out, next = xmlTag(s, tagFrom, i, out, &lt, &work)
			tagFrom = i + 1
			i = max(i, next-1)
			continue
		}
		if k >= end {
			continue
		}
		key := s[k:end]
		work += 3 * len(key) // the key sets read at most the key
		strong := kvSecretKeys.match(key)
		token := strong || kvTokenKeys.match(key)
		sid := !token && kvSessionIDKeys.match(key)
		if !token && !sid {
			// Two words: "api key: …", "Client Secret = …".
			if k < 2 || s[k-1] != ' ' || !isKeyByte(s[k-2]) {
				continue
			}
			k2 := k - 1
			for k2 > 0 && isKeyByte(s[k2-1]) {
				k2--
			}
			work += 3 * (k - k2)
			k, key = k2, s[k2:end]
			strong = kvSecretKeys.matchFinal(key)
			if !strong && !kvTokenKeys.matchFinal(key) {
				continue
			}
		}
		if c == ':' && key == "PASS" { // go test's and automake's "--- PASS: TestName"
			continue
		}
		// The value.
		b := v
		for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
			v++
		}
		if quotedKey != 0 && c == ':' { // JSON: the value may start on the next line
			for v < len(s) && (isXMLSpace(s[v]) || quotedKey == '\\' && escapedBlank(s, v)) {
				if s[v] == '\\' {
					v++
				}
				v++
			}
		}
		work += v - b
		if v >= len(s) {
			continue
		}
		yaml := false // the value is on the next line, as YAML has it
		if c == ':' && quotedKey == 0 && (s[v] == '|' || s[v] == '>' || lineBreak(s, v) > 0) {
			if col, ok := keyColumn(s, k, &work); ok {
				if s[v] == '|' || s[v] == '>' {
					vs, ve, isBlock := yamlBlock(s, v, col, &work)
					if ve > vs {
						out = append(out, [2]int{vs, ve})
						i = ve - 1
						continue
					}
					if isBlock { // an empty block: nothing to redact
						continue
					}
				} else if o, e, ok := yamlNested(s, v, col, key, strong, out, &work); ok {
					out, i = o, e-1
					continue
				} else if v, ok = nextLine(s, v, col, &work); !ok {
					continue
				} else {
					yaml = true
				}
			}
		}
		if c == ':' { // val apiToken: String = …
			t := v
			for t < len(s) && typeByte(s[t]) {
				t++
			}
			work += t - v
			if t > v && isTypeWord(s[v:t]) {
				for t < len(s) && (s[t] == ' ' || s[t] == '\t') {
					t++
				}
				if t+1 < len(s) && s[t] == '=' && s[t+1] != '=' {
					v = t + 1
					for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
						v++
					}
				}
				work += v - t
				if v >= len(s) {
					continue
				}
			}
		}
		if (s[v] == '{' || s[v] == '[') && quotedKey != 0 && c != ',' {
			var e int
			out, e = walkJSON(s, v, quotedKey == '\\', out, &work)
			i = e - 1
			continue
		}
		if (s[v] == '{' || s[v] == '[') && c != ',' { // an object under a key without quotes: whole
			e, closed := objectEnd(s, v, &work)
			if closed && e < len(s) && !valueEnds(s, e) && s[e] != ')' && s[e] != ']' && s[e] != '}' {
				// More of the value follows the bracket ("[REDACTED]hunter2":
				// a marker cannot shield what follows it): up to its end.
				e = stop.next(s, e, &work)
			} else if closed && strings.TrimSpace(s[v+1:e-1]) == "" { // {} []
				i = e - 1
				continue
			}
			out = append(out, [2]int{v, e})
			i = e - 1
			continue
		}
		if c != ',' && envLookup(s, v, &work) { // password = os.environ["DB_PASSWORD"]
			continue
		}
		var vs, ve int
		switch q := s[v]; {
		case q == '"' || q == '\'':
			closing := &dq
			if q == '\'' {
				closing = &sq
			}
			vs = v + 1
			ve = min(closing.next(s, vs, &work), nl.next(s, vs, &work))
		case q == '\\' && v+1 < len(s) && s[v+1] == '"': // \"value\" in JSON inside JSON
			vs = v + 2
			ve = min(dq.next(s, vs, &work), nl.next(s, vs, &work))
			if ve < len(s) && s[ve] == '"' && s[ve-1] == '\\' && ve > vs {
				ve--
			}
		case c == ',':
			continue
		default:
			vs, ve = v, stop.next(s, v, &work)
		}
		if ve <= vs || yaml && s[ve-1] == ':' { // a mapping under the key ("token:\n  type: bearer")
			continue
		}
		if strings.EqualFold(key, "pwd") && (s[vs] == '/' || s[vs] == '~') { // a working directory
			continue
		}
		if !strong && handleAt(s, vs, ve, &work) {
			continue
		}
		if sid {
			work += min(ve-vs, 11)
			if !sessionIDValue(s[vs:ve]) {
				continue
			}
		}
		if ve-vs <= maxCount {
			work += 3 * len(key)
			if countOrFlag(key, s[vs:ve]) {
				continue
			}
		}
		// Markers already in the value are taken out by subtractMarkers.
		out = append(out, [2]int{vs, ve})
		i = ve - 1
	}
	return out, work
}

// maxCount is the most digits of a count after a plural key (countOrFlag):
// a language model's usage, a million tokens, has 7.
const maxCount = 9

// countOrFlag reports whether v, the value of key, is a count or a flag
// rather than a secret: a number (1 to maxCount digits, no leading zero but
// 0 itself) after the plural of a secret key ("tokens=200", "api_keys=2":
// a list of secrets is no number), or true or false after a key that asks
// a question of the secret ("has_password=true", "requiresToken: false";
// see predicateWords). After the secret key itself the value stays
// secret, whatever it holds: "password=123456" and "token=true" are.
// It reads the key at most three times and v once.
func countOrFlag(key, v string) bool {
	switch {
	case strings.EqualFold(v, "true") || strings.EqualFold(v, "false"):
		return predicateKey(key)
	case len(v) <= maxCount && strings.Trim(v, digits) == "" && (v[0] != '0' || v == "0"):
		return pluralKey(key)
	}
	return false
}

// pluralKey reports whether key ends with the plural of a key of text
// ("tokens", "user_passwords", "apiKeys") and not with a key itself
// ("credentials" is one).
func pluralKey(key string) bool {
	n := len(key)
	if n < 2 || key[n-1] != 's' && key[n-1] != 'S' {
		return false
	}
	if kvSecretKeys.matchFinal(key) || kvTokenKeys.matchFinal(key) {
		return false
	}
	return kvSecretKeys.matchFinal(key[:n-1]) || kvTokenKeys.matchFinal(key[:n-1])
}

// predicateWords, as a segment of a key, make it a question about the
// secret, whose answer is true or false: whether there is one, whether it
// is needed, used, shown, kept ("has_password", "isTokenSet",
// "requires_api_key", "save_password", "no_password").
var predicateWords = []string{
	"has", "have", "had", "is", "are", "was", "were", "use", "uses", "using", "need", "needs", "require", "requires",
	"with", "without", "no", "can", "should", "must", "allow", "allows", "enable", "disable", "show", "hide", "ask",
	"prompt", "skip", "include", "includes", "contains", "support", "supports", "save", "store", "remember", "do", "does",
}

// predicateKey reports whether a segment of key (split as lastDescriptor
// splits) is one of predicateWords.
func predicateKey(key string) bool {
	for i, j := nextSegment(key, 0); i < len(key); i, j = nextSegment(key, j) {
		if j-i <= 8 && containsFold(predicateWords, key[i:j]) {
			return true
		}
	}
	return false
}

// lineBreak returns the length of the line break at s[i]: \n, \r\n or \r,
// or one of them written out (\\n, \\r\\n, \\r: YAML inside a JSON
// string); 0 if none starts there.
func lineBreak(s string, i int) int {
	switch {
	case i >= len(s):
		return 0
	case s[i] == '\n':
		return 1
	case s[i] == '\r':
		if i+1 < len(s) && s[i+1] == '\n' {
			return 2
		}
		return 1
	case s[i] == '\\' && i+1 < len(s) && (s[i+1] == 'n' || s[i+1] == 'r'):
		if s[i+1] == 'r' && i+3 < len(s) && s[i+2] == '\\' && s[i+3] == 'n' {
			return 4
		}
		return 2
	}
	return 0
}

// keyColumn reports whether the key that starts at s[k] starts its line,
// after blanks and at most one "- " (an item of a YAML sequence), and
// returns its column: the bytes from the line's start. A line starts at the
// start of s, after a line break (also written out, \n), or after a quote
// (a JSON string that holds YAML). It reads back over those blanks only,
// which the key that precedes it on its line (or the trigger byte after
// that key) bounds.
func keyColumn(s string, k int, work *int) (int, bool) {
	j := k
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	if j < k && j > 0 && s[j-1] == '-' {
		j--
		for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
			j--
		}
	}
	*work += k - j + 2
	start := j == 0 || s[j-1] == '\n' || s[j-1] == '\r' || s[j-1] == '"' ||
		j >= 2 && s[j-2] == '\\' && (s[j-1] == 'n' || s[j-1] == 'r')
	return k - j, start
}

// nextLine returns where the value starts that a YAML key at column col
// gives on the next line, after the line break at s[v]: the first byte of
// that line past its indentation, which must be deeper than col. Not a
// value: a line no deeper (the key's value is empty, or the text is not
// YAML), an empty line, a comment, an item of a sequence ("- …").
func nextLine(s string, v, col int, work *int) (int, bool) {
	i := v + lineBreak(s, v)
	ls := i
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	*work += i - v + 1
	if i == len(s) || i-ls <= col || lineBreak(s, i) > 0 || s[i] == '#' || s[i] == '-' && (i+1 == len(s) || s[i+1] == ' ' || lineBreak(s, i+1) > 0) {
		return 0, false
	}
	return i, true
}

// yamlNested redacts a YAML mapping or sequence that starts on the line
// after the line break at s[v], under key (a secret key, strong if one of
// kvSecretKeys) at column col, the way walkJSON redacts a JSON object under
// a quoted key: the value of each inner key, each item of a sequence, and
// the text of a block scalar under an inner key (yamlBlock), one by one;
// the inner keys, the dashes, the indentation and the comments stay:
//
//	password:                 password:
//	  primary: …        →       primary: [REDACTED:…]
//	  backup: "…"               backup: "[REDACTED:…]"
//	api_keys:                 api_keys:
//	  - …               →       - [REDACTED:…]
//
// The collection runs over the lines indented deeper than col, and the
// blank lines among them, and stops at the first line indented no deeper,
// or, in a JSON string (the breaks written out, \n), at the string's
// closing quote; it returns where it stopped. A value stays when its inner
// key describes the secret rather than holds it (descriptorWords, as the
// flat key "token.type" would: "token:\n  type: bearer\n  ttl: 3600"), or
// when it is in a collection under such a key ("scopes:\n    - read"), when
// it is a count or a flag under key (countOrFlag), an object handle under a
// token key (handleAt), or a lookup in the environment (envLookup).
//
// It reports false, and appends nothing, when the first line deeper than
// col that is neither blank nor a comment is no inner key ("key:" and a
// blank or the line's end) nor an item ("- "): a scalar, which nextLine
// finds; or when there is no such line. It reads each line a few times,
// and no line after the one where it stopped.
func yamlNested(s string, v, col int, key string, strong bool, out [][2]int, work *int) ([][2]int, int, bool) {
	escaped := s[v] == '\\'
	i := v + lineBreak(s, v)
	start, read := i, i // read: the bytes before it were read
	defer func() { *work += 3*(read-start) + 1 }()
	// brk: the line break at s[j], written out only in a JSON string (a
	// Windows path's \n is no break in YAML itself); endsLine: a break, or
	// the closing quote of a JSON string.
	brk := func(j int) int {
		if escaped || j < len(s) && s[j] != '\\' {
			return lineBreak(s, j)
		}
		return 0
	}
	endsLine := func(j int) bool { return brk(j) > 0 || escaped && s[j] == '"' && s[j-1] != '\\' }
	found := false // a collection: the first line that holds something was a key or an item
	descCol := -1  // the column of a describing inner key whose collection the lines are in, or -1
	for i < len(s) {
		ls := i
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		read = max(read, i+1)
		if n := brk(i); n > 0 { // a blank line
			i += n
			continue
		}
		if i == len(s) || i-ls <= col || escaped && s[i] == '"' {
			i = ls
			break
		}
		if i-ls <= descCol {
			descCol = -1
		}
		le := i
		for le < len(s) && !endsLine(le) {
			le++
		}
		read = max(read, le+1)
		item := false
		for i < le && s[i] == '-' && (i+1 == le || s[i+1] == ' ' || s[i+1] == '\t') { // "- ", "- - "
			item = true
			i++
			for i < le && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
		}
		kc := -1
		if i < le && s[i] != '#' { // not a comment
			kc = yamlKeyEnd(s, i, le, escaped)
			if !found && kc < 0 && !item { // a scalar: no collection
				return out, 0, false
			}
			found = true
		} else if item {
			found = true
		}
		inner, vs := "", i
		if kc >= 0 {
			inner = strings.Trim(s[i:kc], "\"'\\ \t")
			vs = kc + 1
			for vs < le && (s[vs] == ' ' || s[vs] == '\t') {
				vs++
			}
		}
		*work += 2 * len(inner) // lastDescriptor
		described := descCol >= 0 || inner != "" && lastDescriptor(inner) >= 0
		if described && descCol < 0 && (vs == le || s[vs] == '#') { // "scopes:\n    - read"
			descCol = i - ls
		}
		if vs < le && (s[vs] == '|' || s[vs] == '>') { // a block scalar under an inner key
			if bs, be, ok := yamlBlock(s, vs, i-ls, work); ok {
				if be > bs && !described {
					out = append(out, [2]int{bs, be})
				}
				// Go on after the block's last line, or on the line after
				// the indicator when the block is empty.
				i = bs
				if be > bs {
					i = be
					for i < len(s) && !endsLine(i) {
						i++
					}
					i += brk(i)
				}
				read = max(read, i+1)
				if i < len(s) && escaped && s[i] == '"' {
					break
				}
				continue
			}
		}
		if vs < le && s[vs] != '#' && !described {
			b, e := yamlScalar(s, vs, le, escaped)
			keep := e <= b || envLookup(s, b, work) || !strong && handleAt(s, b, e, work)
			if !keep && e-b <= maxCount {
				*work += 3 * (len(key) + len(inner))
				keep = countOrFlag(key, s[b:e]) || countOrFlag(inner, s[b:e])
			}
			if !keep {
				out = append(out, [2]int{b, e})
			}
		}
		if n := brk(le); n > 0 || le == len(s) {
			i = le + n
			continue
		}
		i = le // the closing quote of a JSON string
		break
	}
	if !found {
		return out, 0, false
	}
	return out, i, true
}

// yamlKeyEnd returns where the ':' is that ends a YAML key at s[i] on the
// line that ends at s[le], or -1: a quoted key and the ':' after it, or
// the first ':' of the line that a blank or the line's end follows
// ("primary: …", "primary:"; not "https://…", "10:30").
func yamlKeyEnd(s string, i, le int, escaped bool) int {
	j := i
	if j < le && (s[j] == '"' || s[j] == '\'' || escaped && s[j] == '\\' && j+1 < le && s[j+1] == '"') {
		q := s[j]
		if q == '\\' {
			j++
			q = '"'
		}
		j++
		for j < le && s[j] != q {
			j++
		}
		j++
		for j < le && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if j < le && s[j] == ':' && (j+1 == le || s[j+1] == ' ' || s[j+1] == '\t') {
			return j
		}
		return -1
	}
	for ; j < le; j++ {
		if s[j] == ':' && (j+1 == le || s[j+1] == ' ' || s[j+1] == '\t') {
			return j
		}
	}
	return -1
}

// yamlScalar returns the span of the scalar that starts at s[v], on a line
// of YAML that ends at s[le]: in quotes (also escaped ones, \", in a JSON
// string), up to the closing quote or the line's end; else up to the
// line's end or a comment (" #"), without the blanks before them.
func yamlScalar(s string, v, le int, escaped bool) (int, int) {
	if q := s[v]; q == '"' || q == '\'' || escaped && q == '\\' && v+1 < le && s[v+1] == '"' {
		b := v + 1
		if q == '\\' {
			b, q = v+2, '"'
		}
		e := b
		for e < le && s[e] != q {
			e++
		}
		if q == '"' && escaped && e > b && e < le && s[e-1] == '\\' {
			e--
		}
		return b, e
	}
	e := v
	for e < le && !(s[e] == '#' && (s[e-1] == ' ' || s[e-1] == '\t')) {
		e++
	}
	for e > v && (s[e-1] == ' ' || s[e-1] == '\t') {
		e--
	}
	return v, e
}

// yamlBlock finds the text of a YAML block scalar whose indicator (| or >,
// then at most two bytes of chomping and indentation indicators: |-, >+,
// |2-) starts at s[v], after a key at column col: the lines after it that
// are indented deeper than col, and the blank lines among them, from the
// first byte of text to the last. It reports whether s[v] starts such an
// indicator (followed by blanks and a line break); the text is empty (vs
// == ve) when no line is deep enough. In a JSON string (the breaks written
// out, \n) a line ends at a quote too: the string's end.
func yamlBlock(s string, v, col int, work *int) (vs, ve int, ok bool) {
	i := v + 1
	defer func() { *work += i - v + 1 }()
	for i < len(s) && i-v <= 2 && (s[i] == '+' || s[i] == '-' || isDigit(s[i])) {
		i++
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	n := lineBreak(s, i)
	if n == 0 {
		return 0, 0, false
	}
	escaped := s[i] == '\\'
	i += n
	vs, ve = i, i
	for i < len(s) {
		ls := i
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if n := lineBreak(s, i); n > 0 { // a blank line: the block may go on
			i += n
			continue
		}
		if i == len(s) || i-ls <= col || escaped && s[i] == '"' {
			break
		}
		if ve == vs {
			vs = i
		}
		for i < len(s) && lineBreak(s, i) == 0 && !(escaped && s[i] == '"') {
			i++
		}
		ve = i
		for ve > vs && (s[ve-1] == ' ' || s[ve-1] == '\t') {
			ve--
		}
		if i < len(s) && s[i] == '"' {
			break
		}
	}
	return vs, ve, true
}

// findSecretValues is the matcher of the "secret-assignment" rule: the
// values of secret keys in text (findAssignments) and of secret flags on
// command lines (findFlagValues), merged in order.
func findSecretValues(s string, out [][2]int) ([][2]int, int) {
	n := len(out)
	out, w1 := findAssignments(s, out)
	flags, w2 := findFlagValues(s, nil, out[n:]) // allocates only when it finds one
	if len(flags) == 0 {
		return out, w1 + w2
	}
	return mergeSpans(out, n, flags), w1 + w2 + len(out) + len(flags)
}

// flagStart: the bytes after which a flag's dash may start one: blanks, the
// quotes and brackets of a printed argument list.
var flagStart = setOf(" \t\r\n\"'[(,=")

// flagSwitchWords, as the first word of a flag's name, make it a switch
// that takes no value: "--no-password", Ansible's "--ask-vault-pass",
// gh's "--with-token" (which reads the token from stdin).
var flagSwitchWords = []string{
	"no", "ask", "with", "without", "prompt", "skip", "show", "hide", "print", "require", "disable", "enable",
	"allow", "use", "is", "has", "read", "from",
}

// keytoolPassFlags are the options of Java's keytool and jarsigner that
// take a keystore's or a key's password in the next argument
// ("-storepass …", "-keypass …"): one word, where "pass" starts no segment
// that kvSecretKeys would see. Their ":env" and ":file" forms
// ("-storepass:env STOREPASS", "-keypass:file /run/secrets/kp") name a
// variable or a file that holds the password, and end the flag's name at
// the ':' with no blank after it: no value is taken.
var keytoolPassFlags = []string{"storepass", "keypass", "srcstorepass", "deststorepass", "srckeypass", "destkeypass"}

// findFlagValues finds the values of command-line flags named as secrets
// (kvSecretKeys, kvTokenKeys: the whole name must end with a stem, so that
// "--password-file" and "--password-stdin" are no secret's; and
// keytoolPassFlags) in the next argument: "--password …", "-token …" (Go's
// flag package) and "-storepass …" after blanks, quoted or not; and
// "--token", "…" in an argument list printed as JSON or Python.
// "--password=…" is key=value text (findAssignments). Not a value:
// another flag ("--password --verbose"), a pipe or redirection, a path
// after --pwd, an object handle after a token flag (isHandle). Not a
// secret flag: one whose first word makes it a switch (flagSwitchWords),
// and --password after one of PostgreSQL's client programs in the same
// command (see pgPromptCommands), where it only makes the program ask for
// the password.
//
// It goes from dash to dash, and resumes after each flag's name, or after
// the value it found: each byte is read once, and a value's closing quote is
// looked for no further than the line's end. The programs before a
// --password are looked for by a scan that resumes where the last one
// stopped (see commandWords): it reads each byte once too. A program's
// name that is itself redacted, in taken (the values findAssignments
// found, in order) or as the value of a flag before, is a value, not the
// command's program: it would be gone when the text is redacted again.
func findFlagValues(s string, out, taken [][2]int) ([][2]int, int) {
	work := 0
	n0 := len(out)
	pg := commandWords{words: pgPromptCommands}
	pg.taken[0] = taken
	for off := 0; off < len(s); {
		d := strings.IndexByte(s[off:], '-')
		if d < 0 {
			work += len(s) - off
			break
		}
		p := off + d // the flag's first dash
		work += d + 1
		off = p + 1
		if p > 0 && !flagStart[s[p-1]] {
			continue
		}
		n := p + 1
		if n < len(s) && s[n] == '-' {
			n++
		}
		e := n
		for e < len(s) && isKeyByte(s[e]) {
			e++
		}
		work += 3 * (e - p) // the name, and the key sets that read it
		off = max(off, e)
		if e == n || !isLetterByte(s[n]) {
			continue
		}
		name := s[n:e]
		strong := kvSecretKeys.matchFinal(name) || containsFold(keytoolPassFlags, name)
		if !strong && !kvTokenKeys.matchFinal(name) || flagSwitch(name) {
			continue
		}
		if n-p == 2 && strings.EqualFold(name, "password") {
			pg.taken[1] = out[n0:]
			if pg.before(s, p, &work) { // psql --password mydb
				continue
			}
		}
		// The next argument: after blanks; or, when a quote closed the
		// flag, after that quote, blanks or a comma, and the same quote.
		v := e
		quoted := p > 0 && (s[p-1] == '"' || s[p-1] == '\'') && e < len(s) && s[e] == s[p-1]
		if quoted {
			v++
		}
		b := v
		for v < len(s) && (s[v] == ' ' || s[v] == '\t' || quoted && s[v] == ',') {
			v++
		}
		work += v - e
		if v == b || quoted && (v >= len(s) || s[v] != s[p-1] || strings.Count(s[b:v], ",") > 1) {
			continue
		}
		off = v
		if v >= len(s) || s[v] == '-' || s[v] == '|' || valueStop[s[v]] && s[v] != '"' && s[v] != '\'' {
			continue
		}
		vs, ve := v, v
		if q := s[v]; q == '"' || q == '\'' {
			vs = v + 1
			ve = vs
			for ve < len(s) && s[ve] != q && s[ve] != '\n' && s[ve] != '\r' {
				ve++
			}
		} else {
			for ve < len(s) && !valueEnds(s, ve) {
				ve++
			}
		}
		work += 4*(ve-v) + 1 // the scan, and flagPlaceholder
		off = ve
		if ve <= vs || quoted && s[vs] == '-' || strings.EqualFold(name, "pwd") && (s[vs] == '/' || s[vs] == '~') || flagPlaceholder(s[vs:ve]) {
			continue
		}
		if !strong && handleAt(s, vs, ve, &work) {
			continue
		}
		out = append(out, [2]int{vs, ve})
	}
	return out, work
}

// pgPromptCommands are PostgreSQL's client programs, whose --password (-W)
// takes no value: it makes the program ask for the password before it
// connects, so that the argument after it is the next one of the command
// line (the database's name in "psql --password mydb").
var pgPromptCommands = []string{
	"psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_basebackup", "createdb", "dropdb",
	"createuser", "dropuser", "vacuumdb", "reindexdb", "clusterdb",
}

// commandWords tells whether one of words, a program's name, stands as a
// whole word (in any case, "/usr/bin/psql" too) before a position, in the
// same command: on the same line (a line break, also written out, \n, ends
// one), and with no ';', '|' or "&&" between them; and not in a span of
// taken, a value redacted ("password: psql", "--token psql": a value, and
// no longer there once redacted). The positions must be asked in
// increasing order: each scan resumes where the last one stopped, so that
// each byte of the text is read once, however many are asked.
type commandWords struct {
	words []string
	at    int         // s[:at] was read
	seen  bool        // one of words is in the command that s[at-1] is in
	taken [2][][2]int // spans redacted, each list in order
	next  [2]int      // the first span of each list that may hold s[at] or a byte after it
}

// redacted reports whether s[i] is in a span of taken, for positions
// asked in increasing order, and adds the spans it passed over to *work.
func (c *commandWords) redacted(i int, work *int) bool {
	in := false
	for k, sp := range c.taken {
		for c.next[k] < len(sp) && sp[c.next[k]][1] <= i {
			c.next[k]++
			*work++
		}
		in = in || c.next[k] < len(sp) && sp[c.next[k]][0] <= i
	}
	return in
}

// before reports whether one of the words stands before s[p] in its
// command, and adds the bytes it read to *work.
func (c *commandWords) before(s string, p int, work *int) bool {
	start := c.at
	for ; c.at < p; c.at++ {
		switch b := s[c.at]; {
		case b == ';' || b == '|' || b == '&' && c.at+1 < len(s) && s[c.at+1] == '&' || lineBreak(s, c.at) > 0:
			c.seen = false
		case !c.seen && isLetterByte(b) && wordStart(s, c.at):
			for _, w := range c.words {
				*work++
				if lower(b) != w[0] {
					continue
				}
				e := c.at + len(w)
				*work += len(w) + 1
				if e <= len(s) && strings.EqualFold(s[c.at:e], w) && (e == len(s) || !isWordByte(s[e])) {
					c.seen = !c.redacted(c.at, work)
					break
				}
			}
		}
	}
	*work += c.at - start + 1
	return c.seen
}

// flagPlaceholder reports whether v, after a secret flag, stands for its
// value in a command's usage or help (which CI logs print when a command
// fails): a type (pflag's "--password string", urfave/cli's "--token
// value"), or a name in capitals that names a secret, in brackets or not
// (argparse's "[--api-key API_KEY]", "--password [PASSWORD]"); or whether
// it is the next word of a sentence that names the flag (see
// flagPlaceholders). It reads v at most three times.
func flagPlaceholder(v string) bool {
	if isTypeWord(v) || slices.Contains(flagPlaceholders, v) {
		return true
	}
	v = strings.TrimLeft(v, "[{")
	v = strings.TrimRight(v, "]}")
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return v != "" && (kvSecretKeys.match(v) || kvTokenKeys.match(v))
}

// flagPlaceholders are the types and words that usages print after a flag
// in place of its value, beside typeWords; and the words that follow a
// flag named in a sentence (Docker's "WARNING! Using --password via the
// CLI is insecure", "--token requires an argument", "pass --token or set
// GH_TOKEN", "the --api-key flag"): short words of English, in lowercase,
// that no one takes for a password.
var flagPlaceholders = []string{
	"value", "VALUE", "strings", "stringArray", "stringSlice", "text", "TEXT",
	"a", "an", "the", "and", "or", "nor", "to", "via", "with", "without", "for", "from", "in", "on", "of", "as", "by", "at",
	"is", "are", "was", "were", "be", "has", "have", "had", "can", "cannot", "will", "may", "must", "should", "not",
	"if", "when", "but", "only", "instead", "which", "that", "this", "it", "flag", "flags", "option", "options",
	"argument", "arguments", "parameter", "requires", "required", "needs", "expects", "takes", "accepts", "given",
	"set",
}

// flagSwitch reports whether the first word of a flag's name (up to a
// separator or a camelCase boundary) is one of flagSwitchWords.
func flagSwitch(name string) bool {
	j := 1
	for j < len(name) && isLetterByte(name[j]) && !(name[j] >= 'A' && name[j] <= 'Z' && name[j-1] >= 'a' && name[j-1] <= 'z') {
		j++
	}
	return j < len(name) && j <= 8 && containsFold(flagSwitchWords, name[:j])
}

// handleAt is isHandle on s[vs:ve], counting what it reads; a value that
// is a name alone followed by blanks and '{' is a handle too (Hadoop's
// "Token: Token { kind: ContainerToken, … }").
func handleAt(s string, vs, ve int, work *int) bool {
	ok, n := isHandle(s[vs:ve])
	*work += n + 1
	if ok || vs+n != ve {
		return ok
	}
	j := ve
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	*work += j - ve
	return j > ve && j < len(s) && s[j] == '{'
}

// xmlTag looks at the start tag that ends at s[gt] ('>'), and appends to
// out the secret it gives a value to, in these forms:
//
//   - an element named as a secret, its text: <password>…</password>, with
//     a namespace prefix and attributes too (WS-Security's
//     <wsse:Password Type="…">…</wsse:Password>);
//   - an element named as a secret, its value attribute: <apiKey value="…"/>;
//   - an element whose key or name attribute names a secret, its value
//     attribute or else its text: .NET's <add key="ApiToken" value="…"/>,
//     Spring's <property name="password" value="…"/>, Java properties'
//     <entry key="password">…</entry>.
//
// The tag is read backwards from s[gt] to its '<', no further than from (the
// byte after the previous tag's '>'), so that no byte is read by two calls;
// the text, forward to the next '<' (the cursor lt). A key as an attribute
// (<user password="…">) is key=value text, found by findAssignments. It
// returns out and where the caller may resume (gt+1, or the end of the text).
func xmlTag(s string, from, gt int, out [][2]int, lt *cursor, work *int) ([][2]int, int) {
	j := gt - 1
	for j >= from && s[j] != '<' && s[j] != '>' {
		j--
	}
	*work += 2*(gt-j) + 1 // the scan back, and the parse forward
	if j < from || s[j] != '<' {
		return out, gt + 1
	}
	tag := s[j+1 : gt]
	self := strings.HasSuffix(tag, "/")
	tag = strings.TrimSuffix(tag, "/")
	n := 0
	for n < len(tag) && (isKeyByte(tag[n]) || tag[n] == ':') {
		n++
	}
	qname := tag[:n]
	if qname == "" || n < len(tag) && !isXMLSpace(tag[n]) {
		return out, gt + 1
	}
	local := qname[strings.LastIndexByte(qname, ':')+1:]
	// The attributes: name="value" (or '…', or "…" inside a JSON string).
	var named string      // the value of a key or name attribute
	val := [2]int{-1, -1} // the value attribute, in s
	for p := n; p < len(tag); {
		for p < len(tag) && isXMLSpace(tag[p]) {
			p++
		}
		a := p
		for p < len(tag) && (isKeyByte(tag[p]) || tag[p] == ':') {
			p++
		}
		name := tag[a:p]
		if name == "" || p >= len(tag) || tag[p] != '=' {
			break
		}
		p++
		q := `\"`
		if p < len(tag) && (tag[p] == '"' || tag[p] == '\'') {
			q = tag[p : p+1]
		} else if !strings.HasPrefix(tag[p:], q) {
			break
		}
		p += len(q)
		e := strings.Index(tag[p:], q)
		if e < 0 {
			break
		}
		switch v := tag[p : p+e]; {
		case strings.EqualFold(name, "value"):
			val = [2]int{j + 1 + p, j + 1 + p + e}
		case strings.EqualFold(name, "key") || strings.EqualFold(name, "name"):
			named = v
		}
		p += e + len(q)
	}
	strong := kvSecretKeys.match(local) || kvSecretKeys.match(named)
	if !strong && !kvTokenKeys.match(local) && !kvTokenKeys.match(named) {
		return out, gt + 1
	}
	if val[0] >= 0 {
		if val[1] > val[0] && (strong || !handleAt(s, val[0], val[1], work)) {
			out = appendSpan(out, val[0], val[1])
		}
		return out, gt + 1
	}
	if self {
		return out, gt + 1
	}
	// The element's text, up to its end tag.
	v := gt + 1
	e := lt.next(s, v, work)
	end := e + 2 + len(qname)
	*work += len(qname) + 3
	if end >= len(s) || s[e+1] != '/' || s[end] != '>' || s[e+2:end] != qname || strings.TrimSpace(s[v:e]) == "" {
		return out, gt + 1
	}
	*work += e - v
	if strong || !handleAt(s, v, e, work) {
		return appendSpan(out, v, e), e
	}
	return out, gt + 1
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// appendSpan appends [a, b) to out, merged with the last span if they overlap.
func appendSpan(out [][2]int, a, b int) [][2]int {
	if n := len(out); n > 0 && a < out[n-1][1] {
		out[n-1][1] = max(out[n-1][1], b)
		return out
	}
	return append(out, [2]int{a, b})
}

// readKey reads the key that ends before s[i] (a separator), backwards:
// blanks, a closing quote (also an escaped one, \"), then key bytes. It
// returns the key, s[k:end], and the quote that closed it (0 if none). A
// key that follows an escaped newline or tab ("\nAPI_TOKEN=…" inside a
// JSON string) starts after it.
func readKey(s string, i int, work *int) (k, end int, quote byte) {
	k = i
	for k > 0 && (s[k-1] == ' ' || s[k-1] == '\t') {
		k--
	}
	if k > 0 && (s[k-1] == '"' || s[k-1] == '\'') {
		quote = s[k-1]
		k--
		if k > 0 && s[k-1] == '\\' {
			k--
			quote = '\\'
		}
	}
	end = k
	for k > 0 && isKeyByte(s[k-1]) {
		k--
	}
	*work += i - k
	if end-k > 1 && k > 0 && s[k-1] == '\\' && (s[k] == 'n' || s[k] == 'r' || s[k] == 't') {
		k++
	}
	return k, end, quote
}

// indexKey reads the index that ends before s[j] (a ']'), backwards: a
// quote (also an escaped one, \"), key bytes, the same quote, and a '['
// after a name, or key bytes alone between the brackets: an environment or
// a map indexed by the secret's name (Python's os.environ["DB_PASSWORD"],
// Ruby's ENV['API_TOKEN'], PHP's $_ENV[…], a shell's secrets[db_password]).
// It returns the index, s[k:end], or an empty one. It reads no further back
// than the '[' and the byte before it, which no trigger byte of
// findAssignments is.
func indexKey(s string, j int, work *int) (k, end int) {
	p := j - 1 // the ']'
	q := ""
	if p > 0 && (s[p-1] == '"' || s[p-1] == '\'') {
		q = s[p-1 : p]
		if p > 1 && s[p-2] == '\\' {
			q = s[p-2 : p]
		}
	}
	end = p - len(q)
	k = end
	for k > 0 && isKeyByte(s[k-1]) {
		k--
	}
	*work += j - k + len(q) + 2
	b := k - len(q) - 1 // the '['
	if k == end || b < 1 || s[k-len(q):k] != q || s[b] != '[' {
		return 0, 0
	}
	if c := s[b-1]; !isKeyByte(c) && c != ']' && c != ')' && c != '$' {
		return 0, 0
	}
	return k, end
}

// walkJSON redacts a JSON (or JSON-like: single quotes, =>) object or array
// that starts at s[v], the value of a secret key: every string and scalar
// in it that is not a key, one by one, so that the brackets, the keys and
// the quotes stay and the JSON stays valid when the secrets are strings:
// {"password":{"value":"x"}} becomes {"password":{"value":"[REDACTED:…]"}}.
// A scalar (a number, true) is replaced by the bare marker. With esc, the
// JSON is itself inside a JSON string, its quotes escaped (\"). It stops
// after the bracket that closes the value, or at the end of s when none
// does (every string and scalar up to there is redacted), and returns where
// it stopped. One pass: the blanks after a string or scalar are looked past
// once more for a ':' that makes it a key. Brackets are counted, not
// matched by kind, so that no stack (and no depth cap) is needed.
func walkJSON(s string, v int, esc bool, out [][2]int, work *int) ([][2]int, int) {
	depth := 0
	i := v
	defer func() { *work += 2*(i-v) + 1 }()
	for i < len(s) {
		c := s[i]
		if esc && c == '\\' && i+1 < len(s) && s[i+1] == '"' { // \"string\"
			j := i + 2
			for j < len(s) && !(s[j] == '"' && s[j-1] == '\\') {
				j++
			}
			vs, ve := i+2, min(j-1, len(s))
			i = min(j+1, len(s))
			if ve > vs && !keyFollows(s, i) {
				out = append(out, [2]int{vs, ve})
			}
			continue
		}
		switch c {
		case '{', '[':
			depth++
			i++
		case '}', ']':
			depth--
			i++
			if depth == 0 {
				return out, i
			}
		case ' ', '\t', '\r', '\n', ',', ':', '=', '>':
			i++
		case '"', '\'':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			vs, ve := i+1, min(j, len(s))
			i = min(j+1, len(s))
			if ve > vs && !keyFollows(s, i) {
				out = append(out, [2]int{vs, ve})
			}
		default:
			j := i
			for j < len(s) && !jsonDelim[s[j]] && !(esc && s[j] == '\\') {
				j++
			}
			if j == i { // a lone backslash
				j++
			} else if !keyFollows(s, j) {
				out = append(out, [2]int{i, j})
			}
			i = j
		}
	}
	return out, i
}

// maxObject bounds what objectEnd reads: an object under a secret key is
// a few fields, and the bound keeps the marker from swallowing the rest of
// a long line when its bracket never closes.
const maxObject = 4 << 10

// objectEnd returns where the object or array that starts at s[v] ends, in
// text where its key has no quotes (password={"v":"…"}, YAML's password:
// {value: …}, HCL's password = { value = "…" }, Ruby's password => {…}):
// after the bracket that closes it, and true; or, when none does within
// maxObject bytes, at that bound or the end of s, and false. Brackets are
// counted whatever their kind; a bracket in quotes (up to the closing
// quote, a backslash escaping the next byte, or the line's end) does not
// count, so that a value holding one cannot end the object early and leave
// the rest of it.
func objectEnd(s string, v int, work *int) (int, bool) {
	lim := min(len(s), v+maxObject)
	depth := 0
	i := v
	defer func() { *work += i - v + 1 }()
	for i < lim {
		switch c := s[i]; c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				i++
				return i, true
			}
		case '\\':
			i++
		case '"', '\'':
			i++
			for i < lim && s[i] != c && s[i] != '\n' && s[i] != '\r' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
		}
		i++
	}
	i = min(i, lim)
	return i, false
}

// escapedBlank reports whether s[i:] starts with an escaped newline, return
// or tab (\n \r \t written out, as in JSON inside a JSON string).
func escapedBlank(s string, i int) bool {
	return s[i] == '\\' && i+1 < len(s) && (s[i+1] == 'n' || s[i+1] == 'r' || s[i+1] == 't')
}

// jsonDelim ends a scalar in walkJSON.
var jsonDelim = setOf("{}[],:=\"' \t\r\n")

// keyFollows reports whether blanks and then ':' or "=>" follow s[i]: what
// came before is a key.
func keyFollows(s string, i int) bool {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i < len(s) && (s[i] == ':' || s[i] == '=' && i+1 < len(s) && s[i+1] == '>')
}

// urlUserinfoEnd ends the part of a URL after scheme:// that can hold
// credentials: a password may hold ? # @ that should have been
// percent-encoded, not a / or a blank.
var urlUserinfoEnd = setOf("/ \t\r\n\"'<>")

// hostByte is what a host and port are made of ([::1]:6379, db.internal:5432).
var hostByte = setOf(letters + digits + ".-_~%:[]")

// findURLCredentials finds the password in scheme://user:password@host.
// People paste passwords that should have been percent-encoded
// (redis://app:abc#12@host:6379/0, postgres://u:p@ss@host/db; and
// https://svc:ab/cd@db, see userinfoPastBreak for / blanks and quotes): after
// scheme://, up to the first / or blank, the host is after the last '@'
// that a host and port follow (up to a ? or # or the end), and the password
// runs from the first ':' to that '@'. Not credentials: a ':' after a ? or #
// (a query or fragment, https://host?next=a:b@c), nor a password that holds
// ?…= (a query: http://host:8080?user=bob@example.com).
//
// Linear: the part after scheme:// ends at a '/', which every "://" holds,
// so that no byte is in two of them; in it, the candidate '@'s are tried
// from the last, and each host check reads up to the next '@' at most.
func findURLCredentials(s string, out [][2]int) ([][2]int, int) {
	work := 0
	for off := 0; ; {
		j := strings.Index(s[off:], "://")
		if j < 0 {
			return out, work + len(s) - off
		}
		p := off + j
		off = p + 3
		work += j + 3
		// A scheme: a letter, then letters, digits, + . -
		k := p
		for k > 0 && (isKeyByte(s[k-1]) || s[k-1] == '+') && s[k-1] != '_' {
			k--
		}
		work += p - k
		if k == p || !(s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z') {
			continue
		}
		a := off
		e := a
		for e < len(s) && !urlUserinfoEnd[s[e]] {
			e++
		}
		work += 3 * (e - a) // the scan, the host checks, the password checks
		off = e
		at := -1 // the '@' before the host
		for h := e; ; {
			x := strings.LastIndexByte(s[a:h], '@')
			if x < 0 {
				break
			}
			x += a
			if validHost(s[x+1 : h]) {
				at = x
				break
			}
			h = x
		}
		if at < 0 {
			var w int
			at, w = userinfoPastBreak(s, a, e)
			work += w
			if at < 0 {
				continue
			}
			off = max(off, at)
		}
		colon := strings.IndexByte(s[a:at], ':')
		if colon < 0 {
			continue
		}
		colon += a
		pw := s[colon+1 : at]
		if strings.ContainsAny(s[a:colon], "?#") {
			continue
		}
		if q := strings.IndexByte(pw, '?'); q >= 0 && strings.IndexByte(pw[q:], '=') >= 0 {
			continue
		}
		if at > colon+1 {
			out = append(out, [2]int{colon + 1, at})
		}
	}
}

// maxUserinfo bounds how far userinfoPastBreak looks for the '@' that ends
// a password holding a break.
const maxUserinfo = 256

// userinfoPastBreak finds the '@' that ends a password holding a '/', a
// blank or a quote, which people paste unencoded into DSNs
// (https://svc:ab/cd@db.internal/x): s[a:e] is what follows scheme:// up to
// that break, and holds a ':' after a user name, then something that is not
// a port (so that s[a:e] is not host:port, and the '/' is not the path's:
// https://host:8080/users/@me stays). It returns the last '@' within
// maxUserinfo bytes of a, on the same line and before the next "://", that
// a host follows, or -1, and the bytes it read.
func userinfoPastBreak(s string, a, e int) (int, int) {
	colon := strings.IndexByte(s[a:e], ':')
	if e >= len(s) || colon <= 0 || strings.ContainsAny(s[a:a+colon], "?#@") {
		return -1, 0
	}
	port := s[a+colon+1 : e]
	if port == "" || strings.Trim(port, digits) == "" {
		return -1, 0
	}
	lim := min(len(s), a+maxUserinfo)
	if n := strings.IndexAny(s[e:lim], "\r\n<>"); n >= 0 {
		lim = e + n
	}
	if n := strings.Index(s[e:lim], "://"); n >= 0 {
		lim = e + n
	}
	// From the last '@' back; the host after each is read up to the '@'
	// tried before it at most (an '@' is no host's): each byte once.
	stop := min(len(s), lim+maxUserinfo)
	for h := lim; ; {
		x := strings.LastIndexByte(s[e:h], '@')
		if x < 0 {
			return -1, 2*(lim-e) + stop - lim
		}
		x += e
		end := x + 1
		for end < stop && !urlUserinfoEnd[s[end]] && s[end] != '@' {
			end++
		}
		if (end == len(s) || urlUserinfoEnd[s[end]]) && validHost(s[x+1:end]) {
			return x, 2*(lim-e) + stop - lim
		}
		h, stop = x, x
	}
}

// validHost reports whether h (what follows an '@' up to the next '@', '/'
// or blank) starts with a host and port, alone or followed by ? or #.
func validHost(h string) bool {
	n := 0
	for n < len(h) && hostByte[h[n]] {
		n++
	}
	return n > 0 && (n == len(h) || h[n] == '?' || h[n] == '#')
}

// dsnPasswordStop ends the password of a Go DSN: \s / : " ' (. An '@' does
// not: the MySQL driver splits a DSN at its last '@', and people write
// passwords with '@' unencoded (app:p@ss@tcp(db:3306)/main).
var dsnPasswordStop = setOf("\t\n\f\r /:\"'(")

// dsnUser is what the user of a Go DSN is made of.
var dsnUser = setOf(letters + digits + "_.-")

// findDSNCredentials finds the password in user:password@tcp(host) and its
// unix, udp and tcp6 forms: the "dsn-credentials" regexp written out. That
// regexp has no literal prefix and counts up to 64 and 256 characters, so
// that the engine follows hundreds of threads per byte on long runs of
// user or password characters (a microsecond a byte); this starts from each
// '@' that a protocol follows instead, and reads back at most to the '(' of
// the previous one, which a password cannot hold.
func findDSNCredentials(s string, out [][2]int) ([][2]int, int) {
	work := 0
	for off := 0; ; {
		j := strings.IndexByte(s[off:], '@')
		if j < 0 {
			return out, work + len(s) - off
		}
		work += j + 1
		a := off + j
		off = a + 1
		end := 0
		for _, proto := range [...]string{"tcp(", "unix(", "udp(", "tcp6("} {
			if strings.HasPrefix(s[a+1:], proto) {
				end = a + 1 + len(proto)
				break
			}
		}
		if end == 0 {
			continue
		}
		// The password: 1 to 256 characters after the last ':' (more than
		// 4×256 bytes are more than 256 characters).
		c := a
		for c > 0 && a-c < 4*256 && !dsnPasswordStop[s[c-1]] {
			c--
		}
		work += 2*(a-c) + 1 // the scan, and counting its characters
		if c == a || c == 0 || s[c-1] != ':' || utf8.RuneCountInString(s[c:a]) > 256 {
			continue
		}
		// The user: 1 to 64 of [A-Za-z0-9_.-] before the colon; the match
		// starts at the leftmost.
		u := c - 1
		for u > 0 && c-1-u < 64 && dsnUser[s[u-1]] {
			u--
		}
		work += c - u
		if u == c-1 {
			continue
		}
		out = append(out, [2]int{c, a})
		off = end
	}
}

// pemRun is what lies between BEGIN or END and PRIVATE KEY in a PEM line.
var pemRun = setOf(" ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

// pemBody is what a private key cut short (no END line) is made of.
var pemBody = setOf(letters + digits + "+/=\t\n\f\r \\:,-")

// pemLine reports whether a private key's BEGIN or END line, as the
// "private-key" regexp has it, starts at s[i:]: word ("-----BEGIN" or
// "-----END"), a run of [ A-Z0-9] that ends in PRIVATE KEY or PRIVATE KEY
// BLOCK, and "-----". It returns where the line ends and how many bytes it read.
func pemLine(s string, i int, word string) (end, read int, ok bool) {
	j := i + len(word)
	k := j
	for k < len(s) && pemRun[s[k]] {
		k++
	}
	read = k - i + 5
	run := s[j:k]
	if !strings.HasPrefix(s[k:], "-----") || !strings.HasSuffix(run, "PRIVATE KEY") && !strings.HasSuffix(run, "PRIVATE KEY BLOCK") {
		return 0, read, false
	}
	return k + 5, read, true
}

// findPrivateKeys finds PEM, OpenSSH and PGP private key blocks: the
// "private-key" regexp written out. From a BEGIN line, a block runs to the
// first END line after it, or, when none follows anywhere in s, over the
// base64, blanks and escapes after it (a key cut short). The regexp looks for
// that END line from every BEGIN line, to the end of s when there is none:
// text made of BEGIN lines repeated cost it a pass per line. Here the first
// END line at or after a point is remembered, and the points asked only grow.
func findPrivateKeys(s string, out [][2]int) ([][2]int, int) {
	const begin, end = "-----BEGIN", "-----END"
	work := 0
	footFrom, footAt, footEnd := 1, 0, 0 // no END line starts in s[footFrom:footAt]; one runs over s[footAt:footEnd], or footAt == len(s)
	for off := 0; ; {
		h := strings.Index(s[off:], begin)
		if h < 0 {
			return out, work + len(s) - off
		}
		work += h + 1
		h += off
		e, read, ok := pemLine(s, h, begin)
		work += read
		if !ok {
			off = h + 1
			continue
		}
		if e < footFrom || e > footAt { // what we know does not cover e: look from e
			footFrom, footAt = e, len(s)
			for f := e; ; {
				x := strings.Index(s[f:], end)
				if x < 0 {
					work += len(s) - f
					break
				}
				work += x + 1
				x += f
				fe, read, ok := pemLine(s, x, end)
				work += read
				if ok {
					footAt, footEnd = x, fe
					break
				}
				f = x + 1
			}
		}
		if footAt < len(s) {
			e = footEnd
		} else {
			b := e
			for e < len(s) && pemBody[s[e]] {
				e++
			}
			work += e - b + 1
		}
		out = append(out, [2]int{h, e})
		off = e
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// cardEdge: a card number must not touch these (so that ids, versions,
// negative numbers and decimals are not read as cards).
func cardEdge(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == '+' || c == '-'
}

// findCards finds 13–19 digit runs, optionally separated by single spaces or
// dashes, that validCard accepts. It is the "card-number" rule's regexp,
// written out: the longest run that ends at a boundary is the candidate. A
// candidate starts at a digit that follows no digit, letter or sign, and
// reads at most 19 digits and their separators.
//
// A candidate lies in a region of digits, spaces and dashes that holds at
// least 13 digits and so spans at least 13 bytes: findCards reads one byte
// in 13, and only around one that can be in such a region does it read
// the region and, if it holds enough digits, the candidates in it. Text
// with no long number costs a thirteenth of a read.
func findCards(s string, out [][2]int) ([][2]int, int) {
	work := 0
	for p := cardMin - 1; p < len(s); p += cardMin {
		work++
		lo, hi, n := cardRegion(s, p)
		work += hi - lo
		if n >= cardMin {
			var w int
			out, w = cardsIn(s, lo, hi, out)
			work += w
		}
		p = max(p, hi) // the next region starts after hi, a byte that is in none
	}
	return out, work
}

// cardMin is the fewest digits in a card number.
const cardMin = 13

// cardBytes are the bytes of a card number: 2 for a digit, 1 for a
// separator (a space or dash), 0 for any other byte.
var cardBytes = func() (card [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		card[c] = 2
	}
	card[' '], card['-'] = 1, 1
	return
}()

// cardRegion returns the longest run [lo, hi) of card bytes (cardBytes)
// around s[p], empty at p if s[p] is not one, and how many digits it
// holds.
func cardRegion(s string, p int) (lo, hi, digits int) {
	if cardBytes[s[p]] == 0 {
		return p, p, 0
	}
	lo, hi = p, p
	for lo > 0 && cardBytes[s[lo-1]] != 0 {
		lo--
		digits += int(cardBytes[s[lo]] >> 1)
	}
	for hi < len(s) && cardBytes[s[hi]] != 0 {
		digits += int(cardBytes[s[hi]] >> 1)
		hi++
	}
	return lo, hi, digits
}

// cardsIn finds the cards that start in s[lo:hi], a region of digits,
// spaces and dashes, and returns the bytes it read. A number that starts
// with 0, 1, 7, 8 or 9 is no card: every issuer prefix validCard knows
// starts with 2 to 6, so that such a number is skipped unread (the serials,
// epoch seconds and block ids of system logs mostly start so).
func cardsIn(s string, lo, hi int, out [][2]int) ([][2]int, int) {
	var pos [19]int
	work := 0
	for i := lo; i < hi; i++ {
		if !isDigit(s[i]) || i > 0 && cardEdge(s[i-1]) {
			continue
		}
		if s[i] < '2' || s[i] > '6' { // no issuer's prefix starts so (validCard)
			for i+1 < len(s) && isDigit(s[i+1]) {
				i++ // skip the rest of this digit run
			}
			continue
		}
		n := 0
		j := i
		for j < len(s) && n < 19 {
			if isDigit(s[j]) {
				pos[n] = j
				n++
				j++
				continue
			}
			if (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && isDigit(s[j+1]) {
				j++
				continue
			}
			break
		}
		work += j - i + 1
		found := false
		for k := n; k >= cardMin; k-- {
			end := pos[k-1] + 1
			work++
			if end < len(s) && cardEdge(s[end]) {
				continue
			}
			work += end - i
			if validCard(s[i:end]) {
				out = append(out, [2]int{i, end})
				i = end - 1
				found = true
			}
			break
		}
		if !found {
			for i+1 < len(s) && isDigit(s[i+1]) {
				i++ // skip the rest of this digit run
			}
		}
	}
	return out, work
}

func ssnEdge(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == ':' || c == '/' || c == '-'
}

// findSSNs finds AAA-GG-SSSS that validSSN accepts (the "us-ssn" regexp, written out).
// It goes from dash to dash (strings.IndexByte): byte 3 of each is one.
func findSSNs(s string, out [][2]int) ([][2]int, int) {
	work := len(s)
	for i := 0; i+11 <= len(s); i++ { // i: the first start not yet tried
		d := strings.IndexByte(s[i+3:], '-')
		if d < 0 {
			break
		}
		i += d // s[i+3] is a dash
		if i+11 > len(s) {
			break
		}
		if s[i+6] != '-' {
			continue
		}
		work += 11
		ok := true
		for _, k := range [...]int{0, 1, 2, 4, 5, 7, 8, 9, 10} {
			if !isDigit(s[i+k]) {
				ok = false
				break
			}
		}
		if !ok || i > 0 && ssnEdge(s[i-1]) || i+11 < len(s) && ssnEdge(s[i+11]) {
			continue
		}
		if validSSN(s[i : i+11]) {
			out = append(out, [2]int{i, i + 11})
			i += 10
		}
	}
	return out, work
}

// indexFold returns the first index i >= from where word (lowercase ASCII)
// starts in s in any case, or -1, and adds the bytes it read to *work: at
// most len(word) a position.
func indexFold(s string, from int, word string, work *int) int {
	for i := from; i+len(word) <= len(s); i++ {
		if lower(s[i]) != word[0] {
			continue
		}
		n := 1
		for n < len(word) && lower(s[i+n]) == word[n] {
			n++
		}
		*work += n
		if n == len(word) {
			*work += i - from
			return i
		}
	}
	*work += len(s) - from
	return -1
}

// wordStart reports whether a word starts at s[i]: no letter, digit or _
// before it, or an escaped newline or tab ("\r\nAuthorization: …" in a JSON
// string).
func wordStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	p := s[i-1]
	if p == 'n' || p == 'r' || p == 't' {
		return i >= 2 && s[i-2] == '\\'
	}
	return !(isLetterByte(p) || isDigit(p) || p == '_')
}

// findHeaderValues returns the matcher of a header whose whole value is
// secret (Authorization, Proxy-Authorization, Cookie, Set-Cookie): name
// (lowercase) in any case, at the start of a word, then an optional quote,
// blanks, ':' or '=', blanks, and the value, whatever its scheme: the scheme
// names the credential's kind, and unknown schemes (ApiKey, SSWS, Token,
// vendors' own) carry the credential after it, so that keeping the scheme
// word and cutting the value at its first blank leaked it. The value runs:
//   - in quotes (also escaped, \"…\"), to the closing quote or the line's end;
//   - in brackets after ':' (Go's header map printed: "map[Authorization:[Token
//     abc]]"), to the closing bracket;
//   - when the name itself follows a quote (curl -H 'Authorization: …'), to
//     that quote; when it follows an escaped newline (an HTTP dump in a JSON
//     string), to the next unescaped double quote;
//   - after ':' (a header line, an HTTP trace), to the line's end or an
//     escaped newline;
//   - after '=' (key=value text), with eqToEOL to the line's end like a
//     header line, else over a scheme word and the credential after it, to
//     the end of the credential (valueEnds).
func findHeaderValues(name string, eqToEOL bool) matchFunc {
	return func(s string, out [][2]int) ([][2]int, int) {
		work := 0
		var stop endCursor
		stop.from = 1
		for off := 0; off < len(s); {
			p := indexFold(s, off, name, &work)
			if p < 0 {
				break
			}
			off = p + len(name)
			if !wordStart(s, p) {
				continue
			}
			vs, ve, ok := headerValue(s, p, len(name), eqToEOL, &stop, &work)
			if !ok {
				continue
			}
			for ve > vs && (s[ve-1] == ' ' || s[ve-1] == '\t') {
				ve--
			}
			if ve > vs {
				out = append(out, [2]int{vs, ve})
				off = ve
			}
		}
		return out, work
	}
}

// headerValue finds the value of the header whose name is s[p:p+n], as
// findHeaderValues describes.
func headerValue(s string, p, n int, eqToEOL bool, stop *endCursor, work *int) (vs, ve int, ok bool) {
	i := p + n
	start := i
	defer func() { *work += i - start + ve - vs + 1 }()
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		i++
	} else if i+1 < len(s) && s[i] == '\\' && s[i+1] == '"' {
		i += 2
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i >= len(s) || s[i] != ':' && s[i] != '=' {
		return 0, 0, false
	}
	sep := s[i]
	i++
	if i < len(s) && (s[i] == '=' || sep == ':' && s[i] == '/') { // ==, scheme://
		return 0, 0, false
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i >= len(s) {
		return 0, 0, false
	}
	// The value's end: the first byte of s[i:] that endsAt accepts.
	var endsAt func(j int) bool
	switch c := s[i]; {
	case c == '"' || c == '\'':
		i++
		endsAt = func(j int) bool { return s[j] == c || s[j] == '\n' || s[j] == '\r' }
	case c == '\\' && i+1 < len(s) && s[i+1] == '"':
		i += 2
		endsAt = func(j int) bool { return s[j] == '\\' && j+1 < len(s) && s[j+1] == '"' || s[j] == '\n' || s[j] == '\r' }
	case c == '[' && sep == ':':
		i++
		endsAt = func(j int) bool { return s[j] == ']' || s[j] == '\n' || s[j] == '\r' }
	case p > 0 && (s[p-1] == '"' || s[p-1] == '\''):
		q := s[p-1]
		endsAt = func(j int) bool { return s[j] == q || s[j] == '\n' || s[j] == '\r' }
	case p > 1 && s[p-2] == '\\':
		endsAt = func(j int) bool {
			return s[j] == '"' && s[j-1] != '\\' || s[j] == '\n' || s[j] == '\r' || escapedNewline(s, j)
		}
	case sep == ':' || eqToEOL:
		endsAt = func(j int) bool { return s[j] == '\n' || s[j] == '\r' || escapedNewline(s, j) }
	default: // key=value: a scheme word, then the credential
		e := stop.next(s, i, work)
		if isScheme(s[i:e]) && e < len(s) && s[e] == ' ' && e+1 < len(s) && !valueEnds(s, e+1) {
			e = stop.next(s, e+1, work)
		}
		return i, e, e > i
	}
	j := i
	for j < len(s) && !endsAt(j) {
		j++
	}
	return i, j, j > i
}

// escapedNewline reports whether s[j:] starts with \n or \r written out.
func escapedNewline(s string, j int) bool {
	return s[j] == '\\' && j+1 < len(s) && (s[j+1] == 'n' || s[j+1] == 'r')
}

// isScheme reports whether w is an authorization scheme word: letters,
// digits and dashes, starting with a letter ("Bearer", "AWS4-HMAC-SHA256").
func isScheme(w string) bool {
	if w == "" || !isLetterByte(w[0]) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isLetterByte(w[i]) && !isDigit(w[i]) && w[i] != '-' {
			return false
		}
	}
	return true
}

// findAuthorization finds the values of Authorization and
// Proxy-Authorization headers (findHeaderValues), and the password of
// curl's -u user:password and --user user:password (findCurlUser).
func findAuthorization(s string, out [][2]int) ([][2]int, int) {
	n := len(out)
	out, w1 := findAuthHeaders(s, out)
	if n == len(out) {
		return findCurlUser(s, out)
	}
	curl, w2 := findCurlUser(s, nil)
	if len(curl) == 0 {
		return out, w1 + w2
	}
	return mergeSpans(out, n, curl), w1 + w2 + len(out) + len(curl)
}

var findAuthHeaders = findHeaderValues("authorization", false)

// mergeSpans merges b (in order) into out[n:] (in order): the union, in
// order, overlapping spans joined.
func mergeSpans(out [][2]int, n int, b [][2]int) [][2]int {
	a := append([][2]int(nil), out[n:]...)
	out = out[:n]
	add := func(sp [2]int) {
		if len(out) > n && sp[0] <= out[len(out)-1][1] {
			out[len(out)-1][1] = max(out[len(out)-1][1], sp[1])
			return
		}
		out = append(out, sp)
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || i < len(a) && a[i][0] <= b[j][0] {
			add(a[i])
			i++
		} else {
			add(b[j])
			j++
		}
	}
	return out
}

// findCurlUser finds the password of curl's -u user:password and --user
// user:password (also -u'user:password', --user=user:password): the
// command line that has it is logged by scripts and CI. Only after "curl"
// on the same line: docker's -u and --user take uid:gid. Without a ':' curl
// asks for the password, and there is nothing to redact.
func findCurlUser(s string, out [][2]int) ([][2]int, int) {
	work := len(s)
	curl := -1 // where "curl" starts on the current line, or -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			curl = -1
			continue
		case c == 'c' || c == 'C':
			if i+4 <= len(s) && strings.EqualFold(s[i:i+4], "curl") && wordStart(s, i) {
				curl = i
			}
			continue
		case c != '-' || curl < 0 || i == 0 || s[i-1] != ' ' && s[i-1] != '\t':
			continue
		}
		v := i
		switch {
		case strings.HasPrefix(s[i:], "--user"):
			v += 6
		case strings.HasPrefix(s[i:], "-u"):
			v += 2
		default:
			continue
		}
		if v < len(s) && (s[v] == ' ' || s[v] == '=' && v-i == 6) {
			v++
		} else if v-i == 6 { // --username, --user-agent: other options
			continue
		}
		work += v - i
		for v < len(s) && s[v] == ' ' {
			v++
		}
		q := byte(0)
		if v < len(s) && (s[v] == '"' || s[v] == '\'') {
			q = s[v]
			v++
		}
		e, colon := v, -1
		for e < len(s) && s[e] != '\n' && s[e] != '\r' && (q != 0 && s[e] != q || q == 0 && s[e] != ' ' && s[e] != '\t' && s[e] != '"' && s[e] != '\'') {
			if s[e] == ':' && colon < 0 {
				colon = e
			}
			e++
		}
		work += e - i
		if colon > v && e > colon+1 {
			out = append(out, [2]int{colon + 1, e})
		}
		i = e - 1
	}
	return out, work
}

var hexSet = setOf("0123456789abcdefABCDEF")

// findTwilio finds Twilio API key secrets, \b(SK[0-9a-fA-F]{32})\b: its
// keyword "sk" is in ordinary words (task, disk), so the regexp would run
// on many lines; this finds the case-sensitive "SK" with strings.Index and
// checks the 32 hex digits and the word boundaries. Each byte is examined
// at most twice (a candidate's hex run is at most 33 bytes).
func findTwilio(s string, out [][2]int) ([][2]int, int) {
	work := 0
	for from := 0; from < len(s); {
		i := strings.Index(s[from:], "SK")
		if i < 0 {
			work += len(s) - from
			break
		}
		i += from
		work += i - from + 2
		end := i + 2 + 32
		if (i == 0 || !isWordByte(s[i-1])) && end <= len(s) && (end == len(s) || !isWordByte(s[end])) {
			ok := true
			for k := i + 2; k < end; k++ {
				if !hexSet[s[k]] {
					ok = false
					break
				}
			}
			work += 32
			if ok {
				out = append(out, [2]int{i, end})
			}
		}
		from = i + 2
	}
	return out, work
}
