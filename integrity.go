package logging

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/codomyrmex/logging/internal/chain"
	"github.com/codomyrmex/logging/internal/securefile"
)

// loadChainKey reads the MAC chain's initial key when the configuration
// names one; a refused key file is an error naming the variable, and the
// chain stays off (nil key).
func loadChainKey(c *config) ([]byte, []*fileSink, []error) {
	if c.integrityKeyFile == "" {
		return nil, nil, nil
	}
	k0, err := loadIntegrityKey(c.integrityKeyFile)
	if err != nil {
		return nil, nil, []error{&ConfigError{Name: EnvPrefix + "INTEGRITY_KEY_FILE", Value: c.integrityKeyFile, Err: err}}
	}
	if c.file == "" && c.securityFile == "" {
		clear(k0)
		return nil, nil, []error{&ConfigError{Name: EnvPrefix + "INTEGRITY_KEY_FILE", Value: c.integrityKeyFile,
			Err: errors.New("no file sink to seal: set CODOMYRMEX_LOG_FILE or CODOMYRMEX_LOG_SECURITY_FILE")}}
	}
	return k0, nil, nil
}

// chainOn starts the MAC chain of s, named name, in c's output format.
func (s *fileSink) chainOn(k0 []byte, name string, c *config) []error {
	f := chain.Text
	if c.output == OutputJSON {
		f = chain.JSON
	}
	if _, err := s.startChain(k0, name, f); err != nil {
		return []error{fmt.Errorf("logging: %s sink: starting the integrity chain: %w", name, err)}
	}
	return nil
}

// startChains writes the first checkpoint of every chained file sink and
// reports, as a tampering_detected security event, what their check at
// start found. Called by newPipeline once p's encoder is built.
func (p *pipeline) startChains(sinks []*fileSink) {
	sinks = slices.DeleteFunc(sinks, func(s *fileSink) bool { return s.chain == nil }) // could not start: reported
	if len(sinks) == 0 {
		return
	}
	others := *p.out
	others.sinks = nil
	for _, st := range p.out.sinks {
		if _, isFile := st.sink.(*fileSink); !isFile {
			others.sinks = append(others.sinks, st)
		}
	}
	enc := *p.enc
	enc.out = &others
	// A checkpoint record holds only the package's own values (its
	// message and checkpoint_* fields: numbers, hex, the sink's name, the
	// file's base name and a reason word): it is encoded without the
	// redactor, in the file and to the other sinks, so that no pattern
	// (a user's [0-9a-f]{32}) can mangle the run or the MAC the verifier
	// reads back from it. The writer still escapes every string.
	plain := &attrMapper{}
	emit := func(r slog.Record) {
		if !p.closed.Load() {
			if !p.acquire() {
				return
			}
			defer p.release()
		}
		_ = (&encHandler{enc: &enc, m: plain, logger: "logging"}).handle(r, nil)
	}
	encode := func(dst []byte, r *slog.Record) []byte {
		h := &encHandler{enc: p.enc, m: plain, logger: "logging"}
		wk := plain.walker(false)
		if p.enc.output == OutputJSON {
			return append(h.appendJSON(dst, r, &wk, nil, nil), '\n')
		}
		return append(h.appendText(dst, r, &wk, nil, nil), '\n')
	}
	for _, s := range sinks {
		s.mu.Lock()
		s.chain.alert = func(f string) {
			// Called by the sink's writer, which must not wait for the
			// event it would write itself: the event goes on its own.
			p.alerts.Add(1)
			go func() {
				defer p.alerts.Done()
				if p.acquire() {
					defer p.release()
					p.tampering(s.path, f)
				}
			}()
		}
		s.mu.Unlock()
		s.startIntegrity(encode, emit)
		p.onClose = append(p.onClose, s.sealFinal)
	}
	for _, s := range sinks {
		s.mu.Lock()
		f := s.chain.finding
		s.mu.Unlock()
		if f != "" {
			p.tampering(s.path, f)
		}
	}
}

// tampering logs what the check at start of the chain of the file at path
// found wrong, as a tampering_detected security event.
func (p *pipeline) tampering(path, finding string) {
	r := eventRecord(Event{Type: TamperingDetected, Severity: SeverityCritical, Outcome: OutcomeFailure,
		ThreatLevel: ThreatHigh, Resource: path, Action: "verify log chain", Reason: finding}, SeverityCritical, 0)
	r.Time = p.clock.Now()
	_ = p.handler("security", true).handle(r, nil)
}

// IntegrityProblem is one break of a log file chain found by
// [VerifyLogFiles]: the file and line of the first line concerned, what is
// wrong, and a detail. Its String method gives "file:line: kind: detail".
type IntegrityProblem = chain.Problem

// IntegrityKind names what is wrong at a line: "modified", "deleted",
// "inserted", "reordered", "duplicated", "missing file", "truncated",
// "wrong key", "new chain" (a chain that begins after sealed lines) or
// "unsealed file" (a file without a sealed line); or, for a file of checkpoints, "bad checkpoint" (a
// checkpoint record that cannot be read, or none of the chain verified).
type IntegrityKind = chain.Kind

// IntegrityReport is what [VerifyLogFiles] found.
type IntegrityReport struct {
	Sink     string             // whose chain the files are: "file" or "security-file"
	Records  int                // sealed lines that verified
	Files    int                // files read
	Epochs   int                // epochs seen
	Chains   int                // chains: more than one is a problem ("new chain")
	Problems []IntegrityProblem // in chain order, the first naming the first bad line; at most 100 listed
	// TotalProblems counts every problem, also those not listed.
	TotalProblems int
}

// OK reports whether the files verified without a problem.
func (r *IntegrityReport) OK() bool { return r.TotalProblems == 0 }

// Summary is the one-line summary of an intact chain, or the number of
// problems.
func (r *IntegrityReport) Summary() string {
	if r.OK() {
		return fmt.Sprintf("ok: %d records, %d files, %d epochs, %d chains (%s chain)", r.Records, r.Files, r.Epochs, r.Chains, r.Sink)
	}
	return fmt.Sprintf("%d problems in %d files (%d records verified)", r.TotalProblems, r.Files, r.Records)
}

// VerifyLogFiles checks the MAC chain of log files written with
// [WithIntegrityKeyFile]: keyFile holds the initial key (read as the sink
// reads it, but any mode is accepted, as the key is kept off the host),
// files are the log files and backups of one sink, plain or .gz, in any
// order (they are ordered by the chain), and checkpoints names files of
// records kept elsewhere (from Loki or a WithSink writer) among which the
// checkpoint records are found, to show a cut tail. The error is a file
// that cannot be read at all; everything found wrong in the files is in
// the report.
func VerifyLogFiles(keyFile string, files []string, checkpoints ...string) (*IntegrityReport, error) {
	b, err := readKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	k0, err := chain.ParseKey(b)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	defer clear(k0)
	if len(files) == 0 {
		return nil, errors.New("no log file given")
	}
	var cps []chain.Checkpoint
	var bad []chain.Problem
	for _, path := range checkpoints {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		got, b, err := chain.ReadCheckpoints(f, path, 0)
		f.Close()
		if err != nil {
			return nil, err
		}
		cps, bad = append(cps, got...), append(bad, b...)
	}
	inputs := make([]chain.Input, len(files))
	for i, f := range files {
		inputs[i] = chain.FileInput(f)
	}
	sum, probs, err := chain.Verify(k0, inputs, cps, chain.Options{})
	if err != nil {
		return nil, err
	}
	rep := &IntegrityReport{Sink: sum.Sink, Records: sum.Records, Files: sum.Files, Epochs: sum.Epochs, Chains: sum.Chains,
		Problems: probs, TotalProblems: sum.Problems}
	// What the checkpoints could not check is a problem too: a tail cut
	// would pass unseen.
	if len(checkpoints) > 0 && sum.Checkpoints == 0 {
		bad = append(bad, chain.Problem{File: strings.Join(checkpoints, ", "), Kind: chain.BadCheckpoint,
			Detail: fmt.Sprintf("no checkpoint of this %s chain among %d read: the tail is not checked", sum.Sink, len(cps))})
	}
	for _, p := range bad {
		rep.TotalProblems++
		if len(rep.Problems) < 100 {
			rep.Problems = append(rep.Problems, p)
		}
	}
	return rep, nil
}

// readKeyFile reads a key file for verification: a regular file of at
// most keyFileMax bytes.
func readKeyFile(path string) ([]byte, error) { return securefile.ReadFile(path, keyFileMax) }
