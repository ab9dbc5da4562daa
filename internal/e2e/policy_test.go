package e2e

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codomyrmex/logging"
	"github.com/codomyrmex/logging/internal/testutil"
)

// LOGGING-POLICY.md points every claim at a setting, code or test; these
// tests keep the pointers true.

func readRepoFile(t testing.TB, name string) string {
	b, err := os.ReadFile(filepath.Join("../..", name))
	require.NoError(t, err)
	return string(b)
}

// withoutCodeBlocks is markdown without its fenced blocks.
func withoutCodeBlocks(md string) string {
	return regexp.MustCompile("(?s)```.*?```").ReplaceAllString(md, "")
}

// TestPolicyReferences: every variable, file, test and alert the policy names
// exists, and its count of event types is the package's.
func TestPolicyReferences(t *testing.T) {
	policy := readRepoFile(t, "LOGGING-POLICY.md")
	// Every variable is one the package reads: its table of variables
	// (config.go, lokisink.go) has the name.
	var source strings.Builder
	root, err := filepath.Glob("../../*.go")
	require.NoError(t, err)
	for _, f := range root {
		if !strings.HasSuffix(f, "_test.go") {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			source.Write(b)
		}
	}
	vars := regexp.MustCompile(`CODOMYRMEX_LOG_[A-Z_]*[A-Z]`).FindAllString(policy, -1)
	require.NotEmpty(t, vars)
	for _, v := range vars {
		name := strings.TrimPrefix(v, logging.EnvPrefix)
		assert.True(t, strings.Contains(source.String(), `{"`+name+`",`), "the package reads %s", v)
	}

	paths := 0
	for _, m := range regexp.MustCompile("`([\\w./-]+(?:\\.(?:go|md|yaml|sh)|/))`").FindAllStringSubmatch(withoutCodeBlocks(policy), -1) {
		_, err := os.Stat(filepath.Join("../..", m[1]))
		assert.NoError(t, err, "the policy names %s", m[1])
		paths++
	}
	assert.Greater(t, paths, 10)

	// Every test the policy names is a test of the repository.
	defined := map[string]bool{}
	require.NoError(t, filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(`).FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
		return err
	}))
	tests := regexp.MustCompile("`(Test\\w+)`").FindAllStringSubmatch(policy, -1)
	require.NotEmpty(t, tests)
	for _, m := range tests {
		assert.True(t, defined[m[1]], "the policy names the test %s", m[1])
	}

	// The alert table is the rule file's.
	rules := readRules(t)
	for _, name := range alertNames {
		assert.Contains(t, policy, "| `"+name+"` |", "the policy's alert table has %s", name)
	}
	for _, m := range regexp.MustCompile(`Codomyrmex[A-Z]\w+`).FindAllString(policy, -1) {
		assert.Contains(t, rules, "- alert: "+m+"\n", "%s is a rule of the file", m)
	}
	assert.Contains(t, policy, fmt.Sprintf("%d types", len(logging.EventTypes())))
}

// policySetting is the value the policy's table gives a variable.
func policySetting(t testing.TB, policy, name string) string {
	m := regexp.MustCompile("(?m)^\\| `CODOMYRMEX_LOG_" + name + "` \\| `([^`]*)` \\|").FindStringSubmatch(policy)
	require.NotNil(t, m, "the policy's table sets %s", name)
	return m[1]
}

// TestPolicyLocalRetention: the policy's local retention is the package's
// default, its file modes are the package's, and the default retention
// removes a backup beyond MAX_BACKUPS and a backup older than MAX_AGE_DAYS.
func TestPolicyLocalRetention(t *testing.T) {
	policy := readRepoFile(t, "LOGGING-POLICY.md")
	rot := logging.DefaultRotation()
	assert.Equal(t, strconv.Itoa(rot.MaxSizeMB), policySetting(t, policy, "MAX_SIZE_MB"))
	assert.Equal(t, strconv.Itoa(rot.MaxBackups), policySetting(t, policy, "MAX_BACKUPS"))
	assert.Equal(t, strconv.Itoa(rot.MaxAgeDays), policySetting(t, policy, "MAX_AGE_DAYS"))
	assert.Equal(t, strconv.FormatBool(rot.Compress), policySetting(t, policy, "COMPRESS"))
	assert.Contains(t, policy, fmt.Sprintf("`%04o`", logging.FileMode))
	assert.Contains(t, policy, fmt.Sprintf("`%04o`", logging.DirMode))

	now := time.Now().UTC()
	// backup is the name the package gives a backup of app.log made at ts
	// (backups.go), compressed.
	backup := func(ts time.Time) string { return "app-" + ts.Format("2006-01-02T15-04-05.000") + ".log.gz" }
	run := func(t *testing.T, backups []time.Time, kept []time.Time) {
		dir := t.TempDir()
		for _, ts := range backups {
			f, err := os.OpenFile(filepath.Join(dir, backup(ts)), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
			require.NoError(t, err)
			zw := gzip.NewWriter(f)
			_, _ = io.WriteString(zw, `{"msg":"old record"}`+"\n")
			require.NoError(t, zw.Close())
			require.NoError(t, f.Close())
		}
		want := []string{"app.log"}
		for _, ts := range kept {
			want = append(want, backup(ts))
		}
		slices.Sort(want)
		require.NoError(t, logging.Setup(logging.WithConsole(nil), logging.WithFile(filepath.Join(dir, "app.log")),
			logging.WithRotation(rot)))
		defer func() { require.NoError(t, logging.Close()) }()
		// Retention runs in the background once the file is opened: wait
		// for it, up to a generous deadline.
		var got []string
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			got = got[:0]
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if slices.Equal(got, want) || time.Now().After(deadline) {
				break
			}
		}
		assert.Equal(t, want, got)
	}
	hours := func(hs ...int) []time.Time {
		var ts []time.Time
		for _, h := range hs {
			ts = append(ts, now.Add(-time.Duration(h)*time.Hour))
		}
		return ts
	}
	t.Run("MAX_AGE_DAYS", func(t *testing.T) {
		// Within MAX_BACKUPS, one backup a day older than MAX_AGE_DAYS.
		old := (rot.MaxAgeDays + 1) * 24
		run(t, hours(1, 2, 3, old), hours(1, 2, 3))
	})
	t.Run("MAX_BACKUPS", func(t *testing.T) {
		// All recent, one more than MAX_BACKUPS: the oldest goes.
		all := hours(1, 2, 3, 4, 5, 6)
		require.Len(t, all, rot.MaxBackups+1)
		run(t, all, all[:rot.MaxBackups])
	})
}

// policyLokiConfig is the Loki configuration block of the policy, its paths
// under dir.
func policyLokiConfig(t testing.TB, policy, dir string) string {
	m := regexp.MustCompile("(?s)<!-- policy:loki-config -->\n```yaml\n(.*?)```").FindStringSubmatch(policy)
	require.NotNil(t, m, "the policy holds the Loki configuration block")
	return strings.ReplaceAll(m[1], "/var/loki", dir)
}

// mergeYAML adds the top-level blocks of extra to base: a block whose key
// base has joins base's block, others are appended. Enough for two
// hand-written configurations, not a YAML merge.
func mergeYAML(base, extra string) string {
	var key string
	blocks := map[string][]string{}
	var order []string
	for _, l := range strings.Split(extra, "\n") {
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, " ") {
			key = strings.TrimSpace(l)
			order = append(order, key)
			continue
		}
		blocks[key] = append(blocks[key], l)
	}
	for _, k := range order {
		body := strings.Join(blocks[k], "\n") + "\n"
		if i := strings.Index(base, "\n"+k+"\n"); i >= 0 {
			at := i + len(k) + 2
			base = base[:at] + body + base[at:]
		} else {
			base += k + "\n" + body
		}
	}
	return base
}

// TestPolicyLokiConfig starts the real Loki with the policy's configuration
// block: Loki accepts it, its effective configuration has the policy's
// retention, and its ruler loads the rule file from the configured
// directory, laid out as deploy/README.md says.
func TestPolicyLokiConfig(t *testing.T) {
	policy := readRepoFile(t, "LOGGING-POLICY.md")
	srv := startLokiWith(t, func(dir string) {
		cfg := mergeYAML(strings.ReplaceAll(lokiConfig, "{{DIR}}", dir), policyLokiConfig(t, policy, dir))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "loki.yaml"), []byte(cfg), 0o600))
		rules := filepath.Join(dir, "rules", "policy")
		require.NoError(t, os.MkdirAll(rules, 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(rules, "codomyrmex-security.yaml"), []byte(readRules(t)), 0o600))
	})
	resp, err := http.Get(srv.url + "/config")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	cfg := string(body)
	section := func(name string) string {
		i := strings.Index(cfg, "\n"+name+":\n")
		require.GreaterOrEqual(t, i, 0, name)
		rest := cfg[i+len(name)+3:]
		if j := regexp.MustCompile(`(?m)^\S`).FindStringIndex(rest); j != nil {
			rest = rest[:j[0]]
		}
		return rest
	}
	compactor, limits, ruler := section("compactor"), section("limits_config"), section("ruler")
	assert.Contains(t, compactor, "\n  retention_enabled: true\n")
	assert.Contains(t, compactor, "\n  retention_delete_delay: 2h0m0s\n")
	assert.Contains(t, compactor, "\n  delete_request_store: filesystem\n")
	assert.Contains(t, limits, "\n  retention_period: 30d\n")
	assert.Regexp(t, `\n  retention_stream:\n  - period: 1y\n    priority: 1\n    selector: '\{logger="security"\}'\n`, limits)
	assert.Contains(t, ruler, "\n  evaluation_interval: 1m0s\n")
	assert.Contains(t, ruler, "\n  alertmanager_url: http://alertmanager:9093\n")

	var groups []rulerGroup
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if groups = srv.ruleGroups(t, "policy"); len(groups) > 0 || time.Now().After(deadline) {
			break
		}
	}
	require.Len(t, groups, 1)
	assert.Len(t, groups[0].Rules, len(alertNames))
}

// TestPolicyAlertedEventsPassAnyLevel: every event type the rules count is
// logged at its default severity whatever the level, so the level cannot
// silence an alert (authn_success, low by default, is the control).
func TestPolicyAlertedEventsPassAnyLevel(t *testing.T) {
	var counted []logging.EventType
	for _, m := range regexp.MustCompile(`security_event_type=~?"([a-z_|]+)"`).FindAllStringSubmatch(readRules(t), -1) {
		for _, typ := range strings.Split(m[1], "|") {
			counted = append(counted, logging.EventType(typ))
		}
	}
	require.Len(t, counted, 6)
	buf := &testutil.SyncBuffer{}
	require.NoError(t, logging.Setup(logging.WithConsole(nil), logging.WithOutputType(logging.OutputJSON),
		logging.WithLevel(logging.LevelCritical), logging.WithSink("buf", buf)))
	for _, typ := range append(counted, logging.AuthnSuccess) {
		logging.SecurityEvent(context.Background(), logging.Event{Type: typ, IP: "192.0.2.1"})
	}
	require.NoError(t, logging.Close())
	var logged []logging.EventType
	for _, l := range buf.Lines() {
		var r e2eRecord
		require.NoError(t, json.Unmarshal([]byte(l), &r), l)
		logged = append(logged, logging.EventType(r.Event))
	}
	assert.ElementsMatch(t, counted, logged, "every counted type logged at level CRITICAL; authn_success not")
}
