package redact

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// Rule is one credential format the redactor recognizes.
type Rule struct {
	// Kind names the format; the marker is [REDACTED:Kind].
	Kind string
	// Keywords: the Pattern runs only on strings that contain one of them
	// (ASCII case-insensitive). A rule without keywords runs on every string.
	Keywords []string
	// Pattern finds the format. If it has a capturing group, the first group
	// is the secret that is replaced; otherwise the whole match is.
	Pattern *regexp.Regexp
	// Validate, if set, must accept the secret for it to be replaced.
	Validate func(secret string) bool

	digits  bool                // triggered by a long run of digits instead of keywords
	minRun  uint32              // for digit rules: the shortest run that wakes it (minDigitRun if less)
	shape   string              // triggered by this shape instead ('d' a digit, '-' a dash; see newAutomaton)
	find    matchFunc           // a hand-written matcher used instead of Pattern
	replace func(string) string // if set, what replaces a span of this rule alone, instead of a marker
}

// A matchFunc appends to out the spans of s that a rule redacts, in order,
// and returns them with the number of bytes it examined (see matchers.go).
type matchFunc func(s string, out [][2]int) ([][2]int, int)

func rule(kind, pattern string, keywords ...string) Rule {
	return Rule{Kind: kind, Keywords: keywords, Pattern: regexp.MustCompile(pattern)}
}

func (r Rule) validate(f func(string) bool) Rule { r.Validate = f; return r }

func (r Rule) matcher(f matchFunc) Rule { r.find = f; return r }

// kvKeys are the key names that make "key=value" text secret (see
// kvSecretStems and kvTokenStems), in any case, with _ . - or a space
// between words or none; a camelCase boundary starts a word too, and the
// short stems (pass, pwd) must start one: not "bypass", "OLDPWD".
const kvKeys = `(?:[A-Za-z0-9]*(?i:pass(?:[_. -]?word|wd|phrase)|secret(?:[_. -]?key)?|token|api[_. -]?key|access[_. -]?key(?:[_. -]?id)?|private[_. -]?key|(?:signing|encryption|master|hmac)[_. -]?key|passcode|credentials?|sess(?:ion)?[_. -]?(?:id|token|key)|signature)|(?:[A-Za-z0-9]*[a-z0-9])?P(?:wd|WD|ass|ASS)|pwd|pass)`

// builtinRules is every built-in format, in the order the rules run: the
// specific formats first (on a tie the earlier rule names the marker), then
// the generic ones (JWTs, PEM blocks, URLs, headers, assignments, cards).
// The formats follow the vendors' documentation and the public gitleaks
// and trufflehog rule sets; the patterns are our own.
var builtinRules = slices.Concat(specificRules, cloudRules, saasRules, genericRules)

// specificRules are the formats of the major clouds, code hosts and chat
// services. A format with a distinctive prefix is matched by its shape
// alone (see prefixed.go): a token one character off or cut short is still
// redacted. Validators remain only where the shape alone is ambiguous.
var specificRules = []Rule{
	// AWS access key ids: AKIA (user), ASIA (STS), ABIA, ACCA; base32 body
	// (AWS IAM docs). Exactly 20 characters, or cut short to 18.
	rule("aws-access-key-id", `\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{14,16})\b`, awsKeyIDKeywords...),
	// AWS secret access keys: 40 base64 chars, recognizable only next to their name.
	rule("aws-secret-access-key", `(?i)aws[_.-]?secret[_.-]?(?:access[_.-]?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})\b`, "aws"),
	// Google API keys: AIza + 35 (Google Cloud docs).
	prefixed("gcp-api-key", `[0-9A-Za-z_-]`, 30, "AIza"),
	// GCP service-account JSON: the private key id (the key itself is a PEM block below).
	rule("gcp-service-account-key-id", `"private_key_id"\s*:\s*"([a-f0-9]{40})"`, "private_key_id"),
	// Google OAuth client secrets (GOCSPX- + 28) and access tokens (ya29.).
	prefixed("gcp-oauth-client-secret", `[A-Za-z0-9_-]`, 24, "GOCSPX-"),
	prefixed("gcp-oauth-access-token", `[A-Za-z0-9_-]`, 20, "ya29."),
	// Azure storage account keys and Service Bus/Event Hub keys in connection strings.
	rule("azure-storage-key", `(?i)AccountKey=([A-Za-z0-9+/]{20,}={0,2})`, "accountkey="),
	rule("azure-shared-access-key", `(?i)SharedAccessKey=([A-Za-z0-9+/]{20,}={0,2})`, "sharedaccesskey="),
	// Azure SAS tokens: the sig= parameter.
	rule("azure-sas-signature", `(?i)[?&;]sig=([A-Za-z0-9%+/]{20,}(?:%3D|=){0,2})`, "sig="),
	// Azure AD (Entra) client secrets: 3 chars, a digit, Q~, 31–34 chars.
	rule("azure-ad-client-secret", `(?:^|[^A-Za-z0-9_~.])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{28,34})(?:$|[^A-Za-z0-9_~.-])`, "q~"),
	// GitHub tokens (github.blog, 2021 token formats): prefix, 30 random, 6
	// base62 CRC32. The checksum is not required: a token one character off
	// or cut short (30 characters at least) is still redacted.
	prefixed("github-token", `[A-Za-z0-9]`, 30, "ghp_"),
	prefixed("github-oauth-token", `[A-Za-z0-9]`, 30, "gho_"),
	prefixed("github-app-token", `[A-Za-z0-9]`, 30, "ghu_", "ghs_"),
	prefixed("github-refresh-token", `[A-Za-z0-9]`, 30, "ghr_"),
	// GitHub fine-grained personal access tokens: github_pat_, 22, _, 59.
	prefixed("github-fine-grained-token", `[A-Za-z0-9_]`, 70, "github_pat_"),
	// GitLab personal, deploy, runner, pipeline trigger, feed, OAuth,
	// incoming mail, agent and feature flag tokens (GitLab token docs).
	prefixed("gitlab-token", `[A-Za-z0-9_-]`, 16, "glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glsoat-", "glcbt-", "glimt-", "glagent-", "gloas-", "glffct-"),
	prefixed("gitlab-runner-registration-token", `[A-Za-z0-9_-]`, 16, "GR1348941"),
	// Slack bot, user, app-level and configuration tokens (Slack API docs).
	prefixed("slack-token", `[A-Za-z0-9-]`, 10, "xoxa-", "xoxb-", "xoxe-", "xoxo-", "xoxp-", "xoxr-", "xoxs-"),
	prefixed("slack-app-token", `[A-Za-z0-9-]`, 30, "xapp-"),
	// Slack incoming webhooks.
	rule("slack-webhook", `(https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,})`, "hooks.slack.com"),
	// Stripe secret and restricted keys, webhook signing secrets (Stripe docs).
	prefixed("stripe-key", `[A-Za-z0-9]`, 16, "sk_live_", "sk_test_", "rk_live_", "rk_test_"),
	prefixed("stripe-webhook-secret", `[A-Za-z0-9+/]`, 24, "whsec_"),
	// Twilio API key secrets: SK + 32 hex. "SK" alone is no prefix: exact shape.
	rule("twilio-api-key", `\b(SK[0-9a-fA-F]{32})\b`, "sk").matcher(findTwilio),
	// SendGrid: SG.<22>.<43>; "SG." is short, so the dot after 22 is checked.
	prefixedCheck("sendgrid-api-key", `[A-Za-z0-9_.-]`, 55, sendgridShape, "SG."),
	// Mailgun private API keys: "key-" is a common word, so the exact shape.
	rule("mailgun-api-key", `\b(key-[0-9a-f]{32})\b`, "key-"),
	// Mailchimp API keys: 32 hex and the data center; no prefix, exact shape.
	rule("mailchimp-api-key", `\b([0-9a-f]{32}-us\d{1,2})\b`, "-us"),
	// npm access tokens (npm blog, 2021): npm_ + 30 random + 6 CRC32; as for
	// GitHub, the checksum is not required.
	prefixed("npm-token", `[A-Za-z0-9]`, 30, "npm_"),
	// PyPI upload tokens: macaroons that start with the base64 of "pypi.org".
	prefixed("pypi-token", `[A-Za-z0-9_-]`, 50, "pypi-AgEIcHlwaS5vcmc"),
	// RubyGems API keys: rubygems_ + 48 hex.
	prefixed("rubygems-api-key", `[a-f0-9]`, 40, "rubygems_"),
	// Docker Hub personal access tokens.
	prefixed("dockerhub-token", `[A-Za-z0-9_-]`, 24, "dckr_pat_"),
	// OpenAI keys: legacy (T3BlbkFJ marker) and project/service-account/admin keys.
	rule("openai-api-key", `\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{10,})`, "t3blbkfj"),
	prefixed("openai-project-key", `[A-Za-z0-9_-]`, 40, "sk-proj-", "sk-svcacct-", "sk-admin-"),
	// Anthropic API and admin keys: sk-ant-api03-, sk-ant-admin01- and 90 or more.
	prefixed("anthropic-api-key", `[A-Za-z0-9_-]`, 60, "sk-ant-api", "sk-ant-admin"),
	// Hugging Face user access tokens: hf_ + 34 letters.
	prefixed("huggingface-token", `[A-Za-z]`, 30, "hf_"),
	// Shopify access tokens, custom app, private app and shared secrets.
	prefixed("shopify-token", `[a-fA-F0-9]`, 28, "shpat_", "shpca_", "shppa_", "shpss_"),
	// Square access tokens and OAuth secrets.
	prefixed("square-token", `[A-Za-z0-9_-]`, 22, "EAAA", "sq0atp-"),
	prefixed("square-oauth-secret", `[A-Za-z0-9_-]`, 40, "sq0csp-"),
	// Discord webhooks and bot tokens named as such.
	rule("discord-webhook", `(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{60,})`, "discord.com/api/webhooks", "discordapp.com/api/webhooks"),
	rule("discord-bot-token", `(?i)discord[\w.-]{0,20}["']?\s*[:=]\s*["']?(?:Bot\s+)?([A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40})`, "discord"),
	// Telegram bot tokens: bot id, colon, AA + 33 (or cut short to 30).
	rule("telegram-bot-token", `\b(\d{8,10}:AA[A-Za-z0-9_-]{30,})`, ":aa"),
	// DigitalOcean personal, OAuth and refresh tokens: do?_v1_ + 64 hex.
	prefixed("digitalocean-token", `[a-f0-9]`, 56, "dop_v1_", "doo_v1_", "dor_v1_"),
	// Datadog API (32 hex) and application (40 hex) keys, named as such.
	rule("datadog-key", `(?i)(?:datadog|dd)[_-]?(?:api|app|application)[_-]?key["']?\s*[:=]\s*["']?([a-f0-9]{32,40})\b`, "datadog", "dd_api", "dd-api", "dd_app", "dd-app", "ddapi", "ddapp"),
	// New Relic user API keys (NRAK-) and insert keys (NRII-).
	prefixed("newrelic-key", `[A-Za-z0-9_-]`, 24, "NRAK-", "NRII-"),
	// Postman API keys: PMAK-, 24 hex, -, 34 hex.
	prefixed("postman-api-key", `[a-f0-9-]`, 50, "PMAK-"),
	// HashiCorp Vault service, batch and recovery tokens.
	prefixed("vault-token", `[A-Za-z0-9_-]`, 24, "hvs.", "hvb.", "hvr."),
	// HashiCorp Terraform Cloud / Enterprise API tokens.
	rule("terraform-cloud-token", `\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{50,70})`, ".atlasv1."),
	// Doppler service, personal, CLI, SCIM and audit tokens.
	prefixed("doppler-token", `[A-Za-z0-9._-]`, 40, "dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."),
	// Grafana Cloud tokens, service-account tokens and legacy API keys.
	prefixed("grafana-token", `[A-Za-z0-9+/=]`, 32, "glc_"),
	prefixed("grafana-token", `[A-Za-z0-9_]`, 36, "glsa_"),
	prefixed("grafana-token", `[A-Za-z0-9+/=]`, 50, "eyJrIjoi"),
	// Linear API keys: lin_api_ + 40.
	prefixed("linear-api-key", `[A-Za-z0-9]`, 36, "lin_api_"),
	// Atlassian API tokens.
	prefixed("atlassian-api-token", `[A-Za-z0-9_=-]`, 100, "ATATT3"),
	// Sentry DSNs (the public key in the URL) and auth tokens.
	rule("sentry-dsn", `https?://([a-f0-9]{32})(?::[a-f0-9]{32})?@[A-Za-z0-9.-]*sentry[A-Za-z0-9.-]*(?::\d+)?/\d+`, "sentry"),
	prefixed("sentry-token", `[A-Za-z0-9+/=_-]`, 40, "sntrys_", "sntryu_"),
	// Databricks, Pulumi, Fly.io, PlanetScale, Alibaba Cloud tokens.
	prefixed("databricks-token", `[a-f0-9-]`, 28, "dapi"),
	prefixed("pulumi-token", `[a-f0-9]`, 36, "pul-"),
	prefixed("flyio-token", `[A-Za-z0-9_-]`, 36, "fo1_"),
	prefixed("planetscale-token", `[A-Za-z0-9_.-]`, 32, "pscale_tkn_", "pscale_pw_", "pscale_oauth_"),
	prefixed("alibaba-access-key-id", `[A-Za-z0-9]`, 17, "LTAI"),
	// age encryption secret keys (bech32).
	prefixed("age-secret-key", `[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]`, 50, "AGE-SECRET-KEY-1"),
}

// genericRules recognize credentials by their context: JWT structure, PEM
// armour, URLs, headers, assignments, and the checked digits of cards and
// SSNs. They run after every specific format.
var genericRules = []Rule{
	// JSON Web Tokens: header.payload.signature, header must decode to JSON with "alg".
	rule("jwt", `\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,})`, "eyj").validate(validJWT),
	// PEM, OpenSSH and PGP private key blocks, whole (multi-line, or with
	// escaped \n as in JSON), or up to the end of the text if cut short.
	rule("private-key", `(-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,-]*))`, "private key").matcher(findPrivateKeys),
	// Credentials in URLs: scheme://user:password@host (database, broker,
	// HTTP), the password up to the last '@' that a host follows, so that
	// one with ? # @ not percent-encoded is found whole, and one with / a
	// blank or a quote after user:word that is not a port
	// (findURLCredentials; the regexp leaves out the latter).
	rule("url-credentials", `\b[A-Za-z][A-Za-z0-9+.-]{1,30}://[^/\s:@"'<>?#]*:([^/\s"'<>]+)@[A-Za-z0-9._~%:\[\]-]+(?:[?#/\s"'<>]|$)`, "://").matcher(findURLCredentials),
	// Go database DSNs: user:password@tcp(host) and friends; the password
	// may hold '@' (the MySQL driver splits at the last one).
	rule("dsn-credentials", `[A-Za-z0-9_.-]{1,64}:([^\s/:"'(]{1,256})@(?:tcp|unix|udp|tcp6)\(`, "@tcp(", "@unix(", "@udp(", "@tcp6(").matcher(findDSNCredentials),
	// Authorization and Proxy-Authorization headers: the whole value, scheme
	// and credentials, whatever the scheme, in header lines, quotes, Go's
	// printed header maps and curl -H; and curl's -u user:password
	// (findAuthorization; the regexp leaves out curl and the quote rules).
	rule("authorization-header", `(?i)\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["'\[]?([^"'\]\r\n]+)`, "authorization", "curl").matcher(findAuthorization),
	// Bearer tokens anywhere.
	rule("bearer-token", `(?i)\bbearer\s+([A-Za-z0-9._~+/-]{12,}=*)`, "bearer").validate(hasDigit),
	// Basic credentials anywhere: base64 of user:password.
	rule("basic-auth", `(?i)\bbasic\s+([A-Za-z0-9+/]{6,}={0,2})`, "basic").validate(validBasic),
	// Cookie and Set-Cookie header values (session cookies), whole, with
	// the same quote and bracket rules as Authorization (findHeaderValues).
	rule("cookie", `(?i)\bcookie["']?[ \t]*[:=][ \t]*["'\[]?([^"'\]\r\n]+)`, "cookie").matcher(findHeaderValues("cookie", true)),
	// key=value, key: value, "key": "value", query parameters, := ?= .= =>,
	// typed declarations, setter calls, indexes, XML elements, YAML values
	// on the next line, YAML mappings and sequences and JSON objects under
	// a secret-sounding key (findAssignments), and the argument after a
	// secret flag, --password … or keytool's -storepass … (findFlagValues);
	// the regexp documents the common forms: keys as keySet matches them,
	// values to a delimiter.
	rule("secret-assignment", `(?:^|[^A-Za-z0-9])["']?(?:[A-Za-z0-9]+[_. -])*`+kvKeys+`(?:[_.-]?(?i:confirmation|confirm|hint|hash|digest))?\d*["']?[ \t]*(?:=>|::=|:=|\?=|\.=|\+=|=|:)[ \t]*("[^"\r\n]*"|'[^'\r\n]*'|[^\s,;&"'<>]+)`,
		"pass", "pwd", "secret", "token", "api_key", "api-key", "api.key", "api key", "apikey", "access_key", "access-key", "access.key", "access key", "accesskey",
		"private_key", "private-key", "private.key", "privatekey", "credential", "session", "sessid", "sid=", "sid:", "sid ", `sid"`, "sid'", "signature",
		"passcode", "signing_key", "signingkey", "encryption_key", "encryptionkey", "master_key", "masterkey", "hmac_key", "hmackey").matcher(findSecretValues),
	// Payment card numbers: 13–19 digits, optionally grouped by spaces or
	// dashes, accepted only with a known issuer prefix and a valid Luhn check.
	{Kind: "card-number", Pattern: regexp.MustCompile(`(?:^|[^0-9A-Za-z_.+-])(\d(?:[ -]?\d){12,18})(?:$|[^0-9A-Za-z_.+-])`), Validate: validCard, digits: true, minRun: 13, find: findCards},
	// US social security numbers: AAA-GG-SSSS with the SSA's invalid ranges excluded.
	{Kind: "us-ssn", Pattern: regexp.MustCompile(`(?:^|[^0-9A-Za-z_.:/-])(\d{3}-\d{2}-\d{4})(?:$|[^0-9A-Za-z_.:/-])`), Validate: validSSN, shape: "ddd-dd-dddd", find: findSSNs},
}

// Builtin returns a copy of the built-in rules, in the order they run.
func Builtin() []Rule { return slices.Clone(builtinRules) }

// validJWT accepts a token whose header is base64url JSON with an "alg".
func validJWT(tok string) bool {
	h, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(h, "="))
	if err != nil {
		return false
	}
	var hdr map[string]any
	if json.Unmarshal(b, &hdr) != nil {
		return false
	}
	_, ok := hdr["alg"]
	return ok
}

// sendgridShape accepts SG., 22 characters, and a dot: the shape of a
// SendGrid key, which "SG." alone does not announce.
func sendgridShape(tok string) bool {
	return len(tok) > 26 && tok[25] == '.' && strings.IndexByte(tok[3:25], '.') < 0
}

// airtableShape accepts pat, 14 letters or digits, a dot and hex: the shape
// of an Airtable token, which "pat" alone does not announce.
func airtableShape(tok string) bool {
	if len(tok) < 18+32 || tok[17] != '.' || strings.IndexByte(tok[3:17], '.') >= 0 {
		return false
	}
	for i := 18; i < len(tok); i++ {
		if c := tok[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// validJWTBase64 accepts base64 (standard alphabet, possibly cut short)
// whose text is a JWT: a header that validJWT accepts, then a dot. Only the
// first 1 KiB is decoded: enough for any header, and a bound on the work
// for each token.
func validJWTBase64(tok string) bool {
	tok = strings.TrimRight(tok, "=")
	n := min(len(tok), 1024) / 4 * 4 // whole groups only: the token may be cut short
	b, err := base64.StdEncoding.DecodeString(tok[:n])
	if err != nil {
		return false
	}
	header, _, ok := strings.Cut(string(b), ".")
	return ok && validJWT(header)
}

// honeycombShape accepts the two shapes of the older Honeycomb keys: 22
// letters and digits, or 32 hex.
func honeycombShape(s string) bool { return len(s) == 22 || len(s) == 32 && isHex(s) }

// codecovShape accepts a Codecov token: a UUID, or 32 hex.
func codecovShape(s string) bool { return isUUID(s) || len(s) == 32 && isHex(s) }

// asanaShape accepts an Asana personal access token: a version digit, /,
// one or two ids of 16 or more digits separated by /, :, 32 letters or digits.
func asanaShape(s string) bool {
	id, secret, ok := strings.Cut(s, ":")
	if !ok || len(secret) != 32 || strings.ContainsAny(secret, "/:") || len(id) < 2 || id[1] != '/' {
		return false
	}
	for _, part := range strings.Split(id[2:], "/") {
		if len(part) < 16 || strings.Trim(part, "0123456789") != "" {
			return false
		}
	}
	return id[0] >= '0' && id[0] <= '9'
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

// validBasic accepts base64 that decodes to printable user:password.
func validBasic(s string) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return false
		}
	}
	i := strings.IndexByte(string(b), ':')
	if i < 0 {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// validCard accepts 13–19 digits, grouped consistently, with a known issuer
// prefix (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro)
// and a valid Luhn check digit.
func validCard(s string) bool {
	sep := byte(0)
	digits := make([]byte, 0, 19)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			digits = append(digits, c)
			continue
		}
		if sep == 0 {
			sep = c
		} else if c != sep {
			return false
		}
	}
	n := len(digits)
	if n < 13 || n > 19 {
		return false
	}
	p := func(k int) int { // the first k digits as a number
		v := 0
		for _, d := range digits[:k] {
			v = v*10 + int(d-'0')
		}
		return v
	}
	ok := false
	switch {
	case digits[0] == '4': // Visa
		ok = n == 13 || n == 16 || n == 19
	case p(2) >= 51 && p(2) <= 55, p(4) >= 2221 && p(4) <= 2720: // Mastercard
		ok = n == 16
	case p(2) == 34 || p(2) == 37: // Amex
		ok = n == 15
	case p(4) == 6011, p(2) == 65, p(3) >= 644 && p(3) <= 649: // Discover
		ok = n >= 16
	case p(4) >= 3528 && p(4) <= 3589: // JCB
		ok = n >= 16
	case p(2) == 36 || p(2) == 38 || p(3) >= 300 && p(3) <= 305: // Diners
		ok = n >= 14
	case p(2) == 62: // UnionPay
		ok = n >= 16
	case p(4) == 5018 || p(4) == 5020 || p(4) == 5038 || p(4) == 6304: // Maestro
		ok = n >= 12
	}
	return ok && luhn(digits)
}

// luhn reports whether the digits end in a valid Luhn check digit.
func luhn(digits []byte) bool {
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// validSSN rejects the ranges the SSA never issues: area 000, 666 and
// 900–999, group 00, serial 0000.
func validSSN(s string) bool {
	if len(s) != 11 {
		return false
	}
	area, group, serial := s[0:3], s[4:6], s[7:11]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}
