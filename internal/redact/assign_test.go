package redact

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// redaction is one text and the part of it that must become the marker of
// kind: the test requires the exact output, so that a span that takes a
// byte too many (a closing bracket, a quote) or too few fails.
type redaction struct {
	name, text, secret, kind string
}

func checkRedactions(t *testing.T, cases []redaction) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, 1, strings.Count(c.text, c.secret), "the secret occurs once in %q", c.text)
			want := strings.Replace(c.text, c.secret, "[REDACTED:"+c.kind+"]", 1)
			got := redactString(c.text)
			assert.Equal(t, want, got)
			assert.Equal(t, got, redactString(got), "idempotent")
		})
	}
}

func checkUntouched(t *testing.T, texts []string) {
	t.Helper()
	for _, s := range texts {
		assert.Equal(t, s, redactString(s))
	}
}

// pw returns a generated password-like value: letters and digits.
func pw(n int) string { return redacttest.Gen(redacttest.AlnumChars, n) }

// Item 1: key spellings are normalized and matched by whole segments, both
// for attribute keys (SecretKey) and for key=value text.
func TestSecretKeySegments(t *testing.T) {
	r := New(Config{})
	for _, k := range []string{
		"password", "PASSWORD", "Password", "db_password", "DB.PASSWORD", "db-password", "db password", "X-Api-Key", "apiKey", "api_key",
		"stripeApiKey", "stripe.api.key", "apiToken", "1passwordToken", "1pass", "sessionid", "JSESSIONID", "PHPSESSID", "set-cookie", "Set-Cookie",
		"authorization", "Proxy-Authorization", "pass", "Pass", "PASS", "db_pass", "dbPass", "DBPass", "pwd", "dbPwd", "user_pwd",
		"password_confirmation", "passwordConfirmation", "password_confirm", "password_hint", "password_hash", "token_digest",
		"password1", "password2", "cvv2", "pin", "user_pin", "userPin", "csrftoken", "newpassword", "MYSQLPASSWORD", "refresh_token",
	} {
		assert.True(t, r.SecretKey(k), k)
	}
	for _, k := range []string{
		"spin", "hairpin", "pinned", "bypass", "compass", "passenger", "PWD", "OLDPWD", "oldpwd", "password_policy", "password_length",
		"tokens_used", "sessions_count", "keyboard", "key", "user", "status", "ssn_valid", "tokenizer", "passport", "mapping", "Compass",
	} {
		assert.False(t, r.SecretKey(k), k)
	}
	// Custom keys follow the same rules: a short one must start a segment.
	c := New(Config{Keys: []string{"pin2", "tenant_key"}})
	assert.True(t, c.SecretKey("user_pin2"))
	assert.True(t, c.SecretKey("TenantKey"))
	assert.False(t, c.SecretKey("spin2"))
}

// SecretKey runs on every attribute key: it must not allocate.
func TestSecretKeyAllocatesNothing(t *testing.T) {
	r := New(Config{})
	keys := []string{"user_id", "password_confirmation", "stripeApiKey", "status", "cvv2", "spin"}
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() {
		for _, k := range keys {
			r.SecretKey(k)
		}
	}))
}

func BenchmarkSecretKey(b *testing.B) {
	r := New(Config{})
	keys := []string{"user_id", "method", "path", "status", "duration", "remote_addr", "request_id", "bytes"}
	for b.Loop() {
		for _, k := range keys {
			r.SecretKey(k)
		}
	}
}

func TestKeySpellingsInText(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	for _, key := range []string{
		"password", "PASSWORD", "db.password", "db-password", "db_password", "Pass", "passwd", "pwd", "dbPwd", "password_confirmation",
		"password_hint", "passwordConfirmation", "1passwordToken", "stripeApiKey", "stripe.api.key", "apiToken", "api key", "Client Secret",
		"sessionId", "JSESSIONID", "password2",
	} {
		for _, sep := range []string{"=", ": ", " = ", "\t=\t", " :\t", "\t= "} {
			v := pw(12)
			cases = append(cases, redaction{key + sep, "login " + key + sep + v + " ok", v, kind})
		}
	}
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		"spin=3 hairpin=4 bypass=on compass: north",
		"PWD=/home/ann OLDPWD=/home/bob SHLVL=1",
		"env: HOME=/home/ann PWD=/home/ann/src SHLVL=1", // the shell's PWD after another word
		"cwd pwd=/srv/app and pwd: ~/src",
		"--- PASS: TestFoo (0.00s)",
		"    --- PASS: TestFoo/sub_test (0.01s)",
		"PASS: tests/run.sh",
		"password_policy=strict password_length=12 tokens_used=10 sessions_count=3",
		"if token == expected {",
	})
}

// Item 2: the value of a token or password key is secret whatever it holds;
// the object handles that system logs print under token-ish keys are not.
func TestTokenValuesAnyShape(t *testing.T) {
	const kind = "secret-assignment"
	letters := redacttest.Gen(redacttest.LowerChars, 10)
	short := redacttest.Gen(redacttest.AlnumChars, 3)
	pct := redacttest.Join(redacttest.Gen(redacttest.AlnumChars, 6), "%2F", redacttest.Gen(redacttest.AlnumChars, 8), "%3D")
	b64 := redacttest.Gen(redacttest.B64Chars, 30) + "=="
	digits := redacttest.Gen(redacttest.DigitChars, 6)
	withDigits := redacttest.Gen(redacttest.LowerChars, 3) + redacttest.Gen(redacttest.DigitChars, 3)
	checkRedactions(t, []redaction{
		{"letters and digits", "token=" + withDigits + " ok", withDigits, kind},
		{"letters only", "token=" + letters, letters, kind},
		{"short", "auth_token: " + short, short, kind},
		{"percent-encoded", "GET /cb?access_token=" + pct + "&state=1", pct, kind},
		{"base64", `refresh_token="` + b64 + `"`, b64, kind},
		{"digits", "sessionid=" + digits, digits, kind},
		{"password short", "password=" + short, short, kind},
		{"password punctuation", "password=" + short + "!#%" + " next", short + "!#%", kind},
	})
	checkUntouched(t, []string{
		"ActivityManager: token=Token{a64f992 ActivityRecord{3c4f18e u0 com.tencent.qt.qtl/.activity.info.NewsDetailXmlActivity t761}}",
		"WindowManager: wtoken = AppWindowToken{9f4ef63 token=Token{78af589 ActivityRecord{f3b4d5e u0 com.x/.A t1}}}",
		"Established session 0x34ed9ac1c1e00ae with negotiated timeout; sessionid: 0x34ed9ac1c1e00ae",
		"sessionid:0x34ed93485090001 type:create cxid:0x1",
		"com.apple.xpc.activity.All: token: com.apple.xpc.activity/4505: 1",
		"ActivityManager: token: android.os.BinderProxy@2bd79ce",
		"Resource: <memory:1024>, Token: Token { kind: ContainerToken, service: 10.0.0.1:28345 }, ]",
		"token count 12 for session started",
	})
}

// Item 3: key=value secrets inside brackets are found, and the closing
// bracket stays outside the marker.
func TestBracketedAssignments(t *testing.T) {
	const kind = "secret-assignment"
	v := func() string { return pw(14) }
	a, b, c, d, e, f, g := v(), v(), v(), v(), v(), v(), v()
	checkRedactions(t, []redaction{
		{"parens =", "call(token=" + a + ")", a, kind},
		{"brackets :", "[api_key: " + b + "]", b, kind},
		{"parens :", "failed (password: " + c + "), retrying", c, kind},
		{"braces =", "{secret=" + d + "}", d, kind},
		{"S( )", "S(aws_secret_access_key=" + e + ")", e, kind},
		{"nested", "cfg{db(password=" + f + ")}.", f, kind},
		{"bracket inside the value", "password=" + g[:5] + ")" + g[5:] + " ok", g[:5] + ")" + g[5:], kind},
	})
}

// Item 4: the assignment syntaxes of languages, build files and markup.
func TestAssignmentSyntaxes(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	add := addPasswords(&cases, kind, 16)
	add("Go :=", `apiToken := "`, `"`)
	add("Make ::=", "API_TOKEN ::= ", "")
	add("Make ?=", "API_TOKEN ?= ", "")
	add("Make +=", "DB_PASSWORD += ", "")
	add("PHP .=", `$apiToken .= "`, `";`)
	add("Ruby =>", `{:password => "`, `"}`)
	add("Perl => bare", "password => ", ", user => ann")
	add("Go var", `var apiToken string = "`, `"`)
	add("Go const []byte", `var password []byte = "`, `"`)
	add("Kotlin val", `val apiToken: String = "`, `"`)
	add("Rust let", `let api_token: &str = "`, `";`)
	add("TypeScript const", `const clientSecret: string = '`, `';`)
	add("Java setProperty", `System.setProperty("API_TOKEN", "`, `");`)
	add("Go Setenv", `os.Setenv("DB_PASSWORD", "`, `")`)
	add("Python set single quotes", `config.set('password', '`, `')`)
	add("XML element", "<apiToken>", "</apiToken>")
	add("XML password", "<user><password>", "</password></user>")
	add("HTML attribute", `<input type="hidden" password="`, `">`)
	add("JSON string with .env", `{"env":"DEBUG=true\nAPI_TOKEN=`, `\nLOG=info"}`)
	add("JSON string, key after \\n", `"A=1\npwd=`, `\nB=2"`)
	add("JSON in JSON", `{"msg":"{\"password\":\"`, `\"}"}`)
	add("tab before =", "password\t= ", "")
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		`System.setProperty("user.home", "/home/ann")`,
		`os.Setenv("PATH", "/usr/bin")`,
		`required fields: "password", "email"`,
		"<token></token> and <password/>",
		"usage: login <password> [--verbose]",
		"var tokenCount int = 3",
		`"A=1\nPWD=/home/ann\nB=2"`,
	})
}

// Item 5: an object or array under a secret key: every string and scalar
// in it is redacted, brackets, keys and quotes stay, and JSON stays JSON.
func TestJSONObjectUnderSecretKey(t *testing.T) {
	for _, tc := range []struct{ name, tmpl string }{
		{"object", `{"password":{"value":"%s"},"user":"ann"}`},
		{"array", `{"api_key":["%s"],"n":1}`},
		{"nested", `{"credentials":{"list":[{"k":"%s"}],"alg":{"x":"%s"}},"ok":true}`},
		{"spaces", `{"secret" : [ "%s" , "%s" ] }`},
		{"python repr", `{'password': {'value': '%s'}, 'user': 'ann'}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := checkTemplate(t, tc.tmpl, 18)
			if tc.name != "python repr" {
				assert.True(t, json.Valid([]byte(out)), out)
			}
		})
	}
	// A scalar is replaced by the bare marker.
	n := redacttest.Gen("123456789", 6)
	assert.Equal(t, `{"password":[[REDACTED:secret-assignment]]}`, redactString(`{"password":[`+n+`]}`))
	// Unclosed (a line cut short): everything after the key is redacted.
	v := pw(12)
	assert.Equal(t, `{"password":{"v":"[REDACTED:secret-assignment]`, redactString(`{"password":{"v":"`+v))
}

// Item 6: Authorization values are redacted whole whatever the scheme; so
// is curl's -u user:password password.
func TestAuthorizationWholeValue(t *testing.T) {
	const kind = "authorization-header"
	var cases []redaction
	add := func(name, before, after string, scheme string) {
		v := scheme + " " + pw(20)
		cases = append(cases, redaction{name, before + v + after, v, kind})
	}
	add("Go header map", "headers map[Accept:[*/*] Authorization:[", "] Content-Type:[application/json]]", "Token")
	add("ApiKey", "Authorization: ", "", "ApiKey")
	add("SSWS", "Authorization: ", "", "SSWS")
	add("unknown scheme", "Authorization: ", "", "Xyz-Custom")
	add("Proxy-Authorization", "Proxy-Authorization: ", "", "Basic")
	add("curl -H single", "curl -sS -H 'Authorization: ", "' https://api.example.com/v1", "Bearer")
	add("curl -H double", `curl -H "Authorization: `, `" https://api.example.com/v1`, "Token")
	add("HTTP trace", "> GET / HTTP/1.1\n> Authorization: ", "\n> Host: example.com", "Negotiate")
	add("JSON", `{"headers":{"Authorization":"`, `","Accept":"*/*"}}`, "Splunk")
	add("Python dict", `{'Authorization': '`, `', 'Accept': '*/*'}`, "ApiKey")
	add("HTTP dump in JSON", `"GET / HTTP/1.1\r\nAuthorization: `, `\r\nHost: x"`, "Token")
	add("key=value", "authorization=", " user=ann", "Bearer")
	add("lower case", "authorization: ", "", "token")
	digest := `Digest username="ann", realm="x", nonce="` + redacttest.Gen(redacttest.HexChars, 32) + `", response="` + redacttest.Gen(redacttest.HexChars, 32) + `"`
	cases = append(cases, redaction{"Digest", "Authorization: " + digest, digest, kind})
	p1, p2, p3, p4 := pw(12), pw(12), pw(8)+" "+pw(4), pw(12)
	cases = append(cases,
		redaction{"curl -u", "curl -u ann:" + p1 + " https://example.com", p1, kind},
		redaction{"curl --user", "curl --user ann:" + p2 + " https://example.com", p2, kind},
		redaction{"curl -u quoted", "curl -u 'ann:" + p3 + "' https://example.com", p3, kind},
		redaction{"curl --user=", "curl -s --user=ann:" + p4 + " x", p4, kind},
	)
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		"authorization failed for user bob",
		"Authorization header missing",
		"docker run -u 1000:1000 --user 1000:1000 image",
		"curl -u ann https://example.com",
		"curl https://example.com\nsudo -u postgres:postgres psql",
		"preauthorization: done",
	})
}

// Item 7: passwords that should have been percent-encoded.
func TestURLPasswordsNotEncoded(t *testing.T) {
	var cases []redaction
	add := func(name, before, secret, after, kind string) {
		cases = append(cases, redaction{name, before + secret + after, secret, kind})
	}
	add("hash", "redis://app:", pw(5)+"#"+pw(4), "@cache.internal:6379/0", "url-credentials")
	add("question mark", "mysql://app:", pw(5)+"?"+pw(4), "@db:3306/main", "url-credentials")
	add("second @", "postgres://app:", pw(5)+"@"+pw(4), "@db.internal:5432/main", "url-credentials")
	add("all three", "amqp://app:", pw(3)+"@#?"+pw(5), "@[::1]:5672/vhost ok", "url-credentials")
	add("DSN with @", "dsn app:", pw(5)+"@"+pw(4), "@tcp(db:3306)/main", "dsn-credentials")
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		"see https://example.com/a:b@c and ftp://host/x",
		"https://example.com:8080/@ann/posts",
		"http://host:8080?user=ann@example.com",
		"https://host/path?next=a:b@c.com",
		"NSErrorFailingURLStringKey=https://13957525385%40163.com@gsp-ssl.ls.apple.com/dispatcher",
		"app@tcp(db:3306)/main",
	})
}

// The syntaxes that findAssignments, findHeaderValues, findCurlUser and the
// URL and DSN matchers learned, repeated as TestRedactIsLinear repeats the
// rules' keywords (which wake these rules, but do not build these forms):
// each costs O(len(s)) however many times it repeats, in bytes examined
// (Redactor.work, which counts the regexps' input too): an exact count, not
// a timing, which a loaded machine makes flaky.
func TestAssignSyntaxesAreLinear(t *testing.T) {
	r := New(Config{})
	r.work = new(atomic.Int64)
	units := []string{
		`("password", "`, `("password", `, `"password", "x", `, `<password>`, `<password>x<`, `</password>`, `<password>x</password`,
		`password := `, `password ::= `, `token ?= `, `$token .= `, `apiToken string = `, `apiToken string `, `val token: String = `, `token: String `,
		`{"password":[`, `{"password":{"a":`, `"password":["x",`, `"password":[`, `'password': {'`, `{\"password\":{\"`, `\"password\":\"`,
		`password=a)`, `password=a)b`, `(token=a)`, `password=a\`, `password=a\n`, `\npassword=`, `"A=1\npwd=`, `api key: `, `api key `, `x key=`,
		`token=Token{`, `token: com.a.b.`, `token=0x`, `Token: Token `, `token=a.b@`, `PWD=/`, `pwd=/`, `--- PASS: `, `token == `, `token=`,
		"Authorization: ", "Authorization:[", "'Authorization: ", `\nAuthorization: `, "authorization=Bearer ", `"Authorization":"`, `\"Authorization\": \"`,
		"Cookie: ", "Cookie:[", "curl -u a:", "curl --user ", " -u a:b ", "curl", "curl -u 'a:", "-u ",
		"redis://a:b#c@", "x://a:b@@", "x://a:b@h?", "x://a?b:c@d", "a:b@", "@tcp(", "a:b@c@tcp(", "a:b@@tcp(",
		`<wsse:Password>`, `<wsse:Password>x<`, `<password a="1">x<`, `<password a="1" `, `<add key="token" value="`, `<add key="token" value="x"/>`,
		`password={`, `password={"v":"x"} `, `password={"v":"`, `password=[`, `password: {a: [`, `password = {"`, `token => {'`, `password={\"`,
		"\"password\":\n", "\"password\":\n{", `\"password\":\n`, `password={a}`, `password=[ `, `password={a}b `, `x={`, `{`, `{"`, `{'`,
		"x://a:b/", "x://a:b/c@", "x://a:b c@h ", "x://a:b/@", "x://a:b/@/", "https://svc:a/@h/", "x://a:b'@", "@", "@h/",
		"password_", "password.x_", "tokens_", "AppToken.", "password_policy_", "a.password.b=", "prompt_tokens_", "tokens_used.", "password x=",
		`<apiKey value="x"/>`, `<apiKey value="`, `<property name="password">x</property`, `<a b="1" c='2' `, "<x:token\n>", `<add key="token" value="`,
		"sid=", "sid: 1 ", "(sid=ORCL)", "sid=S-1-5-", "tokens=200 ", "tokens=", "has_password=true ", "hasPasswordIsIsIs=false ", "has_is_no_",
		`os.environ["DB_PASSWORD"] = "`, `x["password"]=`, `["token"]=`, `["]=`, `[password]=`, `a[token]= `, `\"]=`, `x[\"token\"] = \"`, `]=`, `a[b]`,
		"password:\n  ", "password:\n  x\n", "password:\n  x", "password: |\n  x\n", "password: |\n", "password: >-\n  x", "password: |\n\n", "token: |+2\n   a\n\n",
		"password:\n  a: ", "  password:\n    ", "- password:\n  ", "  - token:\n", `"password:\n  `, `password: |\n  x"`, `password:\n  `, "password:\r\n  ", "password:\n",
		"password: |\n  x: y\n  ", " - ", "-", "\n  ", " |\n  ", ":\n  ", "password:\n  -", "password:\n  #",
		"--password ", "--password x ", "-token ", "--password-file ", `"--password", "`, `"--token","x",`, `"--token" "`, "--password \"", "--password '",
		"--no-password ", "--password --", "- ", "--", "--password PASSWORD ", "--token [", `'--token' '`, "--token\t", "--pwd /", `"--password",,"`, "--api-key=x ",
	}
	for _, u := range units {
		for _, unit := range []string{u, "x" + u + " ", u + "password=x "} {
			small, large := repeatTo(unit, smallInput), repeatTo(unit, largeInput)
			a, b := measure(r, small, 1, false), measure(r, large, 1, false)
			assert.False(t, float64(b.work) > maxGrowth*float64(a.work) || a.work == 0 && b.work != 0,
				"%q: %d bytes examined at %d KiB, %d at %d KiB", unit, a.work, len(small)>>10, b.work, len(large)>>10)
		}
	}
}

// Issue 19: XML gives a secret its value in more forms than a bare element:
// a namespace prefix (WS-Security, in SOAP requests), attributes on the
// element, the value in a value attribute, and an element whose key or name
// attribute names the secret (.NET's appSettings, Spring's beans).
func TestXMLForms(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	add := addPasswords(&cases, kind, 16)
	add("WS-Security", "<wsse:UsernameToken><wsse:Username>ann</wsse:Username><wsse:Password>", "</wsse:Password></wsse:UsernameToken>")
	add("attributes", `<password type="text">`, "</password>")
	add("prefix and attributes", `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">`, "</wsse:Password>")
	add("multi-line tag", "<password\n  type=\"text\">", "</password>")
	add("value attribute", `<apiKey value="`, `"/>`)
	add("value attribute, single quotes", `<apiKey value='`, `' />`)
	add(".NET appSettings", `<appSettings><add key="ApiToken" value="`, `"/></appSettings>`)
	add("Spring property", `<property name="password" value="`, `"/>`)
	add("Hibernate property", `<property name="hibernate.connection.password">`, `</property>`)
	add("Java properties entry", `<entry key="db.password">`, `</entry>`)
	add("in a JSON string", `{"xml":"<add key=\"ApiToken\" value=\"`, `\"/>"}`)
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		`<add key="LogLevel" value="Debug"/>`,
		`<property name="username" value="ann"/>`,
		`<password type="text"></password>`,
		`<wsse:Password Type="x"/>`,
		`<passwordPolicy minLength="12">strict</passwordPolicy>`,
		`<entry key="password.policy">strict</entry>`,
		`<apiKey name="x" enabled="true"/>`,
		"a <b> c > d <password x=\"1\"> and no end tag",
		`<token value="0x34ed9ac1c1e00ae"/>`,
		"<x:token>com.apple.xpc.activity.x</x:token>",
	})
}

// Issue 19: an object under a secret key whose key has no quotes (key=value
// text, YAML's flow style, HCL, Ruby, Go's %+v) is redacted whole, up to
// the bracket that closes it, and what follows it stays; a JSON value on
// the line after its key is found as on the same line.
func TestObjectUnderUnquotedKey(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	add := func(name, before, tmpl, after string) {
		v := pw(16)
		obj := strings.Replace(tmpl, "%s", v, 1)
		cases = append(cases, redaction{name, before + obj + after, obj, kind})
	}
	add("key=value, JSON", "password=", `{"v":"%s"}`, " user=ann")
	add("YAML flow", "password: ", `{value: '%s'}`, "\nuser: ann")
	add("HCL", "password = ", `{ value = "%s" }`, "\nuser = \"ann\"")
	add("HCL, lines", "password = ", "{\n  value = \"%s\"\n}", "\nuser = \"ann\"")
	add("Ruby", "password => ", `{ value => '%s' }`, ", user => 'ann'")
	add("Go %+v", "Config{Password:", `{Value:%s}`, " User:ann}")
	add("array", "secret=", `[%s, x]`, " ok")
	add("nested", "api_key: ", `{a: {b: [%s]}}`, " done")
	add("bracket in quotes", "token=", `{"v":"ab}%s"}`, " ok")
	checkRedactions(t, cases)

	// Unclosed: redacted to the end of the text, or at most maxObject bytes.
	v := pw(16)
	assert.Equal(t, "password=[REDACTED:secret-assignment]", redactString("password={v: "+v))
	long := "password={v: " + v + strings.Repeat(" x", maxObject)
	out := redactString(long)
	assert.NotContains(t, out, v)
	assert.Equal(t, len("password=[REDACTED:secret-assignment]")+len(long)-len("password=")-maxObject, len(out))

	// JSON whose value starts on the next line (pretty-printed).
	w, x := pw(16), pw(16)
	assert.Equal(t, "{\"password\":\n  {\"value\":\"[REDACTED:secret-assignment]\"}, \"user\": \"ann\"}",
		redactString("{\"password\":\n  {\"value\":\""+w+"\"}, \"user\": \"ann\"}"))
	assert.Equal(t, "{\"password\":\n  \"[REDACTED:secret-assignment]\"}", redactString("{\"password\":\n  \""+x+"\"}"))
	assert.Equal(t, `{"m":"{\"password\":\n {\"v\":\"[REDACTED:secret-assignment]\"}}"}`,
		redactString(`{"m":"{\"password\":\n {\"v\":\"`+w+`\"}}"}`))

	checkUntouched(t, []string{
		"password={} user=ann",
		"token: [] sessions: {}",
		"tokens_used={prompt: 12} password_policy={min: 12}",
		"user={name: ann} config={debug: true}",
	})
}

// Issue 19: a secret word in any segment of a key makes it secret (a flat
// key of nested configuration, a qualifier after the word), and so does the
// plural of one that names the secret itself; a segment that describes the
// secret (its policy, count, name, id, lifetime…) after it, or a count
// word before a plural (a language model's token counts), does not.
func TestSecretWordInAnySegment(t *testing.T) {
	r := New(Config{})
	secret := []string{
		"password.current", "api_key.primary", "apiKey.primary", "apiKeyPrimary", "db.password.value", "PASSWORD_CURRENT",
		"token_value", "client_secret.old", "secretKey-backup", "private_key.pem", "credentials.aws", "passphrase_new",
		"passwords", "tokens", "secrets", "api_keys", "apiKeys", "API_KEYS", "private_keys", "privateKeys", "access_keys",
		"cookies", "refresh_tokens", "user_passwords", "passwords.old", "tokens[0]", "secrets.list",
	}
	benign := []string{
		"password_policy", "password_length", "password.min_length", "passwordPolicy", "token_count", "tokens_used", "tokensUsed",
		"token_type", "token_endpoint", "token_url", "token_expires_at", "tokenTTL", "secret_name", "secretName", "secret.ref",
		"api_key_id", "apiKeyID", "api_key_name", "private_key_path", "password_file", "credentials_provider", "password_changed_at",
		"prompt_tokens", "completion_tokens", "total_tokens", "max_tokens", "maxTokens", "maxOutputTokens", "max_new_tokens",
		"cache_creation_input_tokens", "num_tokens", "token.scopes", "password_reset_required", "secret.version",
		// Unchanged: stems that name a subject more often than the secret,
		// words that only start with a stem, type names before a member.
		"session_user", "sessions", "sessions_count", "cookie_domain", "pass_rate", "passes", "pins", "signature_algorithm",
		"tokenizer", "passwordless", "passport", "keyboard", "AppWindowToken.destroySurfaces", "SessionToken.Refresh",
	}
	for _, k := range secret {
		assert.True(t, r.SecretKey(k), k)
	}
	for _, k := range benign {
		assert.False(t, r.SecretKey(k), k)
	}
	assert.True(t, IsSecretName("DB_PASSWORD_CURRENT"))
	assert.True(t, IsSecretName("API_KEYS"))
	for _, k := range []string{"MAX_TOKENS", "POSTGRES_PASSWORD_FILE", "TOKEN_URL", "SECRET_NAME"} {
		assert.False(t, IsSecretName(k), k)
	}
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() {
		for _, k := range []string{"password.current", "prompt_tokens", "api_key_id", "request_id"} {
			r.SecretKey(k)
		}
	}))

	const kind = "secret-assignment"
	var cases []redaction
	add := addPasswords(&cases, kind, 16)
	add("dotted", "password.current=", " user=ann")
	add("dotted, secret word first", "api_key.primary: ", "")
	add("plural", "passwords=", " ok")
	add("plural, camel", `{"apiKeys": "`, `"}`)
	add("plural, JSON array", `{"tokens":["`, `"]}`)
	add("plural, private keys", "private_keys: ", "")
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		"password_policy=strict password.min_length=12 token_count=3 tokens_used=10 prompt_tokens=12 max_tokens=4096",
		`{"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42},"token_type":"bearer"}`,
		"com.android.server.wm.AppWindowToken.destroySurfaces:374",
		"secret_name=db-credentials api_key_id=ak-1 password x=1",
	})
}

// SecretKey is linear in the key's length, whatever stems and descriptor
// words the key repeats (a client may send a 1 MiB key): the thread's CPU
// time, the least of five runs, grows at most maxGrowth times from 16 KiB
// to 64 KiB, as TestRedactIsLinear requires of the rules.
func TestSecretKeyIsLinear(t *testing.T) {
	r := New(Config{})
	for _, unit := range []string{"password_", "password.x_", "tokens_", "Token.", "prompt_tokens.", "password_policy.", "p_a_s_s_", "apiKeyPolicy"} {
		small, large := repeatTo(unit, smallInput), repeatTo(unit, largeInput)
		a, b := time.Duration(1<<62), time.Duration(1<<62)
		for range 5 {
			a = min(a, cpuTime(func() { r.SecretKey(small) }))
			b = min(b, cpuTime(func() { r.SecretKey(large) }))
		}
		assert.LessOrEqual(t, float64(b), maxGrowth*float64(max(a, time.Microsecond)), "%q: %v at 16 KiB, %v at 64 KiB", unit, a, b)
	}
}

// Issue 19: a URL password holding a '/', a blank or a quote (pasted into a
// DSN unencoded) is found: the user information ends at the last '@' that a
// host follows. Only after user:word where word is not a port, so that a
// path holding '@' after host or host:port stays.
func TestURLPasswordsWithBreaks(t *testing.T) {
	var cases []redaction
	add := func(name, before, secret, after string) {
		cases = append(cases, redaction{name, before + secret + after, secret, "url-credentials"})
	}
	add("slash", "https://svc:", pw(5)+"/"+pw(4), "@db.internal/x")
	add("two slashes", "postgres://app:", pw(4)+"/"+pw(3)+"/"+pw(4), "@db.internal:5432/main?sslmode=verify-full")
	add("space", "connect postgres://app:", pw(5)+" "+pw(4), "@db:5432/main ok")
	add("single quote", "amqp://app:", pw(5)+"'"+pw(4), "@mq.internal:5672")
	add("double quote", "redis://app:", pw(5)+`"`+pw(4), "@cache:6379/0 done")
	add("slash and @", "mysql://app:", pw(4)+"/@"+pw(4), "@db:3306/main")
	add("at the end", "dsn=postgres://app:", pw(5)+"/"+pw(4), "@db")
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		"https://host/users/@me",
		"https://host:8080/users/@me and https://example.com:8080/@ann/posts",
		"https://host/a/bob@example.com/x and https://host:443/u/ann@example.com",
		"http://localhost:3000/u/a:b@c",
		"see https://example.com/a:b@c and ftp://host/x",
		"https://svc:ab/cd no at sign\nmail bob@example.com",
		"http://a:b/c http://d@e",
	})
}

// Keys that name a key by its use are secret, as attrs and in text:
// signing, encryption, master and HMAC keys, and passcodes; their ids and
// counts are not.
func TestKeyNamesOfKeys(t *testing.T) {
	r := New(Config{})
	v := redacttest.Gen(redacttest.AlnumChars, 20)
	for _, k := range []string{"signing_key", "encryption_key", "hmac_key", "master_key", "passcode", "SIGNING_KEY", "jwtSigningKey", "app.encryptionKey"} {
		assert.True(t, r.SecretKey(k), k)
		out, _ := r.Redact(k + "=" + v)
		assert.NotContains(t, out, v, k)
	}
	for _, k := range []string{"signing_key_id", "key_count", "master", "encryption"} {
		assert.False(t, r.SecretKey(k), k)
	}
}

// Audit: "sid", the short name of a session id (Express's connect.sid, a
// login line's sid=…), holds a credential in text as it does as an
// attribute key; ZooKeeper's server ids, process session ids, Windows
// security identifiers and Oracle SIDs, short names or numbers under the
// same key, are not, nor are words that only end in the letters.
func TestSessionIDInText(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	add := addPasswords(&cases, kind, 24)
	add("login line", "login ok sid=", " user=ann")
	add("two words, colon", "session sid: ", "")
	add("Express cookie name", "set connect.sid=", "; Path=/; HttpOnly")
	add("camelCase", "userSid=", " ok")
	add("capitals", "SID=", "&next=/home")
	add("quoted", "sid='", "'")
	add("spaced", "sid = ", "")
	add("JSON", `{"user":"ann","sid":"`, `"}`)
	add("JSON, spaced", `{"sid": "`, `"}`)
	add("Python dict", `{'sid': '`, `'}`)
	long := redacttest.Gen(redacttest.DigitChars, 20) // a numeric session id, too long for a process's
	cases = append(cases, redaction{"long digits", "sid=" + long + " ok", long, kind})
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		"INFO  [ProcessThread(sid:1 cport:-1)::PrepRequestProcessor@596] - Got user-level KeeperException",
		"LOOKING (n.state), 3 (n.sid), 0x7 (n.peerEPoch)",
		"setsid: pid=4242 sid=4242 pgid=4242",
		"logon sid=S-1-5-21-3623811015-3361044348-30300820-1013 user=ann",
		"(CONNECT_DATA=(SID=ORCL)(SERVER=DEDICATED))",
		"ssid=HomeNetwork5G bssid: 5c:50:15:aa:bb:cc SSID=OfficeNetwork",
		"ACTIVITY check resid: com.example.android.notepad",
		"inside=true consider: later residue=12345678abc",
		"sids=3 sid_count=12 sidebar: collapsed",
		`{"sid":1,"cport":-1}`, `{"sid":"ORCL"}`, `{"ssid":"HomeNetwork5G"}`,
	})
}

// Audit: a plural secret key before a number is a count ("tokens=200", a
// language model's usage line), and a key that asks a question of the
// secret before true or false is a flag ("has_password=true"); a secret
// key's own value stays secret whatever it holds ("password=123456" is a
// password), and so does anything else after those keys.
func TestCountsAndFlagsUnderSecretKeys(t *testing.T) {
	const kind = "secret-assignment"
	n := func(k int) string { return redacttest.Gen("123456789", 1) + redacttest.Gen(redacttest.DigitChars, k-1) }
	var cases []redaction
	add := func(name, before, v, after string) {
		cases = append(cases, redaction{name, before + v + after, v, kind})
	}
	add("digits under password", "password=", n(6), " ok")
	add("digits under token", "token=", n(6), " ok")
	add("digits under db_password", `{"db_password": "`, n(8), `"}`)
	add("true under password", "password=", "tr"+"ue", " ok")
	add("false under db_password", "db_password: ", "fal"+"se", "")
	add("plural, not a number", "tokens=", pw(16), " used")
	add("plural, a long number", "tokens=", n(12), " used")
	add("plural, leading zero", "passwords=", "0"+n(5), "")
	add("plural, number and more", "api_keys=", n(3)+"x", "")
	add("predicate, not a flag", "has_password=", pw(12), "")
	add("predicate, digits", "is_token=", n(6), "")
	add("predicate, yes", "has_password=", "ye"+"s", "")
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		"tokens=200 used",
		"completion tokens=4096 of 8192",
		`{"model":"m","tokens": 1048576}`,
		"passwords: 3 rotated, secrets=0 left",
		"api_keys=2 cookies=14 apiKeys=1",
		"has_password=true hasPassword=false HAS_PASSWORD=TRUE",
		"is_token_valid=false password_set=false",
		"uses_api_key=True requires_password: false user.has_secret=false",
		"has_tokens=true needs_token=false can_use_password=true",
		"max_tokens=4096 token_count=12",
	})
}

// Audit: code that stores a secret in an environment or a map indexed by
// its name: the index is the key ("os.environ[\"DB_PASSWORD\"] = …",
// Ruby's ENV[…], PHP's $_ENV[…], a shell's associative array), as a
// member's name already is ("process.env.API_TOKEN = …").
func TestIndexedAssignments(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	add := addPasswords(&cases, kind, 16)
	add("Python environ", `os.environ["DB_PASSWORD"] = "`, `"`)
	add("Python environ, single quotes", `os.environ['API_TOKEN']='`, `'`)
	add("Ruby ENV", `ENV["SECRET_KEY"] = "`, `"`)
	add("Node process.env", `process.env.API_TOKEN = "`, `";`)
	add("map", `config["password"] = "`, `"`)
	add("PHP $_ENV", `$_ENV['DB_PASSWORD'] = '`, `';`)
	add("shell associative array", "secrets[db_password]=", " ok")
	add("unquoted value", `settings["api_key"] = `, "\n")
	add("in a JSON string", `{"code":"os.environ[\"DB_PASSWORD\"] = \"`, `\""}`)
	add("Go map", `m["token"] = "`, `"`)
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		`os.environ["PATH"] = "/usr/bin"`,
		`os.environ["DB_PASSWORD_FILE"] = "/run/secrets/db"`,
		`config["password_policy"] = "strict"`,
		`if os.environ["DB_PASSWORD"] == "x":`,
		`counts["tokens"] = 5`,
		`flags["has_password"] = true`,
		`arr[0] = "x"; m[key] = "y"; x["a"]["b"] = "c"`,
		`matrix[i][j] = 0.5 and [token] = x`,
	})
}

// Audit: YAML gives a key its value on the next line, indented deeper than
// the key: a plain or quoted scalar ("password:\n  …"), or a block scalar
// after | or > ("password: |\n  …", whose text was left while the | was
// redacted). Only under a key that starts its line (after blanks, or a
// sequence's "- "): a message that ends with "password:" and the line after
// it are not YAML.
func TestYAMLValueOnNextLine(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	add := addPasswords(&cases, kind, 16)
	add("alone", "password:\n  ", "")
	add("before another key", "password:\n  ", "\nuser: ann")
	add("nested", "db:\n  password:\n    ", "\n  user: ann")
	add("CRLF", "password:\r\n  ", "\r\nuser: ann")
	add("quoted", "api_key:\n  \"", "\"\nuser: ann")
	add("blanks after the colon", "token:   \n    ", "\n")
	add("sequence item", "users:\n  - name: ann\n    password:\n      ", "\n")
	add("in a JSON string", `{"config":"db:\n  password:\n    `, `\n  user: ann"}`)
	add("block scalar", "password: |\n  ", "\nuser: ann")
	add("folded block scalar", "secret: >-\n    ", "\n")
	add("block scalar, escaped", `{"config":"password: |\n  `, `"}`)
	v1, v2 := pw(16), pw(16)
	block := v1 + "\n\n    " + v2
	cases = append(cases, redaction{"block scalar, lines", "db:\n  private_key: |+\n    " + block + "\n  user: ann", block, kind})
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		"Password:\nLogin incorrect",
		"ERROR invalid password:\n  at com.example.Auth.check(Auth.java:12)",
		"  password:\nuser: ann",
		"password_policy:\n  strict",
		"token:\n  type: bearer\n  ttl: 3600",
		"passwords:\n  # none yet\n",
		"password: |\nuser: ann",
		"password:\n\nuser: ann",
	})
}

// Audit: a command-line flag named as a secret takes its value as the next
// argument ("--password …", Go's "-token …"), in a command line or in an
// argument list printed as JSON or Python ("--token", "…"). Flags whose
// name only starts with a secret word (--password-file, --password-stdin)
// or that switch something on or off (--no-password, --ask-vault-pass,
// --with-token) take no secret, nor does a flag followed by another.
func TestFlagValueInNextArgument(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	add := addPasswords(&cases, kind, 16)
	add("docker login", "docker login --username ann --password ", " registry.example.com")
	add("token", "cli --token ", "")
	add("api-key", "run --api-key ", " --verbose")
	add("Go flag, one dash", "./server -password ", " -port 8080")
	add("qualified name", "deploy --db-password ", "\nnext line")
	add("client secret", "az login --service-principal --client-secret ", " --tenant t")
	add("tab", "cli --token\t", " x")
	add("double quotes", `cli --password "`, `" --user ann`)
	add("single quotes", "cli --password '", "' --user ann")
	add("JSON argv", `{"args":["login","--password","`, `","--user","ann"]}`)
	add("Python argv", `['cli', '--token', '`, `']`)
	add("Go argv", "args=[cli --api-key ", " --debug]")
	add("shell quoting", `exec "--password" "`, `" "--user" "ann"`)
	v1 := pw(8) + " " + pw(8)
	cases = append(cases, redaction{"quoted with a blank", `cli --password "` + v1 + `"`, v1, kind})
	checkRedactions(t, cases)
	checkUntouched(t, []string{
		"docker login --password-stdin registry.example.com",
		"postgres --password-file /run/secrets/db --user ann",
		"cli --password --verbose",
		"psql --no-password -h db mydb and psql --no-password mydb",
		"ansible-playbook --ask-vault-pass site.yml --ask-become-pass",
		"gh auth login --with-token < token.txt",
		"cli --token-type bearer --max-tokens 4096 --tokens 200",
		"cli --passwordless login --session 42",
		"pre-password reset, non-token value, a - password reset",
		"cli --pwd /home/ann --token",
		`{"args":["--password-file","/run/secrets/db"]}`,
		"cli --token | cat",
		"Flags:\n  -p, --password string   Password for the registry\n      --token value    the token",
		"usage: cli [-h] [--password PASSWORD] [--api-key API_KEY] [--client-secret SECRET]",
		"cli --password <password> or cli --token [TOKEN]",
		`exec "--password" "--verbose"`,
		"WARNING! Using --password via the CLI is insecure. Use --password-stdin.",
		"error: --token requires an argument; pass --token or set GH_TOKEN, the --api-key flag is deprecated",
	})
}

// addPasswords returns a function that appends to *cases a case of kind: a
// generated password of n bytes (pw) between before and after.
func addPasswords(cases *[]redaction, kind string, n int) func(name, before, after string) {
	return func(name, before, after string) {
		v := pw(n)
		*cases = append(*cases, redaction{name, before + v + after, v, kind})
	}
}

// checkTemplate fills each %s of tmpl with a generated password of n bytes,
// redacts the text, and checks that no password is left, that each stands
// replaced by the secret-assignment marker and nothing else changed, and
// that redacting again changes nothing. It returns the redacted text.
func checkTemplate(t *testing.T, tmpl string, n int) string {
	t.Helper()
	s := tmpl
	var secrets []string
	for strings.Contains(s, "%s") {
		v := pw(n)
		secrets = append(secrets, v)
		s = strings.Replace(s, "%s", v, 1)
	}
	out := redactString(s)
	for _, v := range secrets {
		assert.NotContains(t, out, v)
	}
	assert.Equal(t, strings.ReplaceAll(tmpl, "%s", "[REDACTED:secret-assignment]"), out)
	assert.Equal(t, out, redactString(out), "idempotent")
	return out
}
