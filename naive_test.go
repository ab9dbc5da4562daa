package logging

import "regexp"

// naivePatterns is the naive alternative: one regexp per built-in format,
// the same patterns the rules use, with no prefilter and no validation.
func naivePatterns() []*regexp.Regexp {
	var res []*regexp.Regexp
	for _, r := range Rules() {
		res = append(res, r.Pattern)
	}
	return res
}
