package logging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// LevelCritical is Python's CRITICAL, above slog.LevelError.
const LevelCritical = slog.Level(12)

// Critical logs at LevelCritical on l, with the context; the record's
// call site is the caller of Critical.
func Critical(ctx context.Context, l *slog.Logger, msg string, args ...any) {
	logAt(ctx, l, LevelCritical, callerPC(0), msg, nil, args...)
}

var levelNames = map[slog.Level]string{
	slog.LevelDebug: "DEBUG", slog.LevelInfo: "INFO", slog.LevelWarn: "WARNING",
	slog.LevelError: "ERROR", LevelCritical: "CRITICAL",
}

// LevelName returns the level as Python prints it: DEBUG, INFO, WARNING,
// ERROR, CRITICAL, and for levels between them the one below with an offset
// ("INFO+2"), as slog does.
func LevelName(l slog.Level) string {
	if n, ok := levelNames[l]; ok {
		return n
	}
	base := slog.LevelDebug
	switch {
	case l >= LevelCritical:
		base = LevelCritical
	case l >= slog.LevelError:
		base = slog.LevelError
	case l >= slog.LevelWarn:
		base = slog.LevelWarn
	case l >= slog.LevelInfo:
		base = slog.LevelInfo
	}
	return fmt.Sprintf("%s%+d", levelNames[base], int(l-base))
}

// slogLevelName is the level as slog's handlers write it (WARN, ERROR+2),
// and CRITICAL for LevelCritical: the slog schema's names.
func slogLevelName(l slog.Level) string {
	if l == LevelCritical {
		return "CRITICAL"
	}
	return l.String()
}

// ParseLevel parses DEBUG, INFO, WARN or WARNING, ERROR, CRITICAL in any case.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DEBUG":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARN", "WARNING":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "CRITICAL":
		return LevelCritical, nil
	}
	return 0, errors.New("want one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
}

// levelSet is a default level plus per-logger overrides; the longest dotted
// prefix of a logger's name wins.
type levelSet struct {
	def       slog.Level
	overrides map[string]slog.Level
}

func (s *levelSet) set(name string, l slog.Level) {
	if s.overrides == nil {
		s.overrides = map[string]slog.Level{}
	}
	s.overrides[name] = l
}

// forLogger returns the minimum level of the named logger.
func (s *levelSet) forLogger(name string) slog.Level {
	for n := name; len(s.overrides) > 0; {
		if l, ok := s.overrides[n]; ok {
			return l
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			break
		}
		n = n[:i]
	}
	return s.def
}

// setLevels parses "INFO,db=DEBUG,http.client=ERROR". On error nothing changes.
func (c *config) setLevels(spec string) error {
	ns := levelSet{def: c.levels.def}
	for k, v := range c.levels.overrides {
		ns.set(k, v)
	}
	var errs []error
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		name, lv, hasName := strings.Cut(part, "=")
		if !hasName {
			l, err := ParseLevel(part)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ns.def = l
			continue
		}
		name = strings.TrimSpace(name)
		if name == "" {
			errs = append(errs, fmt.Errorf("empty logger name in %q", part))
			continue
		}
		l, err := ParseLevel(lv)
		if err != nil {
			errs = append(errs, fmt.Errorf("logger %s: %w", name, err))
			continue
		}
		ns.set(name, l)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.levels = ns
	return nil
}
