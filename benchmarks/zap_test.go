package benchmarks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/logging"
	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// The scenarios of zap's benchmark table (go.uber.org/zap/benchmarks), with
// its data: "log a message and 10 fields", "log a message with a logger
// that already has 10 fields of context" and "log a static string", for
// zap, zerolog, slog's JSON handler and the library's two set-ups: the
// Setup chain (JSON) and Wrap in front of slog's JSON handler. Every logger
// writes JSON to io.Discard. scripts/bench-zap.sh runs them and writes the
// table in README.md.

var (
	errExample  = errors.New("fail")
	_messages   = fakeMessages(1000)
	_tenInts    = []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	_tenStrings = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	_tenTimes   = []time.Time{
		time.Unix(0, 0), time.Unix(1, 0), time.Unix(2, 0), time.Unix(3, 0), time.Unix(4, 0),
		time.Unix(5, 0), time.Unix(6, 0), time.Unix(7, 0), time.Unix(8, 0), time.Unix(9, 0),
	}
	_oneUser = &user{
		Name:      "Jane Doe",
		Email:     "jane@test.com",
		CreatedAt: time.Date(1980, 1, 1, 12, 0, 0, 0, time.UTC),
	}
	_tenUsers = users{_oneUser, _oneUser, _oneUser, _oneUser, _oneUser, _oneUser, _oneUser, _oneUser, _oneUser, _oneUser}
)

func fakeMessages(n int) []string {
	messages := make([]string, n)
	for i := range messages {
		messages[i] = fmt.Sprintf("Test logging, but use a somewhat realistic message length. (#%v)", i)
	}
	return messages
}

func getMessage(iter int) string { return _messages[iter%1000] }

type users []*user

type user struct {
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
}

// MarshalLogObject is zap's encoding of a user, as in zap's benchmarks.
func (u *user) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("name", u.Name)
	enc.AddString("email", u.Email)
	enc.AddInt64("createdAt", u.CreatedAt.UnixNano())
	return nil
}

// MarshalLogArray is zap's encoding of users.
func (uu users) MarshalLogArray(arr zapcore.ArrayEncoder) error {
	var err error
	for i := range uu {
		err = errors.Join(err, arr.AppendObject(uu[i]))
	}
	return err
}

// MarshalZerologObject is zerolog's encoding of a user.
func (u *user) MarshalZerologObject(e *zerolog.Event) {
	e.Str("name", u.Name).Str("email", u.Email).Int64("createdAt", u.CreatedAt.UnixNano())
}

// MarshalZerologArray is zerolog's encoding of users.
func (uu users) MarshalZerologArray(a *zerolog.Array) {
	for _, u := range uu {
		a.Object(u)
	}
}

func fakeFields() []zap.Field {
	return []zap.Field{
		zap.Int("int", _tenInts[0]),
		zap.Ints("ints", _tenInts),
		zap.String("string", _tenStrings[0]),
		zap.Strings("strings", _tenStrings),
		zap.Time("time", _tenTimes[0]),
		zap.Times("times", _tenTimes),
		zap.Object("user1", _oneUser),
		zap.Object("user2", _oneUser),
		zap.Array("users", _tenUsers),
		zap.Error(errExample),
	}
}

func fakeSlogFields() []slog.Attr {
	return []slog.Attr{
		slog.Int("int", _tenInts[0]),
		slog.Any("ints", _tenInts),
		slog.String("string", _tenStrings[0]),
		slog.Any("strings", _tenStrings),
		slog.Time("time", _tenTimes[0]),
		slog.Any("times", _tenTimes),
		slog.Any("user1", _oneUser),
		slog.Any("user2", _oneUser),
		slog.Any("users", _tenUsers),
		slog.Any("error", errExample),
	}
}

func fakeSlogArgs() []any {
	as := fakeSlogFields()
	out := make([]any, len(as))
	for i, a := range as {
		out[i] = a
	}
	return out
}

func fakeZerologFields(e *zerolog.Event) *zerolog.Event {
	return e.
		Int("int", _tenInts[0]).
		Ints("ints", _tenInts).
		Str("string", _tenStrings[0]).
		Strs("strings", _tenStrings).
		Time("time", _tenTimes[0]).
		Times("times", _tenTimes).
		Object("user1", _oneUser).
		Object("user2", _oneUser).
		Array("users", _tenUsers).
		Err(errExample)
}

func fakeZerologContext(c zerolog.Context) zerolog.Context {
	return c.
		Int("int", _tenInts[0]).
		Ints("ints", _tenInts).
		Str("string", _tenStrings[0]).
		Strs("strings", _tenStrings).
		Time("time", _tenTimes[0]).
		Times("times", _tenTimes).
		Object("user1", _oneUser).
		Object("user2", _oneUser).
		Array("users", _tenUsers).
		Err(errExample)
}

// zapLogger is zap's production JSON encoder, as zap's benchmarks set it up.
func zapLogger() *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), zapcore.DebugLevel))
}

// setups are the slog loggers compared: slog's JSON handler, the Setup
// chain, and Wrap in front of slog's JSON handler. Each returns the
// logger and a function that undoes its set-up.
var setups = []struct {
	name string
	new  func(b *testing.B) (*slog.Logger, func())
}{
	{"slog", func(*testing.B) (*slog.Logger, func()) {
		return slog.New(slog.NewJSONHandler(io.Discard, nil)), func() {}
	}},
	{"codomyrmex-setup", func(b *testing.B) (*slog.Logger, func()) {
		if err := logging.Setup(logging.WithConsole(io.Discard), logging.WithOutputType(logging.OutputJSON)); err != nil {
			b.Fatal(err)
		}
		return logging.Logger("bench"), func() { _ = logging.Close() }
	}},
	{"codomyrmex-wrap-slog", func(*testing.B) (*slog.Logger, func()) {
		return slog.New(logging.Wrap(slog.NewJSONHandler(io.Discard, nil))), func() {}
	}},
}

// BenchmarkZap runs zap's three scenarios: Zap/<scenario>/<logger>.
func BenchmarkZap(b *testing.B) {
	b.Run("fields", func(b *testing.B) {
		b.Run("zap", func(b *testing.B) {
			l := zapLogger()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Info(getMessage(0), fakeFields()...)
				}
			})
		})
		b.Run("zerolog", func(b *testing.B) {
			l := zerolog.New(io.Discard).With().Timestamp().Logger()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					fakeZerologFields(l.Info()).Msg(getMessage(0))
				}
			})
		})
		for _, s := range setups {
			b.Run(s.name, func(b *testing.B) {
				l, done := s.new(b)
				defer done()
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						l.LogAttrs(ctx, slog.LevelInfo, getMessage(0), fakeSlogFields()...)
					}
				})
			})
		}
	})
	b.Run("context", func(b *testing.B) {
		b.Run("zap", func(b *testing.B) {
			l := zapLogger().With(fakeFields()...)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Info(getMessage(0))
				}
			})
		})
		b.Run("zerolog", func(b *testing.B) {
			l := fakeZerologContext(zerolog.New(io.Discard).With().Timestamp()).Logger()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Info().Msg(getMessage(0))
				}
			})
		})
		for _, s := range setups {
			b.Run(s.name, func(b *testing.B) {
				l, done := s.new(b)
				defer done()
				l = l.With(fakeSlogArgs()...)
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						l.LogAttrs(ctx, slog.LevelInfo, getMessage(0))
					}
				})
			})
		}
	})
	b.Run("static", func(b *testing.B) {
		b.Run("zap", func(b *testing.B) {
			l := zapLogger()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Info(getMessage(0))
				}
			})
		})
		b.Run("zerolog", func(b *testing.B) {
			l := zerolog.New(io.Discard).With().Timestamp().Logger()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Info().Msg(getMessage(0))
				}
			})
		})
		for _, s := range setups {
			b.Run(s.name, func(b *testing.B) {
				l, done := s.new(b)
				defer done()
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						l.LogAttrs(ctx, slog.LevelInfo, getMessage(0))
					}
				})
			})
		}
	})
}

// TestZapScenariosWrite checks that every logger of the table writes the
// record of each scenario (a benchmark of a logger that drops it would
// mean nothing), and that the library's set-ups write the user structs'
// fields.
func TestZapScenariosWrite(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(logging.Wrap(slog.NewJSONHandler(&buf, nil)))
	l.LogAttrs(context.Background(), slog.LevelInfo, getMessage(0), fakeSlogFields()...)
	out := buf.String()
	for _, want := range []string{`"user1":{"name":"Jane Doe","email":"jane@test.com","created_at":"1980-01-01T12:00:00Z"}`, `"ints":[0,0,0,0,0,0,0,0,0,0]`, `"error":"fail"`, `"strings":["a","b"`} {
		if !strings.Contains(out, want) {
			t.Errorf("Wrap(slog JSON) output lacks %s:\n%s", want, out)
		}
	}
}
