package logging

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/codomyrmex/logging/internal/redact"
	"github.com/codomyrmex/logging/internal/secretenv"
	"github.com/codomyrmex/logging/internal/securefile"
)

// Known secrets: the service's own credentials, masked by value.
//
// Patterns catch credentials whose format is known, keys catch values
// whose name is known; neither catches the service's database password or
// an in-house API key inside an error text a driver wrote. The service
// knows these values: Mask registers them, and Setup registers those of
// its environment (see CODOMYRMEX_LOG_MASK_ENV). From then on every
// occurrence in any string a record holds (message, values, keys, error
// texts, nested values) and in the package's own reports is replaced by
// [REDACTED:known-secret], raw and in the encodings a program or a
// library may write it in: percent-encoded (url.QueryEscape,
// url.PathEscape), hex, quoted (encoding/json, strconv.Quote) and base64,
// standard or URL-safe, inside a longer base64 text such as a Basic header
// (values of 8 bytes or more). A value is masked case-sensitively.

// knownValues are the values registered with Mask, and the mappers (of
// every chain, Wrap and redacting handler built) that mask them. A mapper
// is tracked, and given the values registered so far, under mu, and Mask
// registers a value under mu in every mapper tracked: no mapper misses a
// value, however Setup, Wrap and Mask interleave. Mappers are held weakly:
// a handler nobody uses any more is not kept alive by Mask.
var knownValues struct {
	mu      sync.Mutex
	values  []string
	mappers []weak.Pointer[attrMapper]
}

// track gives m's redactor the values registered with Mask and has Mask
// reach it from now on; it returns m. A mapper without a redactor needs
// nothing.
func track(m *attrMapper) *attrMapper {
	if m.red == nil {
		return m
	}
	knownValues.mu.Lock()
	defer knownValues.mu.Unlock()
	m.red.Mask(knownValues.values...)
	knownValues.mappers = append(knownValues.mappers, weak.Make(m))
	return m
}

// Mask registers secret values, typically right after loading them from a
// vault or a secret manager: from then on the chain in force, and every
// chain a later Setup builds, replaces each of them wherever it appears
// (see the package documentation on known secrets). Values shorter than 6
// bytes or longer than 4096 are refused: masking a short value would blank
// ordinary text. The error says how many were refused, never which. A
// registered value is never written anywhere; Stats counts them.
//
// Mask is safe to call while other goroutines log. Each call rebuilds the
// matcher (about 30 ms for 100 values): register values in a few calls.
func Mask(values ...string) error {
	defaultRedact() // built (and tracked) before the lock is taken
	knownValues.mu.Lock()
	defer knownValues.mu.Unlock()
	refused := 0
	for _, v := range values {
		if len(v) < redact.MinKnownLen || len(v) > redact.MaxKnownLen || strings.TrimSpace(v) == "" {
			refused++
			continue
		}
		knownValues.values = append(knownValues.values, v)
	}
	live := knownValues.mappers[:0]
	for _, wp := range knownValues.mappers {
		if m := wp.Value(); m != nil {
			m.red.Mask(values...) // a redactor shared by two mappers ignores the repeat
			m.clean.forget()      // a key found clean before may hold a value now registered
			m.msgs.forget()       // and so may a message
			live = append(live, wp)
		}
	}
	clear(knownValues.mappers[len(live):])
	knownValues.mappers = live
	if refused > 0 {
		return fmt.Errorf("logging.Mask: %d of %d values refused: shorter than %d bytes, longer than %d, or blank", refused, len(values), redact.MinKnownLen, redact.MaxKnownLen)
	}
	return nil
}

// maskEnv registers in red the secrets of the environment (see
// secretenv.FromEnviron): values of variables named like secrets that are
// long and varied enough (redact.Maskable), passwords of URLs and DSNs,
// and the contents of the files *_FILE variables name (regular files only,
// at most 64 KiB, never blocking; with files false, none is read). It
// counts the values skipped and returns the files that could not be read,
// each naming its variable.
func maskEnv(red *redact.Redactor, environ []string, files bool) error {
	var read func(string) ([]byte, error) // nil: *_FILE variables are passed over
	if files {
		read = func(name string) ([]byte, error) { return securefile.ReadFile(name, secretenv.MaxFileSize) }
	}
	vals, skipped, err := secretenv.FromEnviron(environ, read)
	envSkipped.Store(int64(skipped))
	red.Mask(vals...)
	if err != nil {
		return &ConfigError{Name: EnvPrefix + "MASK_ENV", Value: "true", Err: err}
	}
	return nil
}

// envSkipped is how many environment values the chain in force did not
// register because they are too short or too plain (Stats.KnownSkipped).
var envSkipped atomic.Int64

// exposureReported is set by the first secret_exposure event.
var exposureReported atomic.Bool

// exposure is the secret_exposure event: a registered secret reached a
// record from logger at the call site pc. A service that logs its own
// credential has a bug worth finding; the event names where, never what.
// Only the first masking in the process raises it; Stats counts the rest.
func exposure(logger string, pc uintptr) (slog.Record, bool) {
	if !exposureReported.CompareAndSwap(false, true) {
		return slog.Record{}, false
	}
	site := callSite(pc)
	r := eventRecord(Event{Type: SecretExposure, Resource: logger, ThreatLevel: ThreatHigh,
		Reason: "a registered secret value was masked in a record: the program logs its own credential",
		Attrs:  []slog.Attr{slog.String("call_site", site)}}, defaultSeverity(SecretExposure), pc)
	return r, true
}

// reportExposure logs the secret_exposure event through the security
// logger, if this is the first.
func reportExposure(logger string, pc uintptr) {
	if r, ok := exposure(logger, pc); ok {
		_ = securityLogger.Handler().Handle(context.Background(), r)
	}
}

// environ is the process environment, for Setup (a variable, for tests).
var environ = os.Environ
