// Package benchmarks compares this library with slog alone, a naive regexp
// redactor, zap and zerolog on the same records. It is a module of its own so
// that users of the library never inherit these dependencies.
package benchmarks

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/codomyrmex/logging"
	"github.com/codomyrmex/logging/internal/testutil"
	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"gopkg.in/natefinch/lumberjack.v2"
)

// record is a realistic access-log record of 10 attrs; secret puts one
// credential in the path.
type record struct {
	method, path, userID, remote, ua, reqID string
	status, bytes                           int
	dur                                     time.Duration
	cacheHit                                bool
}

func clean() record {
	return record{"GET", "/api/v1/orders/81723", "u-28371", "10.1.2.3:51234",
		"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/131.0", "req-5f2c9a7e1b", 200, 5123, 1234 * time.Microsecond, false}
}

func withSecret() record {
	r := clean()
	r.path = "/api/v1/orders/81723?token=" + "q7Lm2Vx9" + "Rk4Tz8Wp"
	return r
}

func (r record) attrs() []slog.Attr {
	return []slog.Attr{
		slog.String("method", r.method), slog.String("path", r.path), slog.Int("status", r.status),
		slog.Int("bytes", r.bytes), slog.Duration("duration", r.dur), slog.String("user_id", r.userID),
		slog.String("remote_addr", r.remote), slog.String("user_agent", r.ua), slog.String("request_id", r.reqID),
		slog.Bool("cache_hit", r.cacheHit),
	}
}

func (r record) zapFields() []zap.Field {
	return []zap.Field{
		zap.String("method", r.method), zap.String("path", r.path), zap.Int("status", r.status),
		zap.Int("bytes", r.bytes), zap.Duration("duration", r.dur), zap.String("user_id", r.userID),
		zap.String("remote_addr", r.remote), zap.String("user_agent", r.ua), zap.String("request_id", r.reqID),
		zap.Bool("cache_hit", r.cacheHit),
	}
}

func zerologEvent(l *zerolog.Logger, r record) {
	l.Info().Str("method", r.method).Str("path", r.path).Int("status", r.status).Int("bytes", r.bytes).
		Dur("duration", r.dur).Str("user_id", r.userID).Str("remote_addr", r.remote).Str("user_agent", r.ua).
		Str("request_id", r.reqID).Bool("cache_hit", r.cacheHit).Msg("request served")
}

// naive is what a user would write without this library: one regexp per
// credential format (the same formats) over every string, in ReplaceAttr.
func naive() func([]string, slog.Attr) slog.Attr {
	var res []*regexp.Regexp
	for _, r := range logging.Rules() {
		res = append(res, r.Pattern)
	}
	return testutil.NaiveReplaceAttr(res)
}

func newZap(w zapcore.WriteSyncer) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(w), zapcore.InfoLevel))
}

func benchSlog(b *testing.B, l *slog.Logger, r record) {
	as := r.attrs()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelInfo, "request served", as...)
	}
}

func BenchmarkRecord(b *testing.B) {
	for _, rc := range []struct {
		name string
		r    record
	}{{"clean", clean()}, {"secret", withSecret()}} {
		b.Run(rc.name+"/slog-json", func(b *testing.B) {
			benchSlog(b, slog.New(slog.NewJSONHandler(io.Discard, nil)), rc.r)
		})
		b.Run(rc.name+"/codomyrmex-json", func(b *testing.B) {
			if err := logging.Setup(logging.WithConsole(io.Discard), logging.WithOutputType(logging.OutputJSON)); err != nil {
				b.Fatal(err)
			}
			defer logging.Close()
			benchSlog(b, logging.Logger("bench"), rc.r)
		})
		b.Run(rc.name+"/naive-regexp-json", func(b *testing.B) {
			benchSlog(b, slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{ReplaceAttr: naive()})), rc.r)
		})
		b.Run(rc.name+"/zap-json", func(b *testing.B) {
			l := newZap(zapcore.AddSync(io.Discard))
			fs := rc.r.zapFields()
			b.ReportAllocs()
			for b.Loop() {
				l.Info("request served", fs...)
			}
		})
		b.Run(rc.name+"/zerolog-json", func(b *testing.B) {
			l := zerolog.New(io.Discard).With().Timestamp().Logger()
			b.ReportAllocs()
			for b.Loop() {
				zerologEvent(&l, rc.r)
			}
		})
	}
}

// BenchmarkFile writes the clean record to a rotating file: through Setup
// with the file sink and JSON, through zap's JSON encoder into lumberjack
// (one write per record, as zap's docs set it up), and through zap with its
// BufferedWriteSyncer in front of lumberjack (zap's own write-behind). The
// clock stops only once every record is in the file: Flush and Stop are
// timed.
func BenchmarkFile(b *testing.B) {
	r := clean()
	b.Run("codomyrmex-file-json", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "app.log")
		if err := logging.Setup(logging.WithConsole(nil), logging.WithFile(path), logging.WithOutputType(logging.OutputJSON),
			logging.WithRotation(logging.Rotation{MaxSizeMB: 100, MaxBackups: 3, MaxAgeDays: 0, Compress: false})); err != nil {
			b.Fatal(err)
		}
		defer logging.Close()
		l, as, ctx := logging.Logger("bench"), r.attrs(), context.Background()
		b.SetBytes(230)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			l.LogAttrs(ctx, slog.LevelInfo, "request served", as...)
		}
		logging.Flush()
		b.StopTimer()
	})
	b.Run("zap-lumberjack-json", func(b *testing.B) {
		lj := &lumberjack.Logger{Filename: filepath.Join(b.TempDir(), "app.log"), MaxSize: 100, MaxBackups: 3}
		defer lj.Close()
		l := newZap(zapcore.AddSync(lj))
		fs := r.zapFields()
		b.SetBytes(230)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			l.Info("request served", fs...)
		}
		b.StopTimer()
	})
	b.Run("zap-buffered-lumberjack-json", func(b *testing.B) {
		lj := &lumberjack.Logger{Filename: filepath.Join(b.TempDir(), "app.log"), MaxSize: 100, MaxBackups: 3}
		defer lj.Close()
		ws := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(lj)}
		l := newZap(ws)
		fs := r.zapFields()
		b.SetBytes(230)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			l.Info("request served", fs...)
		}
		_ = ws.Stop()
		b.StopTimer()
	})
}
