package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMain clears the CODOMYRMEX_LOG_* environment so that the machine's
// settings never change what the tests see.
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, EnvPrefix) {
			os.Unsetenv(k)
		}
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Lines() []string {
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// setup installs a chain that writes to a fresh buffer and restores the
// console default when the test ends.
func setup(t testing.TB, opts ...Option) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	require.NoError(t, Setup(append([]Option{WithConsole(buf)}, opts...)...))
	t.Cleanup(func() { _ = Close() })
	return buf
}

// jsonLines decodes each line of buf as one JSON object.
func jsonLines(t testing.TB, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line: %s", line)
		out = append(out, m)
	}
	return out
}

// lastJSON decodes the last line of buf.
func lastJSON(t testing.TB, buf *syncBuffer) map[string]any {
	t.Helper()
	ls := jsonLines(t, buf.String())
	require.NotEmpty(t, ls)
	return ls[len(ls)-1]
}
