package redact

import (
	"fmt"
	"math/big"
	"net/netip"
	"regexp"
	"strings"
)

// Personal data, redacted only when asked for (Config.PII): e-mail
// addresses, phone numbers in E.164 form, IBANs (mod-97 checked) and IP
// addresses, which are truncated rather than removed, as web-analytics
// anonymizers do, so that the rough origin stays useful: an IPv4 address
// keeps its /24 (203.0.113.77 → 203.0.113.0), an IPv6 address its /48
// (2001:db8:85a3:8d3:1319:8a2e:370:7348 → 2001:db8:85a3::).

// PIIKinds are the kinds of personal data Config.PII may name.
var PIIKinds = []string{"email", "phone", "iban", "ip"}

// piiRules returns the rules of the kinds named, or an error naming an
// unknown one.
func piiRules(kinds []string) ([]Rule, error) {
	var out []Rule
	for _, k := range kinds {
		switch k {
		case "email":
			// RFC 5321 local part (simplified to what logs show) and a domain with a TLD.
			out = append(out, rule("email", `(?i)(?:^|[^a-z0-9._%+-])([a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,24})(?:$|[^a-z0-9-])`, "@"))
		case "phone":
			// ITU-T E.164: +, a country code that does not start with 0, 8 to 15 digits in all.
			out = append(out, rule("phone", `(?:^|[^0-9A-Za-z+])(\+[1-9][0-9]{7,14})(?:$|[^0-9])`, "+"))
		case "iban":
			// ISO 13616: country, 2 check digits, up to 30 alphanumerics, grouped by 4 or not.
			r := Rule{Kind: "iban", Pattern: regexp.MustCompile(`(?:^|[^A-Za-z0-9])([A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)(?:$|[^A-Za-z0-9])`),
				Validate: validIBAN, digits: true}
			out = append(out, r)
		case "ip":
			r := Rule{Kind: "ip", Pattern: regexp.MustCompile(`(?:^|[^0-9A-Za-z.:])([0-9A-Fa-f.:]{7,45})(?:$|[^0-9A-Za-z.:])`), find: findIPs, replace: truncateIP}
			out = append(out, r)
		default:
			return nil, fmt.Errorf("unknown kind of personal data %q: want %s", k, strings.Join(PIIKinds, ", "))
		}
	}
	return out, nil
}

// validIBAN checks the ISO 7064 mod-97 check digits.
func validIBAN(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	var b strings.Builder
	for _, c := range s[4:] + s[:4] {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			fmt.Fprintf(&b, "%d", c-'A'+10)
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

var ipChars = setOf("0123456789abcdefABCDEF.:")

// findIPs finds IPv4 and IPv6 addresses: each maximal run of hex digits,
// dots and colons that netip parses as an address. For an IPv4 address the
// span is its last octet; for an IPv6 address the whole address (see
// truncateIP). Each byte is read once, and at most a few more before each
// run (versionBefore).
//
// A version number is not an address, though four numbers up to 255 parse
// as one: after the word version (ver, v), as in "wcp.dll version 0.0.0.6"
// or "productVersion=1.2.8.57", or after a tilde, as in a Windows package's
// identity ("Package_for_KB2656356~31bf3856ad364e35~amd64~~6.1.1.1").
func findIPs(s string, out [][2]int) ([][2]int, int) {
	work := 0
	for i := 0; i < len(s); {
		if !ipChars[s[i]] {
			i++
			work++
			continue
		}
		j := i
		for j < len(s) && ipChars[s[j]] {
			j++
		}
		work += j - i
		before := i == 0 || (!isKeyByte(s[i-1]) || s[i-1] == '-' || s[i-1] == '_') && !versionBefore(s, i, &work)
		after := j == len(s) || !isKeyByte(s[j]) || s[j] == '-' || s[j] == '_' || s[j] == '.'
		tok := strings.TrimRight(s[i:j], ".:")
		if before && after && len(tok) >= 7 && len(tok) <= 51 {
			a, err := netip.ParseAddr(tok)
			if ap, perr := netip.ParseAddrPort(tok); err != nil && perr == nil && ap.Addr().Is4() {
				a, err, tok = ap.Addr(), nil, tok[:strings.LastIndexByte(tok, ':')] // host:port
			}
			if err == nil {
				if a.Is4() {
					dot := strings.LastIndexByte(tok, '.')
					if tok[dot+1:] != "0" {
						out = append(out, [2]int{i + dot + 1, i + len(tok)})
					}
				} else if p := netip.PrefixFrom(a, 48).Masked().Addr(); p != a {
					out = append(out, [2]int{i, i + len(tok)})
				}
			}
		}
		i = j
	}
	return out, work
}

// versionBefore reports whether what precedes s[i] makes the number there
// a version: a tilde, or the word "version" (in any case, alone or ending
// a camelCase or snake_case key) or "ver" or "v", then at most three of '=',
// ':' and blanks. It reads at most a dozen bytes back, and adds them to
// *work.
func versionBefore(s string, i int, work *int) bool {
	if s[i-1] == '~' {
		return true
	}
	j := i
	for j > 0 && i-j < 3 && (s[j-1] == ' ' || s[j-1] == '=' || s[j-1] == ':') {
		j--
	}
	e := j
	for j > 0 && e-j < len("version") && isLetterByte(s[j-1]) {
		j--
	}
	*work += i - j
	w := s[j:e]
	whole := j == 0 || !isLetterByte(s[j-1])
	camel := j > 0 && s[j] == 'V' // "productVersion", not "conversion"
	return strings.EqualFold(w, "version") && (whole || camel || !(s[j-1] >= 'a' && s[j-1] <= 'z')) ||
		whole && (strings.EqualFold(w, "ver") || strings.EqualFold(w, "v"))
}

// truncateIP is what replaces an IP span: "0" for an IPv4 address's last
// octet, the /48 prefix for an IPv6 address.
func truncateIP(span string) string {
	if a, err := netip.ParseAddr(span); err == nil && a.Is6() {
		return netip.PrefixFrom(a, 48).Masked().Addr().String()
	}
	return "0"
}
