package redact

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMaskableNearMisses: ordinary words, default passwords and short or
// repetitive values are not worth masking everywhere.
func TestMaskableNearMisses(t *testing.T) {
	for _, v := range []string{
		"", "secret", "s3cr3t", "abc12", // too short
		"postgres", "changeme", "password", "Password", "PASSWORD", "postgresql", "letmeinnow", // one word
		"admin123", "Admin123", "changeme!", "Summer2024!", "welcome1", "root@123", // a word and a tail
		"12345678", "20240101", "0000000000", // digits
		"aaaaaaaa", "abababab", "aaaaaaaaaaaaaaaaaaaa", "abcabcabcabcabc", "1212121212121212", // few distinct bytes
		"abcdefgh", "abcdefghijklmnop", "0123456789", "987654321", "ABCDEFGHIJKLMNOPQR", "xyz0000000ab", "Zq9-aaaaaaa", // sequences
		strings.Repeat("x", MaxKnownLen+1),
	} {
		assert.False(t, Maskable(v), "%q", v)
	}
}

// TestMaskablePositives: random values of 12 characters or more from each
// alphabet, random 8-character values that mix cases or classes, URL
// passwords and passphrases are worth masking. The generator is seeded:
// the test is the same on every run.
func TestMaskablePositives(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 14))
	gen := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	const (
		lower = "abcdefghijklmnopqrstuvwxyz"
		upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		dig   = "0123456789"
	)
	alphabets := map[string]string{
		"lower": lower, "upper": upper, "digits": dig, "hex": dig + "abcdef", "HEX": dig + "ABCDEF",
		"alnum": lower + upper + dig, "base64": lower + upper + dig + "+/", "base64url": lower + upper + dig + "-_",
		"printable": lower + upper + dig + "!#$%&()*+,-./:;<=>?@[]^_{|}~",
	}
	for _, name := range slices.Sorted(maps.Keys(alphabets)) { // in order: the draws are the same on every run
		a := alphabets[name]
		for _, n := range []int{12, 16, 20, 32, 64} {
			if name == "digits" && n < 16 {
				continue // 12 random digits can hold fewer than 5 distinct ones: refused, rightly
			}
			for range 50 {
				v := gen(a, n)
				assert.True(t, Maskable(v), "%s %d: %q", name, n, v)
			}
		}
	}
	for range 200 {
		// Eight characters that start with a lower-case letter, a capital
		// and a digit: not word-like, so only a repetition refuses them.
		v := gen(lower, 1) + gen(upper, 1) + gen(dig, 1) + gen(lower+upper+dig, 5)
		assert.True(t, Maskable(v), "%q", v)
	}
	for _, v := range []string{
		"correct horse battery staple", "Xk29-fQ_7pLm", "p@55-w0rd-9Zq", "hunter2-Zk9!x", "Tr0ub4dor&3", "aZ3kP9xQ",
		"Pa55w0rd", // a known limit: the rule judges shape, not a dictionary
	} {
		assert.True(t, Maskable(v), "%q", v)
	}
}

func TestIsSecretName(t *testing.T) {
	for _, n := range []string{
		"POSTGRES_PASSWORD", "DB_PASS", "GITHUB_TOKEN", "JWT_SECRET", "STRIPE_API_KEY", "AWS_SECRET_ACCESS_KEY",
		"GOOGLE_APPLICATION_CREDENTIALS", "SSH_PRIVATE_KEY", "OAUTH_CLIENT_SECRET", "APP_ENCRYPTION_KEY", "credential",
	} {
		assert.True(t, IsSecretName(n), n)
	}
	for _, n := range []string{"PATH", "HOME", "DATABASE_URL", "TOKEN_TTL", "PASSWORD_MIN_LENGTH", "SECRET_FILE", "LANG", "KEYBOARD", ""} {
		assert.False(t, IsSecretName(n), n)
	}
}

// Issue 24: a value of 12 bytes or more made of one or two plain words is
// not registered: masking it would blank an ordinary word in every record
// and raise a false secret_exposure. A digit, a third word, or letters that
// do not read like English make it maskable again.
func TestMaskablePlainWords(t *testing.T) {
	for _, v := range []string{
		"administrator", "configuration", "Administrator", "ADMINISTRATOR", "authentication", "elasticsearch",
		"internationalization", "organization", "supersecretpassword", "production_database", "AdminPassword",
		"changeme-please", "Welcome-Home", "grafana-admin", "letmeinplease",
	} {
		assert.GreaterOrEqual(t, len(v), 12)
		assert.False(t, Maskable(v), "%q", v)
	}
	for _, v := range []string{
		"administrator1", "configuration!", "correct horse battery staple", "admin-console-password", "Xk29-fQ_7pLm",
		"qzvkjwxpbmfr", "QZVKJWXPBMFR", // letters that read like no word
	} {
		assert.True(t, Maskable(v), "%q", v)
	}
	// Random lower-case letters: few read like words (seeded: the same on every run).
	rng := rand.New(rand.NewPCG(24, 19))
	refused := 0
	for range 10000 {
		b := make([]byte, 12+rng.IntN(5))
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		if !Maskable(string(b)) {
			refused++
		}
	}
	assert.Less(t, refused, 100, "refused %d of 10000 random values", refused)
}
