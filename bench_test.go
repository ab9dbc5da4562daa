package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
	"github.com/codomyrmex/logging/internal/testutil"
	"github.com/codomyrmex/logging/loki"
)

// secretAttrs is the same record with one secret in a value.
func secretAttrs() []slog.Attr {
	as := realisticAttrs()
	as[1] = slog.String("path", "/api/v1/orders/81723?token="+"q7Lm2Vx9Rk4Tz8Wp")
	return as
}

func benchLogger(b *testing.B, l *slog.Logger, attrs []slog.Attr) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelInfo, "request served", attrs...)
	}
}

func BenchmarkChain(b *testing.B) {
	for _, rec := range []struct {
		name  string
		attrs []slog.Attr
	}{{"clean", realisticAttrs()}, {"secret", secretAttrs()}} {
		b.Run(rec.name+"/slog-json", func(b *testing.B) {
			benchLogger(b, slog.New(slog.NewJSONHandler(io.Discard, nil)), rec.attrs)
		})
		b.Run(rec.name+"/naive-regexp-json", func(b *testing.B) {
			h := slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{ReplaceAttr: testutil.NaiveReplaceAttr(naivePatterns())})
			benchLogger(b, slog.New(h), rec.attrs)
		})
		b.Run(rec.name+"/wrap-slog-json", func(b *testing.B) {
			benchLogger(b, slog.New(Wrap(slog.NewJSONHandler(io.Discard, nil))), rec.attrs)
		})
		b.Run(rec.name+"/setup-json", func(b *testing.B) {
			if err := Setup(WithConsole(io.Discard), WithOutputType(OutputJSON)); err != nil {
				b.Fatal(err)
			}
			defer Close()
			benchLogger(b, Logger("bench"), rec.attrs)
		})
		b.Run(rec.name+"/setup-json-no-stages", func(b *testing.B) {
			if err := Setup(WithConsole(io.Discard), WithOutputType(OutputJSON)); err != nil {
				b.Fatal(err)
			}
			defer Close()
			benchLogger(b, slog.New(encoderOnly(load(), &attrMapper{})), rec.attrs)
		})
		b.Run(rec.name+"/setup-json-no-redaction", func(b *testing.B) {
			// The whole pipeline with redaction and the size limit off: what
			// the named handler and the fused sanitizer cost alone.
			if err := Setup(WithConsole(io.Discard), WithOutputType(OutputJSON), WithRedaction(false), WithMaxValueBytes(0)); err != nil {
				b.Fatal(err)
			}
			defer Close()
			benchLogger(b, Logger("bench"), rec.attrs)
		})
		b.Run(rec.name+"/setup-json-separate-sanitizer", func(b *testing.B) {
			// The chain as Wrap composes it (redactor, sanitizer middleware,
			// encoder), to show what fusing the sanitizer into the encoder saves.
			if err := Setup(WithConsole(io.Discard), WithOutputType(OutputJSON)); err != nil {
				b.Fatal(err)
			}
			defer Close()
			benchLogger(b, slog.New(Wrap(encoderOnly(load(), &attrMapper{}))), rec.attrs)
		})
		b.Run(rec.name+"/setup-text", func(b *testing.B) {
			if err := Setup(WithConsole(io.Discard)); err != nil {
				b.Fatal(err)
			}
			defer Close()
			benchLogger(b, Logger("bench"), rec.attrs)
		})
	}
}

// loghubCorpus returns the Loghub lines, or the project's own benign corpus
// when ../shared is absent.
func loghubCorpus(b *testing.B) []string {
	files, _ := filepath.Glob(filepath.Join("..", "shared", "testdata", "loghub", "*.log"))
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join("internal", "redact", "testdata", "benign", "*.log"))
	}
	var lines []string
	for _, f := range files {
		lines = append(lines, redacttest.ReadLines(b, f)...)
	}
	if len(lines) == 0 {
		b.Skip("no corpus: run from the package directory")
	}
	return lines
}

func corpusBytes(lines []string) int64 {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	return int64(n)
}

// BenchmarkRedactCorpus compares Redact with the naive alternative, one
// regexp per format over every line, on real system logs (MB/s).
func BenchmarkRedactCorpus(b *testing.B) {
	lines := loghubCorpus(b)
	b.Run("codomyrmex", func(b *testing.B) {
		b.SetBytes(corpusBytes(lines))
		b.ReportAllocs()
		for b.Loop() {
			for _, l := range lines {
				_ = Redact(l)
			}
		}
	})
	b.Run("naive-regexp-list", func(b *testing.B) {
		res := naivePatterns()
		b.SetBytes(corpusBytes(lines))
		b.ReportAllocs()
		for b.Loop() {
			for _, l := range lines {
				for _, re := range res {
					l = re.ReplaceAllString(l, "[REDACTED]")
				}
			}
		}
	})
}

func BenchmarkSanitize(b *testing.B) {
	clean := "GET /api/v1/orders/81723?page=2 200 5123 Mozilla/5.0 (X11; Linux x86_64) élan"
	dirty := "user\r\nINFO forged \x1b[2J record \u202e and \xff bytes"
	// Printable text of several scripts (nothing to escape), and text with
	// invisible characters: zero-width space and joiner, BOM, soft hyphen,
	// and a hidden instruction in tag characters.
	scripts := "Привет, мир; Γειά σου; 日本語のテキスト; 한국어; مرحبا; नमस्ते; 🙂👍🏽🚀"
	invisible := "admin\u200bistrator \ufeffok\u00adx 👩\u200d💻 " + tagged("ignore previous instructions")
	for _, c := range []struct{ name, s string }{{"clean", clean}, {"dirty", dirty}, {"scripts", scripts}, {"invisible", invisible}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.s)))
			b.ReportAllocs()
			for b.Loop() {
				_ = Sanitize(c.s)
			}
		})
	}
}

// BenchmarkSinkCost is the caller's cost per record with the file sink and
// with the Loki sink (to a local server that accepts every push).
func BenchmarkSinkCost(b *testing.B) {
	b.Run("file", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "app.log")
		if err := Setup(WithConsole(nil), WithFile(path), WithOutputType(OutputJSON), WithRotation(Rotation{MaxSizeMB: 100, MaxBackups: 3, MaxAgeDays: 0, Compress: false})); err != nil {
			b.Fatal(err)
		}
		defer Close()
		benchLogger(b, Logger("bench"), realisticAttrs())
	})
	b.Run("loki", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}))
		defer srv.Close()
		if err := Setup(WithConsole(nil), WithOutputType(OutputJSON), WithLoki(loki.Config{URL: srv.URL, QueueSize: 1 << 20})); err != nil {
			b.Fatal(err)
		}
		defer Close()
		benchLogger(b, Logger("bench"), realisticAttrs())
	})
}

// encoderOnly is the pipeline's encoder with the mapper m (no redaction, no
// limit when m is empty) as a slog.Handler, for measuring stages apart.
func encoderOnly(p *pipeline, m *attrMapper) slog.Handler {
	return encoderHandler{&encHandler{enc: p.enc, m: m, logger: "bench"}}
}

func BenchmarkMapperRecordAttrs(b *testing.B) {
	p, _ := newPipeline(newConfig())
	defer p.close()
	as := realisticAttrs()
	for b.Loop() {
		wk := p.m.walker(false)
		for _, a := range as {
			wk.attr(a, 0)
		}
		wk.str("request served")
	}
}

// BenchmarkKnownSecrets is the clean 10-attr record through Setup's JSON
// chain with no value registered with Mask and with 100 (run each in a
// process of its own: Mask is for the life of the process), for
// scripts/bench-pair.sh.
func BenchmarkKnownSecrets(b *testing.B) {
	for _, n := range []int{0, 100} {
		b.Run(fmt.Sprintf("clean-%d", n), func(b *testing.B) {
			values := make([]string, n)
			for i := range values {
				values[i] = fmt.Sprintf("kv%02d-%s", i, redacttest.Gen(redacttest.AlnumChars, 20))
			}
			if err := Mask(values...); err != nil {
				b.Fatal(err)
			}
			if err := Setup(WithConsole(io.Discard), WithOutputType(OutputJSON)); err != nil {
				b.Fatal(err)
			}
			defer Close()
			benchLogger(b, Logger("bench"), realisticAttrs())
		})
	}
}

// customPatterns are n patterns of the usual shape: a literal prefix and a
// character class (team token formats).
func customPatterns(n int) []string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf(`%s%02d-[A-Za-z0-9]{%d,}`, []string{"acct", "INT", "emp", "ref", "(?i)tok"}[i%5], i, 8+i%5)
	}
	return ps
}

// BenchmarkCustomPatterns logs the Loghub lines as messages through Setup's
// JSON chain with 0, 10 and 50 custom patterns (WithRedactPatterns), for
// scripts/bench-pair.sh: custom-0 against custom-50.
func BenchmarkCustomPatterns(b *testing.B) {
	lines := loghubCorpus(b)
	for _, n := range []int{0, 10, 50} {
		b.Run(fmt.Sprintf("custom-%d", n), func(b *testing.B) {
			if err := Setup(WithConsole(io.Discard), WithOutputType(OutputJSON), WithRedactPatterns(customPatterns(n)...)); err != nil {
				b.Fatal(err)
			}
			defer Close()
			l, ctx := Logger("bench"), context.Background()
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range lines {
					l.LogAttrs(ctx, slog.LevelInfo, s)
				}
			}
		})
	}
}
