package secretenv

import (
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact"
	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/codomyrmex/logging/internal/securefile"
)

var rng = rand.New(rand.NewPCG(5, 9))

// random returns a random value of letters and digits: one that Maskable
// accepts (20 characters drawn from 62 repeat no pattern it refuses).
func random(t *testing.T) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 20)
	for i := range b {
		b[i] = alnum[rng.IntN(len(alnum))]
	}
	v := string(b)
	require.True(t, redact.Maskable(v))
	return v
}

// fakeFiles is a file reader over a map; a missing name fails with an error
// that names the path only.
func fakeFiles(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		c, ok := files[name]
		if !ok {
			return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
		}
		return []byte(c), nil
	}
}

func TestFromEnviron(t *testing.T) {
	dbPass, token, apiKey, filePass, fileURLPass, urlPass, dsnPass, escPass := random(t), random(t), random(t), random(t), random(t), random(t), random(t), random(t)+"/#@"
	env := []string{
		"PATH=/usr/bin:/bin",
		"HOME=/home/app",
		"POSTGRES_PASSWORD=" + dbPass,
		"GITHUB_TOKEN=" + token,
		"internal_api_key=" + apiKey,
		"REDIS_PASSWORD=postgres", // an ordinary word: skipped
		"ADMIN_PASSWORD=admin123", // a word and digits: skipped
		"EMPTY_SECRET=",           // nothing
		"TOKEN_TTL=3600",          // not a secret name
		"LOG_LEVEL=" + random(t),  // not a secret name
		"SMTP_PASSWORD_FILE=/run/secrets/smtp",
		"CACHE_URL_FILE=/run/secrets/cache",
		"CA_FILE=/etc/ssl/ca.pem", // neither a secret nor a URL name: not read
		"DATABASE_URL=postgres://app:" + urlPass + "@db.internal:5432/orders?sslmode=require",
		"ANALYTICS_DSN=reporter:" + dsnPass + "@tcp(10.0.0.7:3306)/stats",
		"BROKER_URI=amqp://guest:" + url.QueryEscape(escPass) + "@mq:5672/",
		"PUBLIC_URL=https://example.com/app",                          // no user information
		"GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/google/key.json", // a path: skipped
		"=C:=C:\\",                    // no name
		"POSTGRES_PASSWORD=" + dbPass, // twice: once
		"NOT_AN_ASSIGNMENT",
	}
	files := fakeFiles(map[string]string{
		"/run/secrets/smtp":  filePass + "\r\n",
		"/run/secrets/cache": "rediss://default:" + fileURLPass + "@cache:6380/0\n",
		"/etc/ssl/ca.pem":    "never read",
	})
	values, skipped, err := FromEnviron(env, files)
	require.NoError(t, err)
	assert.Equal(t, []string{dbPass, token, apiKey, filePass, fileURLPass, urlPass, dsnPass, escPass, url.QueryEscape(escPass)}, values)
	assert.Equal(t, 3, skipped)
}

// TestFromEnvironFileErrors: a file that cannot be read is reported by
// variable and path, never by contents, and the other values still come.
func TestFromEnvironFileErrors(t *testing.T) {
	v := random(t)
	values, skipped, err := FromEnviron([]string{"DB_PASSWORD_FILE=/missing", "API_TOKEN=" + v}, fakeFiles(nil))
	require.Error(t, err)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "DB_PASSWORD_FILE")
	assert.Equal(t, []string{v}, values)
	assert.Zero(t, skipped)

	// Without a reader, the _FILE variables are ignored.
	values, _, err = FromEnviron([]string{"DB_PASSWORD_FILE=/missing"}, nil)
	assert.NoError(t, err)
	assert.Empty(t, values)
}

// TestFromEnvironSecureFile reads the files through securefile.ReadFile, as
// the root package does: a regular file is read, a named pipe is refused at
// once (no hang) with an error that names no contents.
func TestFromEnvironSecureFile(t *testing.T) {
	dir := t.TempDir()
	v := random(t)
	reg := filepath.Join(dir, "db")
	require.NoError(t, os.WriteFile(reg, []byte(v+"\n"), 0o600))
	read := func(name string) ([]byte, error) { return securefile.ReadFile(name, MaxFileSize) }
	values, _, err := FromEnviron([]string{"DB_PASSWORD_FILE=" + reg}, read)
	require.NoError(t, err)
	assert.Equal(t, []string{v}, values)

	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat(v, MaxFileSize/len(v)+1)), 0o600))
	values, _, err = FromEnviron([]string{"DB_PASSWORD_FILE=" + big}, read)
	assert.ErrorIs(t, err, securefile.ErrTooLarge)
	assert.NotContains(t, err.Error(), v)
	assert.Empty(t, values)
}

func TestFromEnvironSkipsWords(t *testing.T) {
	values, skipped, err := FromEnviron([]string{
		"POSTGRES_PASSWORD=postgres", "MYSQL_ROOT_PASSWORD=changeme", "RABBITMQ_DEFAULT_PASS=password",
		"ADMIN_TOKEN=admin123", "DATABASE_URL=postgres://postgres:postgres@db/app",
	}, nil)
	require.NoError(t, err)
	assert.Empty(t, values)
	assert.Equal(t, 5, skipped)

	// Words of 12 bytes or more too (issue 24): masking them would blank
	// them from every record and raise a false secret_exposure.
	values, skipped, err = FromEnviron([]string{
		"KEYCLOAK_ADMIN_PASSWORD=administrator", "APP_SECRET=configuration", "DB_PASSWORD=production_database",
		"AMQP_URL=amqp://app:authentication@mq/vhost",
	}, nil)
	require.NoError(t, err)
	assert.Empty(t, values)
	assert.Equal(t, 4, skipped)
}

func TestURLPasswords(t *testing.T) {
	p := random(t)
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"postgres://u:" + p + "@h/db", []string{p}},
		{"postgres://u:" + p + "%2F@h/db", []string{p + "/", p + "%2F"}},
		{"postgres://u:" + p + "/#@h/db", []string{p + "/#"}}, // url.Parse fails: the last @
		{"u:" + p + "@tcp(h:3306)/db", []string{p}},
		{"u:" + p + "@unix(/run/mysql.sock)/db", []string{p}},
		{"postgres://u@h/db", nil},
		{"https://h/path", nil},
		{"just text " + p, nil},
	} {
		assert.Equal(t, tc.want, urlPasswords(tc.in), tc.in)
	}
}

// TestFromEnvironNamedPipe: a _FILE variable that names a named pipe does
// not block (securefile opens it non-blocking and refuses it).
func TestFromEnvironNamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	read := func(name string) ([]byte, error) { return securefile.ReadFile(name, MaxFileSize) }
	values, _, err := FromEnviron([]string{"DB_PASSWORD_FILE=" + fifo}, read)
	assert.ErrorIs(t, err, securefile.ErrNotRegular)
	assert.Empty(t, values)
}

// Connection strings that give the password by keyword: libpq's (quoted
// with blanks and escapes), JDBC's query, SQL Server's and ADO.NET's (in
// braces with a ';'); each password is registered from a DSN or URL
// variable, and a string without one registers nothing.
func TestKeywordPasswords(t *testing.T) {
	pw := func() string { return "Zq7" + redacttest.Gen(redacttest.AlnumChars, 12) }
	a, b, c, d := pw(), pw(), pw(), pw()
	cases := map[string][]string{
		"host=db user=app password=" + a + " dbname=x":                 {a},
		"host=db password='" + b + " x\\'y' sslmode=require":           {b + " x'y"},
		"jdbc:postgresql://h/db?user=u&password=" + c + "%21&ssl=true": {c + "%21", c + "!"},
		"Server=h;Database=d;User Id=sa;Password={" + d + ";e};":       {d + ";e"},
		"Server=h;Database=d;User Id=sa;PWD=" + a + ";":                {a},
		"host=db user=app dbname=x sslmode=require":                    nil,
		"sslpassword=" + b: nil,
	}
	for in, want := range cases {
		assert.Equal(t, want, keywordPasswords(in), in)
	}
	values, _, err := FromEnviron([]string{"DATABASE_DSN=host=db password=" + a, "ORDERS_DB_URL=jdbc:x://h?password=" + b}, nil)
	require.NoError(t, err)
	assert.Contains(t, values, a)
	assert.Contains(t, values, b)
}
