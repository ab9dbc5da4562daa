package logging

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/codomyrmex/logging/internal/redact/redacttest"
)

// BenchmarkShortSecret is a short record (a message and one attr) holding
// one real token, through slog's JSON handler and through Setup's JSON
// chain, for scripts/bench-pair.sh (the Redaction issue's target: at most
// 2× slog).
func BenchmarkShortSecret(b *testing.B) {
	tok := redacttest.GHToken("gh" + "p")
	attrs := []slog.Attr{slog.String("auth", "retrying with "+tok)}
	b.Run("slog-json", func(b *testing.B) {
		benchLogger(b, slog.New(slog.NewJSONHandler(io.Discard, nil)), attrs)
	})
	b.Run("setup-json", func(b *testing.B) {
		if err := Setup(WithConsole(io.Discard), WithOutputType(OutputJSON)); err != nil {
			b.Fatal(err)
		}
		defer Close()
		benchLogger(b, Logger("bench"), attrs)
	})
}

// BenchmarkLoghubMessages logs the real system log lines as messages, one
// record each (target: at most 1.3× slog).
func BenchmarkLoghubMessages(b *testing.B) {
	lines := loghubCorpus(b)
	run := func(b *testing.B, l *slog.Logger) {
		b.SetBytes(corpusBytes(lines))
		ctx := context.Background()
		for b.Loop() {
			for _, line := range lines {
				l.LogAttrs(ctx, slog.LevelInfo, line)
			}
		}
	}
	b.Run("slog-json", func(b *testing.B) { run(b, slog.New(slog.NewJSONHandler(io.Discard, nil))) })
	b.Run("setup-json", func(b *testing.B) {
		if err := Setup(WithConsole(io.Discard), WithOutputType(OutputJSON)); err != nil {
			b.Fatal(err)
		}
		defer Close()
		run(b, Logger("bench"))
	})
}
