// Command logverify checks the MAC chain of log files written with
// CODOMYRMEX_LOG_INTEGRITY_KEY_FILE (see the README's "Tamper evidence"):
//
//	go run github.com/codomyrmex/logging/cmd/logverify -key-file KEY [-checkpoints FILE]... FILE...
//
// Flags may come before, between or after the file names; after "--"
// every argument is a file name. FILE are the log file and its backups (plain or .gz, in any order: they
// are ordered by the chain), all of one sink. -checkpoints names a file of
// records kept elsewhere (exported from Loki, or written by a WithSink
// writer), whose checkpoint records show a cut tail, and any checkpoint of
// the chain whose line is in no file (a rollback).
//
// It exits 0 with a one-line summary when the chain is intact, 1 with one
// line per problem ("file:line: kind: detail", the first naming the first
// bad line; kinds: modified, deleted, inserted, reordered, duplicated,
// missing file, truncated, wrong key, new chain, unsealed file, and bad checkpoint for a
// -checkpoints file with a checkpoint record that cannot be read or none
// of the chain verified), and 2 when it cannot run (a file that cannot be
// read, a bad key file, bad arguments).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/codomyrmex/logging"
)

type list []string

func (l *list) String() string     { return fmt.Sprint(*l) }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("logverify", flag.ContinueOnError)
	fl.SetOutput(stderr)
	keyFile := fl.String("key-file", "", "the file holding the initial key (64 hex digits or 32 raw bytes)")
	var cps list
	fl.Var(&cps, "checkpoints", "a file of records kept elsewhere, with the checkpoint records (may be repeated)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: logverify -key-file KEY [-checkpoints FILE]... FILE...")
		fl.PrintDefaults()
	}
	// Go's flag package stops at the first argument that is not a flag:
	// parse again after each file name, so that flags may follow them.
	var files []string
	for {
		if err := fl.Parse(args); err != nil {
			return 2
		}
		rest := fl.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			files = append(files, rest...) // after "--", file names only
			break
		}
		files, args = append(files, rest[0]), rest[1:]
	}
	if *keyFile == "" || len(files) == 0 {
		fl.Usage()
		return 2
	}
	rep, err := logging.VerifyLogFiles(*keyFile, files, cps...)
	if err != nil {
		fmt.Fprintln(stderr, "logverify:", err)
		return 2
	}
	if rep.OK() {
		fmt.Fprintln(stdout, rep.Summary())
		return 0
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, logging.Sanitize(p.String()))
	}
	if n := rep.TotalProblems - len(rep.Problems); n > 0 {
		fmt.Fprintf(stdout, "… and %d more problems\n", n)
	}
	return 1
}
