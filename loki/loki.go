// Package loki is a client for Grafana Loki's push API that never blocks its
// caller: Push puts a line in a bounded queue and returns; a background
// goroutine batches lines by size and time, encodes them (Loki's protobuf
// compressed by snappy, or gzipped JSON) and POSTs them to
// /loki/api/v1/push, retrying throttling, server and network errors with
// exponential backoff and jitter (honouring Retry-After) up to MaxTries
// tries and MaxRetryAge. It never follows a redirect; its memory is bounded
// by QueueBytes and QueueSize; Close leaves no goroutine or connection.
//
// With Config.SpoolDir, records Loki cannot take yet wait on disk instead:
// a batch whose push fails goes to the spool at once (one Loki refused with
// 400, 413 or 422 to be split from there), and so do the queue's oldest
// records while the queue is over half full (and what Close could not
// send). The spool is sent first, oldest first, by this client or the next
// one started on the same directory; a segment file is deleted once all its
// records were accepted or given up.
//
// A push Loki leaves unanswered for HangAfter (1s by default) means Loki
// hangs: its batch is written to the spool then, while the push goes on
// (a 2xx after all counts it sent, and its copy in the spool is passed
// over, never sent again); from then on, and while an outage lasts, what
// Push queues goes to the spool at the sender's next wake, so that a
// crash loses only what the sender has not woken for yet (see the
// README's "Central logging with Loki" for the whole window).
//
// Two kinds of failure are told apart. Loki unreachable (a network error,
// no answer, 429, 502, 503, 504) or refusing the client itself (a 3xx,
// 401, 403, 404: the URL, the credentials, the tenant) is an outage: with
// a spool it is waited out without bound, nothing dropped while the spool
// has room. A definite answer about the batch (400, 413, 422 at once; 500
// and other 5xx after MaxTries tries or MaxRetryAge) gives the batch up,
// spooled or not: it is split to find the records Loki refuses, and only
// those are dropped, counted and reported; the batches behind it go on.
// Each episode of failures is reported once (again if its cause changes),
// and its end with what it cost.
//
// The root package wires it in when CODOMYRMEX_LOG_LOKI_URL is set; it can
// also be used alone. Package lokitest is a fake Loki for tests.
package loki

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/codomyrmex/logging/internal/securefile"
)

// Config configures a Client. The zero values of the sizes and durations
// take the defaults below.
type Config struct {
	URL             string            // base URL, such as https://loki.example:3100
	Tenant          string            // sent as X-Scope-OrgID
	Username        string            // basic auth
	Password        string            // basic auth
	PasswordFile    string            // a file holding Password (one final newline trimmed), read by New
	BearerToken     string            // Authorization: Bearer
	BearerTokenFile string            // a file holding BearerToken (one final newline trimmed), read by New
	CAFile          string            // PEM file of CAs to trust, in addition to none: replaces the system pool
	Labels          map[string]string // static labels of every stream
	BatchSize       int               // bytes of lines per push; default 1 MiB
	BatchWait       time.Duration     // longest a line waits for its batch; default 1s
	QueueSize       int               // records held while waiting to be sent; default 1,048,576 (QueueBytes bounds them first)
	Timeout         time.Duration     // per HTTP request; default 10s
	FlushTimeout    time.Duration     // how long Close may take to send what is queued; default 5s
	AllowInsecure   bool              // allow credentials over plain http to a non-loopback host
	MaxBackoff      time.Duration     // cap of the retry backoff; default 10s
	OnError         func(error)       // called with every failed push (never with a secret)
	HTTPClient      *http.Client      // optional; overrides CAFile (Timeout still bounds each request)
	MaxLineBytes    int               // lines longer than this are cut (see PushLabeled); default 256 KiB
	JSON            bool              // push gzipped JSON instead of snappy-compressed protobuf
	QueueBytes      int               // bytes of lines held while waiting to be sent; default 64 MiB
	MaxTries        int               // tries of one batch before it is dropped; default 10
	MaxRetryAge     time.Duration     // longest a batch is retried after its first failure; default 5m
	// SpoolDir, if set, is a directory where records wait on disk while
	// Loki is unreachable or the memory queue is over half full, to be sent
	// later, by this client or the next one started with the same
	// directory (see the package documentation). Empty: memory only.
	SpoolDir      string
	SpoolMaxBytes int64 // bytes of the spool's files, at most; default 256 MiB
	// HangAfter, with a spool, is how long a push may go unanswered before
	// Loki counts as hanging: the batch being pushed is then written to
	// the spool (and taken out again, unsent, if Loki answers 2xx after
	// all), and until Loki answers, what is queued goes to the spool at
	// each wake of the sender instead of waiting in memory. Default 1s;
	// it bounds how long a record can be pushed but neither sent nor on
	// disk while Loki hangs.
	HangAfter      time.Duration
	retryBaseDelay time.Duration
	// after is the clock of every wait: the batch wait, a request's
	// timeout, HangAfter, retry backoff and Retry-After, and Close's flush
	// deadline.
	// It is time.After unless a test drives time itself.
	after func(time.Duration) <-chan time.Time
}

// Limits of the files New reads. A credential is far smaller than
// MaxSecretFileSize, and a CA bundle of hundreds of certificates fits in
// MaxCAFileSize: a larger file is a mistake (or an attack), refused rather
// than read.
const (
	MaxSecretFileSize = 64 << 10 // PasswordFile, BearerTokenFile: 64 KiB
	MaxCAFileSize     = 1 << 20  // CAFile: 1 MiB
)

// Defaults.
const (
	DefaultBatchSize    = 1 << 20
	DefaultBatchWait    = time.Second
	DefaultQueueSize    = DefaultQueueBytes / entryOverhead // the bound in bytes is the one that counts
	DefaultTimeout      = 10 * time.Second
	DefaultFlushTimeout = 5 * time.Second
	DefaultMaxLineBytes = 256 << 10
	DefaultQueueBytes   = 64 << 20
	DefaultMaxTries     = 10 // as Promtail and Grafana Alloy
	DefaultMaxRetryAge  = 5 * time.Minute
	DefaultHangAfter    = time.Second
)

// Loki's own limits (its defaults): a label set or tenant beyond them makes
// every push that carries it fail, so Validate refuses them and LabelSet
// leaves such labels out.
const (
	MaxLabelNameBytes  = 1024 // max_label_name_length
	MaxLabelValueBytes = 2048 // max_label_value_length
	MaxLabels          = 15   // max_label_names_per_series
	MaxTenantBytes     = 150  // the longest tenant ID Loki takes
)

// entryOverhead is what a queued entry costs besides its line, counted
// against QueueBytes.
const entryOverhead = 64

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ValidLabelName reports whether name is a valid Loki label name: letters,
// digits and underscores, not starting with a digit, and not reserved
// (starting with "__").
func ValidLabelName(name string) bool {
	return labelName.MatchString(name) && !strings.HasPrefix(name, "__")
}

// ParseLabels parses "service=api,env=prod" and validates the names and
// values, as Validate does.
func ParseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return nil, fmt.Errorf("label %q: want name=value", part)
		}
		if err := checkLabel(k, v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// validLabelValue reports whether v may be a label's value: not empty,
// valid UTF-8, and without a control character (Loki rejects a batch of
// streams whose labels do not parse).
func validLabelValue(v string) bool {
	return v != "" && utf8.ValidString(v) && !strings.ContainsFunc(v, unicode.IsControl)
}

// checkLabel checks a static label; the error quotes the name and value,
// cut to a bounded length.
func checkLabel(name, value string) error {
	if !ValidLabelName(name) || len(name) > MaxLabelNameBytes {
		return fmt.Errorf("label name %s: want [a-zA-Z_][a-zA-Z0-9_]* not starting with __, at most %d bytes", Quote(name, 64), MaxLabelNameBytes)
	}
	if !validLabelValue(value) {
		return fmt.Errorf("label %s: value %s: want UTF-8 text, not empty, without control characters", name, Quote(value, 64))
	}
	if len(value) > MaxLabelValueBytes {
		return fmt.Errorf("label %s: value of %d bytes: Loki takes at most %d", name, len(value), MaxLabelValueBytes)
	}
	return nil
}

// checkTenant checks a tenant ID as Loki does: at most MaxTenantBytes of
// letters, digits and !-_.*'(), and neither "." nor "..".
func checkTenant(t string) error {
	if len(t) > MaxTenantBytes {
		return fmt.Errorf("a tenant of %d bytes: Loki takes at most %d", len(t), MaxTenantBytes)
	}
	if t == "." || t == ".." {
		return errors.New(`"." and ".." are not tenant IDs`)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!-_.*'()", c) >= 0) {
			return fmt.Errorf("the character %s: a tenant ID takes letters, digits and !-_.*'() only", Quote(t[i:i+1], 4))
		}
	}
	return nil
}

// Quote quotes s, cut to at most max bytes on a character boundary (with
// "…" after), control characters and invalid UTF-8 escaped: text chosen by
// someone else, made safe to put in an error.
func Quote(s string, max int) string {
	if len(s) <= max {
		return strconv.Quote(s)
	}
	i := max
	for j := 0; j < utf8.UTFMax-1 && i > 0 && !utf8.RuneStart(s[i]); j++ {
		i--
	}
	return strconv.Quote(s[:i]) + "…"
}

// A FieldError is a value of a Config that Validate refuses. Field is the
// name of the field as its variable is named (TENANT, LABELS, QUEUE_BYTES,
// …), so that a caller configuring from the environment can name the
// variable; Err never holds a password or token.
type FieldError struct {
	Field string
	Err   error
}

// Error returns the problem, which names the field.
func (e *FieldError) Error() string { return e.Err.Error() }

// Unwrap returns the problem.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldError(field string, err error) error { return &FieldError{Field: field, Err: err} }

// checkHeaderValue checks that v may be an HTTP header field's value, by
// the rule of net/http (httpguts.ValidHeaderFieldValue): no control
// character but horizontal tab, so no CR, LF or NUL that would end the
// header or smuggle another. The error names the character, never v.
func checkHeaderValue(v string) error {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
			return fmt.Errorf("not a valid HTTP header value: it holds the control character %#02x", b)
		}
	}
	return nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Validate checks c without connecting; errors never contain a secret.
// Every value that becomes part of a request is checked: the URL must
// parse, without control characters; Tenant (X-Scope-OrgID), Username,
// Password and BearerToken (Authorization) must be valid HTTP header values
// (no CR, LF, NUL or other control character), and Username must not hold
// the colon that ends it in basic auth; static labels need valid names and
// non-empty UTF-8 values without control characters. An error names the
// field; it quotes a tenant, a user name or a label, never Password or
// BearerToken.
//
// Loki's limits are checked too: a tenant of at most MaxTenantBytes of
// letters, digits and !-_.*'(); at most MaxLabels static labels, names of
// at most MaxLabelNameBytes and values of at most MaxLabelValueBytes. A
// refused value is a *FieldError naming the field as its variable is named.
func (c *Config) Validate() error {
	if strings.ContainsFunc(c.URL, unicode.IsControl) {
		return fieldError("URL", errors.New("URL: holds a control character"))
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fieldError("URL", errors.New("URL: want http:// or https:// with a host"))
	}
	if u.User != nil {
		return fieldError("URL", errors.New("URL: put credentials in USERNAME/PASSWORD, not in the URL"))
	}
	for _, h := range []struct {
		field, env, value string
		secret            bool
	}{{"Tenant", "TENANT", c.Tenant, false}, {"Username", "USERNAME", c.Username, false},
		{"Password", "PASSWORD", c.Password, true}, {"BearerToken", "BEARER_TOKEN", c.BearerToken, true}} {
		if err := checkHeaderValue(h.value); err != nil {
			if h.secret {
				// Not "BearerToken: not …", which reads as an assignment: a
				// scrubber would take "not" for the token.
				return fieldError(h.env, fmt.Errorf("%s is %w", h.field, err))
			}
			return fieldError(h.env, fmt.Errorf("%s %s: %w", h.field, Quote(h.value, 64), err))
		}
	}
	if err := checkTenant(c.Tenant); c.Tenant != "" && err != nil {
		return fieldError("TENANT", fmt.Errorf("the value of Tenant, %s: %w", Quote(c.Tenant, 64), err))
	}
	if strings.Contains(c.Username, ":") {
		return fieldError("USERNAME", fmt.Errorf("the colon in Username %s would end it: basic auth splits the user name from the password at the first colon", Quote(c.Username, 64)))
	}
	hasCreds := c.Password != "" || c.BearerToken != ""
	if u.Scheme == "http" && hasCreds && !c.AllowInsecure && !isLoopback(u.Hostname()) {
		return fieldError("URL", errors.New("refusing to send credentials over plain http to a non-loopback host (set ALLOW_INSECURE=true to override)"))
	}
	if c.Username != "" && c.Password == "" || c.Password != "" && c.Username == "" {
		return fieldError("USERNAME", errors.New("basic auth needs both USERNAME and PASSWORD"))
	}
	if c.BearerToken != "" && c.Password != "" {
		return fieldError("BEARER_TOKEN", errors.New("set either basic auth or a bearer token, not both"))
	}
	if len(c.Labels) > MaxLabels {
		return fieldError("LABELS", fmt.Errorf("%d labels: Loki takes at most %d per stream", len(c.Labels), MaxLabels))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		if err := checkLabel(k, c.Labels[k]); err != nil {
			return fieldError("LABELS", err)
		}
	}
	if c.BatchSize < 0 || c.QueueSize < 0 || c.BatchWait < 0 || c.Timeout < 0 || c.FlushTimeout < 0 || c.MaxBackoff < 0 ||
		c.MaxLineBytes < 0 || c.QueueBytes < 0 || c.MaxTries < 0 || c.MaxRetryAge < 0 || c.HangAfter < 0 {
		return errors.New("sizes and durations must not be negative")
	}
	if c.SpoolMaxBytes < 0 {
		return fieldError("SPOOL_MAX_MB", errors.New("SpoolMaxBytes must not be negative"))
	}
	if c.QueueBytes > 0 && c.QueueBytes < cmp.Or(c.MaxLineBytes, DefaultMaxLineBytes)+entryOverhead {
		return fieldError("QUEUE_BYTES", fmt.Errorf("QueueBytes %d: want room for at least one line of MaxLineBytes (%d) and %d bytes more",
			c.QueueBytes, cmp.Or(c.MaxLineBytes, DefaultMaxLineBytes), entryOverhead))
	}
	return nil
}

// Entry is one line for one stream.
type Entry struct {
	Labels   map[string]string // per-entry labels, added to the static ones (low cardinality only)
	Time     time.Time
	Line     string
	Priority bool // security events: dropped last when the queue is full
}

type queued struct {
	stream string // canonical label set, {a="b",c="d"}
	labels map[string]string
	ts     int64
	line   string
	prio   bool // a priority entry
}

// Stats are a client's counters. Every record pushed is eventually counted
// in exactly one of Sent or Dropped (Pending until then, or waiting in the
// spool: see Spooled and Replayed).
type Stats struct {
	Sent          uint64 // records Loki accepted
	Dropped       uint64 // records given up: queue (and spool) full, refused by Loki, tries spent, unsent at Close, or read back corrupt from the spool
	Retries       uint64 // push attempts that were retried
	FailedBatches uint64 // batches dropped (a refused batch split to its refused records counts each): see Client.send and Client.sendSpooled
	Pending       int    // records queued in memory or in the batch being sent (not those in the spool, a batch written there while its push hangs included)
	Spooled       uint64 // records written to the spool (Config.SpoolDir)
	Replayed      uint64 // records read back from the spool and accepted by Loki (counted in Sent too)
	SpoolTorn     uint64 // spool records skipped as torn or corrupt (a crash's torn tail), never sent
	// SpoolSkipped is the bytes of the spool passed over to find the next
	// whole record after one whose CRC failed or whose length was
	// impossible (a corrupt length field). The records lost in them are
	// not known one by one: each such stretch counts one in Dropped (the
	// bad record), and SpoolSkipped says how much more may be lost.
	SpoolSkipped uint64
	Outages      uint64 // episodes of failed pushes, each reported once when it began and once when it ended
}

// Client pushes lines to Loki.
type Client struct {
	cfg      Config
	pushURL  string
	http     *http.Client
	static   map[string]string
	mu       sync.Mutex
	normal   []queued
	priority []queued
	qbytes   int             // bytes of normal and priority, by cost
	own      *http.Transport // the transport New made, closed by Close; nil with Config.HTTPClient
	wake     chan struct{}
	stop     chan struct{} // closed by Close: the sender stops at its next wait, or once its push is answered
	stopMu   sync.Mutex    // Close asks for its deadline and closes stop under it; the sender asks for a wait under it (wait)
	abort    chan struct{} // closed when Close's flush deadline (or its ctx) expires: the push under way is cancelled
	done     chan struct{}
	closed   atomic.Bool

	sent, dropped, retries, failed atomic.Uint64
	spooled, replayed, torn        atomic.Uint64
	skippedBytes                   atomic.Uint64
	spool                          *spool // nil without SpoolDir; used by the sender, and by Close after it
	inFlight                       atomic.Int64
	outages                        atomic.Uint64

	// The sender's own (and Close's, after the sender stopped).
	ep      episode // the failures being reported
	down    bool    // the last push found Loki unreachable, or refusing the client
	closing bool    // Close is sending what is left
	hanging bool    // the last push went unanswered for HangAfter (await)
	carried int     // server errors of the batch last spooled, counted against MaxTries in the spool
	refused error   // why Loki refused the batch last spooled (400, 413, 422): the spool's sender splits it at once
}

// New reads the files of cfg (PasswordFile, BearerTokenFile: at most
// MaxSecretFileSize bytes each; CAFile: at most MaxCAFileSize), validates
// cfg and starts the client's sender goroutine. A file is read without
// blocking and must be a regular file (symbolic links are followed); a file
// New cannot use is a *FileError, which never holds the file's content.
func New(cfg Config) (*Client, error) {
	for _, f := range []struct {
		field, path string
		value       *string
	}{{"PASSWORD_FILE", cfg.PasswordFile, &cfg.Password}, {"BEARER_TOKEN_FILE", cfg.BearerTokenFile, &cfg.BearerToken}} {
		if f.path == "" {
			continue
		}
		if *f.value != "" {
			return nil, fileError(f.field, f.path, errors.New("set the value or its file, not both"))
		}
		v, err := securefile.ReadSecret(f.path, MaxSecretFileSize)
		if err == nil {
			err = checkHeaderValue(v) // as Validate would, but naming the file
		}
		if err != nil {
			return nil, fileError(f.field, f.path, err)
		}
		*f.value = v
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	defaultTo(&cfg.BatchSize, DefaultBatchSize)
	defaultTo(&cfg.BatchWait, DefaultBatchWait)
	defaultTo(&cfg.QueueSize, DefaultQueueSize)
	defaultTo(&cfg.Timeout, DefaultTimeout)
	defaultTo(&cfg.FlushTimeout, DefaultFlushTimeout)
	defaultTo(&cfg.MaxBackoff, 10*time.Second)
	defaultTo(&cfg.MaxLineBytes, DefaultMaxLineBytes)
	defaultTo(&cfg.QueueBytes, DefaultQueueBytes)
	defaultTo(&cfg.MaxTries, DefaultMaxTries)
	defaultTo(&cfg.MaxRetryAge, DefaultMaxRetryAge)
	defaultTo(&cfg.retryBaseDelay, 100*time.Millisecond)
	defaultTo(&cfg.SpoolMaxBytes, DefaultSpoolMaxBytes)
	defaultTo(&cfg.HangAfter, DefaultHangAfter)
	if cfg.after == nil {
		cfg.after = time.After
	}
	var own *http.Transport
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient // a copy: its CheckRedirect is set below
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := securefile.ReadFile(cfg.CAFile, MaxCAFileSize)
			if err != nil {
				return nil, fileError("CA_FILE", cfg.CAFile, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fileError("CA_FILE", cfg.CAFile, errors.New("no PEM certificate found"))
			}
			tr.TLSClientConfig.RootCAs = pool
		}
		hc = http.Client{Transport: tr} // post times each request out
		own = tr
	}
	// Loki's push API never redirects: a 3xx is a misconfigured URL (a
	// login page, a proxy) or an attack that would carry the credentials,
	// the tenant and the records elsewhere. It is answered as the failure
	// of the push, never followed.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{
		cfg:     cfg,
		pushURL: strings.TrimRight(cfg.URL, "/") + "/loki/api/v1/push",
		http:    &hc,
		own:     own,
		static:  cfg.Labels,
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		abort:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	if cfg.SpoolDir != "" {
		sp, err := openSpool(cfg.SpoolDir, cfg.SpoolMaxBytes, cfg.MaxLineBytes, c.report, func() { c.torn.Add(1) }, func() { c.dropped.Add(1) },
			func(n int64) { c.skippedBytes.Add(uint64(n)) })
		if err != nil {
			if own != nil {
				own.CloseIdleConnections()
			}
			return nil, fileError("SPOOL_DIR", cfg.SpoolDir, err)
		}
		c.spool = sp
	}
	go c.run()
	return c, nil
}

// streamKey renders the label set canonically.
func streamKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(strconv.Quote(labels[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// A LabelSet is a stream's labels prepared once for many entries: the
// client's static labels merged in, labels Loki would refuse left out
// (names that are invalid or longer than MaxLabelNameBytes; values that are
// empty, not UTF-8, hold a control character or are longer than
// MaxLabelValueBytes; the labels beyond MaxLabels, in name order), and the
// canonical key rendered. Make one with [Client.LabelSet] and push with
// [Client.PushLabeled] when many entries share labels.
type LabelSet struct {
	key    string
	labels map[string]string
}

// LabelSet prepares labels for PushLabeled.
func (c *Client) LabelSet(labels map[string]string) *LabelSet {
	merged := make(map[string]string, len(c.static)+len(labels))
	for k, v := range c.static {
		merged[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		_, replaces := merged[k]
		if ValidLabelName(k) && len(k) <= MaxLabelNameBytes && validLabelValue(v) && len(v) <= MaxLabelValueBytes &&
			(replaces || len(merged) < MaxLabels) {
			merged[k] = v
		}
	}
	return &LabelSet{key: streamKey(merged), labels: merged}
}

// Push queues e and returns at once. The queue holds at most QueueSize
// entries and QueueBytes bytes (each entry costs its line and 64 bytes).
// When it is full an ordinary entry is dropped (and counted); a priority
// entry takes the place of the oldest ordinary ones, and is dropped only
// when the queue holds nothing but priority entries. It reports whether e
// was queued.
func (c *Client) Push(e Entry) bool {
	return c.PushLabeled(c.LabelSet(e.Labels), e.Time, e.Line, e.Priority)
}

// PushLabeled is Push for an entry with prepared labels; it does not
// allocate beyond the queue's own growth for a line of valid UTF-8 within
// MaxLineBytes. Loki is never sent invalid UTF-8: a line's invalid bytes
// are replaced by U+FFFD, and a line longer than MaxLineBytes is cut on a
// character boundary and ends with a marker, "…[truncated N bytes]", within
// MaxLineBytes.
func (c *Client) PushLabeled(st *LabelSet, t time.Time, line string, priority bool) bool {
	if c.closed.Load() {
		c.dropped.Add(1)
		return false
	}
	if !utf8.ValidString(line) {
		line = strings.ToValidUTF8(line, "\uFFFD")
	}
	if len(line) > c.cfg.MaxLineBytes {
		line = truncate(line, c.cfg.MaxLineBytes)
	}
	q := queued{stream: st.key, labels: st.labels, ts: t.UnixNano(), line: line, prio: priority}
	cost := q.cost()
	c.mu.Lock()
	full := func() bool {
		return len(c.normal)+len(c.priority) >= c.cfg.QueueSize || c.qbytes+cost > c.cfg.QueueBytes
	}
	for priority && full() && len(c.normal) > 0 {
		c.qbytes -= c.normal[0].cost()
		c.normal[0] = queued{} // let its line go
		c.normal = c.normal[1:]
		c.dropped.Add(1)
	}
	ok := !full()
	if ok {
		if priority {
			c.priority = append(c.priority, q)
		} else {
			c.normal = append(c.normal, q)
		}
		c.qbytes += cost
	}
	n, qb := len(c.normal)+len(c.priority), c.qbytes
	c.mu.Unlock()
	if !ok {
		c.dropped.Add(1)
		return false
	}
	// The first entry of an empty queue wakes the sender, which has no timer
	// while idle; so does a queue that holds a batch.
	// With a spool, so does a queue over half full: the sender spools it.
	if n == 1 || qb >= c.cfg.BatchSize || c.spool != nil && c.overHalf(n, qb) {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// overHalf reports whether a queue of n entries and qb bytes is over half
// full: the sender then moves its oldest entries to the spool.
func (c *Client) overHalf(n, qb int) bool {
	return n > c.cfg.QueueSize/2 || qb > c.cfg.QueueBytes/2
}

// cost is what q counts against QueueBytes.
func (q *queued) cost() int { return len(q.line) + entryOverhead }

// truncate cuts line, valid UTF-8 longer than max bytes, to at most max
// bytes: as much of it as fits, cut on a character boundary, then
// "…[truncated N bytes]" saying how much was cut. Where max leaves no room
// for the marker, the line is only cut.
func truncate(line string, max int) string {
	const before, after = "…[truncated ", " bytes]"
	// N is at most len(line): room for its digits is room for N.
	keep := max - len(before) - len(strconv.Itoa(len(line))) - len(after)
	marked := keep >= 0
	if !marked {
		keep = max
	}
	for keep > 0 && !utf8.RuneStart(line[keep]) {
		keep--
	}
	if !marked {
		return strings.Clone(line[:keep]) // not a slice that keeps all of line alive
	}
	return line[:keep] + before + strconv.Itoa(len(line)-keep) + after
}

// take removes up to maxBytes of entries, priority first, in queue order.
func (c *Client) take(maxBytes int) []queued {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []queued
	size := 0
	for _, q := range []*[]queued{&c.priority, &c.normal} {
		i := 0
		for ; i < len(*q) && (size < maxBytes || len(out) == 0); i++ {
			out = append(out, (*q)[i])
			size += len((*q)[i].line) + 32
			c.qbytes -= (*q)[i].cost()
			(*q)[i] = queued{}
		}
		*q = (*q)[i:]
		if len(*q) == 0 {
			*q = nil
		}
	}
	c.inFlight.Store(int64(len(out)))
	return out
}

func (c *Client) queueLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.normal) + len(c.priority)
}

// run is the sender goroutine. Woken by Push, it lets a batch fill up for
// BatchWait unless it is full already, then sends until the queue is empty.
// It needs no timer while the queue is empty: it goes idle only once it has
// seen the queue empty, and the Push that queues the next entry wakes it.
//
// Records in the spool are sent first, at once, those of an earlier
// process included.
func (c *Client) run() {
	defer close(c.done)
	for {
		c.spool.acquire()
		if !c.spool.has() {
			select {
			case <-c.stop:
				return
			case <-c.wake:
			}
			if c.queueBytesApprox() < c.cfg.BatchSize && !c.spoolDue() {
				select {
				case <-c.wait(c.cfg.BatchWait, c.stop):
				case <-c.stop:
					return
				}
			}
		}
		if !c.drain(c.stop) {
			return // stopping: the batch went back to the queue, or stays in the spool
		}
	}
}

// waitsInSpool reports whether Close should leave what is left to the
// spool at once: Loki is known down (the last push found it unreachable,
// or refusing the client), and the spool can keep the records.
func (c *Client) waitsInSpool() bool { return c.closing && c.down && c.spool.writable() }

// spoolDue reports whether the queue should be spooled now.
func (c *Client) spoolDue() bool {
	if !c.spool.roomy() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.overHalf(len(c.normal)+len(c.priority), c.qbytes)
}

// drain sends the spool, oldest first, then the queue, until both are
// empty; it returns false if stop closed first. A queue over half full is
// moved to the spool first.
func (c *Client) drain(stop <-chan struct{}) bool {
	c.spool.acquire() // if another client had it, and let it go
	for {
		select {
		case <-stop: // a push is never begun once stopping: what is left is Close's
			return false
		default:
		}
		if c.waitsInSpool() {
			return false
		}
		c.spill(false)
		if c.spool.has() {
			if !c.sendSpooled(stop) {
				return false
			}
			continue
		}
		if c.queueLen() == 0 {
			return true
		}
		if !c.send(c.take(c.cfg.BatchSize), stop) {
			return false
		}
	}
}

// spill moves the queue's oldest entries (priority first, as they would
// be sent) to the spool: while the queue is over half full, or all of it.
// What the spool has no room for stays queued.
func (c *Client) spill(all bool) {
	for c.spool.roomy() && (all && c.queueLen() > 0 || c.spoolDue()) {
		batch := c.take(c.cfg.BatchSize)
		if !c.spoolBatch(batch) {
			return
		}
	}
}

// spoolBatch writes batch, taken from the queue, to the spool; what does
// not fit goes back to the queue's front. It reports whether all of it was
// written.
func (c *Client) spoolBatch(batch []queued) bool {
	n := c.spool.append(batch)
	c.spooled.Add(uint64(n))
	if n < len(batch) {
		c.requeue(batch[n:])
		return false
	}
	c.inFlight.Store(0)
	return true
}

// An outcome is what a push's answer says of Loki and of the batch.
type outcome int

const (
	// pushed: a 2xx, the batch is stored.
	pushed outcome = iota
	// unreachable: a network error, no answer within Timeout, 408, 425,
	// 429, 502, 503 or 504. Loki (or the way to it) takes nothing now: an
	// outage, waited out in the spool without bound, or retried up to
	// MaxTries and MaxRetryAge without a spool.
	unreachable
	// refusedUs: a 3xx (never followed), 401, 403, 404 or another 4xx that
	// is not about the batch: the URL, the credentials or the tenant are
	// wrong, and nothing will pass until they are fixed. With a spool the
	// records wait there, as in an outage; without, the batch is dropped.
	refusedUs
	// badBatch: 400, 413 or 422. Loki refused this batch (a record it will
	// never take, a body too large): not retried, split to find the
	// records it refuses; those are dropped.
	badBatch
	// serverError: 500 and the other 5xx, and any other status. Retried up
	// to MaxTries tries and MaxRetryAge, in the spool too; then split as a
	// bad batch.
	serverError
)

// classify sorts a push's answer (or its failure, err) into an outcome.
func classify(ans answer, err error) outcome {
	if err != nil {
		return unreachable
	}
	switch s := ans.status; {
	case s/100 == 2:
		return pushed
	case s == http.StatusRequestTimeout, s == http.StatusTooEarly, s == http.StatusTooManyRequests,
		s == http.StatusBadGateway, s == http.StatusServiceUnavailable, s == http.StatusGatewayTimeout:
		return unreachable
	case s == http.StatusBadRequest, s == http.StatusRequestEntityTooLarge, s == http.StatusUnprocessableEntity:
		return badBatch
	case s/100 == 3, s/100 == 4:
		return refusedUs
	}
	return serverError
}

// cause renders a failed push for a report, and gives the key of its
// cause: the reports of one episode of failures are made once per key.
func (c *Client) cause(ans answer, err error, batch []queued) (key, text string) {
	switch {
	case err != nil:
		return "network", err.Error()
	case ans.status/100 == 3:
		return "HTTP " + strconv.Itoa(ans.status), fmt.Sprintf("loki answered HTTP %d, a redirect to %s, which is not followed (Loki's push API never redirects: check the URL)",
			ans.status, ans.location)
	case ans.status/100 == 4:
		return "HTTP " + strconv.Itoa(ans.status), fmt.Sprintf("HTTP %d: %s", ans.status, c.reason(ans.body, batch))
	}
	return "HTTP " + strconv.Itoa(ans.status), fmt.Sprintf("HTTP %d", ans.status)
}

// episode is the sender's account of a run of failed pushes, so that a
// persistent failure is reported once (and again only if its cause
// changes), its drops are reported once and then counted, and its end is
// reported with the counts. Only the sender (and Close, after it) use it.
type episode struct {
	key      string // the cause of the last failure; "" while pushes succeed
	failed   uint64 // failed pushes
	batches  uint64 // batches dropped
	records  uint64 // records dropped with them
	reported bool   // a drop was reported
}

// failure records a failed push and reports it if it begins an episode or
// changes its cause. what says what becomes of the records meanwhile;
// empty, the failure is not reported: a drop that follows reports it.
func (c *Client) failure(key, text, what string) {
	e := &c.ep
	e.failed++
	if e.key == key {
		return
	}
	if e.key == "" {
		c.outages.Add(1)
	}
	e.key = key
	if what == "" {
		return
	}
	c.report(fmt.Errorf("loki push failed: %s; %s (reported once until it recovers)", text, what))
}

// recovered ends an episode of failures, reporting it with its counts.
func (c *Client) recovered() {
	e := &c.ep
	c.down = false
	if e.key == "" {
		return
	}
	c.report(fmt.Errorf("loki push recovered after %d failed pushes (last %s); %d records in %d batches dropped meanwhile",
		e.failed, e.key, e.records, e.batches))
	*e = episode{}
}

// drop gives a batch up: counted, and reported if it is the first drop of
// the episode (the others are counted, and summed up at its end).
func (c *Client) drop(batch []queued, err error) {
	c.failed.Add(1)
	c.dropped.Add(uint64(len(batch)))
	c.inFlight.Store(0)
	e := &c.ep
	if e.key == "" {
		c.outages.Add(1)
		e.key = "dropped"
	}
	e.batches++
	e.records += uint64(len(batch))
	if !e.reported {
		e.reported = true
		c.report(fmt.Errorf("%w (further drops are counted until pushes succeed again)", err))
	}
}

// encodeBatch is the push body of batch.
func (c *Client) encodeBatch(batch []queued) ([]byte, error) {
	if c.cfg.JSON {
		return encode(batch)
	}
	return encodeProtobuf(batch), nil
}

// split looks for the records Loki refuses in a batch it refused for good
// (why says how), so that one bad record does not take the others with
// it: the batch's two halves are sent, once each; a half Loki takes is
// sent; if it refuses one half only, that half is split in turn, down to
// the record, which is dropped; if it refuses both, the refusal is not
// about one record, and both are dropped (so that a batch Loki refuses
// whole costs three pushes, and a batch with one bad record about twice
// the logarithm of its length). It returns, in order, what is left when
// Loki stopped answering (an outage, a refusal of the URL or credentials,
// or stop): the caller goes on with it as with a failed batch. spooled
// says the records come from the spool (they count as Replayed once sent,
// and their pushes are watched for a hang by await).
func (c *Client) split(batch []queued, why error, spooled bool, stop <-chan struct{}) []queued {
	for len(batch) > 1 {
		h := len(batch) / 2
		halves := [2][]queued{batch[:h], batch[h:]}
		var refused [][]queued
		for i, p := range halves {
			body, err := c.encodeBatch(p)
			if err != nil {
				c.drop(p, err)
				continue
			}
			var ans answer
			if spooled {
				// On disk: watched for a hang as any push of the spool, so
				// that what is queued meanwhile goes to the spool too.
				ans, _, err = c.await(body, nil, stop)
			} else {
				ans, err = c.post(body, nil)
			}
			switch classify(ans, err) {
			case pushed:
				c.sent.Add(uint64(len(p)))
				if spooled {
					c.replayed.Add(uint64(len(p)))
				}
			case badBatch, serverError:
				refused = append(refused, p)
				_, text := c.cause(ans, err, p)
				why = fmt.Errorf("loki refused a part of %d records of a batch it refused: %s", len(p), text)
			default:
				var rest []queued
				for _, p := range append(refused, halves[i:]...) {
					rest = append(rest, p...)
				}
				return rest
			}
		}
		switch len(refused) {
		case 0:
			return nil
		case 1:
			batch = refused[0]
			continue
		}
		c.drop(batch, fmt.Errorf("%w, and the other half too: %d records dropped", why, len(batch)))
		return nil
	}
	if len(batch) == 1 {
		c.drop(batch, fmt.Errorf("%w: 1 record dropped", why))
	}
	return nil
}

// sendSpooled sends the spool's oldest records until Loki takes them or
// they are given up. Loki unreachable (network error, 429, 502, 503, 504)
// or refusing the client itself (3xx, 401, 403, 404: the URL or the
// credentials) is waited out without bound, with backoff, the records
// kept on disk, while the queue is spooled as it fills: an outage loses
// nothing the spool has room for. A batch Loki refuses (400, 413, 422), or
// answers with a server error (500, …) MaxTries times or for MaxRetryAge,
// is split to find the records it refuses, and those are dropped and
// counted: one bad record cannot block the spool, nor take others with it.
// It returns false if stop closed first, or if Close found Loki
// unreachable: the records stay in the spool.
func (c *Client) sendSpooled(stop <-chan struct{}) bool {
	batch := c.spool.next(c.cfg.BatchSize)
	if len(batch) == 0 {
		return true
	}
	delay := c.cfg.retryBaseDelay
	tries := c.carried // server errors the batch met before it was spooled
	c.carried = 0
	refused := c.refused // Loki refused the batch before it was spooled: it is split at once
	c.refused = nil
	var expired <-chan time.Time // MaxRetryAge after the first server error
	aged := false
	for {
		var ans answer
		out, key, text := badBatch, "", ""
		if refused == nil {
			body, err := c.encodeBatch(batch)
			if err != nil {
				c.drop(batch, err)
				c.spool.commit()
				return true
			}
			ans, _, err = c.await(body, nil, stop)
			out = classify(ans, err)
			key, text = c.cause(ans, err, batch)
		}
		if out == serverError {
			tries++
			aged = c.agedOut(&expired, aged)
		}
		var why error
		switch {
		case refused != nil: // its failure was counted when it was refused
			why, refused = refused, nil
		case out == pushed:
			c.sent.Add(uint64(len(batch)))
			c.replayed.Add(uint64(len(batch)))
			c.spool.commit()
			c.recovered()
			return true
		case out == badBatch:
			why = fmt.Errorf("loki refused a batch of %d spooled records: %s", len(batch), text)
		case out == serverError && aged:
			why = fmt.Errorf("loki push of %d spooled records failed %d times in %v, last with %s", len(batch), tries, c.cfg.MaxRetryAge, text)
		case out == serverError && tries >= c.cfg.MaxTries:
			why = fmt.Errorf("loki push of %d spooled records failed %d times, last with %s", len(batch), tries, text)
		}
		if why != nil {
			if key != "" {
				c.failure(key, text, "")
			}
			rest := c.split(batch, why, true, stop)
			if len(rest) == 0 {
				c.spool.commit()
				return true
			}
			// Loki stopped answering midway: the rest waits, as in an outage.
			batch, tries, expired, aged = rest, 0, nil, false
			c.spool.pending = rest
			if stopped(stop) || c.waitsInSpool() {
				return false
			}
			continue
		}
		select {
		case <-stop:
			return false
		default:
		}
		switch out {
		case unreachable:
			c.down = true
			c.failure(key, text, "records wait in the spool")
		case refusedUs:
			c.down = true
			c.failure(key, text, "records wait in the spool until Loki takes them (check the URL and the credentials)")
		default:
			c.failure(key, text, "retrying")
		}
		if c.waitsInSpool() {
			return false // Close does not wait out an outage: the records are on disk
		}
		c.retries.Add(1)
		wait := delay/2 + rand.N(delay/2+1)
		if ans.retryAfter > 0 {
			wait = ans.retryAfter
		}
		// What waits in memory goes to the spool now, and so does what is
		// pushed while the retry waits, so that a crash during an outage
		// loses nothing the spool had room for.
		c.spill(true)
		timer := c.wait(wait, stop)
	waiting:
		for {
			select {
			case <-timer:
				break waiting
			case <-expired: // the last try is made at once
				aged = true
				break waiting
			case <-c.wake:
				c.spill(true)
			case <-stop:
				return false
			}
		}
		delay = min(delay*2, c.cfg.MaxBackoff)
	}
}

// wait is a wait of the sender (the batch wait, a backoff) of d, or nil
// (never ready) once stop is closed: no wait of the sender begins after
// Close asked for its flush deadline, so that a test's clock sees the
// sender's waits before Close's.
func (c *Client) wait(d time.Duration, stop <-chan struct{}) <-chan time.Time {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if stopped(stop) {
		return nil
	}
	return c.cfg.after(d)
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

func (c *Client) queueBytesApprox() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.qbytes
}

// send pushes batch until it is accepted, given up, or, with a spool,
// moved there. It returns false if stop closed first; the batch is then
// put back at the queue's front.
//
// A batch counts as sent only when its POST got a 2xx. A batch Loki
// refuses (400, 413, 422) is split to find the records it refuses, which
// are dropped; with a writable spool it is split from there (Client.refused). Any other failure, with a writable spool, moves the batch
// to the spool, whose sender applies the rules of sendSpooled. Without a
// spool, a network error, 429 or 5xx is retried with capped exponential
// backoff and jitter (or as Retry-After says, within MaxBackoff), up to
// MaxTries tries and for at most MaxRetryAge after the first failure; then
// the batch is split as a refused one. A 3xx (never followed) or a 4xx
// that refuses the client itself (401, 403, 404, …) drops the batch at
// once. Failures are reported once per episode (see episode).
func (c *Client) send(batch []queued, stop <-chan struct{}) bool {
	delay := c.cfg.retryBaseDelay
	var expired <-chan time.Time // MaxRetryAge after the first failure
	aged := false                // expired has fired
	for attempt := 1; ; attempt++ {
		body, err := c.encodeBatch(batch)
		if err != nil {
			c.drop(batch, err)
			return true
		}
		ans, spooled, err := c.await(body, batch, stop)
		out := classify(ans, err)
		key, text := c.cause(ans, err, batch)
		if out == pushed {
			c.sent.Add(uint64(len(batch)))
			c.spool.sent(spooled) // its copy in the spool is not sent again
			c.inFlight.Store(0)
			c.recovered()
			return true
		}
		if out == badBatch && spooled > 0 {
			// Loki refused the batch after it was spooled while Loki hung:
			// it is split from the spool, by the spool's sender. What did
			// not fit in the spool waits in memory, behind it.
			c.failure(key, text, "")
			c.requeue(batch[spooled:])
			return true
		}
		if out == badBatch && c.spool.writable() && !c.spool.has() {
			// Split from the spool, by the spool's sender, whose pushes are
			// watched for a hang as this one was: the records wait on disk
			// while the halves are sent, and so does what is queued
			// meanwhile if Loki hangs. What the spool has no room for
			// waits in memory, behind it.
			c.failure(key, text, "")
			n := c.spool.append(batch)
			c.spooled.Add(uint64(n))
			if n > 0 {
				c.refused = fmt.Errorf("loki rejected a batch of %d records: %s", n, text)
				c.requeue(batch[n:])
				return true
			}
		}
		if out == badBatch {
			c.failure(key, text, "")
			rest := c.split(batch, fmt.Errorf("loki rejected a batch of %d records: %s", len(batch), text), false, stop)
			if len(rest) == 0 {
				c.inFlight.Store(0)
				return true
			}
			if stopped(stop) {
				c.requeue(rest) // never pushed, or its push failed: Close sends it
				return false
			}
			batch = rest // Loki stopped answering midway: the rest is handled as a failed batch
			continue
		}
		select {
		case <-stop: // stopping after a failed push: Close sends the batch again (from the spool if it is there), or spools it
			c.requeue(batch[spooled:])
			return false
		default:
		}
		if out != serverError {
			c.down = true
		}
		if spooled > 0 || c.spool.writable() {
			// The batch waits in the spool, and the sender sends the spool,
			// retrying, before the queue. What the spool has no room for
			// waits in the queue. A batch spooled while Loki hung is there
			// already, first.
			empty := spooled > 0 || !c.spool.has()
			n := spooled
			if n == 0 {
				n = c.spool.append(batch)
				c.spooled.Add(uint64(n))
			}
			if n > 0 || c.spool.has() {
				if empty && out == serverError {
					c.carried = 1 // its try counts in the spool
				}
				c.requeue(batch[n:])
				c.failure(key, text, "records wait in the spool")
				return true
			}
			// Nothing written to an empty spool (its writing failed): the
			// batch is handled as without a spool.
		}
		if out == refusedUs {
			c.failure(key, text, "")
			c.drop(batch, fmt.Errorf("loki push failed: %s: a batch of %d records dropped", text, len(batch)))
			return true
		}
		aged = c.agedOut(&expired, aged)
		spent := ""
		switch {
		case aged:
			spent = fmt.Sprintf("%d times in %v", attempt, c.cfg.MaxRetryAge)
		case attempt >= c.cfg.MaxTries:
			spent = fmt.Sprintf("%d times", attempt)
		}
		c.failure(key, text, "retrying")
		if spent != "" {
			why := fmt.Errorf("loki push failed %s, last with %s: a batch of %d records dropped", spent, text, len(batch))
			if out == unreachable {
				c.drop(batch, why) // splitting would not help
				return true
			}
			rest := c.split(batch, why, false, stop)
			if len(rest) == 0 {
				c.inFlight.Store(0)
				return true
			}
			if stopped(stop) {
				c.requeue(rest)
				return false
			}
			batch, attempt, delay, expired, aged = rest, 0, c.cfg.retryBaseDelay, nil, false
			continue
		}
		c.retries.Add(1)
		wait := delay/2 + rand.N(delay/2+1)
		if ans.retryAfter > 0 {
			wait = ans.retryAfter
		}
		select {
		case <-c.wait(wait, stop):
		case <-expired: // the last try is made at once
			aged = true
		case <-stop:
			c.requeue(batch)
			return false
		}
		delay = min(delay*2, c.cfg.MaxBackoff)
	}
}

// await posts body and waits for Loki's answer, and gives it. Without a
// writable spool, it is post. With one, the request runs in a goroutine of
// its own (ended when await returns) while the sender, which owns the
// spool, watches it:
//
//   - a push unanswered after HangAfter means Loki hangs: Loki counts as
//     down (Close then leaves what is left to the spool at once);
//   - while Loki is down (so since the last push failed, or since it
//     hangs), each wake of the sender, which a Push into an empty queue
//     makes, moves what is queued to the spool (Client.spill), so that a
//     record waits in memory no longer than the sender takes to wake;
//   - before the queue goes to the spool, batch, the records being pushed
//     (nil when they come from the spool), goes first, so that the spool
//     keeps their order. It is written only to an empty spool: its
//     records are then the spool's first, and spool.sent can take them
//     out again if Loki answers 2xx after all.
//
// Stopping (stop closed, or Close sending what is left) does not cancel
// the push: its answer says whether the batch was stored, and a batch is
// never sent again unless its push is known to have failed. Only Close's
// flush deadline cancels it (Client.abort), and Loki hanging: once the
// push went unanswered for HangAfter while stopping and its records are
// all on disk, await gives it up (errAbandoned, an outage), so that Close
// returns at once; the next process sends them from the spool, and Loki
// drops the copy the abandoned push may have stored.
//
// spooled is how many of batch's records were written to the spool (all
// of them, but for a full spool). Besides the spool, await changes only
// c.down, c.hanging and the counts of spooled and in-flight records; the
// answer is the caller's to handle.
func (c *Client) await(body []byte, batch []queued, stop <-chan struct{}) (ans answer, spooled int, err error) {
	if !c.spool.writable() {
		ans, err = c.post(body, nil)
		return ans, 0, err
	}
	type result struct {
		ans answer
		err error
	}
	done := make(chan result, 1)
	quit := make(chan struct{})
	go func() {
		ans, err := c.post(body, quit)
		done <- result{ans, err}
	}()
	hang := c.cfg.after(c.cfg.HangAfter)
	c.hanging = false
	first := batch != nil // batch is still to be spooled before the queue
	toSpool := func() {
		if first {
			first = false
			if c.spool.has() {
				return // not at the spool's head: the queue waits behind it, in memory
			}
			spooled = c.spool.append(batch)
			c.spooled.Add(uint64(spooled))
			c.inFlight.Store(int64(len(batch) - spooled))
		}
		if spooled == len(batch) {
			c.spill(true)
		}
	}
	var wake <-chan struct{}
	if c.down {
		wake = c.wake
	}
	stopping := c.closing // Close is sending what is left
	for {
		if stopping && c.hanging && !first && spooled == len(batch) {
			close(quit) // on disk, and Loki hangs: not worth Close's wait
			r := <-done // answered after all, perhaps: then it counts
			return r.ans, spooled, r.err
		}
		select {
		case r := <-done:
			return r.ans, spooled, r.err
		case <-hang:
			hang = nil
			c.down, c.hanging = true, true
			wake = c.wake
			toSpool()
		case <-wake:
			toSpool()
		case <-stop:
			stop, stopping = nil, true
		}
	}
}

// agedOut starts a batch's MaxRetryAge timer at its first failure (when
// *expired is nil) and reports whether it has fired, now or before (aged).
func (c *Client) agedOut(expired *<-chan time.Time, aged bool) bool {
	if *expired == nil {
		*expired = c.cfg.after(c.cfg.MaxRetryAge)
	}
	if aged {
		return true
	}
	select {
	case <-*expired:
		return true
	default:
		return false
	}
}

// maxReason bounds the part of Loki's answer that a report quotes.
const maxReason = 256

// reason is what Loki said of a rejected batch, for a report: the first
// line of its answer, cut to maxReason bytes and quoted (control
// characters and invalid UTF-8 escaped). An answer that holds a
// credential, or the start of one of the batch's lines, is left out: a
// report never carries a record or a secret, whatever the server sends.
func (c *Client) reason(body []byte, batch []queued) string {
	line, _, _ := bytes.Cut(body, []byte("\n"))
	line = bytes.TrimSpace(line)
	if len(line) > 2*maxReason {
		line = line[:2*maxReason]
	}
	if len(line) == 0 {
		return "no reason given"
	}
	for _, secret := range []string{c.cfg.Password, c.cfg.BearerToken} {
		if len(secret) >= 4 && bytes.Contains(line, []byte(secret)) {
			return "(the reason is left out: it quotes a credential)"
		}
	}
	for i := range batch {
		l := batch[i].line
		if len(l) > 24 {
			l = l[:24]
		}
		if len(l) >= 8 && bytes.Contains(line, []byte(l)) {
			return "(the reason is left out: it quotes a record)"
		}
	}
	return Quote(string(line), maxReason)
}

// maxLocation bounds the redirect target a report names.
const maxLocation = 128

// location renders a redirect's Location for a report: scheme, host and
// path only (no user information, query or fragment, which may hold
// credentials), cut to maxLocation bytes and quoted.
func location(loc string) string {
	if loc == "" {
		return "nowhere (no Location)"
	}
	if len(loc) > 8*maxLocation { // a longer one is not parsed: only its start is shown
		return Quote(loc, maxLocation)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "an unparsable Location"
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = nil, "", "", "", false
	return Quote(u.String(), maxLocation)
}

// requeue puts a batch back at the front of its queues.
func (c *Client) requeue(batch []queued) {
	c.mu.Lock()
	var prio, normal []queued
	for i := range batch {
		if batch[i].prio {
			prio = append(prio, batch[i])
		} else {
			normal = append(normal, batch[i])
		}
		c.qbytes += batch[i].cost()
	}
	if prio != nil {
		c.priority = append(prio, c.priority...)
	}
	if normal != nil {
		c.normal = append(normal, c.normal...)
	}
	c.inFlight.Store(0)
	c.mu.Unlock()
}

func (c *Client) report(err error) {
	if c.cfg.OnError != nil {
		c.cfg.OnError(err)
	}
}

// answer is what post saw of Loki's answer.
type answer struct {
	status     int
	retryAfter time.Duration
	location   string // of a 3xx, rendered by location
	body       []byte // the start of a 4xx's body, for reason
}

// post sends one body; it gives what Loki answered. The request is
// cancelled after Timeout, when Close's flush deadline expires (abort), or
// when quit closes (nil: never).
func (c *Client) post(body []byte, quit <-chan struct{}) (answer, error) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go cancelWhen(ctx, cancel, c.abort, errStopping)
	if quit != nil {
		go cancelWhen(ctx, cancel, quit, errAbandoned)
	}
	go cancelWhen(ctx, cancel, c.cfg.after(c.cfg.Timeout), fmt.Errorf("no answer within %v", c.cfg.Timeout))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.pushURL, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if c.cfg.JSON {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf") // snappy-compressed, as Loki expects
	}
	if c.cfg.Tenant != "" {
		req.Header.Set("X-Scope-OrgID", c.cfg.Tenant)
	}
	switch {
	case c.cfg.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+c.cfg.BearerToken)
	case c.cfg.Username != "":
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return answer{}, cause
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is known; keep the cause only
		}
		return answer{}, boundedError{err}
	}
	defer resp.Body.Close()
	ans := answer{status: resp.StatusCode}
	if ans.status/100 == 4 {
		ans.body, _ = io.ReadAll(io.LimitReader(resp.Body, 4*maxReason))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if ans.status/100 == 3 {
		ans.location = location(resp.Header.Get("Location"))
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			ans.retryAfter = min(time.Duration(n)*time.Second, c.cfg.MaxBackoff)
		} else if t, err := http.ParseTime(s); err == nil {
			ans.retryAfter = min(max(time.Until(t), 0), c.cfg.MaxBackoff)
		}
	}
	return ans, nil
}

// maxErrorText bounds the text of a network error in a report: a host name
// or a certificate's names are chosen by the server.
const maxErrorText = 512

// boundedError is a network error whose text is cut to maxErrorText.
type boundedError struct{ err error }

func (e boundedError) Error() string {
	s := e.err.Error()
	if len(s) <= maxErrorText {
		return s
	}
	return strings.ToValidUTF8(s[:maxErrorText], "") + "…"
}

func (e boundedError) Unwrap() error { return e.err }

var (
	errStopping  = errors.New("loki: the client's flush deadline expired")
	errAbandoned = errors.New("loki: no answer within HangAfter while the client closes: the batch waits in the spool")
)

// cancelWhen cancels ctx with cause once ch delivers, unless ctx is done
// first.
func cancelWhen[T any](ctx context.Context, cancel context.CancelCauseFunc, ch <-chan T, cause error) {
	select {
	case <-ch:
		cancel(cause)
	case <-ctx.Done():
	}
}

// encode builds the gzipped JSON push body, one stream per label set, the
// entries of each stream in queue order.
func encode(batch []queued) ([]byte, error) {
	type stream struct {
		Stream map[string]string `json:"stream"`
		Values [][2]string       `json:"values"`
	}
	var streams []*stream
	index := map[string]*stream{}
	for _, q := range batch {
		s, ok := index[q.stream]
		if !ok {
			s = &stream{Stream: q.labels}
			index[q.stream] = s
			streams = append(streams, s)
		}
		s.Values = append(s.Values, [2]string{strconv.FormatInt(q.ts, 10), q.line})
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err := json.NewEncoder(zw).Encode(map[string]any{"streams": streams}); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Close sends what is queued within FlushTimeout (or ctx, if sooner), then
// stops. With a spool, when Loki is down (the last push, or the one Close
// makes, found it unreachable or refusing the client, or the push under
// way was unanswered for HangAfter), Close does not wait: what is queued
// goes to the spool, for the next start. A push under way (the sender's)
// is let finish: its answer decides whether its batch is sent again, so a
// batch Loki answered 2xx is never sent twice; only the flush deadline (or
// ctx) cancels it, and its batch is then not sent again by this client.
// Records it could not send are counted as dropped and reported in the
// returned error. When Close
// returns, no goroutine of the client is left, and no connection either,
// unless Config.HTTPClient is set: the connections of a caller's client
// are the caller's to close. Close is idempotent.
func (c *Client) Close(ctx context.Context) error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.own != nil {
		defer c.own.CloseIdleConnections() // after the last push: its connection is idle
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The deadline cancels the push under way, the sender's or Close's own;
	// until then, a push is answered, and its answer decides whether its
	// batch is sent again (a batch Loki stored is not).
	defer context.AfterFunc(ctx, func() { close(c.abort) })()
	c.stopMu.Lock()
	deadline := c.cfg.after(c.cfg.FlushTimeout)
	close(c.stop)
	c.stopMu.Unlock()
	go cancelWhen(ctx, cancel, deadline, context.DeadlineExceeded)
	<-c.done
	c.closing = true
	// Close tries once more when the last push failed at once (Loki may be
	// back, the sender waiting out its backoff); waitsInSpool stops it at
	// the first failure. Not when it hung: another try would hang as long.
	if !c.hanging {
		c.down = false
	}
	c.spool.acquire()
	// Loki known down (the last push found it unreachable or refusing the
	// client) and a spool to keep the records: Close does not wait for an
	// outage to end, it spools what is queued and returns.
	if ctx.Err() == nil && !c.waitsInSpool() {
		c.drain(ctx.Done())
	}
	c.spill(true) // what is left waits in the spool for the next start
	c.spool.close()
	if n := c.queueLen(); n > 0 {
		c.mu.Lock()
		c.normal, c.priority, c.qbytes = nil, nil, 0
		c.mu.Unlock()
		c.dropped.Add(uint64(n))
		return fmt.Errorf("loki: %d records could not be sent before the flush timeout", n)
	}
	return nil
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Sent: c.sent.Load(), Dropped: c.dropped.Load(), Retries: c.retries.Load(),
		FailedBatches: c.failed.Load(), Pending: c.queueLen() + int(c.inFlight.Load()),
		Spooled: c.spooled.Load(), Replayed: c.replayed.Load(), SpoolTorn: c.torn.Load(), SpoolSkipped: c.skippedBytes.Load(), Outages: c.outages.Load(),
	}
}

// FileError is a file of a Config (PasswordFile, BearerTokenFile, CAFile)
// that New could not use. It names the field as its variable is named
// (PASSWORD_FILE, …) and the path, never the file's content.
type FileError struct {
	Field string
	Path  string
	Err   error
}

// Error returns FIELD "path": problem.
func (e *FileError) Error() string { return fmt.Sprintf("%s %q: %v", e.Field, e.Path, e.Err) }

// Unwrap returns the underlying problem.
func (e *FileError) Unwrap() error { return e.Err }

// fileError is the FileError of field's file at path; a *fs.PathError's
// operation and path (the path is the FileError's own) are left out.
func fileError(field, path string, err error) *FileError {
	if pe, ok := err.(*fs.PathError); ok {
		err = pe.Err
	}
	return &FileError{Field: field, Path: path, Err: err}
}

// defaultTo sets *v to def when it is zero (the Config's defaults).
func defaultTo[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
