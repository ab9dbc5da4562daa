// Package redacttest generates the sample credentials that the redaction
// tests need, at run time and from parts, so that the repository never holds
// a string that a secret scanner would flag. It also reads the test corpora.
// Only _test files import it; it does not import the engine, so that its
// references (the Luhn check, the GitHub checksum) stay independent of the
// code under test.
package redacttest

import (
	"bufio"
	"encoding/base64"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var rng = rand.New(rand.NewPCG(42, 1))

// The alphabets samples are drawn from.
const (
	LowerChars = "abcdefghijklmnopqrstuvwxyz"
	UpperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	DigitChars = "0123456789"
	HexChars   = "0123456789abcdef"
	AlnumChars = UpperChars + LowerChars + DigitChars
	B32Chars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	B64Chars   = AlnumChars + "+/"
	URLChars   = AlnumChars + "_-"
)

// Gen returns n characters drawn at random from alphabet.
func Gen(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// Join concatenates parts: prefixes are split so that no literal in the
// source looks like a credential.
func Join(parts ...string) string { return strings.Join(parts, "") }

// base62CRC is the GitHub/npm checksum, written independently of the code
// under test: base62 of the CRC32 of the random part, padded to 6.
func base62CRC(random string) string {
	const alphabet = DigitChars + UpperChars + LowerChars
	n := crc32.ChecksumIEEE([]byte(random))
	out := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		out[i] = alphabet[n%62]
		n /= 62
	}
	return string(out)
}

// GHToken returns a GitHub token with a valid checksum; prefix is its first
// three characters ("ghp", "gho", …), built from parts by the caller.
func GHToken(prefix string) string {
	random := Gen(AlnumChars, 30)
	return Join(prefix, "_", random, base62CRC(random))
}

// LuhnComplete appends the check digit that makes digits Luhn-valid.
func LuhnComplete(digits string) string {
	for d := '0'; d <= '9'; d++ {
		c := digits + string(d)
		b := []byte(c)
		if luhnRef(b) {
			return c
		}
	}
	panic("unreachable")
}

// luhnRef is a reference Luhn check, independent of the code under test.
func luhnRef(b []byte) bool {
	sum, alt := 0, false
	for i := len(b) - 1; i >= 0; i-- {
		d := int(b[i] - '0')
		if alt {
			d = d * 2
			if d > 9 {
				d = d%10 + 1
			}
		}
		sum += d
		alt = !alt
	}
	return sum%10 == 0
}

func jwtPart(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Sample is one rule's test data: text with the secret inside, the secret
// (which must not survive), and a near miss (which must come back unchanged).
type Sample struct {
	Text, Secret, NearMiss string
}

func inText(secret string) string { return "request failed: " + secret + " (retrying)" }

// RuleSamples returns a Sample for every built-in rule kind.
func RuleSamples() map[string]Sample {
	rng = rand.New(rand.NewPCG(42, 1)) // the same samples whatever ran before
	m := map[string]Sample{}
	add := func(kind, secret, nearMiss string) {
		m[kind] = Sample{inText(secret), secret, nearMiss}
	}
	addText := func(kind, text, secret, nearMiss string) {
		m[kind] = Sample{text, secret, nearMiss}
	}
	add("aws-access-key-id", Join("AK", "IA", Gen(B32Chars, 16)), "id "+Join("AK", "IA", Gen(B32Chars, 12)))
	sk := Gen(B64Chars, 40)
	addText("aws-secret-access-key", Join("aws_secret", "_access_key=", sk), sk, "aws region=us-east-1 secret rotation done")
	add("gcp-api-key", Join("AI", "za", Gen(URLChars, 35)), Join("AI", "zb", Gen(URLChars, 35)))
	kid := Gen(HexChars, 40)
	addText("gcp-service-account-key-id", `{"type":"service_account","private_key_id":"`+kid+`"}`, kid, `{"private_key_id":"short"}`)
	add("gcp-oauth-client-secret", Join("GOC", "SPX-", Gen(URLChars, 28)), "GOCSPX is the prefix")
	add("gcp-oauth-access-token", Join("ya", "29.", Gen(URLChars, 60)), "ya29 is a prefix")
	ak := Gen(B64Chars, 86) + "=="
	addText("azure-storage-key", Join("DefaultEndpointsProtocol=https;AccountName=acct;Account", "Key=", ak, ";EndpointSuffix=core.windows.net"), ak, "AccountName=acct;EndpointSuffix=core.windows.net")
	sak := Gen(B64Chars, 43) + "="
	addText("azure-shared-access-key", Join("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccess", "Key=", sak), sak, "SharedAccessKeyName=RootManageSharedAccessKey")
	sig := Gen(AlnumChars, 43) + "%3D"
	addText("azure-sas-signature", "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-01-01&sp=r&si"+"g="+sig, sig, "GET /c/b?sv=2022-11-02&signal=strong")
	add("azure-ad-client-secret", Join(Gen(AlnumChars, 3), "8Q", "~", Gen(AlnumChars, 34)), "Q~ alone is nothing")
	add("github-token", GHToken("gh"+"p"), "gh"+"p_"+Gen(AlnumChars, 36))
	add("github-oauth-token", GHToken("gh"+"o"), "gh"+"o_"+Gen(AlnumChars, 35))
	add("github-app-token", GHToken("gh"+"s"), "gh"+"s_"+Gen(AlnumChars, 36))
	add("github-refresh-token", GHToken("gh"+"r"), "gh"+"r_"+Gen(LowerChars, 20))
	add("github-fine-grained-token", Join("github", "_pat_", Gen(AlnumChars, 22), "_", Gen(AlnumChars, 59)), Join("github", "_pat_", Gen(AlnumChars, 10)))
	add("gitlab-token", Join("gl", "pat-", Gen(URLChars, 20)), "gl"+"pat-short")
	add("gitlab-runner-registration-token", Join("GR1348", "941", Gen(URLChars, 20)), "GR1348941")
	add("slack-token", Join("xo", "xb-", Gen(DigitChars, 12), "-", Gen(DigitChars, 12), "-", Gen(AlnumChars, 24)), "xo"+"xb-short")
	add("slack-app-token", Join("xa", "pp-1-", Gen(UpperChars+DigitChars, 11), "-", Gen(DigitChars, 13), "-", Gen(HexChars, 64)), "xapp-x")
	add("slack-webhook", Join("https://hooks.", "slack.com/services/", Gen(UpperChars+DigitChars, 9), "/", Gen(UpperChars+DigitChars, 11), "/", Gen(AlnumChars, 24)), "https://hooks.slack.com/services/")
	add("stripe-key", Join("sk", "_live_", Gen(AlnumChars, 24)), "sk"+"_live_short")
	add("stripe-webhook-secret", Join("wh", "sec_", Gen(AlnumChars, 32)), "whsec_x")
	add("twilio-api-key", Join("S", "K", Gen(HexChars, 32)), "SK"+Gen(HexChars, 20))
	add("sendgrid-api-key", Join("S", "G.", Gen(URLChars, 22), ".", Gen(URLChars, 43)), "SG.short.x")
	add("mailgun-api-key", Join("ke", "y-", Gen(HexChars, 32)), "key-value store")
	add("mailchimp-api-key", Join(Gen(HexChars, 32), "-us", "12"), Gen(HexChars, 32)+"-eu1")
	npmRandom := Gen(AlnumChars, 30)
	add("npm-token", Join("np", "m_", npmRandom, base62CRC(npmRandom)), "np"+"m_"+Gen(AlnumChars, 36))
	add("pypi-token", Join("py", "pi-", "AgEIcHlwaS5vcmc", Gen(URLChars, 70)), "pypi-package-name")
	add("rubygems-api-key", Join("ruby", "gems_", Gen(HexChars, 48)), "rubygems_org")
	add("dockerhub-token", Join("dckr", "_pat_", Gen(URLChars, 27)), "dckr_pat_x")
	add("openai-api-key", Join("sk", "-", Gen(AlnumChars, 20), "T3Blbk", "FJ", Gen(AlnumChars, 20)), "sk-"+Gen(AlnumChars, 10))
	add("openai-project-key", Join("sk", "-proj-", Gen(URLChars, 80)), "sk-proj-x")
	add("anthropic-api-key", Join("sk", "-ant-", "api03-", Gen(URLChars, 93), "AA"), "sk-ant-short")
	add("huggingface-token", Join("h", "f_", Gen(UpperChars+LowerChars, 34)), "hf_model")
	add("shopify-token", Join("shp", "at_", Gen(HexChars, 32)), "shpat_"+Gen(HexChars, 10))
	add("square-token", Join("EA", "AA", Gen(URLChars, 60)), "EAAA")
	add("square-oauth-secret", Join("sq0", "csp-", Gen(URLChars, 43)), "sq0csp-x")
	add("discord-webhook", Join("https://discord.com/api/", "webhooks/", Gen(DigitChars, 18), "/", Gen(URLChars, 68)), "https://discord.com/api/webhooks/1/short")
	dtok := Join("M", Gen(URLChars, 25), ".", Gen(URLChars, 6), ".", Gen(URLChars, 38))
	addText("discord-bot-token", "discord_bot_token = "+dtok, dtok, "discord bot started")
	add("telegram-bot-token", Join(Gen(DigitChars, 10), ":A", "A", Gen(URLChars, 33)), "12345678:AAshort")
	add("digitalocean-token", Join("do", "p_v1_", Gen(HexChars, 64)), "dop_v1_x")
	ddk := Gen(HexChars, 32)
	addText("datadog-key", "DD_API_"+"KEY="+ddk, ddk, "datadog agent started")
	add("newrelic-key", Join("NR", "AK-", Gen(UpperChars+DigitChars, 27)), "NRAK-short")
	add("postman-api-key", Join("PM", "AK-", Gen(HexChars, 24), "-", Gen(HexChars, 34)), "PMAK-x")
	add("vault-token", Join("hv", "s.", Gen(URLChars, 95)), "hvs.short")
	add("terraform-cloud-token", Join(Gen(AlnumChars, 14), ".atlas", "v1.", Gen(URLChars, 67)), "x.atlasv1.y")
	add("doppler-token", Join("dp", ".pt.", Gen(AlnumChars, 43)), "dp.pt.x")
	add("grafana-token", Join("gl", "sa_", Gen(AlnumChars, 32), "_", Gen(HexChars, 8)), "glsa_x")
	add("linear-api-key", Join("lin", "_api_", Gen(AlnumChars, 40)), "lin_api_x")
	add("atlassian-api-token", Join("ATA", "TT3", Gen(URLChars, 180)), "ATATT3x")
	dsnKey := Gen(HexChars, 32)
	addText("sentry-dsn", "dsn=https://"+dsnKey+"@o12345.ingest."+"sentry.io/4504", dsnKey, "https://sentry.io/organizations/acme/issues/")
	add("sentry-token", Join("sntry", "u_", Gen(HexChars, 64)), "sntryu_x")
	add("databricks-token", Join("da", "pi", Gen(HexChars, 32)), "dapi"+Gen(HexChars, 10))
	add("pulumi-token", Join("pu", "l-", Gen(HexChars, 40)), "pul-x")
	add("flyio-token", Join("fo", "1_", Gen(URLChars, 43)), "fo1_x")
	add("planetscale-token", Join("pscale", "_tkn_", Gen(URLChars, 43)), "pscale_tkn_x")
	add("alibaba-access-key-id", Join("LT", "AI", Gen(AlnumChars, 20)), "LTAI"+Gen(AlnumChars, 10))
	add("age-secret-key", Join("AGE-SECRET", "-KEY-1", Gen("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)), "AGE-SECRET-KEY-1")
	jwt := Join(jwtPart(`{"alg":"HS256","typ":"JWT"}`), ".", jwtPart(`{"sub":"1234567890","name":"Ann"}`), ".", Gen(URLChars, 43))
	add("jwt", jwt, Join(jwtPart(`{"typ":"x"}`), ".", jwtPart(`{"sub":"1"}`), ".", Gen(URLChars, 43)))
	pemBody := Gen(B64Chars, 64) + "\n" + Gen(B64Chars, 64)
	pem := Join("-----BEGIN RSA PRIVATE", " KEY-----\n", pemBody, "\n-----END RSA PRIVATE", " KEY-----")
	addText("private-key", "loaded key:\n"+pem+"\ndone", pemBody, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")
	pw := Gen(AlnumChars, 14)
	addText("url-credentials", "connecting to postgres://app:"+pw+"@db.internal:5432/main", pw, "see https://example.com/a:b@c and ftp://host/x")
	pw2 := Gen(AlnumChars, 12)
	addText("dsn-credentials", "dsn app:"+pw2+"@tcp(db:3306)/main", pw2, "app@tcp(db:3306)/main")
	bt := Gen(URLChars, 40) + "9"
	addText("authorization-header", "Authorization: Bearer "+bt, bt, "authorization failed for user bob")
	bt2 := Gen(URLChars, 30) + "7"
	addText("bearer-token", "sending bearer "+bt2+" upstream", bt2, "bearer authentication required")
	basic := base64.StdEncoding.EncodeToString([]byte("ann:" + Gen(AlnumChars, 10)))
	addText("basic-auth", "using Basic "+basic+" for proxy", basic, "basic configuration loaded")
	sess := Gen(AlnumChars, 32)
	addText("cookie", "Cookie: session="+sess, sess, "cookies disabled by policy")
	pw3 := Gen(AlnumChars, 10)
	addText("secret-assignment", "login user=ann password="+pw3+" ok", pw3, "password change required for ann")
	card := LuhnComplete("4111" + Gen(DigitChars, 11))
	grouped := card[0:4] + " " + card[4:8] + " " + card[8:12] + " " + card[12:16]
	bad := card[:15] + string('0'+(card[15]-'0'+1)%10)
	addText("card-number", "charged card "+grouped+" for 12.00", card[4:12], "order "+bad+" shipped")
	addText("us-ssn", "ssn on file 536-22-"+"1947 verified", "536-22-"+"1947", "ref 666-22-1947 and 123-00-4567")
	return m
}

// ReadLines returns the lines of the file at path.
func ReadLines(t testing.TB, path string) []string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
