package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runSlogtest runs testing/slogtest on a handler writing JSON lines to buf.
func runSlogtest(t *testing.T, buf *syncBuffer, newHandler func(t *testing.T) slog.Handler) {
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		buf.Reset()
		return newHandler(t)
	}, func(t *testing.T) map[string]any {
		ls := jsonLines(t, buf.String())
		require.Len(t, ls, 1)
		return ls[0]
	})
}

func TestSlogtestLoggerHandler(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	runSlogtest(t, buf, func(*testing.T) slog.Handler { return Logger("slogtest").Handler() })
}

func TestSlogtestWrap(t *testing.T) {
	buf := &syncBuffer{}
	runSlogtest(t, buf, func(*testing.T) slog.Handler { return Wrap(slog.NewJSONHandler(buf, nil)) })
}

func TestSlogtestStagesAlone(t *testing.T) {
	buf := &syncBuffer{}
	t.Run("redactor", func(t *testing.T) {
		runSlogtest(t, buf, func(*testing.T) slog.Handler { return NewRedactingHandler(slog.NewJSONHandler(buf, nil)) })
	})
	t.Run("sanitizer", func(t *testing.T) {
		runSlogtest(t, buf, func(*testing.T) slog.Handler { return NewSanitizingHandler(slog.NewJSONHandler(buf, nil)) })
	})
}

func TestSlogtestCodomyrmexSchema(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON), WithJSONSchema(SchemaCodomyrmex))
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return Logger("slogtest").Handler()
	}, func(t *testing.T) map[string]any {
		ls := jsonLines(t, buf.String())
		require.Len(t, ls, 1)
		m := ls[0]
		// Map the Python module's names back to slog's for the checker.
		for from, to := range map[string]string{"timestamp": slog.TimeKey, "message": slog.MessageKey} {
			if v, ok := m[from]; ok {
				m[to] = v
				delete(m, from)
			}
		}
		for _, k := range []string{"name", "module", "function", "line"} {
			delete(m, k)
		}
		return m
	})
}

func TestJSONKeys(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("billing").Info("hello", "n", 3, slog.Group("g", "a", "b"))
	m := lastJSON(t, buf)
	assert.Equal(t, "INFO", m["level"])
	assert.Equal(t, "billing", m["logger"])
	assert.Equal(t, "hello", m["msg"])
	assert.Equal(t, float64(3), m["n"])
	assert.Equal(t, map[string]any{"a": "b"}, m["g"])
	ts, err := time.Parse(time.RFC3339Nano, m["time"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), ts, time.Minute)
	assert.Contains(t, m["time"], ".", "time has fractions")
	// Order: time, level, logger, msg, then attrs.
	line := buf.Lines()[0]
	assert.Regexp(t, `^\{"time":"[^"]+","level":"INFO","logger":"billing","msg":"hello","n":3,"g":\{"a":"b"\}\}$`, line)
}

func TestCodomyrmexSchemaKeys(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON), WithJSONSchema(SchemaCodomyrmex))
	Logger("svc").Warn("disk low", "correlation_id", "cid-0123456789ab", "free", 3)
	m := lastJSON(t, buf)
	for _, k := range []string{"timestamp", "level", "name", "message", "module", "function", "line", "correlation_id", "free"} {
		assert.Contains(t, m, k)
	}
	assert.Equal(t, "WARNING", m["level"])
	assert.Equal(t, "svc", m["name"])
	assert.Equal(t, "logging_test", m["module"])
	assert.Equal(t, "TestCodomyrmexSchemaKeys", m["function"])
	assert.True(t, strings.HasSuffix(m["timestamp"].(string), "Z"), "UTC timestamp: %v", m["timestamp"])
}

func TestTextDefaultFormat(t *testing.T) {
	buf := setup(t)
	Logger("billing").Info("invoice sent", "id", 7, "who", "a b")
	line := buf.Lines()[0]
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - billing - INFO - invoice sent id=7 who="a b"$`, line)
}

func TestPythonFormat(t *testing.T) {
	cases := []struct {
		format string
		want   string // regexp for the line
	}{
		{"%(levelname)-8s|%(name)s|%(message)s", `^INFO    \|fmt\|hi k=v$`},
		{"%(levelname)8s|%(message)s", `^    INFO\|hi k=v$`},
		{"100%% %(levelname).3s %(message)s", `^100% INF hi k=v$`},
		{"[%(levelno)d] %(message)s", `^\[20\] hi k=v$`},
		{"%(lineno)05d %(message)s", `^\d{5} hi k=v$`},
		{"%(filename)s:%(lineno)d %(funcName)s %(module)s %(message)s", `^logging_test\.go:\d+ TestPythonFormat\.func1 logging_test hi k=v$`},
		{"%(pathname)s %(message)s", `^/.*logging_test\.go hi k=v$`},
		{"%(process)d %(message)s", fmt.Sprintf(`^%d hi k=v$`, os.Getpid())},
		{"%(created)f %(msecs)03d %(message)s", `^\d+\.\d{6} \d{3} hi k=v$`},
		{"%(isotime)s %(message)s", `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) hi k=v$`},
		{"DETAILED", `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) - fmt - INFO - logging_test:TestPythonFormat\.func1:\d+ - hi k=v$`},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			buf := setup(t, WithFormat(c.format))
			Logger("fmt").Info("hi", "k", "v")
			assert.Regexp(t, c.want, buf.Lines()[0])
		})
	}
}

func TestFormatWithoutMessageKeepsAttrs(t *testing.T) {
	buf := setup(t, WithFormat("[%(levelname)s]"))
	Logger("x").Info("ignored by the format", "k", "v")
	assert.Equal(t, []string{"[INFO] k=v"}, buf.Lines())
}

func TestPythonFormatErrors(t *testing.T) {
	for _, f := range []string{"%(nope)s", "%(message)", "%(message)q", "%(name)d", "50% done %(message)s", "%(message", "%(threadName)s"} {
		_, err := parsePyFormat(f)
		assert.Error(t, err, f)
	}
}

func TestLevelNames(t *testing.T) {
	buf := setup(t, WithLevel(slog.LevelDebug), WithFormat("%(levelname)s"))
	l := Logger("lv")
	l.Debug("x")
	l.Info("x")
	l.Warn("x")
	l.Error("x")
	Critical(context.Background(), l, "x")
	l.Log(context.Background(), slog.LevelInfo+2, "x")
	assert.Equal(t, []string{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "INFO+2"}, buf.Lines())

	buf = setup(t, WithOutputType(OutputJSON))
	l.Log(context.Background(), LevelCritical, "boom")
	assert.Equal(t, "CRITICAL", lastJSON(t, buf)["level"])
}

func TestLoggerBeforeSetupFollowsSetup(t *testing.T) {
	early := Logger("early").With("a", 1).WithGroup("g")
	first := setup(t, WithOutputType(OutputJSON))
	early.Info("one", "b", 2)
	second := setup(t, WithOutputType(OutputJSON))
	early.Info("two", "b", 3)
	m1, m2 := lastJSON(t, first), lastJSON(t, second)
	assert.Equal(t, "one", m1["msg"])
	assert.Equal(t, "two", m2["msg"])
	assert.Equal(t, float64(1), m2["a"])
	assert.Equal(t, map[string]any{"b": float64(3)}, m2["g"])
	assert.Len(t, first.Lines(), 1, "the first chain got no record after the second Setup")
}

func TestPerLoggerLevels(t *testing.T) {
	buf := setup(t, WithLevels("WARNING,db=DEBUG,db.pool=ERROR,http.client=error"), WithFormat("%(name)s %(levelname)s"))
	for _, name := range []string{"app", "db", "db.query", "db.pool", "db.pool.conn", "http", "http.client", "dbx"} {
		l := Logger(name)
		l.Debug("")
		l.Info("")
		l.Warn("")
		l.Error("")
	}
	assert.Equal(t, []string{
		"app WARNING", "app ERROR",
		"db DEBUG", "db INFO", "db WARNING", "db ERROR",
		"db.query DEBUG", "db.query INFO", "db.query WARNING", "db.query ERROR",
		"db.pool ERROR", "db.pool.conn ERROR",
		"http WARNING", "http ERROR", "http.client ERROR",
		"dbx WARNING", "dbx ERROR",
	}, buf.Lines())
}

func TestEnvVariables(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		env   map[string]string
		check func(t *testing.T, c *config)
	}{
		{map[string]string{"LEVEL": "debug"}, func(t *testing.T, c *config) { assert.Equal(t, slog.LevelDebug, c.levels.def) }},
		{map[string]string{"LEVEL": "WARN"}, func(t *testing.T, c *config) { assert.Equal(t, slog.LevelWarn, c.levels.def) }},
		{map[string]string{"LEVEL": "Warning"}, func(t *testing.T, c *config) { assert.Equal(t, slog.LevelWarn, c.levels.def) }},
		{map[string]string{"LEVEL": "critical"}, func(t *testing.T, c *config) { assert.Equal(t, LevelCritical, c.levels.def) }},
		{map[string]string{"LEVEL": "INFO,db=DEBUG"}, func(t *testing.T, c *config) {
			assert.Equal(t, slog.LevelDebug, c.levels.forLogger("db.x"))
		}},
		{map[string]string{"OUTPUT_TYPE": "json"}, func(t *testing.T, c *config) { assert.Equal(t, OutputJSON, c.output) }},
		{map[string]string{"OUTPUT_TYPE": "Text"}, func(t *testing.T, c *config) { assert.Equal(t, OutputText, c.output) }},
		{map[string]string{"FORMAT": "%(message)s"}, func(t *testing.T, c *config) {
			want, _ := parsePyFormat("%(message)s")
			assert.Equal(t, want, c.py)
		}},
		{map[string]string{"FORMAT": "detailed"}, func(t *testing.T, c *config) { assert.True(t, c.py.needsSource) }},
		{map[string]string{"JSON_SCHEMA": "Codomyrmex"}, func(t *testing.T, c *config) { assert.Equal(t, SchemaCodomyrmex, c.schema) }},
		{map[string]string{"CONSOLE": "stdout"}, func(t *testing.T, c *config) { assert.Equal(t, os.Stdout, c.console) }},
		{map[string]string{"CONSOLE": "NONE"}, func(t *testing.T, c *config) { assert.Nil(t, c.console) }},
		{map[string]string{"FILE": filepath.Join(dir, "a.log")}, func(t *testing.T, c *config) { assert.Equal(t, filepath.Join(dir, "a.log"), c.file) }},
		{map[string]string{"ADD_SOURCE": "yes"}, func(t *testing.T, c *config) { assert.True(t, c.addSource) }},
		{map[string]string{"ADD_SOURCE": "OFF"}, func(t *testing.T, c *config) { assert.False(t, c.addSource) }},
		{map[string]string{"MAX_VALUE_BYTES": "0"}, func(t *testing.T, c *config) { assert.Equal(t, 0, c.maxValueBytes) }},
		{map[string]string{"REDACT": "false"}, func(t *testing.T, c *config) { assert.False(t, c.redact) }},
		{map[string]string{"REDACT_KEYS": "pin_code, tenant_key"}, func(t *testing.T, c *config) {
			assert.Equal(t, []string{"pin_code", "tenant_key"}, c.redactKeys)
		}},
		{map[string]string{"REDACT_PATTERNS": `acct-\d+;;ref-[a-z]+`}, func(t *testing.T, c *config) { assert.Len(t, c.redactPatterns, 2) }},
		{map[string]string{"MAX_SIZE_MB": "5", "MAX_BACKUPS": "2", "MAX_AGE_DAYS": "0", "COMPRESS": "0", "LOCAL_TIME": "1"}, func(t *testing.T, c *config) {
			assert.Equal(t, Rotation{MaxSizeMB: 5, MaxBackups: 2, MaxAgeDays: 0, Compress: false, LocalTime: true}, c.rotation)
		}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.env), func(t *testing.T) {
			c := newConfig()
			var env []string
			for k, v := range tc.env {
				env = append(env, EnvPrefix+k+"="+v)
			}
			require.Empty(t, c.fromEnv(env))
			tc.check(t, c)
		})
	}
}

func TestEnvBadValues(t *testing.T) {
	bad := map[string]string{
		"LEVEL":           "verbose",
		"OUTPUT_TYPE":     "xml",
		"FORMAT":          "%(bogus)s",
		"JSON_SCHEMA":     "ecs",
		"CONSOLE":         "tty",
		"ADD_SOURCE":      "maybe",
		"MAX_VALUE_BYTES": "-1",
		"REDACT":          "nah",
		"REDACT_PATTERNS": "(unclosed",
		"MAX_SIZE_MB":     "0",
		"MAX_BACKUPS":     "many",
		"MAX_AGE_DAYS":    "-3",
		"COMPRESS":        "2",
		"LOCAL_TIME":      "",
	}
	for name, value := range bad {
		t.Run(name, func(t *testing.T) {
			t.Setenv(EnvPrefix+name, value)
			buf := &syncBuffer{}
			err := Setup(WithConsole(buf), WithOutputType(OutputJSON))
			t.Cleanup(func() { _ = Close() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), EnvPrefix+name)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", value))
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			// Logging still works on the defaults.
			Logger("after").Info("still logging")
			m := lastJSON(t, buf)
			assert.Equal(t, "still logging", m["msg"])
		})
	}
	t.Run("level message", func(t *testing.T) {
		t.Setenv(EnvPrefix+"LEVEL", "verbose")
		err := Setup(WithConsole(&syncBuffer{}))
		t.Cleanup(func() { _ = Close() })
		ps := Problems(err)
		require.Len(t, ps, 1)
		assert.EqualError(t, ps[0], `CODOMYRMEX_LOG_LEVEL="verbose": want one of DEBUG, INFO, WARNING, ERROR, CRITICAL`)
		assert.EqualError(t, err, `logging: 1 configuration problem: CODOMYRMEX_LOG_LEVEL="verbose": want one of DEBUG, INFO, WARNING, ERROR, CRITICAL`)
	})
	t.Run("several problems, one per record", func(t *testing.T) {
		t.Setenv(EnvPrefix+"LEVEL", "verbose")
		t.Setenv(EnvPrefix+"OUTPUT_TYPE", "xml")
		t.Setenv(EnvPrefix+"LEVL", "DEBUG")
		buf := &syncBuffer{}
		err := Setup(WithConsole(buf))
		t.Cleanup(func() { _ = Close() })
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "\n", "one line")
		for _, p := range Problems(err) {
			Logger("app").Error("logging configuration", "problem", p)
		}
		lines := buf.Lines()
		require.Len(t, lines, 3, "one record per problem")
		assert.Contains(t, buf.String(), "did you mean CODOMYRMEX_LOG_LEVEL?")
		var ce *ConfigError
		assert.ErrorAs(t, err, &ce)
		plain := errors.New("x")
		assert.Equal(t, []error{plain}, Problems(plain))
		assert.Nil(t, Problems(nil))
	})
	t.Run("empty logger name", func(t *testing.T) {
		t.Setenv(EnvPrefix+"LEVEL", "INFO,=DEBUG")
		err := Setup(WithConsole(&syncBuffer{}))
		t.Cleanup(func() { _ = Close() })
		assert.ErrorContains(t, err, "empty logger name")
	})
	t.Run("every problem listed", func(t *testing.T) {
		t.Setenv(EnvPrefix+"LEVEL", "loud")
		t.Setenv(EnvPrefix+"OUTPUT_TYPE", "yaml")
		err := Setup(WithConsole(&syncBuffer{}), WithFormat("%(x)s"))
		t.Cleanup(func() { _ = Close() })
		require.Error(t, err)
		for _, s := range []string{"CODOMYRMEX_LOG_LEVEL", "CODOMYRMEX_LOG_OUTPUT_TYPE", "WithFormat"} {
			assert.Contains(t, err.Error(), s)
		}
	})
	t.Run("valid settings kept", func(t *testing.T) {
		t.Setenv(EnvPrefix+"LEVEL", "loud")
		t.Setenv(EnvPrefix+"OUTPUT_TYPE", "json")
		buf := &syncBuffer{}
		require.Error(t, Setup(WithConsole(buf)))
		t.Cleanup(func() { _ = Close() })
		Logger("x").Info("json still")
		assert.Equal(t, "json still", lastJSON(t, buf)["msg"])
	})
}

// The operator has the last word: the variables override the options the
// program passes to Setup, and Setup says so, one line per variable;
// except options the program pins with Fixed, which no variable changes
// (and Setup says that the variable is ignored).
func TestOperatorVariablesWin(t *testing.T) {
	t.Setenv(EnvPrefix+"OUTPUT_TYPE", "TEXT")
	t.Setenv(EnvPrefix+"LEVEL", "ERROR")
	buf := setup(t, WithOutputType(OutputJSON), WithLevel(slog.LevelInfo))
	Logger("o").Info("dropped: the operator set ERROR")
	Logger("o").Error("kept")
	out := buf.String()
	assert.NotContains(t, out, "dropped")
	assert.Contains(t, out, " - o - ERROR - kept", "TEXT, as the operator set")
	assert.Contains(t, out, "CODOMYRMEX_LOG_OUTPUT_TYPE overrides WithOutputType given by the program")
	assert.Contains(t, out, "CODOMYRMEX_LOG_LEVEL overrides WithLevel given by the program")

	buf = setup(t, Fixed(WithOutputType(OutputJSON), WithLevel(slog.LevelInfo)))
	Logger("o").Info("pinned")
	lines := jsonLines(t, buf.String())
	require.NotEmpty(t, lines)
	assert.Equal(t, "pinned", lines[len(lines)-1]["msg"], "JSON at INFO, as the program fixed")
	assert.Contains(t, buf.String(), "CODOMYRMEX_LOG_LEVEL is ignored: the program fixed WithLevel")

	t.Setenv(EnvPrefix+"OUTPUT_TYPE", "")
	t.Setenv(EnvPrefix+"LEVEL", "")
	os.Unsetenv(EnvPrefix + "OUTPUT_TYPE")
	os.Unsetenv(EnvPrefix + "LEVEL")
	buf = setup(t, WithOutputType(OutputJSON))
	Logger("o").Info("quiet")
	assert.NotContains(t, buf.String(), "overrides", "no notice without a variable")
}

func TestSetupWhileLogging(t *testing.T) {
	out := &syncBuffer{}
	require.NoError(t, Setup(WithConsole(out), WithOutputType(OutputJSON)))
	t.Cleanup(func() { _ = Close() })
	const workers, per = 8, 2000
	var wg sync.WaitGroup
	var stop atomic.Bool
	for w := range workers {
		wg.Go(func() {
			l := Logger(fmt.Sprintf("w%d", w)).With("worker", w)
			for i := range per {
				l.Info("record", "i", i, "pad", strings.Repeat("x", i%50))
			}
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; !stop.Load(); i++ {
			opts := []Option{WithConsole(out), WithOutputType(OutputJSON)}
			if i%2 == 1 {
				opts = append(opts, WithAddSource(true))
			}
			assert.NoError(t, Setup(opts...))
		}
	}()
	wg.Wait()
	stop.Store(true)
	<-done
	seen := map[string]bool{}
	for _, m := range jsonLines(t, out.String()) {
		if m["logger"] == "logging" {
			continue
		}
		id := fmt.Sprint(m["worker"], "/", m["i"])
		assert.False(t, seen[id], "duplicate %s", id)
		seen[id] = true
	}
	assert.Len(t, seen, workers*per, "every record arrived once, whole")
}

func TestStdlibLogAndSlogDefault(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	slog.Info("from slog", "password", "hunter2")
	log.Printf("from log %d", 42)
	ls := jsonLines(t, buf.String())
	require.Len(t, ls, 2)
	assert.Equal(t, "from slog", ls[0]["msg"])
	assert.Equal(t, "root", ls[0]["logger"])
	assert.Equal(t, redactedMarker, ls[0]["password"], "slog.Info goes through the redactor")
	assert.Equal(t, "from log 42", ls[1]["msg"])
}

func TestCloseTwiceAndLogAfter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	buf := setup(t, WithFile(path), WithOutputType(OutputJSON))
	Logger("c").Info("before close")
	require.NoError(t, Close())
	require.NoError(t, Close())
	assert.NotPanics(t, func() { Logger("c").Info("after close") })
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(data), "before close")
	assert.NotContains(t, string(data), "after close")
	assert.Len(t, buf.Lines(), 1)
}

func TestCloseFallsBackToConsole(t *testing.T) {
	// After Close the default console chain writes to os.Stderr; swap it for a pipe.
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = old }()
	setup(t)
	require.NoError(t, Close())
	Logger("c").Info("on the console default")
	w.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(r)
	assert.Contains(t, b.String(), "c - INFO - on the console default")
}

func TestFileSinkBasic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "app.log")
	setup(t, WithFile(path), WithOutputType(OutputJSON))
	Logger("f").Info("to file", "password", "x")
	require.NoError(t, Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"msg":"to file"`)
	assert.Contains(t, string(data), redactedMarker)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

func TestWrapOrder(t *testing.T) {
	// The redactor sees a PEM block whole before the sanitizer escapes its
	// newlines, and the sanitizer then escapes what is left.
	var b bytes.Buffer
	l := slog.New(Wrap(slog.NewTextHandler(&b, nil)))
	pem := "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA " + "PRIVATE KEY-----"
	l.Info("key\x1b[2J", "pem", pem)
	out := b.String()
	assert.Equal(t, 1, strings.Count(out, "\n"))
	assert.Contains(t, out, "[REDACTED:private-key]")
	assert.NotContains(t, out, "MIIEow")
	assert.NotContains(t, out, "\x1b")
}

func TestWrapDoesNotReadEnv(t *testing.T) {
	t.Setenv(EnvPrefix+"REDACT", "false")
	var b bytes.Buffer
	slog.New(Wrap(slog.NewJSONHandler(&b, nil))).Info("x", "password", "p")
	assert.Contains(t, b.String(), redactedMarker)
}

func TestConfigErrorUnwrap(t *testing.T) {
	t.Setenv(EnvPrefix+"LEVEL", "x")
	err := Setup(WithConsole(&syncBuffer{}))
	t.Cleanup(func() { _ = Close() })
	var ce *ConfigError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, "CODOMYRMEX_LOG_LEVEL", ce.Name)
	assert.Equal(t, "x", ce.Value)
}

func TestAddSource(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON), WithAddSource(true))
	Logger("s").Info("src")
	m := lastJSON(t, buf)
	src, ok := m["source"].(map[string]any)
	require.True(t, ok, "source object: %v", m)
	assert.True(t, strings.HasSuffix(src["file"].(string), "logging_test.go"))

	buf = setup(t, WithAddSource(true), WithFormat("%(message)s"))
	Logger("s").Info("src")
	assert.Regexp(t, regexp.MustCompile(`^src source=.*logging_test\.go:\d+$`), buf.Lines()[0])
}

func TestValuesEncodeAsJSON(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON))
	type inner struct{ N int }
	Logger("v").Info("values",
		"dur", time.Second, "t", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "f", 1.5, "b", true,
		"u", uint64(7), "list", []int{1, 2}, "m", map[string]int{"x": 1}, "s", inner{3}, "nil", nil,
		"raw", json.RawMessage(`{"a":[1,2]}`), "bytes", []byte("hi"))
	m := lastJSON(t, buf)
	assert.Equal(t, float64(time.Second), m["dur"])
	assert.Equal(t, "2026-01-02T03:04:05Z", m["t"])
	assert.Equal(t, 1.5, m["f"])
	assert.Equal(t, true, m["b"])
	assert.Equal(t, []any{float64(1), float64(2)}, m["list"])
	assert.Equal(t, map[string]any{"x": float64(1)}, m["m"])
	assert.Equal(t, map[string]any{"N": float64(3)}, m["s"])
	assert.Nil(t, m["nil"])
	assert.Equal(t, map[string]any{"a": []any{float64(1), float64(2)}}, m["raw"])
	assert.Equal(t, "hi", m["bytes"])
}

func TestOptionValidation(t *testing.T) {
	for name, o := range map[string]Option{
		"WithSink":          WithSink("", nil),
		"WithRotation":      WithRotation(Rotation{MaxSizeMB: 0, MaxBackups: -1, Compress: true}),
		"WithMaxValueBytes": WithMaxValueBytes(-1),
		"WithLoggerLevel":   WithLoggerLevel("", slog.LevelDebug),
		"WithRateLimit":     WithRateLimit(RateLimit{PerSecond: -1}),
		"WithLevels":        WithLevels("INFO,db=LOUD"),
	} {
		buf := &syncBuffer{}
		err := Setup(WithConsole(buf), o)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
		Logger("v").Info("still logging")
		assert.Contains(t, buf.String(), "still logging", name)
		require.NoError(t, Close())
	}
	assert.NoError(t, Reopen(), "no file sink: nothing to reopen")
}

// The writer registry forgets a writer once no pipeline uses it, so that a
// program calling Setup with ever new writers does not keep them (and what
// they buffer) alive; a writer two pipelines share keeps one lock.
func TestWriterRegistryShrinks(t *testing.T) {
	buffers := func() (n int) { // registered *syncBuffer writers
		writerLocksMu.Lock()
		defer writerLocksMu.Unlock()
		for w := range writerLocks {
			if _, ok := w.(*syncBuffer); ok {
				n++
			}
		}
		return n
	}
	require.NoError(t, Close())
	require.Equal(t, 0, buffers())
	shared := &syncBuffer{}
	for range 50 {
		require.NoError(t, Setup(WithConsole(shared), WithSink("extra", &syncBuffer{})))
		Logger("r").Info("x")
	}
	assert.Equal(t, 2, buffers(), "the shared console and the last extra sink, not 51")
	writerLocksMu.Lock()
	assert.Equal(t, 1, writerLocks[shared].refs, "one pipeline uses it now")
	writerLocksMu.Unlock()
	require.NoError(t, Close())
	assert.Equal(t, 0, buffers(), "nothing left after Close")
	assert.Equal(t, 50, strings.Count(shared.String(), "INFO - x"))
}

// Process-wide attrs (the audit's global labels) are on every record, of
// every logger, security events and slog's default included, first among
// its attrs; a record's own attr of the same key does not replace them.
func TestProcessAttrs(t *testing.T) {
	t.Setenv(EnvPrefix+"ATTRS", "service=api,env=prod")
	buf := setup(t, WithOutputType(OutputJSON))
	Logger("billing").WithGroup("g").Info("charged", "n", 1)
	slog.Info("via slog", "env", "dev")
	SecurityEvent(t.Context(), Event{Type: AuthzDenied})
	lines := jsonLines(t, buf.String())
	require.Len(t, lines, 3)
	for _, m := range lines {
		assert.Equal(t, "api", m["service"], m)
		assert.Equal(t, "prod", m["env"], m)
	}
	assert.Equal(t, "dev", lines[1]["env#2"])

	buf = setup(t, WithOutputType(OutputJSON), WithProcessAttrs(slog.String("service", "worker")))
	Logger("x").Info("m")
	assert.Equal(t, "api", lastJSON(t, buf)["service"], "the variable overrides the option")
	buf = setup(t, WithOutputType(OutputJSON), Fixed(WithProcessAttrs(slog.String("service", "worker"))))
	Logger("x").Info("m")
	assert.Equal(t, "worker", lastJSON(t, buf)["service"], "unless the program fixed it")

	t.Setenv(EnvPrefix+"ATTRS", "bad name=x")
	err := Setup(WithConsole(&syncBuffer{}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CODOMYRMEX_LOG_ATTRS")
}

// A process attr cannot take a security event's label: written first on
// every record, it would push the event's own value to label#2, where the
// alert rules (| json user_id) do not look. Setup refuses it, from the
// variable and from the option, and no other name is refused.
func TestProcessAttrsCannotTakeEventLabels(t *testing.T) {
	for _, label := range securityLabels {
		t.Setenv(EnvPrefix+"ATTRS", "service=api,"+label+"=x")
		err := Setup(WithConsole(&syncBuffer{}))
		require.Error(t, err, label)
		assert.Contains(t, err.Error(), "CODOMYRMEX_LOG_ATTRS", label)
		assert.Contains(t, err.Error(), label)
	}
	require.NoError(t, os.Unsetenv(EnvPrefix+"ATTRS")) // restored by t.Setenv
	for _, label := range securityLabels {
		err := Setup(WithConsole(&syncBuffer{}), WithProcessAttrs(slog.String(label, "x")))
		require.Error(t, err, label)
		assert.Contains(t, err.Error(), label)
	}
	require.Error(t, Setup(WithConsole(&syncBuffer{}), WithProcessAttrs(slog.String("", "x"))))
	t.Cleanup(func() { _ = Close() })
	buf := setup(t, WithOutputType(OutputJSON), WithProcessAttrs(slog.String("service", "api"), slog.String("user", "svc")))
	SecurityEvent(t.Context(), Event{Type: AuthzDenied, UserID: "mallory"})
	m := lastJSON(t, buf)
	assert.Equal(t, "mallory", m["user_id"])
	assert.Equal(t, "svc", m["user"])
	assert.Equal(t, "api", m["service"])
	assert.Equal(t, "authz_denied", m["security_event_type"])
}

// Every option that has a variable is named in optionVars (so that Setup
// can say when a variable overrides it), and only with variables that
// exist.
func TestOptionVarsKnown(t *testing.T) {
	for opt, vars := range optionVars {
		for _, v := range vars {
			assert.True(t, slices.ContainsFunc(envVars, func(e envVar) bool { return e.name == v }), "%s: %s", opt, v)
		}
	}
	covered := map[string]bool{}
	for _, vars := range optionVars {
		for _, v := range vars {
			covered[v] = true
		}
	}
	for _, e := range envVars {
		assert.True(t, covered[e.name], "no option names %s", e.name)
	}
}

// The standard log package's records lose its prefix and header (date,
// time, file), whatever log.SetFlags and log.SetPrefix say, and go to the
// logger WithStdLogName names.
func TestStdLogHeaderNeutralized(t *testing.T) {
	flags, prefix := log.Flags(), log.Prefix()
	t.Cleanup(func() { log.SetFlags(flags); log.SetPrefix(prefix) })
	buf := setup(t, WithOutputType(OutputJSON), WithStdLogName("legacy"))
	for _, f := range []int{log.LstdFlags, log.LstdFlags | log.Lmicroseconds | log.Lshortfile, log.Llongfile | log.Lmsgprefix, 0} {
		log.SetFlags(f)
		log.SetPrefix("[webhook] ")
		log.Print("delivered")
		m := lastJSON(t, buf)
		assert.Equal(t, "delivered", m["msg"], "flags %d", f)
		assert.Equal(t, "legacy", m["logger"])
	}
	assert.Equal(t, "x: y", stripLogHeader("x: y", 0, ""))
	assert.Error(t, Setup(WithStdLogName("")))
}

// In the slog schema, JSON levels are written as slog's handlers write
// them (WARN, INFO+2), and LevelCritical as CRITICAL; the Codomyrmex schema
// and TEXT keep the Python module's names (WARNING).
func TestSlogSchemaLevelNames(t *testing.T) {
	buf := setup(t, WithOutputType(OutputJSON), WithLevel(slog.LevelDebug))
	var ref bytes.Buffer
	slogger := slog.New(slog.NewJSONHandler(&ref, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelInfo + 2} {
		Logger("x").Log(t.Context(), l, "m")
		slogger.Log(t.Context(), l, "m")
		var want map[string]any
		require.NoError(t, json.Unmarshal(ref.Bytes(), &want))
		ref.Reset()
		assert.Equal(t, want["level"], lastJSON(t, buf)["level"])
	}
	Logger("x").Log(t.Context(), LevelCritical, "m")
	assert.Equal(t, "CRITICAL", lastJSON(t, buf)["level"])
}

// The variables that add redaction add to a fixed option too (a pin cannot
// take away what the operator redacts), silently: nothing is overridden.
// REDACT_ALLOW_KEYS loosens redaction: a fixed WithRedactAllowKeys wins,
// and Setup says the variable is ignored. A variable that says what the
// option says overrides nothing, and Setup says nothing.
func TestAdditiveVariablesAndFixed(t *testing.T) {
	t.Setenv(EnvPrefix+"REDACT_KEYS", "employee_ref")
	buf := setup(t, WithOutputType(OutputJSON), Fixed(WithRedactKeys("acct")))
	Logger("x").Info("keys", "acct", "a-1", "employee_ref", "e-2", "other", "o-3")
	m := lastJSON(t, buf)
	assert.Equal(t, "[REDACTED]", m["acct"], "the program's key")
	assert.Equal(t, "[REDACTED]", m["employee_ref"], "the operator's key, added to the fixed option")
	assert.Equal(t, "o-3", m["other"])
	assert.NotContains(t, buf.String(), "REDACT_KEYS")

	t.Setenv(EnvPrefix+"REDACT_PATTERNS", `emp-\d{6}`)
	buf = setup(t, WithOutputType(OutputJSON), Fixed(WithRedactPatterns(`acct-\d{6}`)))
	Logger("x").Info("patterns", "a", "acct-123456", "b", "emp-654321")
	m = lastJSON(t, buf)
	assert.NotContains(t, m["a"], "123456", "the program's pattern")
	assert.NotContains(t, m["b"], "654321", "the operator's pattern, added to the fixed option")
	assert.NotContains(t, buf.String(), "REDACT_PATTERNS")

	t.Setenv(EnvPrefix+"REDACT_ALLOW_KEYS", "csrf_token")
	buf = setup(t, WithOutputType(OutputJSON), Fixed(WithRedactAllowKeys("x_token_name")))
	Logger("x").Info("allow", "csrf_token", "c-1", "x_token_name", "x-2")
	lines := jsonLines(t, buf.String())
	m = lines[len(lines)-1]
	assert.Equal(t, "[REDACTED]", m["csrf_token"], "the fixed allowlist wins over the operator's")
	assert.Equal(t, "x-2", m["x_token_name"])
	assert.Contains(t, buf.String(), "CODOMYRMEX_LOG_REDACT_ALLOW_KEYS is ignored: the program fixed WithRedactAllowKeys")
	buf = setup(t, WithOutputType(OutputJSON), WithRedactAllowKeys("x_token_name"))
	Logger("x").Info("allow", "csrf_token", "c-1", "x_token_name", "x-2")
	m = lastJSON(t, buf)
	assert.Equal(t, "c-1", m["csrf_token"], "not fixed: the operator's keys add")
	assert.Equal(t, "x-2", m["x_token_name"])
	assert.NotContains(t, buf.String(), "REDACT_ALLOW_KEYS")

	t.Setenv(EnvPrefix+"LEVEL", "info")
	t.Setenv(EnvPrefix+"OUTPUT_TYPE", "json")
	buf = setup(t, WithLevel(slog.LevelInfo), WithOutputType(OutputJSON))
	Logger("x").Info("agree")
	assert.NotContains(t, buf.String(), "overrides", "code and environment agree")
	t.Setenv(EnvPrefix+"LEVEL", "warn")
	buf = setup(t, WithLevel(slog.LevelInfo), WithOutputType(OutputJSON))
	assert.Contains(t, buf.String(), "CODOMYRMEX_LOG_LEVEL overrides WithLevel given by the program")
	assert.NotContains(t, buf.String(), "OUTPUT_TYPE overrides")
}
