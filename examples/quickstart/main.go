// Command quickstart shows the library in a few lines: Setup, loggers for two
// packages, a group, an error, and values that are redacted or sanitized.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/codomyrmex/logging"
)

var (
	billing = logging.Logger("billing")
	db      = logging.Logger("db.pool")
)

func main() {
	if err := logging.Setup(); err != nil {
		// Setup still installed a working chain on safe defaults.
		for _, p := range logging.Problems(err) {
			billing.Error("logging configuration", "problem", p)
		}
	}
	defer logging.Close()

	billing.Info("invoice sent", "invoice", 1042, slog.Group("customer", "id", "c-981", "plan", "pro"))
	db.Warn("slow query", "table", "orders", "ms", 812)

	// The password is redacted by key, the token by its format, and the
	// CR/LF that tries to forge a second line is escaped.
	keyID := "AKIA" + "QYLPMN5HXZ7RBW2E" // built from parts: never a literal key
	billing.Info("login", "user", "alice\nINFO forged line", "password", "hunter2",
		"note", fmt.Sprintf("retrying with key %s", keyID))

	billing.Error("payment failed", "err", errors.New("postgres://app:s3cr3t@db:5432/pay: connection refused"))
	logging.Critical(context.Background(), billing, "ledger out of balance", "delta", -12.5)
}
