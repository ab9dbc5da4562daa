//go:build !race

package redact

// raceDetector tells whether the tests run under the race detector.
const raceDetector = false
