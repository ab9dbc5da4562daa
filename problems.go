package logging

import (
	"errors"
	"fmt"
	"strings"
)

// SetupError is what Setup returns when some settings could not be used:
// one error per problem (a *ConfigError for a variable or an option, a
// failing sink). Setup installs a working chain anyway, on the defaults of
// what failed. Its text is one line; log each of [Problems] as a record of
// its own to read them one by one.
type SetupError struct {
	Problems []error
}

// Error returns the problems on one line, separated by "; ".
func (e *SetupError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	noun := "problems"
	if len(parts) == 1 {
		noun = "problem"
	}
	return fmt.Sprintf("logging: %d configuration %s: %s", len(parts), noun, strings.Join(parts, "; "))
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *SetupError) Unwrap() []error { return e.Problems }

// Problems returns the problems err holds: those of a *SetupError, or err
// itself. After Setup:
//
//	if err := logging.Setup(); err != nil {
//		for _, p := range logging.Problems(err) {
//			logger.Error("logging configuration", "problem", p)
//		}
//	}
func Problems(err error) []error {
	var se *SetupError
	if errors.As(err, &se) {
		return se.Problems
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// setupError is nil without problems, else a *SetupError.
func setupError(errs []error) error {
	var ps []error
	for _, e := range errs {
		if e != nil {
			ps = append(ps, e)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	return &SetupError{Problems: ps}
}

// nearestVariable returns the known variable name (without the prefix)
// closest to name, if it is close enough to be a typo: at most a third of
// its letters differ (edit distance), else "".
func nearestVariable(name string) string {
	best, bestD := "", len(name)/3+1
	for _, v := range envVars {
		if d := editDistance(name, v.name, bestD); d < bestD {
			best, bestD = v.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// limit or more (names are short, and a long one costs no more than limit
// rows of work beyond its length).
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
