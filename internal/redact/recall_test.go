package redact

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// Recall: a source file's name before ':' and a line number is not a key,
// whatever words it holds: a test failure ("password_test.go:42: got …"),
// a compiler's error, a stack frame. A key before ':' and digits with no
// such extension stays a key.
func TestSourceFileIsNoKey(t *testing.T) {
	const kind = "secret-assignment"
	digits := func() string { return redacttest.Gen("123456789", 1) + redacttest.Gen(redacttest.DigitChars, 7) }
	var cases []redaction
	add := func(name, before, v, after string) {
		cases = append(cases, redaction{name, before + v + after, v, kind})
	}
	add("digits after password:", "login password:", digits(), " ok")
	add("digits after a dotted key", "db.password:", digits(), "")
	add("an extension that is no source file's", "secret.key:", digits(), " done")
	add("a suffix that is no extension", "password.hash:", digits(), "")
	add("a file's name before a value that is no line", "password_test.go:", pw(12), " x")
	add("a file's name and a blank", "token.go: ", digits(), "")
	checkRedactions(t, cases)
	var untouched []string
	for _, ext := range []string{"go", "py", "js", "ts", "java", "rb", "c", "h", "cpp", "rs", "kt", "swift", "php", "cs", "scala", "GO"} {
		for _, name := range []string{"password_test", "token", "api_key", "secret", "db_password.util", "internal/auth/session_token"} {
			untouched = append(untouched, "    "+name+"."+ext+":"+redacttest.Gen("123456789", 1)+redacttest.Gen(redacttest.DigitChars, 2)+": got 1, want 2")
		}
	}
	untouched = append(untouched,
		"--- FAIL: TestLogin (0.00s)\n    password_test.go:42: got false, want true",
		"./internal/auth/token.go:17:2: undefined: parse",
		"src/secret.rs:12:5: error[E0425]: cannot find value",
		"    at Object.<anonymous> (/app/lib/password.js:42:7)",
		"api_key.ts:3:14 - error TS2304: Cannot find name",
		"password.c:42:5: warning: unused variable",
		"token_store.cpp:88: assertion failed",
	)
	checkUntouched(t, untouched)
}

// The triggers that the recall fixes taught findAssignments and
// findFlagValues, repeated as TestAssignSyntaxesAreLinear repeats its own:
// each costs O(len(s)) bytes examined however many times it repeats.
func TestRecallSyntaxesAreLinear(t *testing.T) {
	r := New(Config{})
	r.work = new(atomic.Int64)
	units := []string{
		// A source file's name before its line number.
		"password_test.go:42: ", "token.go:1", "password.go:", ".go:1", "x.go:1:", "password.javascript:1 ",
	}
	for _, u := range units {
		for _, unit := range []string{u, "x" + u + " ", u + "password=x "} {
			small, large := repeatTo(unit, smallInput), repeatTo(unit, largeInput)
			a, b := measure(r, small, 1, false), measure(r, large, 1, false)
			assert.False(t, float64(b.work) > maxGrowth*float64(a.work) || a.work == 0 && b.work != 0,
				"%q: %d bytes examined at %d KiB, %d at %d KiB", unit, a.work, len(small)>>10, b.work, len(large)>>10)
		}
	}
}
