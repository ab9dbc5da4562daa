package redact

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

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
	add := func(name, before, after string) {
		v := pw(16)
		cases = append(cases, redaction{name, before + v + after, v, kind})
	}
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
	add := func(name, before, after string) {
		v := pw(16)
		cases = append(cases, redaction{name, before + v + after, v, kind})
	}
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
	add := func(name, before, after string) {
		v := pw(16)
		cases = append(cases, redaction{name, before + v + after, v, kind})
	}
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
