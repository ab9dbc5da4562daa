package loki

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging/loki/lokitest"
)

// killChildEnv carries the spool directory and Loki's URL to the child of
// TestSpoolSurvivesSIGKILL.
const killChildEnv = "LOKI_SPOOL_KILL_CHILD"

// Records spooled while Loki is down survive a SIGKILL of the process (no
// Close, no deferred code): the next process started on the same directory
// sends each of them, once, with its timestamp. The child logs until every
// record is in the spool, says so, and is killed.
func TestSpoolSurvivesSIGKILL(t *testing.T) {
	const n = 500
	if arg := os.Getenv(killChildEnv); arg != "" {
		var dir, url string
		_, err := fmt.Sscanf(arg, "%s %s", &dir, &url)
		require.NoError(t, err)
		c, err := New(Config{URL: url, SpoolDir: dir, BatchWait: time.Millisecond, MaxBackoff: 10 * time.Millisecond})
		require.NoError(t, err)
		st := c.LabelSet(map[string]string{"level": "INFO"})
		for i := range n {
			c.PushLabeled(st, time.Unix(200, int64(i)), fmt.Sprint("k", i), false)
		}
		for c.Stats().Spooled < n { // the client's goroutine spools; the parent's watchdog bounds the wait
			time.Sleep(time.Millisecond)
		}
		fmt.Println("spooled")
		select {} // until killed
	}
	srv := lokitest.NewServer()
	defer srv.Close()
	srv.SetStatus(503)
	dir := t.TempDir() + "/spool"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang, not a slow machine
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSpoolSurvivesSIGKILL$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir+" "+srv.URL)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the child spooled and said so")
	require.Equal(t, "spooled\n", line)
	require.NoError(t, cmd.Process.Kill()) // SIGKILL
	_ = cmd.Wait()

	srv.SetStatus(0)
	cfg, _ := testConfig(srv.URL)
	cfg.SpoolDir = dir
	c, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, srv.WaitLines(watched(t), n))
	require.NoError(t, c.Close(context.Background()))
	kept := srv.Lines()
	require.Len(t, kept, n, "each record once")
	for i, l := range kept {
		assert.Equal(t, fmt.Sprint("k", i), l)
	}
	assert.Equal(t, uint64(n), c.Stats().Replayed)
	assert.Empty(t, segments(t, dir), "segments deleted once sent")
}
