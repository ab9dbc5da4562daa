//go:build !race

package logging

// raceDetector tells whether the tests run under the race detector.
const raceDetector = false
