package logtest_test

import (
	"fmt"
	"testing"

	"github.com/codomyrmex/logging"
	"github.com/codomyrmex/logging/logtest"
)

// In a test, New installs the chain with a recorder; records are selected
// as they left the chain, after redaction.
func ExampleNew() {
	t := &testing.T{} // in a real test, the test's own *testing.T
	rec := logtest.New(t)
	password := "correct-" + "horse" // any value: redacted by its key
	logging.Logger("billing").Info("charged", "password", password, "amount", 12)
	r, ok := rec.Find(logtest.Logger("billing"), logtest.Message("charged"))
	fmt.Println(ok, r.Level, r.Attrs["password"], r.Attrs["amount"])
	_ = logging.Close()
	// Output: true INFO [REDACTED] 12
}
