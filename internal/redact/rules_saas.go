package redact

// saasRules are the formats of SaaS APIs: AI providers, payments,
// messaging and support, observability, developer tools. Each comment says
// where the format comes from; the gitleaks rule ids are those of its
// config/gitleaks.toml, the trufflehog names those of its pkg/detectors.
var saasRules = []Rule{
	// Hugging Face organization API tokens: api_org_ + 34 letters (gitleaks huggingface-organization-api-token).
	prefixed("huggingface-org-token", `[A-Za-z]`, 30, "api_org_"),
	// X/Twitter app-only bearer tokens: 22 A's, then URL-encoded base64
	// (gitleaks twitter-bearer-token).
	prefixed("twitter-bearer-token", `[A-Za-z0-9%]`, 60, "AAAAAAAAAAAAAAAAAAAAA"),
	// Facebook/Meta access tokens: the Graph API explorer's EAACEdEose0cBA
	// (gitleaks facebook-access-token), and page and system-user tokens:
	// EAA and 100 or more (gitleaks facebook-page-access-token).
	prefixed("facebook-access-token", `[A-Za-z0-9]`, 20, "EAACEdEose0cBA"),
	prefixed("facebook-access-token", `[A-Za-z0-9]`, 100, "EAA"),
	// Sumo Logic access ids (su + 12) and access keys (64), named as such
	// (gitleaks sumologic-access-id, sumologic-access-token).
	named("sumologic-access-id", "sumo", "su", `[A-Za-z0-9]`, 14, 14),
	named("sumologic-access-key", "sumo", "", `[A-Za-z0-9]`, 64, 64),
	// Sourcegraph access tokens: sgp_, an optional instance id or "local"
	// and _, 40 hex (gitleaks sourcegraph-access-token).
	prefixed("sourcegraph-token", `[A-Za-z0-9_]`, 36, "sgp_"),
	// Sidekiq Enterprise/Pro credentials: 8 hex : 8 hex in the Bundler
	// variable (gitleaks sidekiq-secret) or in the gem source URL
	// (gitleaks sidekiq-sensitive-url).
	rule("sidekiq-secret", `(?i:BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM)["']?\s*(?::=|=>|[:=])\s*["']?([a-f0-9]{8}:[a-f0-9]{8})\b`, "contribsys__com"),
	rule("sidekiq-sensitive-url", `\bhttps?://([a-f0-9]{8}:[a-f0-9]{8})@(?:gems|enterprise)\.contribsys\.com`, "contribsys.com"),
	// JSON Web Tokens encoded again in base64, as in Kubernetes secrets:
	// ZXlK is the base64 of "eyJ" (gitleaks jwt-base64); the decoded header
	// must be a JWT header.
	prefixedCheck("jwt-base64", `[A-Za-z0-9+/=]`, 40, validJWTBase64, "ZXlK"),
	// PayPal/Braintree access tokens: access_token$production$ + 16 $ 32
	// (Braintree docs; the classic secrets-patterns-db pattern).
	prefixed("braintree-access-token", `[A-Za-z0-9$]`, 40, "access_token$production$", "access_token$sandbox$"),
	// Adyen API keys: AQE…, named as such (Adyen API credentials docs).
	named("adyen-api-key", "adyen", "AQE", `[A-Za-z0-9+/=._-]`, 43, 1000),
	// Razorpay key ids: rzp_live_/rzp_test_ + 14 (trufflehog razorpay).
	prefixed("razorpay-key-id", `[A-Za-z0-9]`, 10, "rzp_live_", "rzp_test_"),
	// Plaid access tokens: access-<env>-<uuid> (gitleaks plaid-api-token),
	// and secrets, 30 characters named as such (gitleaks plaid-secret-key).
	prefixed("plaid-access-token", `[a-f0-9-]`, 30, "access-sandbox-", "access-development-", "access-production-"),
	named("plaid-secret", "plaid", "", `[a-z0-9]`, 30, 30),
	// Coinbase access tokens: 64 characters named as such (gitleaks coinbase-access-token).
	named("coinbase-access-token", "coinbase", "", `[A-Za-z0-9_-]`, 64, 64),
	// Intercom access tokens: 60 characters named as such (gitleaks intercom-api-key).
	named("intercom-token", "intercom", "", `[A-Za-z0-9=_-]`, 60, 60),
	// Zendesk API tokens: 40 characters named as such (gitleaks zendesk-secret-key).
	named("zendesk-token", "zendesk", "", `[A-Za-z0-9]`, 40, 40),
	// Mattermost access tokens: 26 characters named as such (gitleaks mattermost-access-token).
	named("mattermost-token", "mattermost", "", `[a-z0-9]`, 26, 26),
	// Microsoft Teams incoming webhooks (gitleaks microsoft-teams-webhook).
	rule("microsoft-teams-webhook", `(https://[A-Za-z0-9-]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9@/_-]{40,})`, "webhook.office.com"),
	// Honeycomb ingest and management keys (hcaik_, hcxik_, hcamk_, hcxmk_;
	// Honeycomb API keys docs), and the older keys named as such: 32 hex or
	// 22 characters (trufflehog honeycomb).
	prefixed("honeycomb-api-key", `[A-Za-z0-9]`, 40, "hcaik_", "hcxik_", "hcamk_", "hcxmk_"),
	namedCheck("honeycomb-api-key", "honeycomb", "", `[A-Za-z0-9]`, 22, 32, honeycombShape),
	// Splunk HTTP Event Collector tokens: a UUID after "Splunk " (the HEC
	// Authorization scheme) or named as such (Splunk HEC docs).
	rule("splunk-hec-token", `\bSplunk\s+(`+uuidPattern+`)`, "splunk"),
	namedCheck("splunk-hec-token", "splunk|hec_|hec-|hectoken", "", uuidClass, 36, 36, isUUID),
	// Rollbar and Bugsnag access tokens: 32 hex named as such (gitleaks
	// rollbar-access-token; trufflehog bugsnag).
	named("rollbar-token", "rollbar", "", `[a-f0-9]`, 32, 32),
	named("bugsnag-api-key", "bugsnag", "", `[a-f0-9]`, 32, 32),
	// Lightstep access tokens, named as such (trufflehog lightstep).
	named("lightstep-token", "lightstep", "", `[A-Za-z0-9+/=_-]`, 32, 512),
	// PagerDuty API keys: 20 characters named as such (trufflehog pagerdutyapikey).
	named("pagerduty-token", "pagerduty", "", `[A-Za-z0-9_+-]`, 20, 20),
	// AI providers. Cohere and Mistral keys: 40 and 32 characters named as
	// such (trufflehog cohere, mistral).
	named("cohere-api-key", "cohere|co_api", "", `[A-Za-z0-9]`, 40, 40),
	named("mistral-api-key", "mistral", "", `[A-Za-z0-9]`, 32, 32),
	// Groq: gsk_ + 52 (trufflehog groq). Replicate: r8_ + 37 (trufflehog
	// replicate). Perplexity: pplx- + 48. xAI: xai- + 80 (trufflehog xai).
	prefixed("groq-api-key", `[A-Za-z0-9]`, 40, "gsk_"),
	prefixed("replicate-api-token", `[A-Za-z0-9_-]`, 34, "r8_"),
	prefixed("perplexity-api-key", `[A-Za-z0-9]`, 40, "pplx-"),
	prefixed("xai-api-key", `[A-Za-z0-9_]`, 60, "xai-"),
	// OpenRouter: sk-or-v1- + 64 hex. LangSmith: lsv2_pt_/lsv2_sk_ + 32 hex
	// _ 10 hex. Tavily: tvly- + 32. Langfuse: sk-lf- + UUID. Pinecone:
	// pcsk_ (the vendors' API key docs).
	prefixed("openrouter-api-key", `[a-f0-9]`, 56, "sk-or-v1-"),
	prefixed("langsmith-api-key", `[a-f0-9_]`, 36, "lsv2_pt_", "lsv2_sk_"),
	prefixed("tavily-api-key", `[A-Za-z0-9_-]`, 28, "tvly-"),
	prefixed("langfuse-secret-key", `[a-f0-9-]`, 30, "sk-lf-"),
	prefixed("pinecone-api-key", `[A-Za-z0-9_]`, 50, "pcsk_"),
	// Bitbucket (Atlassian) repository, project and workspace access tokens
	// (ATCTT3) and app passwords (ATBB + 32; trufflehog bitbucketapppassword).
	prefixed("bitbucket-token", `[A-Za-z0-9_=-]`, 100, "ATCTT3"),
	prefixed("bitbucket-token", `[A-Za-z0-9]`, 28, "ATBB"),
	// Snyk and Codecov tokens: UUIDs named as such (gitleaks snyk-api-token; trufflehog codecov).
	namedCheck("snyk-token", "snyk", "", uuidClass, 36, 36, isUUID),
	namedCheck("codecov-token", "codecov", "", uuidClass, 32, 36, codecovShape),
	// Contentful personal access tokens: CFPAT- + 43 (gitleaks
	// contentful-delivery-api-token family), and delivery tokens named as such.
	prefixed("contentful-token", `[A-Za-z0-9_-]`, 40, "CFPAT-"),
	named("contentful-token", "contentful", "", `[A-Za-z0-9_=-]`, 43, 43),
	// Algolia admin API keys: 32 hex named as such (gitleaks algolia-api-key).
	named("algolia-api-key", "algolia", "", `[a-f0-9]`, 32, 32),
	// Mapbox secret tokens: sk. and a JWT-like body (Mapbox access token docs;
	// gitleaks mapbox-api-token has the public pk. form).
	prefixed("mapbox-secret-token", `[A-Za-z0-9._-]`, 60, "sk.eyJ"),
	// Okta API tokens (SSWS): 00 + 40, named as such (gitleaks okta-access-token).
	named("okta-api-token", "okta", "00", `[A-Za-z0-9_-]`, 42, 42),
	// Auth0 client secrets: 64 characters named as such (trufflehog auth0oauth).
	named("auth0-client-secret", "auth0", "", `[A-Za-z0-9_-]`, 64, 64),
	// Twitch API tokens: 30 characters named as such (gitleaks twitch-api-token).
	named("twitch-token", "twitch", "", `[a-z0-9]`, 30, 30),
	// Dropbox short-lived access tokens: sl. + 135 or more (gitleaks dropbox-short-lived-api-token).
	prefixed("dropbox-token", `[A-Za-z0-9._=-]`, 120, "sl."),
	// Asana personal access tokens: a version digit, /, one or two ids, :,
	// 32 (Asana developer docs), named as such.
	namedCheck("asana-token", "asana", "", `[A-Za-z0-9/:]`, 51, 75, asanaShape),
	// Notion integration tokens: ntn_ + 46, and the older secret_ + 43 (Notion docs).
	prefixed("notion-token", `[A-Za-z0-9]`, 40, "ntn_", "secret_"),
	// Airtable personal access tokens: pat + 14, ., 64 hex (gitleaks
	// airtable-personnal-access-token); "pat" is a common word, so the dot
	// after 14 is checked.
	prefixedCheck("airtable-token", `[A-Za-z0-9.]`, 50, airtableShape, "pat"),
	// Figma personal access tokens: figd_ + 40 (Figma API docs).
	prefixed("figma-token", `[A-Za-z0-9_-]`, 36, "figd_"),
	// HubSpot private app tokens: pat-na1-/pat-eu1- + UUID (trufflehog hubspot).
	prefixed("hubspot-token", `[a-f0-9-]`, 30, "pat-na1-", "pat-eu1-"),
	// PostHog personal API keys: phx_ (PostHog API docs).
	prefixed("posthog-personal-key", `[A-Za-z0-9_]`, 36, "phx_"),
	// EasyPost production and test keys: EZAK/EZTK + 54 (gitleaks easypost-api-token).
	prefixed("easypost-api-key", `[A-Za-z0-9]`, 50, "EZAK", "EZTK"),
	// Typeform personal tokens: tfp_ + 59 (gitleaks typeform-api-token).
	prefixed("typeform-token", `[A-Za-z0-9_.=-]`, 50, "tfp_"),
	// Prefect API keys: pnu_ + 36 (gitleaks prefect-api-token).
	prefixed("prefect-api-key", `[A-Za-z0-9]`, 32, "pnu_"),
	// ReadMe API keys: rdme_ + 70 (gitleaks readme-api-token).
	prefixed("readme-api-key", `[a-z0-9]`, 60, "rdme_"),
	// Shippo API tokens: shippo_live_/shippo_test_ + 40 hex (gitleaks shippo-api-token).
	prefixed("shippo-api-token", `[a-f0-9]`, 36, "shippo_live_", "shippo_test_"),
	// Brevo (Sendinblue) API keys: xkeysib- + 64 hex - 16 (gitleaks sendinblue-api-token).
	prefixed("brevo-api-key", `[A-Za-z0-9-]`, 70, "xkeysib-"),
	// Adobe client secrets: p8e- + 32 (gitleaks adobe-client-secret).
	prefixed("adobe-client-secret", `[A-Za-z0-9]`, 28, "p8e-"),
	// Duffel API tokens: duffel_live_/duffel_test_ + 43 (gitleaks duffel-api-token).
	prefixed("duffel-api-token", `[A-Za-z0-9_=-]`, 40, "duffel_live_", "duffel_test_"),
	// Frame.io API tokens: fio-u- + 64 (gitleaks frameio-api-token).
	prefixed("frameio-api-token", `[A-Za-z0-9_=-]`, 60, "fio-u-"),
	// Flutterwave secret keys: FLWSECK- / FLWSECK_TEST- + 32 hex + -X
	// (gitleaks flutterwave-secret-key).
	prefixed("flutterwave-secret-key", `[a-hA-H0-9X-]`, 30, "FLWSECK-", "FLWSECK_TEST-"),
}
