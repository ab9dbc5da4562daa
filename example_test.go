package logging_test

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/codomyrmex/logging"
)

func ExampleSetup() {
	// Options win over CODOMYRMEX_LOG_* variables. The console is stdout here
	// and the time is left out of the format, so that the output is stable.
	err := logging.Setup(
		logging.WithConsole(os.Stdout),
		logging.WithFormat("%(name)s %(levelname)-8s %(message)s"),
	)
	if err != nil {
		slog.Error("logging setup", "err", err) // the chain works anyway
	}
	defer logging.Close()

	log := logging.Logger("billing")
	log.Info("invoice sent", "id", 1042, "password", "hunter2")
	log.Warn("retry", "user", "bob\nINFO forged")
	// Output:
	// billing INFO     invoice sent id=1042 password=[REDACTED]
	// billing WARNING  retry user="bob\\nINFO forged"
}

func ExampleLogger() {
	// A logger made before Setup (at package level, say) follows Setup.
	db := logging.Logger("db.pool")

	_ = logging.Setup(
		logging.WithConsole(os.Stdout),
		logging.WithFormat("%(name)s %(levelname)s %(message)s"),
		logging.WithLevels("INFO,db=DEBUG"), // db and db.* log DEBUG too
	)
	defer logging.Close()

	db.Debug("conn opened", "conns", 3)
	logging.Logger("api").Debug("not shown: api is at INFO")
	db.With("pool", "main").WithGroup("stats").Info("size", "idle", 2)
	// Output:
	// db.pool DEBUG conn opened conns=3
	// db.pool INFO size pool=main stats.idle=2
}

func ExampleWrap() {
	// Keep your own handler; put the secure stages in front of it.
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	log := slog.New(logging.Wrap(h))
	log.Info("connect", "dsn", "postgres://app:"+"s3cret"+"@db:5432/main", "note", "line1\nline2")
	// Output:
	// level=INFO msg=connect dsn=postgres://app:[REDACTED:url-credentials]@db:5432/main note=line1\nline2
}

func ExampleRedact() {
	key := "AKIA" + "QYLPMN5HXZ7RBW2E" // built from parts, as tests do
	os.Stdout.WriteString(logging.Redact("key id "+key+" in use") + "\n")
	// Output: key id [REDACTED:aws-access-key-id] in use
}

func ExampleSanitize() {
	os.Stdout.WriteString(logging.Sanitize("ok\r\nINFO forged \x1b[31mred\u202e") + "\n")
	// Output: ok\r\nINFO forged \x1b[31mred\u202e
}

func ExampleSecret() {
	type login struct {
		User     string
		Password logging.Secret
	}
	log := slog.New(logging.Wrap(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	log.Info("login", "req", login{User: "ann", Password: logging.Secret("hunter2")})
	// Output: {"level":"INFO","msg":"login","req":{"User":"ann","Password":"[REDACTED]"}}
}

func ExampleFlush() {
	dir, _ := os.MkdirTemp("", "flush-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.log")
	_ = logging.Setup(logging.WithConsole(nil), logging.WithFile(path),
		logging.WithFormat("%(levelname)s %(message)s"))
	defer logging.Close()

	log := logging.Logger("app")
	log.Info("written behind the caller")
	logging.Flush() // now it is in the file, as before os.Exit
	data, _ := os.ReadFile(path)
	os.Stdout.Write(data)
	// Output: INFO written behind the caller
}
