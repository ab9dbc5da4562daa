package logging

import (
	"encoding/base64"
	"hash/crc32"
	"math/rand/v2"
	"strings"
)

// Sample credentials are generated here at run time, from parts, so that the
// repository never holds a string that a secret scanner would flag.

var rng = rand.New(rand.NewPCG(42, 1))

const (
	lowerChars = "abcdefghijklmnopqrstuvwxyz"
	upperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars = "0123456789"
	hexChars   = "0123456789abcdef"
	alnumChars = upperChars + lowerChars + digitChars
	b32Chars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64Chars   = alnumChars + "+/"
	urlChars   = alnumChars + "_-"
)

func gen(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// join concatenates parts: prefixes are split so that no literal in the
// source looks like a credential.
func join(parts ...string) string { return strings.Join(parts, "") }

// base62CRC is the GitHub/npm checksum, written independently of the code
// under test: base62 of the CRC32 of the random part, padded to 6.
func base62CRC(random string) string {
	const alphabet = digitChars + upperChars + lowerChars
	n := crc32.ChecksumIEEE([]byte(random))
	out := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		out[i] = alphabet[n%62]
		n /= 62
	}
	return string(out)
}

func ghToken(prefix string) string {
	random := gen(alnumChars, 30)
	return join(prefix, "_", random, base62CRC(random))
}

// luhnComplete appends the check digit that makes digits Luhn-valid.
func luhnComplete(digits string) string {
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

// sample is one rule's test data: text with the secret inside, the secret
// (which must not survive), and a near miss (which must come back unchanged).
type sample struct {
	text, secret, nearMiss string
}

func inText(secret string) string { return "request failed: " + secret + " (retrying)" }

// ruleSamples returns a sample for every built-in rule kind.
func ruleSamples() map[string]sample {
	rng = rand.New(rand.NewPCG(42, 1)) // the same samples whatever ran before
	m := map[string]sample{}
	add := func(kind, secret, nearMiss string) {
		m[kind] = sample{inText(secret), secret, nearMiss}
	}
	addText := func(kind, text, secret, nearMiss string) {
		m[kind] = sample{text, secret, nearMiss}
	}
	add("aws-access-key-id", join("AK", "IA", gen(b32Chars, 16)), "id "+join("AK", "IA", gen(b32Chars, 12)))
	sk := gen(b64Chars, 40)
	addText("aws-secret-access-key", join("aws_secret", "_access_key=", sk), sk, "aws region=us-east-1 secret rotation done")
	add("gcp-api-key", join("AI", "za", gen(urlChars, 35)), join("AI", "zb", gen(urlChars, 35)))
	kid := gen(hexChars, 40)
	addText("gcp-service-account-key-id", `{"type":"service_account","private_key_id":"`+kid+`"}`, kid, `{"private_key_id":"short"}`)
	add("gcp-oauth-client-secret", join("GOC", "SPX-", gen(urlChars, 28)), "GOCSPX is the prefix")
	add("gcp-oauth-access-token", join("ya", "29.", gen(urlChars, 60)), "ya29 is a prefix")
	ak := gen(b64Chars, 86) + "=="
	addText("azure-storage-key", join("DefaultEndpointsProtocol=https;AccountName=acct;Account", "Key=", ak, ";EndpointSuffix=core.windows.net"), ak, "AccountName=acct;EndpointSuffix=core.windows.net")
	sak := gen(b64Chars, 43) + "="
	addText("azure-shared-access-key", join("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccess", "Key=", sak), sak, "SharedAccessKeyName=RootManageSharedAccessKey")
	sig := gen(alnumChars, 43) + "%3D"
	addText("azure-sas-signature", "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-01-01&sp=r&si"+"g="+sig, sig, "GET /c/b?sv=2022-11-02&signal=strong")
	add("azure-ad-client-secret", join(gen(alnumChars, 3), "8Q", "~", gen(alnumChars, 34)), "Q~ alone is nothing")
	add("github-token", ghToken("gh"+"p"), "gh"+"p_"+gen(alnumChars, 36))
	add("github-oauth-token", ghToken("gh"+"o"), "gh"+"o_"+gen(alnumChars, 35))
	add("github-app-token", ghToken("gh"+"s"), "gh"+"s_"+gen(alnumChars, 36))
	add("github-refresh-token", ghToken("gh"+"r"), "gh"+"r_"+gen(lowerChars, 20))
	add("github-fine-grained-token", join("github", "_pat_", gen(alnumChars, 22), "_", gen(alnumChars, 59)), join("github", "_pat_", gen(alnumChars, 10)))
	add("gitlab-token", join("gl", "pat-", gen(urlChars, 20)), "gl"+"pat-short")
	add("gitlab-runner-registration-token", join("GR1348", "941", gen(urlChars, 20)), "GR1348941")
	add("slack-token", join("xo", "xb-", gen(digitChars, 12), "-", gen(digitChars, 12), "-", gen(alnumChars, 24)), "xo"+"xb-short")
	add("slack-app-token", join("xa", "pp-1-", gen(upperChars+digitChars, 11), "-", gen(digitChars, 13), "-", gen(hexChars, 64)), "xapp-x")
	add("slack-webhook", join("https://hooks.", "slack.com/services/", gen(upperChars+digitChars, 9), "/", gen(upperChars+digitChars, 11), "/", gen(alnumChars, 24)), "https://hooks.slack.com/services/")
	add("stripe-key", join("sk", "_live_", gen(alnumChars, 24)), "sk"+"_live_short")
	add("stripe-webhook-secret", join("wh", "sec_", gen(alnumChars, 32)), "whsec_x")
	add("twilio-api-key", join("S", "K", gen(hexChars, 32)), "SK"+gen(hexChars, 20))
	add("sendgrid-api-key", join("S", "G.", gen(urlChars, 22), ".", gen(urlChars, 43)), "SG.short.x")
	add("mailgun-api-key", join("ke", "y-", gen(hexChars, 32)), "key-value store")
	add("mailchimp-api-key", join(gen(hexChars, 32), "-us", "12"), gen(hexChars, 32)+"-eu1")
	npmRandom := gen(alnumChars, 30)
	add("npm-token", join("np", "m_", npmRandom, base62CRC(npmRandom)), "np"+"m_"+gen(alnumChars, 36))
	add("pypi-token", join("py", "pi-", "AgEIcHlwaS5vcmc", gen(urlChars, 70)), "pypi-package-name")
	add("rubygems-api-key", join("ruby", "gems_", gen(hexChars, 48)), "rubygems_org")
	add("dockerhub-token", join("dckr", "_pat_", gen(urlChars, 27)), "dckr_pat_x")
	add("openai-api-key", join("sk", "-", gen(alnumChars, 20), "T3Blbk", "FJ", gen(alnumChars, 20)), "sk-"+gen(alnumChars, 10))
	add("openai-project-key", join("sk", "-proj-", gen(urlChars, 80)), "sk-proj-x")
	add("anthropic-api-key", join("sk", "-ant-", "api03-", gen(urlChars, 93), "AA"), "sk-ant-short")
	add("huggingface-token", join("h", "f_", gen(upperChars+lowerChars, 34)), "hf_model")
	add("shopify-token", join("shp", "at_", gen(hexChars, 32)), "shpat_"+gen(hexChars, 10))
	add("square-token", join("EA", "AA", gen(urlChars, 60)), "EAAA")
	add("square-oauth-secret", join("sq0", "csp-", gen(urlChars, 43)), "sq0csp-x")
	add("discord-webhook", join("https://discord.com/api/", "webhooks/", gen(digitChars, 18), "/", gen(urlChars, 68)), "https://discord.com/api/webhooks/1/short")
	dtok := join("M", gen(urlChars, 25), ".", gen(urlChars, 6), ".", gen(urlChars, 38))
	addText("discord-bot-token", "discord_bot_token = "+dtok, dtok, "discord bot started")
	add("telegram-bot-token", join(gen(digitChars, 10), ":A", "A", gen(urlChars, 33)), "12345678:AAshort")
	add("digitalocean-token", join("do", "p_v1_", gen(hexChars, 64)), "dop_v1_x")
	ddk := gen(hexChars, 32)
	addText("datadog-key", "DD_API_"+"KEY="+ddk, ddk, "datadog agent started")
	add("newrelic-key", join("NR", "AK-", gen(upperChars+digitChars, 27)), "NRAK-short")
	add("postman-api-key", join("PM", "AK-", gen(hexChars, 24), "-", gen(hexChars, 34)), "PMAK-x")
	add("vault-token", join("hv", "s.", gen(urlChars, 95)), "hvs.short")
	add("terraform-cloud-token", join(gen(alnumChars, 14), ".atlas", "v1.", gen(urlChars, 67)), "x.atlasv1.y")
	add("doppler-token", join("dp", ".pt.", gen(alnumChars, 43)), "dp.pt.x")
	add("grafana-token", join("gl", "sa_", gen(alnumChars, 32), "_", gen(hexChars, 8)), "glsa_x")
	add("linear-api-key", join("lin", "_api_", gen(alnumChars, 40)), "lin_api_x")
	add("atlassian-api-token", join("ATA", "TT3", gen(urlChars, 180)), "ATATT3x")
	dsnKey := gen(hexChars, 32)
	addText("sentry-dsn", "dsn=https://"+dsnKey+"@o12345.ingest."+"sentry.io/4504", dsnKey, "https://sentry.io/organizations/acme/issues/")
	add("sentry-token", join("sntry", "u_", gen(hexChars, 64)), "sntryu_x")
	add("databricks-token", join("da", "pi", gen(hexChars, 32)), "dapi"+gen(hexChars, 10))
	add("pulumi-token", join("pu", "l-", gen(hexChars, 40)), "pul-x")
	add("flyio-token", join("fo", "1_", gen(urlChars, 43)), "fo1_x")
	add("planetscale-token", join("pscale", "_tkn_", gen(urlChars, 43)), "pscale_tkn_x")
	add("alibaba-access-key-id", join("LT", "AI", gen(alnumChars, 20)), "LTAI"+gen(alnumChars, 10))
	add("age-secret-key", join("AGE-SECRET", "-KEY-1", gen("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)), "AGE-SECRET-KEY-1")
	jwt := join(jwtPart(`{"alg":"HS256","typ":"JWT"}`), ".", jwtPart(`{"sub":"1234567890","name":"Ann"}`), ".", gen(urlChars, 43))
	add("jwt", jwt, join(jwtPart(`{"typ":"x"}`), ".", jwtPart(`{"sub":"1"}`), ".", gen(urlChars, 43)))
	pemBody := gen(b64Chars, 64) + "\n" + gen(b64Chars, 64)
	pem := join("-----BEGIN RSA PRIVATE", " KEY-----\n", pemBody, "\n-----END RSA PRIVATE", " KEY-----")
	addText("private-key", "loaded key:\n"+pem+"\ndone", pemBody, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")
	pw := gen(alnumChars, 14)
	addText("url-credentials", "connecting to postgres://app:"+pw+"@db.internal:5432/main", pw, "see https://example.com/a:b@c and ftp://host/x")
	pw2 := gen(alnumChars, 12)
	addText("dsn-credentials", "dsn app:"+pw2+"@tcp(db:3306)/main", pw2, "app@tcp(db:3306)/main")
	bt := gen(urlChars, 40) + "9"
	addText("authorization-header", "Authorization: Bearer "+bt, bt, "authorization failed for user bob")
	bt2 := gen(urlChars, 30) + "7"
	addText("bearer-token", "sending bearer "+bt2+" upstream", bt2, "bearer authentication required")
	basic := base64.StdEncoding.EncodeToString([]byte("ann:" + gen(alnumChars, 10)))
	addText("basic-auth", "using Basic "+basic+" for proxy", basic, "basic configuration loaded")
	sess := gen(alnumChars, 32)
	addText("cookie", "Cookie: session="+sess, sess, "cookies disabled by policy")
	pw3 := gen(alnumChars, 10)
	addText("secret-assignment", "login user=ann password="+pw3+" ok", pw3, "password change required for ann")
	card := luhnComplete("4111" + gen(digitChars, 11))
	grouped := card[0:4] + " " + card[4:8] + " " + card[8:12] + " " + card[12:16]
	bad := card[:15] + string('0'+(card[15]-'0'+1)%10)
	addText("card-number", "charged card "+grouped+" for 12.00", card[4:12], "order "+bad+" shipped")
	addText("us-ssn", "ssn on file 536-22-"+"1947 verified", "536-22-"+"1947", "ref 666-22-1947 and 123-00-4567")
	return m
}
