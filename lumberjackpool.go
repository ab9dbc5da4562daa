package logging

import (
	"sync"

	"gopkg.in/natefinch/lumberjack.v2"
)

// lumberjack v2.2.1 starts a goroutine for its retention at a Logger's
// first open and offers no way to stop it: a file sink that made a new
// Logger on every Setup would leave one parked goroutine behind per Setup
// and Close. Closed Loggers are therefore kept, by path and settings, and
// the next file sink with the same ones takes one back: a service that
// calls Setup and Close any number of times keeps one such goroutine per
// log file it uses (at most one per file sink open at the same time).

// ljKey is what a kept Logger is found by: all its settings. They are
// never changed after the Logger is made (its goroutine reads them).
type ljKey struct {
	path                            string
	maxSize, maxBackups, maxAgeDays int
	localTime                       bool
}

var ljPool = struct {
	sync.Mutex
	idle map[ljKey][]*lumberjack.Logger
}{idle: map[ljKey][]*lumberjack.Logger{}}

// takeLumberjack returns a closed Logger with settings k: a kept one if
// there is one, else a new one.
func takeLumberjack(k ljKey) *lumberjack.Logger {
	ljPool.Lock()
	defer ljPool.Unlock()
	if idle := ljPool.idle[k]; len(idle) > 0 {
		l := idle[len(idle)-1]
		ljPool.idle[k] = idle[:len(idle)-1]
		return l
	}
	return &lumberjack.Logger{
		Filename:   k.path,
		MaxSize:    k.maxSize,
		MaxBackups: k.maxBackups,
		MaxAge:     k.maxAgeDays,
		LocalTime:  k.localTime,
	}
}

// keepLumberjack takes back l, closed, made by takeLumberjack(k).
func keepLumberjack(k ljKey, l *lumberjack.Logger) {
	ljPool.Lock()
	defer ljPool.Unlock()
	ljPool.idle[k] = append(ljPool.idle[k], l)
}
