package logging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/codomyrmex/logging/loki"
)

// lokiSink sends every record to Loki through a never-blocking client, as
// JSON whatever the console shows. The labels are the static ones plus
// level, logger and, for security events, security_event_type: all
// low-cardinality. Everything else (user ids, addresses, request ids) stays
// in the JSON line.
type lokiSink struct {
	client   *loki.Client
	maxLine  int // the client's MaxLineBytes: longer lines are shortened here, as JSON
	clock    clock
	stop     chan struct{}
	done     chan struct{}
	reported uint64 // drops already summarized
	emit     func(slog.Record)
	streams  sync.Map // streamID → *loki.LabelSet
	nstreams atomic.Int64
}

// lokiSummaryInterval is how often records dropped by the Loki sink are summarized.
const lokiSummaryInterval = 5 * time.Second

// summarize emits a record saying how many records Loki lost since the last one.
func (s *lokiSink) summarize() {
	d := s.client.Stats().Dropped
	if d <= s.reported || s.emit == nil {
		return
	}
	n := d - s.reported
	s.reported = d
	r := slog.NewRecord(s.clock.Now(), slog.LevelWarn, "loki sink dropped "+strconv.FormatUint(n, 10)+" records", 0)
	r.AddAttrs(slog.Uint64("dropped", n), slog.Uint64("dropped_total", d))
	s.emit(r)
}

// close flushes within the configured flush timeout.
func (s *lokiSink) close() error {
	close(s.stop)
	<-s.done
	s.summarize() // queued before the flush, so it reaches Loki too; later losses are in err
	err := s.client.Close(context.Background())
	lokiClosed.mu.Lock()
	addLokiStats(&lokiClosed.st, s.client.Stats(), false)
	lokiClosed.mu.Unlock()
	return err
}

func (s *lokiSink) flush()        {} // Loki is never waited for
func (s *lokiSink) reopen() error { return nil }

// stats adds the client's counters.
func (s *lokiSink) stats(st *Statistics) { addLokiStats(&st.Loki, s.client.Stats(), true) }

// addLokiStats adds b's counters to a, and what b holds when pending is set
// (a closed client holds nothing).
func addLokiStats(a *loki.Stats, b loki.Stats, pending bool) {
	a.Sent += b.Sent
	a.Dropped += b.Dropped
	a.Retries += b.Retries
	a.FailedBatches += b.FailedBatches
	a.Spooled += b.Spooled
	a.Replayed += b.Replayed
	a.SpoolTorn += b.SpoolTorn
	a.SpoolSkipped += b.SpoolSkipped
	a.Outages += b.Outages
	if pending {
		a.Pending += b.Pending
	}
}

// lokiClosed accumulates the counters of closed clients, for Stats.
var lokiClosed struct {
	mu sync.Mutex
	st loki.Stats
}

// builtinEventTypes are the values the security_event_type label takes,
// besides "custom".
var builtinEventTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range EventTypes() {
		m[string(t)] = true
	}
	return m
}()

// maxLokiLoggerLabel bounds the logger label's value, in bytes.
const maxLokiLoggerLabel = 256

// lokiLabelValue is v made fit for a label: sanitized, redacted (a label is
// indexed by Loki, and the redactor's marker takes the place of a secret),
// cut to max bytes on a character boundary.
func lokiLabelValue(v string, max int) string {
	v = Redact(Sanitize(v))
	if len(v) > max {
		i := max
		for i > 0 && !utf8.RuneStart(v[i]) {
			i--
		}
		v = strings.Clone(v[:i])
	}
	return v
}

// put queues the record's JSON line. The stream of each level, logger and
// event type is prepared once (up to maxLokiStreams of them). The
// security_event_type label is one of the library's own event types or
// "custom" (the real value stays in the line, redacted there); the logger
// label is redacted and cut to maxLokiLoggerLabel bytes.
func (s *lokiSink) put(e entry) error {
	if e.eventType != "" && !builtinEventTypes[e.eventType] {
		e.eventType = "custom"
	}
	id := streamID{e.level, e.logger, e.eventType}
	st, ok := s.streams.Load(id)
	if !ok {
		labels := map[string]string{"level": LevelName(e.level)}
		if e.logger != "" {
			labels["logger"] = lokiLabelValue(e.logger, maxLokiLoggerLabel)
		}
		if e.eventType != "" {
			labels["security_event_type"] = e.eventType
		}
		st = s.client.LabelSet(labels)
		if s.nstreams.Add(1) <= maxLokiStreams {
			st, _ = s.streams.LoadOrStore(id, st)
		}
	}
	line := e.json[:len(e.json)-1]
	var text string
	if len(line) > s.maxLine {
		text = shortJSON(line, s.maxLine)
	} else {
		text = string(line)
	}
	s.client.PushLabeled(st.(*loki.LabelSet), e.time, text, e.security)
	return nil
}

// shortJSON is a record too long for Loki (more than max bytes) as a JSON
// object that fits in max and says it was cut: the record's first bytes as
// a string, and its length.
// {"truncated_from_bytes":N,"line":"{\"time\":…"}
func shortJSON(line []byte, max int) string {
	b := make([]byte, 0, max)
	b = append(b, `{"truncated_from_bytes":`...)
	b = strconv.AppendInt(b, int64(len(line)), 10)
	b = append(b, `,"line":"`...)
	room := max - 2 // for the closing "}
	for i := 0; i < len(line); {
		_, size := utf8.DecodeRune(line[i:])
		esc := line[i] == '"' || line[i] == '\\'
		if len(b)+size+boolInt(esc) > room {
			break
		}
		if esc {
			b = append(b, '\\')
		}
		b = append(b, line[i:i+size]...)
		i += size
	}
	return string(append(b, '"', '}'))
}

// streamID identifies the label set of a record.
type streamID struct {
	level             slog.Level
	logger, eventType string
}

// minLokiLine is the shortest line limit a Loki sink takes: a record
// longer than the limit is shortened as JSON, which needs room.
const minLokiLine = 256

// maxLokiStreams bounds the prepared streams a sink keeps; a program with
// more logger names prepares the rest per record.
const maxLokiStreams = 4096

func lokiVar(set func(s *loki.Config, v string) error) func(*config, string) error {
	return func(c *config, v string) error { return set(&c.loki, v) }
}

func lokiDuration(field func(s *loki.Config) *time.Duration) func(*config, string) error {
	return lokiVar(func(s *loki.Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 || d > 24*time.Hour {
			return errors.New("want a duration such as 500ms or 5s")
		}
		*field(s) = d
		return nil
	})
}

func lokiInt(field func(s *loki.Config) *int, lo, hi int) func(*config, string) error {
	return lokiVar(func(s *loki.Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return errors.New("want a number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi))
		}
		*field(s) = n
		return nil
	})
}

// lokiEnvVars are the CODOMYRMEX_LOG_LOKI_* variables.
var lokiEnvVars = []envVar{
	{"LOKI_URL", false, lokiVar(func(s *loki.Config, v string) error { s.URL = strings.TrimSpace(v); return nil })},
	{"LOKI_TENANT", false, lokiVar(func(s *loki.Config, v string) error { s.Tenant = v; return nil })},
	{"LOKI_USERNAME", false, lokiVar(func(s *loki.Config, v string) error { s.Username = v; return nil })},
	{"LOKI_PASSWORD", true, lokiVar(func(s *loki.Config, v string) error { s.Password = v; return nil })},
	{"LOKI_PASSWORD_FILE", false, lokiVar(func(s *loki.Config, v string) error { s.PasswordFile = v; return nil })},
	{"LOKI_BEARER_TOKEN", true, lokiVar(func(s *loki.Config, v string) error { s.BearerToken = v; return nil })},
	{"LOKI_BEARER_TOKEN_FILE", false, lokiVar(func(s *loki.Config, v string) error { s.BearerTokenFile = v; return nil })},
	{"LOKI_CA_FILE", false, lokiVar(func(s *loki.Config, v string) error { s.CAFile = v; return nil })},
	{"LOKI_LABELS", false, lokiVar(func(s *loki.Config, v string) error {
		l, err := loki.ParseLabels(v)
		if err != nil {
			return err
		}
		s.Labels = l
		return nil
	})},
	{"LOKI_BATCH_SIZE", false, lokiInt(func(s *loki.Config) *int { return &s.BatchSize }, 1024, 64<<20)},
	{"LOKI_BATCH_WAIT", false, lokiDuration(func(s *loki.Config) *time.Duration { return &s.BatchWait })},
	{"LOKI_QUEUE_SIZE", false, lokiInt(func(s *loki.Config) *int { return &s.QueueSize }, 1, 10_000_000)},
	{"LOKI_TIMEOUT", false, lokiDuration(func(s *loki.Config) *time.Duration { return &s.Timeout })},
	{"LOKI_FLUSH_TIMEOUT", false, lokiDuration(func(s *loki.Config) *time.Duration { return &s.FlushTimeout })},
	{"LOKI_ALLOW_INSECURE", false, lokiVar(func(s *loki.Config, v string) error {
		b, err := parseBool(v)
		s.AllowInsecure = b
		return err
	})},
	// Added for issue #23 (faults and hostile peers); keep at the end.
	{"LOKI_QUEUE_BYTES", false, lokiInt(func(s *loki.Config) *int { return &s.QueueBytes }, 1<<20, 1<<40)},
	{"LOKI_MAX_TRIES", false, lokiInt(func(s *loki.Config) *int { return &s.MaxTries }, 1, 1000)},
	{"LOKI_MAX_RETRY_AGE", false, lokiDuration(func(s *loki.Config) *time.Duration { return &s.MaxRetryAge })},
	// Added for issue #16 (a disk spool); keep at the end.
	{"LOKI_SPOOL_DIR", false, lokiVar(func(s *loki.Config, v string) error { s.SpoolDir = strings.TrimSpace(v); return nil })},
	{"LOKI_SPOOL_MAX_MB", false, lokiVar(func(s *loki.Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 1<<20 {
			return errors.New("want a number of MiB from 1 to 1048576")
		}
		s.SpoolMaxBytes = int64(n) << 20
		return nil
	})},
}

// lokiOwnLabels is how many labels the sink adds to the static ones: level,
// logger and security_event_type.
const lokiOwnLabels = 3

// checkLokiLabels checks the static labels against what Loki takes with
// the sink's own labels added, and that no value holds what the redactor
// would hide: a label is stored in Loki's index.
func checkLokiLabels(labels map[string]string) error {
	if len(labels) > loki.MaxLabels-lokiOwnLabels {
		return fmt.Errorf("%d labels: Loki takes at most %d per stream, and the sink adds %d of its own (level, logger, security_event_type)",
			len(labels), loki.MaxLabels, lokiOwnLabels)
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		switch k {
		case "level", "logger", "security_event_type":
			return fmt.Errorf("label %s: the sink sets it", k)
		}
		if v := labels[k]; Redact(v) != v {
			return fmt.Errorf("label %s: its value holds what redaction hides (a secret): a label is indexed by Loki, unredacted", k)
		}
	}
	return nil
}

func init() { envVars = append(envVars, lokiEnvVars...) }

// lokiSpoolOff, as LOKI_SPOOL_DIR, keeps the Loki sink in memory only,
// even with a FILE.
const lokiSpoolOff = "off"

// defaultLokiSpool is the spool directory of a Loki sink beside the log
// file file: <dir of file>/<base of file>.loki-spool.
func defaultLokiSpool(file string) string {
	return filepath.Join(filepath.Dir(file), filepath.Base(file)+".loki-spool")
}

// newLokiSink builds the Loki sink if a URL is set; the client reports its
// failures to report. Errors name the variable and never a secret.
func newLokiSink(c *config, report func(error)) (*lokiSink, error) {
	cfg := c.loki
	if cfg.URL == "" {
		return nil, nil
	}
	if cfg.MaxLineBytes > 0 && cfg.MaxLineBytes < minLokiLine {
		return nil, &ConfigError{Name: "WithLoki", Value: strconv.Itoa(cfg.MaxLineBytes),
			Err: fmt.Errorf("MaxLineBytes: want 0 (the default) or at least %d, room for a record shortened as JSON", minLokiLine)}
	}
	if user := cfg.OnError; user != nil {
		cfg.OnError = func(err error) { report(err); user(err) } // the config's own callback too
	} else {
		cfg.OnError = report
	}
	switch {
	case cfg.SpoolDir == lokiSpoolOff:
		cfg.SpoolDir = ""
	case cfg.SpoolDir == "" && c.file != "":
		cfg.SpoolDir = defaultLokiSpool(c.file)
	}
	if err := checkLokiLabels(cfg.Labels); err != nil {
		return nil, &ConfigError{Name: EnvPrefix + "LOKI_LABELS", Value: "", Err: err}
	}
	client, err := loki.New(cfg)
	if err != nil {
		var fe *loki.FileError
		if errors.As(err, &fe) {
			return nil, &ConfigError{Name: EnvPrefix + "LOKI_" + fe.Field, Value: fe.Path, Err: fe.Err}
		}
		var fie *loki.FieldError
		if errors.As(err, &fie) && fie.Field != "URL" {
			// The problem names the value where it may (bounded); the
			// variable's value itself is not repeated: it may be a secret
			// or megabytes long.
			return nil, &ConfigError{Name: EnvPrefix + "LOKI_" + fie.Field, Value: notShown, Err: err}
		}
		u := Redact(cfg.URL)
		if len(u) > 512 {
			u = strings.ToValidUTF8(u[:512], "") + "…" // the problem is in the message; the URL's start says which
		}
		return nil, &ConfigError{Name: EnvPrefix + "LOKI_URL", Value: u, Err: err}
	}
	ls := &lokiSink{client: client, maxLine: cfg.MaxLineBytes, clock: c.clock, stop: make(chan struct{}), done: make(chan struct{})}
	if ls.maxLine == 0 {
		ls.maxLine = loki.DefaultMaxLineBytes
	}
	go every(c.clock.NewTicker(lokiSummaryInterval), ls.stop, ls.done, ls.summarize) // drops summarized in a WARNING record
	return ls, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
