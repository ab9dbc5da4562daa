package redact

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// Recall: a YAML mapping or sequence under a secret key is redacted the way
// a JSON object under one is: the value of each inner key and each item,
// one by one, while the inner keys, the dashes, the indentation and the
// comments stay; it ends at the first line indented no deeper than the
// key. An inner key that describes the secret (type, ttl, policy, name…)
// keeps its value, as the flat key "token.type" is no secret; so do the
// counts under a plural key.
func TestYAMLCollectionUnderSecretKey(t *testing.T) {
	const marker = "[REDACTED:secret-assignment]"
	for _, tc := range []struct{ name, tmpl string }{
		{"mapping", "password:\n  primary: %s\n  backup: %s\n"},
		{"mapping, then a key", "password:\n  primary: %s\n  backup: %s\nuser: ann\nprimary: ann\n"},
		{"sequence", "api_keys:\n  - %s\n  - %s\n"},
		{"sequence, then a key", "api_keys:\n  - %s\n  - %s\nuser: ann"},
		{"nested", "db:\n  credentials:\n    primary: %s\n    old:\n      - %s\n  host: db.internal\n"},
		{"quoted", "password:\n  primary: \"%s\"\n  backup: '%s'\n"},
		{"quoted inner keys", "secret:\n  \"primary\": %s\n  'backup': \"%s\"\n"},
		{"comments", "password:\n  # rotated monthly\n  primary: %s  # current\n  backup: %s\n"},
		{"CRLF", "api_keys:\r\n  - %s\r\n  - %s\r\nuser: ann\r\n"},
		{"blank lines", "password:\n  primary: %s\n\n  backup: %s\nuser: ann"},
		{"sequence of mappings", "credentials:\n  - name: db\n    value: %s\n  - name: cache\n    value: %s\n"},
		{"sequence of sequences", "tokens:\n  - - %s\n    - %s\n"},
		{"under an item", "users:\n  - password:\n      primary: %s\n    user: ann\n"},
		{"two words", "api key:\n  primary: %s\n"},
		{"descriptors stay", "token:\n  type: bearer\n  value: %s\n  ttl: 3600\n  expires_at: 2026-01-01\n"},
		{"tab after the colon", "password:\n  primary:\t%s\n"},
		{"after a describing key's collection", "token:\n  scopes:\n    - read\n    - write\n  value: %s\n"},
		{"in a JSON string", `{"config":"password:\n  primary: %s\n  backup: \"%s\"\nuser: ann","n":1}`},
		{"in a JSON string, sequence", `{"config":"api_keys:\n  - %s\n  - %s"}`},
	} {
		t.Run(tc.name, func(t *testing.T) { checkTemplate(t, tc.tmpl, 16) })
	}

	// A block scalar under an inner key: its text, whole.
	v1, v2, v3 := pw(16), pw(16), pw(16)
	assert.Equal(t, "private_key:\n  current: |\n    "+marker+"\n  old: "+marker+"\nuser: ann",
		redactString("private_key:\n  current: |\n    "+v1+"\n    "+v2+"\n  old: "+v3+"\nuser: ann"))
	assert.Equal(t, "password:\n  primary: |\n  backup: "+marker+"\n", redactString("password:\n  primary: |\n  backup: "+v1+"\n"))
	assert.Equal(t, "token:\n  description: >\n    rotated by the deploy job\n  value: "+marker+"\n",
		redactString("token:\n  description: >\n    rotated by the deploy job\n  value: "+v2+"\n"))

	// A backslash and an n in raw YAML (a Windows path) end no line.
	w := pw(6) + `\n` + pw(6)
	assert.Equal(t, "password:\n  primary: "+marker+"\n  backup: "+marker+"\n",
		redactString("password:\n  primary: "+w+"\n  backup: "+v3+"\n"))

	checkUntouched(t, []string{
		"token:\n  type: bearer\n  ttl: 3600",
		"password:\n  policy: strict\n  min_length: 12\n  expires: 90d\n",
		"token:\n  secret_name: db-credentials\n  key_id: k1\n  scopes:\n    - read\n",
		"tokens:\n  prompt: 12\n  completion: 30\n",
		"password:\n  has_hint: true\n  rotation:\n    enabled: false\n",
		"token:\n  value: 0x34ed9ac1c1e00ae\n",
		"password:\n  primary: os.environ[\"DB_PASSWORD\"]\n  backup: process.env.DB_PASSWORD_OLD\n",
		"password_policy:\n  min: 12\n  rules:\n    - upper\n",
		"ERROR invalid password:\n  - at com.example.Auth.check(Auth.java:12)",
		"  password:\nuser:\n  - ann\n  - bob",
		"password:\n  # none yet\n\nuser: ann",
		"password:\n  -\n  - # none\n",
		"password:\n  primary:\n  backup:\n",
	})
}

// Recall: a source file's name before ':' and a line number is not a key,
// whatever words it holds: a test failure ("password_test.go:42: got …"),
// a compiler's error, a stack frame. A key before ':' and digits with no
// such extension stays a key.
func TestSourceFileIsNoKey(t *testing.T) {
	const kind = "secret-assignment"
	digits := func() string { return redacttest.Gen("123456789", 1) + redacttest.Gen(redacttest.DigitChars, 7) }
	var cases []redaction
	add := func(name, before, v, after string) {
		cases = append(cases, redaction{name, before + v + after, v, kind})
	}
	add("digits after password:", "login password:", digits(), " ok")
	add("digits after a dotted key", "db.password:", digits(), "")
	add("an extension that is no source file's", "secret.key:", digits(), " done")
	add("a suffix that is no extension", "password.hash:", digits(), "")
	add("a file's name before a value that is no line", "password_test.go:", pw(12), " x")
	add("a file's name before a value that starts with digits", "password_test.go:", digits()+pw(6), " x")
	add("a file's name and a blank", "token.go: ", digits(), "")
	checkRedactions(t, cases)
	var untouched []string
	for _, ext := range []string{"go", "py", "js", "ts", "java", "rb", "c", "h", "cpp", "rs", "kt", "swift", "php", "cs", "scala", "GO"} {
		for _, name := range []string{"password_test", "token", "api_key", "secret", "db_password.util", "internal/auth/session_token"} {
			untouched = append(untouched, "    "+name+"."+ext+":"+redacttest.Gen("123456789", 1)+redacttest.Gen(redacttest.DigitChars, 2)+": got 1, want 2")
		}
	}
	untouched = append(untouched,
		"--- FAIL: TestLogin (0.00s)\n    password_test.go:42: got false, want true",
		"./internal/auth/token.go:17:2: undefined: parse",
		"src/secret.rs:12:5: error[E0425]: cannot find value",
		"    at Object.<anonymous> (/app/lib/password.js:42:7)",
		"api_key.ts:3:14 - error TS2304: Cannot find name",
		"password.c:42:5: warning: unused variable",
		"token_store.cpp:88: assertion failed",
	)
	checkUntouched(t, untouched)
}

// Recall: a value that looks the secret up in the environment by its name
// (password = os.environ["DB_PASSWORD"]) names where the secret is: it is
// left whole, where its first word was redacted and the name kept. A
// literal value, a literal default after the name, and a value that only
// starts like a lookup are still redacted.
func TestEnvLookupIsNoSecret(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	add := addPasswords(&cases, kind, 16)
	add("literal", `password = "`, `"`)
	add("literal, single quotes", `api_key = '`, `'`)
	add("bare", "password = ", "\n")
	add("default after the name", `password = os.environ.get("DB_PASSWORD", "`, `")`)
	add("default after the name, Laravel", `'password' => env('DB_PASSWORD', '`, `'),`)
	v1, v2 := "process.environ"+pw(12), "getenv"+pw(12)
	cases = append(cases,
		redaction{"a longer word", "password = " + v1, v1, kind},
		redaction{"no bracket", "token: " + v2 + " ok", v2, kind})
	add("assigned to the lookup", `os.environ["DB_PASSWORD"] = "`, `"`)
	checkRedactions(t, cases)

	var untouched []string
	for _, lookup := range []string{
		`os.environ["DB_PASSWORD"]`, `os.environ['API_TOKEN']`, `os.environ.get("DB_PASSWORD")`, `os.getenv("SECRET_KEY")`,
		`os.Getenv("DB_PASSWORD")`, `ENV['DB_PASSWORD']`, `ENV.fetch("API_TOKEN")`, `process.env.DB_PASSWORD`,
		`process.env["API_TOKEN"]`, `System.getenv("DB_PASSWORD")`, `Environment.GetEnvironmentVariable("API_KEY")`,
		`getenv("DB_PASSWORD")`, `env('DB_PASSWORD')`, `$_ENV['DB_PASSWORD']`, `$ENV{DB_PASSWORD}`, `std::env::var("API_TOKEN")`,
		`import.meta.env.VITE_API_KEY`, `Deno.env.get("API_TOKEN")`,
	} {
		for _, form := range []string{"password = %s", "password=%s", "api_key: %s", `"token": %s,`, "val password: String = %s", "$password = %s;"} {
			untouched = append(untouched, strings.Replace(form, "%s", lookup, 1))
		}
	}
	untouched = append(untouched,
		`db = connect(password=os.environ["DB_PASSWORD"], user="ann")`,
		`{"code":"password = os.environ[\"DB_PASSWORD\"]"}`,
		"const config = { apiKey: process.env.API_KEY, secret: process.env.APP_SECRET };",
	)
	checkUntouched(t, untouched)
}

// Recall: Java's keytool and jarsigner take a keystore's or a key's
// password in the argument after -storepass, -keypass and their src and
// dest forms (one dash, one word); their :env and :file forms name a
// variable or a file, which stays.
func TestKeytoolPasswordFlags(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	add := addPasswords(&cases, kind, 16)
	for _, flag := range []string{"storepass", "keypass", "srcstorepass", "deststorepass", "srckeypass", "destkeypass"} {
		add(flag, "keytool -importkeystore -srckeystore a.p12 -"+flag+" ", " -noprompt")
		add(flag+" at the end", "jarsigner app.jar alias -"+flag+" ", "")
	}
	add("keytool -list", "keytool -list -keystore server.jks -storepass ", " -v")
	add("quoted", `keytool -genkeypair -alias app -storepass "`, `" -dname "CN=app"`)
	add("single quotes", "keytool -storepass '", "' -list")
	add("tab", "keytool -list -storepass	", "	-v")
	add("JSON argv", `{"argv":["keytool","-list","-storepass","`, `","-keystore","ks.jks"]}`)
	add("capitals", "KEYTOOL -LIST -STOREPASS ", " -V")
	checkRedactions(t, cases)
	sp, kp := pw(12), pw(12)
	assert.Equal(t, "jarsigner -keystore ks.jks -storepass [REDACTED:secret-assignment] -keypass [REDACTED:secret-assignment] app.jar signer",
		redactString("jarsigner -keystore ks.jks -storepass "+sp+" -keypass "+kp+" app.jar signer"))
	checkUntouched(t, []string{
		"keytool -list -storepass:env STOREPASS -keystore server.jks",
		"keytool -importkeystore -srcstorepass:file /run/secrets/src -deststorepass:env DEST_PASS -noprompt",
		"jarsigner -keystore ks.jks -storepass:env KS_PASS -keypass:file /run/secrets/key app.jar signer",
		"keytool -storepasswd -keystore server.jks",
		"keytool -list -storepass -v",
		"keytool -list -storepass <arg>   keystore password",
		"the storepass and the keypass were rotated",
		"keytool -list -keystore server.jks -storetype PKCS12 -keyalg RSA",
	})
}

// Recall: the --password of PostgreSQL's client programs takes no value (it
// makes the program ask for the password), so that the argument after it,
// a database's name, stays when one of them precedes the flag in the same
// command. --password after any other program, or in another command of
// the line, still takes its value.
func TestPostgresPasswordSwitch(t *testing.T) {
	const kind = "secret-assignment"
	var cases []redaction
	add := addPasswords(&cases, kind, 16)
	add("another program", "docker login -u ann --password ", " registry.example.com")
	add("a name that only starts with psql", "psql_wrapper --password ", "")
	add("a name that only ends with psql", "mypsql --password ", "")
	add("the next line", "psql -d app -c 'select 1'\ncli --password ", "")
	add("the next line, written out", `{"log":"psql -d app\ncli --password `, `"}`)
	add("after a pipe", "pg_dump app | cli --password ", " x")
	add("after ;", "createdb app; cli --password ", "")
	add("after &&", "dropdb app && cli --password ", "")
	add("another flag", "psql --db-password ", " app")
	add("one dash", "psql -password ", " app")
	add("PGPASSWORD", "PGPASSWORD=", " psql -h db --password appdb")
	checkRedactions(t, cases)

	// A program's name that is itself a redacted value names no command:
	// redacted again, the text would lose it and the argument after
	// --password with it (checkRedactions requires the output to be
	// idempotent, so that the flag's value must go the first time).
	const marker = "[REDACTED:secret-assignment]"
	for _, tmpl := range []string{
		"password: psql --password %s",
		"token=psql --password %s",
		"cli --token psql --password %s",
		`{"password":"psql"} --password %s`,
	} {
		v := pw(16)
		want := strings.ReplaceAll(strings.ReplaceAll(tmpl, "psql", marker), "%s", marker)
		got := redactString(strings.Replace(tmpl, "%s", v, 1))
		assert.Equal(t, want, got, tmpl)
		assert.Equal(t, got, redactString(got), "idempotent")
	}

	var untouched []string
	for _, cmd := range []string{"psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_basebackup", "createdb", "dropdb", "createuser", "dropuser", "vacuumdb", "reindexdb", "clusterdb"} {
		untouched = append(untouched,
			cmd+" --password appdb",
			cmd+" -h db.internal -p 5432 -U app --password appdb",
			"sudo -u postgres /usr/lib/postgresql/16/bin/"+cmd+" --password postgres",
			`{"cmd":"`+cmd+` -U app --password appdb","exit":0}`,
			`["`+cmd+`", "-U", "app", "--password", "appdb"]`,
		)
	}
	untouched = append(untouched,
		"PSQL.EXE --password appdb",
		"psql -W appdb and psql --password -d appdb",
		"psql 'sslmode=require' --password appdb",
	)
	checkUntouched(t, untouched)
}

// The triggers that the recall fixes taught findAssignments and
// findFlagValues, repeated as TestAssignSyntaxesAreLinear repeats its own:
// each costs O(len(s)) bytes examined however many times it repeats.
func TestRecallSyntaxesAreLinear(t *testing.T) {
	r := New(Config{})
	r.work = new(atomic.Int64)
	units := []string{
		// A YAML mapping or sequence under a secret key.
		"password:\n  a: x\n", "password:\n  - x\n", "api_keys:\n  - ", "password:\n  a: |\n    x\n", "password:\n  type: x\n",
		"password:\n  a:\n    b: x\n", "password:\n  # c\n  - x\n", "password:\n  ", "  - - x\n", "password:\n  a: |\n",
		"password:\n  - a: |\n      x", "- a: ", "a: |\n", "password:\n  \"a\": x\n", "password:\n  a: \"", "password:\r\n  a: x\r\n",
		"password:\n\n  a: x\n", "password:\n  a: x # c\n", "password:\n  a: 'x\n", "password:\n  a", ":\n  a: ", "password:\n   a: ",
		"password:\n  a: 1\n", "tokens:\n  - 1\n", "token:\n  a: 0x1\n", "password:\n  a: os.environ[", " password:\n  a: x\n",
		`password:\n  a: x\n`, `{"c":"password:\n  a: \"x\"\n`, `password:\n  a: |\n    x"`, `password:\n  - `, `\"a\": `,
		// A source file's name before its line number.
		"password_test.go:42: ", "token.go:1", "password.go:", ".go:1", "x.go:1:", "password.javascript:1 ",
		// A lookup in the environment.
		`password = os.environ["`, `password=os.environ["A"]`, `token: process.env.`, `password = os.environ.get("A", "`,
		`password=getenv(`, `password=env(`, `password=env`, "password=process.env.password=", `password=os.environ[\"`, `password=$ENV{`,
		// keytool's and jarsigner's password options.
		"-storepass ", "-storepass x ", "-keypass ", " -srcstorepass x", "-deststorepass:env X ", "-storepass:file ", `"-storepass","`,
		"-storepass -keypass ", "-storepasswd ", "storepass ",
		// PostgreSQL's --password switch.
		"psql --password ", "psql ", "psql --password x ", " --password x", "psql;", "psql |", "psql &&", "psql\n", "p", "psq",
		"pg_dump", "pg_dumpall --password ", `["psql","--password","`, "--password psql ", "psql_x --password ",
		"password: psql --password x ", "token=psql --password ", "--token psql --password x ", "password=psql ",
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
