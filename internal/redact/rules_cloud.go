package redact

import "regexp"

// cloudRules are the formats of cloud platforms, hosting, infrastructure
// and CI/CD services. Each comment says where the format comes from; the
// gitleaks rule ids are those of its config/gitleaks.toml, the trufflehog
// names those of its pkg/detectors.
var cloudRules = []Rule{
	// AWS secret access keys beside an access key id: 40 base64
	// characters, mixed case, anywhere in a string that holds an AWS access
	// key id, even when no name is next to the secret ("key AKIA… secret
	// wJalr…"). The key id is the trigger (trufflehog's aws detector pairs
	// them the same way). The regexp documents findAWSSecretBesideKeyID; it
	// applies only to strings that hold a key id.
	{Kind: "aws-secret-access-key", Keywords: awsKeyIDKeywords,
		Pattern:  regexp.MustCompile(`(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])`),
		Validate: mixedCaseKey, find: findAWSSecretBesideKeyID},
	// Tencent Cloud SecretId: AKID + 32 (trufflehog tencent), and the
	// SecretKey, 32 characters named as such.
	prefixed("tencent-secret-id", `[A-Za-z0-9]`, 28, "AKID"),
	named("tencent-secret-key", "tencent|qcloud", "", `[A-Za-z0-9]`, 32, 32),
	// Google OAuth refresh tokens: 1//0 and base64url (Google OAuth docs).
	prefixed("gcp-oauth-refresh-token", `[A-Za-z0-9_-]`, 40, "1//0"),
	// Firebase Cloud Messaging legacy server keys: AAAA + 7, :APA91b, 134
	// (Firebase Cloud Messaging docs).
	rule("firebase-fcm-server-key", `\b(AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{50,})`, "apa91b"),
	// Cloudflare API tokens (40) and global API keys (37 hex), named as
	// such (gitleaks cloudflare-api-key, cloudflare-global-api-key).
	named("cloudflare-api-token", "cloudflare|cf_api", "", `[A-Za-z0-9_-]`, 37, 40),
	// Cloudflare Origin CA keys: v1.0-, 24 hex, -, 146 hex (gitleaks cloudflare-origin-ca-key).
	prefixed("cloudflare-origin-ca-key", `[a-f0-9-]`, 120, "v1.0-"),
	// Heroku API keys: HRKU-AA + 58 (gitleaks heroku-api-key-v2), and the
	// older UUID keys named as such (gitleaks heroku-api-key).
	prefixed("heroku-api-key", `[A-Za-z0-9_-]`, 50, "HRKU-AA"),
	namedCheck("heroku-api-key", "heroku", "", uuidClass, 36, 36, isUUID),
	// Netlify personal access tokens: nfp_ + 36 (trufflehog netlify v2),
	// and the older ones named as such (gitleaks netlify-access-token).
	prefixed("netlify-token", `[A-Za-z0-9_]`, 32, "nfp_"),
	named("netlify-token", "netlify", "", `[A-Za-z0-9_=-]`, 40, 46),
	// Vercel access tokens: 24 characters named as such (trufflehog vercel).
	named("vercel-token", "vercel", "", `[A-Za-z0-9]`, 24, 64),
	// Supabase management tokens: sbp_ + 40 hex (trufflehog supabasetoken),
	// and secret API keys: sb_secret_ (Supabase API keys docs).
	prefixed("supabase-token", `[a-f0-9]`, 36, "sbp_"),
	prefixed("supabase-token", `[A-Za-z0-9_-]`, 24, "sb_secret_"),
	// Fastly API tokens: 32 characters named as such (gitleaks fastly-api-token).
	named("fastly-api-token", "fastly", "", `[A-Za-z0-9_=-]`, 32, 32),
	// IBM Cloud API keys: 44 characters named as such (trufflehog ibmclouduserkey).
	named("ibm-cloud-api-key", "ibm|bluemix", "", `[A-Za-z0-9_-]`, 44, 44),
	// Oracle Cloud (OCI) auth tokens and customer secret keys, named as such:
	// oci_ or oracle_, a key that holds token, key, secret or pass, and a
	// value of 20 to 64 with a digit (OCI IAM docs).
	namedRule("oracle-cloud-key", "oci_|oci-|oci.|oracle", []string{"token", "key", "secret", "pass"}, "", `[A-Za-z0-9+/=_.:;#()<>{}\[\]-]`, 20, 64, hasDigit),
	// Dynatrace API and platform tokens: dt0c01. + 24 +
	// . + 64 (gitleaks dynatrace-api-token; Dynatrace token docs).
	prefixed("dynatrace-token", `[A-Za-z0-9.]`, 80, "dt0c01.", "dt0s01.", "dt0s16."),
	// CircleCI personal and project API tokens: CCIPAT_/CCIPRJ_ + 22 + _ + 40 hex.
	prefixed("circleci-token", `[A-Za-z0-9_]`, 50, "CCIPAT_", "CCIPRJ_"),
	// Buildkite API access tokens: bkua_ + 40 hex (trufflehog buildkite v2).
	prefixed("buildkite-token", `[a-f0-9]`, 36, "bkua_"),
	// Travis CI access tokens: 22 characters named as such (gitleaks travisci-access-token).
	named("travis-ci-token", "travis", "", `[A-Za-z0-9_-]`, 22, 22),
	// JFrog Artifactory API keys (AKCp + 69, gitleaks jfrog-api-key) and
	// reference tokens (the base64 of "reftkn", trufflehog artifactory).
	prefixed("jfrog-token", `[A-Za-z0-9]`, 60, "AKCp"),
	prefixed("jfrog-token", `[A-Za-z0-9]`, 50, "cmVmdGtu"),
	// SonarQube/SonarCloud user, project and global analysis tokens:
	// squ_/sqp_/sqa_ + 40 hex (SonarQube token docs).
	prefixed("sonarqube-token", `[a-f0-9]`, 36, "squ_", "sqp_", "sqa_"),
	// Tailscale auth, API, OAuth client and SCIM keys: tskey- (Tailscale docs).
	prefixed("tailscale-key", `[A-Za-z0-9-]`, 30, "tskey-"),
	// 1Password service account tokens: ops_eyJ + base64 (gitleaks 1password-service-account-token).
	prefixed("onepassword-service-token", `[A-Za-z0-9+/=]`, 200, "ops_eyJ"),
	// OpenShift user tokens: sha256~ + 43 (gitleaks openshift-user-token).
	prefixed("openshift-token", `[A-Za-z0-9_-]`, 40, "sha256~"),
	// Render API keys: rnd_ + 32 (Render API docs).
	prefixed("render-api-key", `[A-Za-z0-9]`, 28, "rnd_"),
	// Deno Deploy access tokens: ddp_ + 36 (Deno Deploy docs).
	prefixed("deno-deploy-token", `[A-Za-z0-9]`, 32, "ddp_"),
	// Scalingo API tokens: tk-us- + 48 (gitleaks scalingo-api-token).
	prefixed("scalingo-token", `[A-Za-z0-9_-]`, 44, "tk-us-"),
	// Yandex Cloud API keys: AQVN + 35–38 (gitleaks yandex-api-key).
	prefixed("yandex-api-key", `[A-Za-z0-9_-]`, 32, "AQVN"),
	// Clojars deploy tokens: CLOJARS_ + 60 (gitleaks clojars-api-token).
	prefixed("clojars-api-token", `[a-z0-9]`, 50, "CLOJARS_"),
	// NuGet.org API keys: oy2 + 43 (NuGet docs).
	prefixed("nuget-api-key", `[a-z0-9]`, 40, "oy2"),
	// Infracost API keys: ico- + 32 (gitleaks infracost-api-token).
	prefixed("infracost-api-key", `[A-Za-z0-9]`, 28, "ico-"),
}

// uuidPattern is a UUID, the shape of many tokens; uuidClass is its
// alphabet, for the named rules, whose check is isUUID.
const (
	uuidPattern = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
	uuidClass   = `[0-9a-fA-F-]`
)

// awsKeyIDKeywords wake the AWS key id rule and the pair rule.
var awsKeyIDKeywords = []string{"akia", "asia", "abia", "acca", "a3t"}

// awsKeyID is an AWS access key id, as the aws-access-key-id rule has it.
var awsKeyID = regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{14,16}\b`)

// awsSecretByte is what a secret access key is made of.
var awsSecretByte = setOf(letters + digits + "/+")

// findAWSSecretBesideKeyID finds the secret access keys in a string that
// holds an AWS access key id: runs of exactly 40 of [A-Za-z0-9/+], not
// followed by = (the end of a longer base64 text), that mixedCaseKey
// accepts. One search for the key id (a regexp, linear), then one pass over
// the runs.
func findAWSSecretBesideKeyID(s string, out [][2]int) ([][2]int, int) {
	work := len(s)
	if !awsKeyID.MatchString(s) {
		return out, work
	}
	for i := 0; i < len(s); {
		if !awsSecretByte[s[i]] {
			i++
			continue
		}
		j := i
		for j < len(s) && awsSecretByte[s[j]] {
			j++
		}
		work += j - i
		if j-i == 40 && (j == len(s) || s[j] != '=') && mixedCaseKey(s[i:j]) {
			out = append(out, [2]int{i, j})
		}
		i = j
	}
	return out, work
}

// mixedCaseKey accepts random base64: upper and lower case letters and a
// digit (a hex digest, a word or a path of words is not; a random 40-byte
// key lacks a digit once in a thousand).
func mixedCaseKey(s string) bool {
	var up, low, digit bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		up = up || c >= 'A' && c <= 'Z'
		low = low || c >= 'a' && c <= 'z'
		digit = digit || c >= '0' && c <= '9'
	}
	return up && low && digit
}
