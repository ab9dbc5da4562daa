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
	add("github-token", GHToken("gh"+"p"), "gh"+"p_"+Gen(AlnumChars, 20))
	add("github-oauth-token", GHToken("gh"+"o"), "gh"+"o_"+Gen(AlnumChars, 25))
	add("github-app-token", GHToken("gh"+"s"), "my"+"ghs_"+Gen(AlnumChars, 36))
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
	add("npm-token", Join("np", "m_", npmRandom, base62CRC(npmRandom)), "np"+"m_"+Gen(AlnumChars, 24))
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
	// Cloud, infrastructure and CI/CD formats (rules_cloud.go).
	uuid := func() string {
		return Join(Gen(HexChars, 8), "-", Gen(HexChars, 4), "-", Gen(HexChars, 4), "-", Gen(HexChars, 4), "-", Gen(HexChars, 12))
	}
	lowerAlnum := LowerChars + DigitChars
	named := func(kind, name, value, nearMiss string) { addText(kind, name+"="+value+" loaded", value, nearMiss) }
	add("tencent-secret-id", Join("AK", "ID", Gen(AlnumChars, 32)), "AKID"+Gen(AlnumChars, 10))
	named("tencent-secret-key", "TENCENTCLOUD_SECRET_KEY", Gen(AlnumChars, 32), "tencent cloud region ap-guangzhou")
	add("gcp-oauth-refresh-token", Join("1//", "0", Gen(URLChars, 100)), "1//0abc")
	add("firebase-fcm-server-key", Join("AA", "AA", Gen(URLChars, 7), ":APA", "91b", Gen(URLChars, 134)), "AAAA:APA91b")
	named("cloudflare-api-token", "CLOUDFLARE_API_TOKEN", Gen(URLChars, 40), "cloudflare zone updated")
	add("cloudflare-origin-ca-key", Join("v1", ".0-", Gen(HexChars, 24), "-", Gen(HexChars, 146)), "release v1.0-beta")
	add("heroku-api-key", Join("HR", "KU-AA", Gen(URLChars, 58)), "HRKU-AAshort")
	add("netlify-token", Join("nf", "p_", Gen(AlnumChars, 36)), "nfp_x")
	named("vercel-token", "VERCEL_TOKEN", Gen(AlnumChars, 24), "vercel deploy done")
	add("supabase-token", Join("sb", "p_", Gen(HexChars, 40)), "sbp_x")
	named("fastly-api-token", "FASTLY_API_TOKEN", Gen(URLChars, 32), "fastly purge ok")
	named("ibm-cloud-api-key", "IBMCLOUD_API_KEY", Gen(URLChars, 44), "ibm cloud region us-south")
	named("oracle-cloud-key", "oci_auth_token", Gen(AlnumChars, 19)+"7", "oracle db connected")
	add("dynatrace-token", Join("dt0", "c01.", Gen(UpperChars+DigitChars, 24), ".", Gen(UpperChars+DigitChars, 64)), "dt0c01.short")
	add("circleci-token", Join("CCI", "PAT_", Gen(AlnumChars, 22), "_", Gen(HexChars, 40)), "CCIPAT_x")
	add("buildkite-token", Join("bk", "ua_", Gen(HexChars, 40)), "bkua_x")
	named("travis-ci-token", "TRAVIS_API_TOKEN", Gen(URLChars, 22), "travis build passed")
	add("jfrog-token", Join("AK", "Cp", Gen(AlnumChars, 69)), "AKCp"+Gen(AlnumChars, 10))
	add("sonarqube-token", Join("sq", "u_", Gen(HexChars, 40)), "squ_x")
	add("tailscale-key", Join("tskey", "-auth-", Gen(AlnumChars, 12), "-", Gen(AlnumChars, 33)), "tskey-auth")
	add("onepassword-service-token", Join("ops", "_eyJ", Gen(B64Chars, 300)), "ops_eyJ")
	add("openshift-token", Join("sha256", "~", Gen(URLChars, 43)), "sha256~abc")
	add("render-api-key", Join("rn", "d_", Gen(AlnumChars, 32)), "rnd_x")
	add("deno-deploy-token", Join("dd", "p_", Gen(AlnumChars, 36)), "ddp_x")
	add("scalingo-token", Join("tk-", "us-", Gen(URLChars, 48)), "tk-us-x")
	add("yandex-api-key", Join("AQ", "VN", Gen(URLChars, 38)), "AQVNx")
	add("clojars-api-token", Join("CLO", "JARS_", Gen(lowerAlnum, 60)), "CLOJARS_x")
	add("nuget-api-key", Join("oy", "2", Gen(lowerAlnum, 43)), "oy2"+Gen(LowerChars, 10))
	add("infracost-api-key", Join("ic", "o-", Gen(AlnumChars, 32)), "ico-x")
	// SaaS formats (rules_saas.go).
	add("huggingface-org-token", Join("api", "_org_", Gen(UpperChars+LowerChars, 34)), "api_org_x")
	add("twitter-bearer-token", Join(strings.Repeat("A", 22), Gen(AlnumChars, 80)), strings.Repeat("A", 22)+"short")
	add("facebook-access-token", Join("EAAC", "EdEose0cBA", Gen(AlnumChars, 100)), "EAACEdEose0cBA")
	named("sumologic-access-id", "SUMO_ACCESS_ID", Join("s", "u", Gen(AlnumChars, 12)), "sumo collector started")
	named("sumologic-access-key", "SUMO_ACCESS_KEY", Gen(AlnumChars, 64), "sumo logic source added")
	add("sourcegraph-token", Join("sg", "p_", Gen(HexChars, 16), "_", Gen(HexChars, 40)), "sgp_x")
	sq := Gen(HexChars, 8) + ":" + Gen(HexChars, 8)
	addText("sidekiq-secret", "BUNDLE_ENTERPRISE__CONTRIBSYS"+"__COM="+sq, sq, "BUNDLE_ENTERPRISE__CONTRIBSYS__COM is unset")
	sq2 := Gen(HexChars, 8) + ":" + Gen(HexChars, 8)
	addText("sidekiq-sensitive-url", "source https://"+sq2+"@gems.contribsys.com/", sq2, "source https://gems.contribsys.com/")
	add("jwt-base64", base64.StdEncoding.EncodeToString([]byte(Join(jwtPart(`{"alg":"RS256","typ":"JWT"}`), ".", jwtPart(`{"sub":"system:serviceaccount"}`), ".", Gen(URLChars, 43)))), "ZXlKshort")
	add("braintree-access-token", Join("access_token$", "production$", Gen(lowerAlnum, 16), "$", Gen(HexChars, 32)), "access_token$production$x")
	named("adyen-api-key", "ADYEN_API_KEY", Join("AQ", "E", Gen(B64Chars, 80)), "adyen webhook received")
	add("razorpay-key-id", Join("rzp", "_live_", Gen(AlnumChars, 14)), "rzp_live_x")
	add("plaid-access-token", Join("access-", "sandbox-", uuid()), "access-sandbox-x")
	named("plaid-secret", "PLAID_SECRET", Gen(lowerAlnum, 30), "plaid link opened")
	named("coinbase-access-token", "COINBASE_ACCESS_TOKEN", Gen(URLChars, 64), "coinbase price feed")
	named("intercom-token", "INTERCOM_ACCESS_TOKEN", Gen(AlnumChars, 59)+"=", "intercom widget loaded")
	named("zendesk-token", "ZENDESK_API_TOKEN", Gen(AlnumChars, 40), "zendesk ticket 42 updated")
	named("mattermost-token", "MATTERMOST_TOKEN", Gen(lowerAlnum, 26), "mattermost channel joined")
	add("microsoft-teams-webhook", Join("https://acme.", "webhook.office.com/webhookb2/", uuid(), "@", uuid(), "/IncomingWebhook/", Gen(HexChars, 32), "/", uuid()), "https://acme.webhook.office.com/")
	add("honeycomb-api-key", Join("hca", "ik_", Gen(AlnumChars, 58)), "hcaik_x")
	hec := uuid()
	addText("splunk-hec-token", "posting with Splunk "+hec, hec, "Splunk forwarder started")
	named("rollbar-token", "ROLLBAR_ACCESS_TOKEN", Gen(HexChars, 32), "rollbar item 12 resolved")
	named("bugsnag-api-key", "BUGSNAG_API_KEY", Gen(HexChars, 32), "bugsnag notifier ready")
	named("lightstep-token", "LIGHTSTEP_ACCESS_TOKEN", Gen(B64Chars, 88), "lightstep tracer started")
	named("pagerduty-token", "PAGERDUTY_TOKEN", Gen(URLChars, 20), "pagerduty incident 7 acknowledged")
	named("cohere-api-key", "COHERE_API_KEY", Gen(AlnumChars, 40), "cohere model command-r")
	named("mistral-api-key", "MISTRAL_API_KEY", Gen(AlnumChars, 32), "mistral model small")
	add("groq-api-key", Join("gs", "k_", Gen(AlnumChars, 52)), "gsk_x")
	add("replicate-api-token", Join("r", "8_", Gen(URLChars, 37)), "r8_x")
	add("perplexity-api-key", Join("pp", "lx-", Gen(AlnumChars, 48)), "pplx-x")
	add("xai-api-key", Join("xa", "i-", Gen(AlnumChars, 80)), "xai-grok")
	add("openrouter-api-key", Join("sk-", "or-v1-", Gen(HexChars, 64)), "sk-or-v1-x")
	add("langsmith-api-key", Join("lsv2", "_pt_", Gen(HexChars, 32), "_", Gen(HexChars, 10)), "lsv2_pt_x")
	add("tavily-api-key", Join("tv", "ly-", Gen(AlnumChars, 32)), "tvly-x")
	add("langfuse-secret-key", Join("sk-", "lf-", uuid()), "sk-lf-x")
	add("pinecone-api-key", Join("pc", "sk_", Gen(AlnumChars, 5), "_", Gen(AlnumChars, 64)), "pcsk_x")
	add("bitbucket-token", Join("ATC", "TT3", Gen(URLChars, 180)), "ATCTT3x")
	named("snyk-token", "SNYK_TOKEN", uuid(), "snyk test passed")
	named("codecov-token", "CODECOV_TOKEN", uuid(), "codecov upload done")
	add("contentful-token", Join("CF", "PAT-", Gen(URLChars, 43)), "CFPAT-x")
	named("algolia-api-key", "ALGOLIA_API_KEY", Gen(HexChars, 32), "algolia index rebuilt")
	add("mapbox-secret-token", Join("sk", ".eyJ", Gen(URLChars, 60), ".", Gen(URLChars, 22)), "sk.eyJ")
	named("okta-api-token", "OKTA_API_TOKEN", "00"+Gen(URLChars, 40), "okta session refreshed")
	named("auth0-client-secret", "AUTH0_CLIENT_SECRET", Gen(URLChars, 64), "auth0 tenant acme")
	named("twitch-token", "TWITCH_OAUTH_TOKEN", Gen(lowerAlnum, 30), "twitch stream online")
	add("dropbox-token", Join("sl", ".", Gen(URLChars, 140)), "sl.short")
	named("asana-token", "ASANA_ACCESS_TOKEN", Join("2/", Gen(DigitChars, 16), "/", Gen(DigitChars, 16), ":", Gen(AlnumChars, 32)), "asana task 12 done")
	add("notion-token", Join("nt", "n_", Gen(AlnumChars, 46)), "ntn_x")
	add("airtable-token", Join("pa", "t", Gen(AlnumChars, 14), ".", Gen(HexChars, 64)), "pattern."+Gen(HexChars, 64))
	add("figma-token", Join("fi", "gd_", Gen(URLChars, 40)), "figd_x")
	add("hubspot-token", Join("pat-", "na1-", uuid()), "pat-na1-x")
	add("posthog-personal-key", Join("ph", "x_", Gen(AlnumChars, 43)), "phx_x")
	add("easypost-api-key", Join("EZ", "AK", Gen(AlnumChars, 54)), "EZAKx")
	add("typeform-token", Join("tf", "p_", Gen(URLChars, 59)), "tfp_x")
	add("prefect-api-key", Join("pn", "u_", Gen(AlnumChars, 36)), "pnu_x")
	add("readme-api-key", Join("rd", "me_", Gen(lowerAlnum, 70)), "rdme_x")
	add("shippo-api-token", Join("shippo", "_live_", Gen(HexChars, 40)), "shippo_live_x")
	add("brevo-api-key", Join("xkey", "sib-", Gen(HexChars, 64), "-", Gen(AlnumChars, 16)), "xkeysib-x")
	add("adobe-client-secret", Join("p8", "e-", Gen(AlnumChars, 32)), "p8e-x")
	add("duffel-api-token", Join("duffel", "_test_", Gen(URLChars, 43)), "duffel_test_x")
	add("frameio-api-token", Join("fio", "-u-", Gen(URLChars, 64)), "fio-u-x")
	add("flutterwave-secret-key", Join("FLWSECK", "_TEST-", Gen(HexChars, 32), "-X"), "FLWSECK_TEST-x")
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
