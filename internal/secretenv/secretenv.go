// Package secretenv finds, in a program's environment, the secrets it was
// configured with, so that the logger can register them as known secrets
// (redact.Redactor.Mask) and mask them wherever they show up in a log.
//
// It reads the values of variables whose names say they hold a secret
// (redact.IsSecretName: PASSWORD, TOKEN, SECRET, API_KEY, CREDENTIAL,
// PRIVATE_KEY…), the passwords inside the connection URLs and DSNs of
// variables named *_URL, *_URI, *_DSN, and the contents of the files named
// by *_FILE variables of either kind (the Docker and Kubernetes convention:
// POSTGRES_PASSWORD_FILE=/run/secrets/db). A value is kept only if
// redact.Maskable accepts it, so that a default password that is an
// ordinary word (POSTGRES_PASSWORD=postgres) cannot blank that word from
// every line. Nothing here ever writes a value: errors name variables and
// files, and the caller gets counts.
package secretenv

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/codomyrmex/logging/internal/redact"
)

// MaxFileSize is the size limit that callers should give their file reader
// (a secret file is small; a larger one is likely not a secret).
const MaxFileSize = 64 << 10

// FromEnviron returns the secrets found in environ ("NAME=value" entries,
// as os.Environ returns them), without duplicates, in the order found, and
// how many candidate values it skipped because redact.Maskable refused
// them (too short, an ordinary word, a repetition, a file path).
//
// For each variable:
//
//   - NAME_FILE (any case), where NAME is a secret name or a URL name (see
//     below): readFile(value) is read, one trailing newline ("\n" or
//     "\r\n") is cut, and the contents are taken as the value of NAME. With
//     a nil readFile, such variables are ignored. A read error is returned
//     (joined with the others), wrapped in one that names the variable;
//     readFile's errors must not hold what the file holds (those of
//     internal/securefile name the path and the limit only).
//   - a secret name (redact.IsSecretName): the value; and, if it is a URL
//     or DSN with a password, the password too.
//   - a URL name, one that ends (lowercased, without _ - .) with url, uri,
//     dsn or connectionstring: the password of the URL
//     (scheme://user:password@host, percent-decoded, and as written if that
//     differs) or of the Go DSN (user:password@tcp(host)/db).
//
// A value of a secret name that looks like an absolute file path (it
// starts with /, has at least two /, and holds only letters, digits and
// . _ - /) is skipped: GOOGLE_APPLICATION_CREDENTIALS names a file, and
// masking the path would only raise false alarms.
func FromEnviron(environ []string, readFile func(name string) ([]byte, error)) (values []string, skipped int, err error) {
	seen := map[string]bool{}
	var errs []error
	consider := func(v string) {
		if v == "" || seen[v] {
			return
		}
		if !redact.Maskable(v) {
			skipped++
			return
		}
		seen[v] = true
		values = append(values, v)
	}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" || value == "" {
			continue
		}
		if stem, ok := cutFileSuffix(name); ok && (redact.IsSecretName(stem) || isURLName(stem)) {
			if readFile == nil {
				continue
			}
			b, rerr := readFile(value)
			if rerr != nil {
				errs = append(errs, fmt.Errorf("secretenv: reading the file of %s: %w", name, rerr))
				continue
			}
			name, value = stem, trimNewline(string(b))
			if value == "" {
				continue
			}
		}
		secret, isURL := redact.IsSecretName(name), isURLName(name)
		if secret {
			if looksLikePath(value) {
				skipped++
			} else {
				consider(value)
			}
		}
		if secret || isURL {
			for _, p := range append(urlPasswords(value), keywordPasswords(value)...) {
				consider(p)
			}
		}
	}
	return values, skipped, errors.Join(errs...)
}

// cutFileSuffix returns name without a final _FILE (or _file, -file…).
func cutFileSuffix(name string) (string, bool) {
	if len(name) < 6 || !strings.EqualFold(name[len(name)-4:], "file") {
		return "", false
	}
	switch name[len(name)-5] {
	case '_', '-', '.':
		return name[:len(name)-5], true
	}
	return "", false
}

// isURLName reports whether name, lowercased and without _ - . and
// spaces, ends with url, uri, dsn or connectionstring.
func isURLName(name string) bool {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '_', '-', '.', ' ':
		default:
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
	}
	n := b.String()
	for _, s := range []string{"url", "uri", "dsn", "connectionstring"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// looksLikePath reports whether v looks like an absolute file path rather
// than a secret.
func looksLikePath(v string) bool {
	if !strings.HasPrefix(v, "/") || strings.Count(v, "/") < 2 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/') {
			return false
		}
	}
	return true
}

// urlPasswords returns the password of a URL with user information
// (decoded, and as written if that differs) or of a Go DSN
// (user:password@tcp(host)/db), or nothing.
func urlPasswords(v string) []string {
	var raw string
	if scheme, rest, ok := strings.Cut(v, "://"); ok && scheme != "" && !strings.ContainsAny(scheme, "/@: ") {
		// The user information ends at the last @ before the path; a
		// password may hold / or # unescaped, which url.Parse would misread.
		if u, err := url.Parse(v); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok {
				out := []string{p}
				if _, w, _ := strings.Cut(userinfo(rest), ":"); w != p && w != "" {
					out = append(out, w)
				}
				return out
			}
			return nil
		}
		_, raw, _ = strings.Cut(userinfo(rest), ":")
	} else if at := strings.LastIndex(v, "@"); at > 0 && dsnProtocol(v[at+1:]) {
		_, raw, _ = strings.Cut(v[:at], ":")
	}
	if raw == "" {
		return nil
	}
	if p, err := url.PathUnescape(raw); err == nil && p != raw {
		return []string{p, raw}
	}
	return []string{raw}
}

// keywordPasswords returns the passwords a connection string gives by
// keyword: libpq's `host=db password=…` (a value in single quotes may
// hold blanks, \' and \\), a JDBC or ODBC URL's `?password=…&…`, SQL
// Server's and ADO.NET's `Password=…;` (a value in braces or double quotes
// may hold ;). The keywords are password, passwd and pwd, in any case,
// at the start of v or after a blank, ';', '?' or '&'.
func keywordPasswords(v string) []string {
	var out []string
	lower := strings.ToLower(v)
	for i := 0; i < len(v); {
		j := indexKeyword(lower, i)
		if j < 0 {
			break
		}
		val, end := keywordValue(v, j)
		if val != "" {
			out = append(out, val)
			if u, err := url.QueryUnescape(val); err == nil && u != val {
				out = append(out, u)
			}
		}
		i = max(end, j+1)
	}
	return out
}

// indexKeyword returns where the value of the first password keyword at or
// after i begins (after its '='), or -1.
func indexKeyword(lower string, i int) int {
	for ; i < len(lower); i++ {
		if i > 0 && !strings.ContainsRune(" \t;?&", rune(lower[i-1])) {
			continue
		}
		for _, k := range [...]string{"password", "passwd", "pwd"} {
			rest := lower[i:]
			if !strings.HasPrefix(rest, k) {
				continue
			}
			rest = strings.TrimLeft(rest[len(k):], " \t")
			if strings.HasPrefix(rest, "=") {
				return len(lower) - len(rest) + 1
			}
		}
	}
	return -1
}

// keywordValue reads the value that starts at j (blanks before it
// skipped): quoted, in braces, or up to a blank, ';' or '&'. It returns
// the value and where it ends.
func keywordValue(v string, j int) (string, int) {
	for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
		j++
	}
	if j >= len(v) {
		return "", j
	}
	switch q := v[j]; q {
	case '\'', '"', '{':
		closer := q
		if q == '{' {
			closer = '}'
		}
		var b strings.Builder
		for k := j + 1; k < len(v); k++ {
			switch {
			case v[k] == '\\' && q == '\'' && k+1 < len(v):
				k++
				b.WriteByte(v[k])
			case v[k] == closer:
				return b.String(), k + 1
			default:
				b.WriteByte(v[k])
			}
		}
		return b.String(), len(v)
	}
	end := j
	for end < len(v) && !strings.ContainsRune(" \t;&", rune(v[end])) {
		end++
	}
	return v[j:end], end
}

// userinfo returns what precedes the last @ of rest (the URL after
// "scheme://"), or "". A password may hold @ and / unescaped, so the last @
// is taken: a URL with an @ in its path and a colon before it (host:port)
// may yield a wrong "password", which Maskable then judges like any value.
func userinfo(rest string) string {
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	return rest[:at]
}

// dsnProtocol reports whether s starts with a Go DSN's protocol and "(".
func dsnProtocol(s string) bool {
	for _, p := range []string{"tcp(", "tcp6(", "unix(", "udp("} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
