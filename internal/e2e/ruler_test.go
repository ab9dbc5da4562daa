package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
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
)

// The alert rules shipped in deploy/ run in a real Loki's ruler, loaded from
// the very file a team deploys. Only the `for:` durations are shortened, so
// that an alert fires within seconds; the expressions, their 5-minute
// windows and their thresholds are the shipped text (a fresh Loki holds
// nothing but the test's records, so the production windows see exactly
// those).

const rulesFile = "../../deploy/loki/rules/codomyrmex-security.yaml"

// forLine is a rule's `for:` duration.
var forLine = regexp.MustCompile(`(?m)^(\s+for: )(\S+)$`)

// testRules renders the shipped rules for the test: every non-zero `for:`
// becomes 1s (still above zero, so an alert goes through pending to firing
// as it does in production).
func testRules(prod string) string {
	return forLine.ReplaceAllStringFunc(prod, func(l string) string {
		m := forLine.FindStringSubmatch(l)
		if d, err := time.ParseDuration(m[2]); err == nil && d == 0 {
			return l
		}
		return m[1] + "1s"
	})
}

func readRules(t testing.TB) string {
	b, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	return string(b)
}

// alertNames are the rules the file must hold, one per item of the policy's
// "Monitoring and alerting".
var alertNames = []string{"CodomyrmexBruteForce", "CodomyrmexCriticalSecurityEvent", "CodomyrmexSecretExposure",
	"CodomyrmexAuthzDeniedBurst", "CodomyrmexRateLimitFlood"}

// TestAlertRulesFile checks the shipped file without Loki: the rules it
// names, production windows and `for:` durations, and that the test's
// rendering changes nothing but the durations.
func TestAlertRulesFile(t *testing.T) {
	prod := readRules(t)
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s+- alert: (\S+)$`).FindAllStringSubmatch(prod, -1) {
		names = append(names, m[1])
	}
	assert.ElementsMatch(t, alertNames, names)
	fors := forLine.FindAllStringSubmatch(prod, -1)
	require.Len(t, fors, len(names), "every rule has a for: duration")
	long := 0
	for _, m := range fors {
		d, err := time.ParseDuration(m[2])
		require.NoError(t, err, m[0])
		if d > 0 {
			assert.GreaterOrEqual(t, d, time.Minute, "a production for: duration")
			long++
		}
	}
	assert.Equal(t, 3, long, "brute force, authz bursts and rate-limit floods wait a minute; the rest fire at once")
	code := regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(prod, "") // the rules without comments
	windows := regexp.MustCompile(`\[(\w+)\]`).FindAllStringSubmatch(code, -1)
	require.Len(t, windows, len(names), "one range per rule")
	for _, w := range windows {
		assert.Equal(t, "5m", w[1], "production window")
	}
	for _, ev := range []logging.EventType{logging.AuthnFailure, logging.PrivilegeEscalation, logging.TamperingDetected,
		logging.AuthzDenied, logging.RateLimitExceeded, logging.SecretExposure} {
		assert.Contains(t, prod, string(ev), "the event type is the library's")
	}

	test := testRules(prod)
	pl, tl := strings.Split(prod, "\n"), strings.Split(test, "\n")
	require.Len(t, tl, len(pl))
	changed := 0
	for i := range pl {
		if pl[i] != tl[i] {
			changed++
			assert.Regexp(t, `^\s+for: 1s$`, tl[i], "only for: lines change")
			assert.Regexp(t, `^\s+for: `, pl[i], "only for: lines change")
		}
	}
	assert.Equal(t, long, changed)
}

// Loki's Prometheus-compatible ruler API, /prometheus/api/v1/rules.
type rulerGroup struct {
	Name           string      `json:"name"`
	File           string      `json:"file"`
	LastEvaluation time.Time   `json:"lastEvaluation"`
	Rules          []rulerRule `json:"rules"`
}

type rulerRule struct {
	Name      string       `json:"name"`
	Query     string       `json:"query"`
	Duration  float64      `json:"duration"`
	Health    string       `json:"health"`
	LastError string       `json:"lastError"`
	Alerts    []rulerAlert `json:"alerts"`
}

type rulerAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
	Value  string            `json:"value"`
}

// key names an alert by its rule and the labels its expression groups by.
func (a rulerAlert) key() string {
	return a.Labels["alertname"] + "{" + a.Labels["ip_address"] + a.Labels["user_id"] + a.Labels["security_event_type"] + "}"
}

func (s *lokiServer) rulerGet(t testing.TB, tenant, path string, v any) {
	req, _ := http.NewRequest("GET", s.url+path, nil)
	req.Header.Set("X-Scope-OrgID", tenant)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, v), string(body))
}

// ruleGroups returns the tenant's rule groups as the ruler reports them.
func (s *lokiServer) ruleGroups(t testing.TB, tenant string) []rulerGroup {
	var r struct {
		Data struct {
			Groups []rulerGroup `json:"groups"`
		} `json:"data"`
	}
	s.rulerGet(t, tenant, "/prometheus/api/v1/rules", &r)
	return r.Data.Groups
}

// alerts returns the tenant's alerts, pending and firing, by key.
func alerts(groups []rulerGroup) map[string]rulerAlert {
	m := map[string]rulerAlert{}
	for _, g := range groups {
		for _, r := range g.Rules {
			for _, a := range r.Alerts {
				m[a.key()] = a
			}
		}
	}
	return m
}

// startLokiRuler starts Loki with its ruler on local storage, holding rules
// for each tenant, evaluated every second.
func startLokiRuler(t testing.TB, rules map[string]string) *lokiServer {
	return startLokiWith(t, func(dir string) {
		for tenant, text := range rules {
			d := filepath.Join(dir, "rules", tenant)
			require.NoError(t, os.MkdirAll(d, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(d, filepath.Base(rulesFile)), []byte(text), 0o600))
		}
	},
		"-ruler.storage.type=local", "-ruler.storage.local.directory={{DIR}}/rules",
		"-ruler.rule-path={{DIR}}/rules-temp",
		"-ruler.evaluation-interval=1s", "-ruler.poll-interval=1s")
}

// TestAlertRulesFire loads the shipped rules into a real Loki's ruler, logs
// attacks through the library (the brute force through Middleware, as a
// service's 401s), and waits until Loki's ruler API reports each alert as
// firing. A second tenant logs the same patterns at the thresholds, where
// no alert may fire, and the first holds an address and a user at the
// thresholds too.
func TestAlertRulesFire(t *testing.T) {
	rules := testRules(readRules(t))
	srv := startLokiRuler(t, map[string]string{"attack": rules, "quiet": rules})

	// Loki loaded every rule of the file, for both tenants, with the test's
	// durations (the ruler may list them a moment after Loki is ready).
	for _, tenant := range []string{"attack", "quiet"} {
		var groups []rulerGroup
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if groups = srv.ruleGroups(t, tenant); len(groups) > 0 || time.Now().After(deadline) {
				break
			}
		}
		require.Len(t, groups, 1, tenant)
		require.Equal(t, "codomyrmex-security", groups[0].Name)
		var names []string
		for _, r := range groups[0].Rules {
			names = append(names, r.Name)
			assert.Contains(t, []float64{0, 1}, r.Duration, r.Name)
		}
		assert.ElementsMatch(t, alertNames, names, tenant)
	}

	ctx := context.Background()
	status := http.StatusUnauthorized
	svc := logging.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	request := func(ip, user string) {
		req := httptest.NewRequest("POST", "/login?user=x", nil)
		req.RemoteAddr = ip + ":40000"
		if user != "" {
			req = req.WithContext(logging.ContextWithUserID(req.Context(), user))
		}
		svc.ServeHTTP(httptest.NewRecorder(), req)
	}
	event := func(typ logging.EventType, user, ip string, n int) {
		for range n {
			logging.SecurityEvent(ctx, logging.Event{Type: typ, UserID: user, IP: ip})
		}
	}
	setup := func(tenant string) {
		require.NoError(t, logging.Setup(logging.WithConsole(nil), logging.WithOutputType(logging.OutputJSON),
			logging.WithLoki(lokiTestConfig(srv.url, tenant))))
	}

	// The attack: each pattern one above its threshold.
	setup("attack")
	status = http.StatusUnauthorized
	for range 11 {
		request("203.0.113.7", "") // brute force: > 10 from one address
	}
	for range 10 {
		request("198.51.100.4", "") // 10 from another: its own count, at the threshold
	}
	status = http.StatusForbidden
	for range 21 {
		request("192.0.2.10", "u-burst") // > 20 denials for one user
	}
	event(logging.AuthzDenied, "u-calm", "192.0.2.11", 20) // at the threshold
	for i := range 101 {                                   // > 100 rate-limit rejections
		event(logging.RateLimitExceeded, "", fmt.Sprintf("192.0.2.%d", i%50), 1)
	}
	event(logging.PrivilegeEscalation, "u-mallory", "192.0.2.66", 1)
	event(logging.TamperingDetected, "", "", 1)
	event(logging.SecretExposure, "", "", 1)
	require.NoError(t, logging.Close())

	// The quiet tenant: the same patterns at the thresholds, and events
	// no rule counts.
	setup("quiet")
	event(logging.AuthnFailure, "", "203.0.113.7", 10)
	event(logging.AuthzDenied, "u-burst", "192.0.2.10", 20)
	event(logging.RateLimitExceeded, "", "192.0.2.1", 100)
	event(logging.AuthnSuccess, "u-1", "203.0.113.8", 30)
	event(logging.TokenValidationFailure, "u-1", "203.0.113.8", 30)
	event(logging.AuthzGranted, "u-1", "203.0.113.8", 30)
	require.NoError(t, logging.Close())
	sent := time.Now() // every record is in Loki: Close waited for its pushes

	want := []string{
		"CodomyrmexBruteForce{203.0.113.7}",
		"CodomyrmexAuthzDeniedBurst{u-burst}",
		"CodomyrmexRateLimitFlood{}",
		"CodomyrmexCriticalSecurityEvent{privilege_escalation}",
		"CodomyrmexCriticalSecurityEvent{tampering_detected}",
		"CodomyrmexSecretExposure{}",
	}
	// Wait (polling, up to a generous deadline) until every wanted alert is
	// firing and both tenants' rules were evaluated after the last record
	// arrived: an evaluation that started then saw every record, so a rule
	// over its threshold would show at least a pending alert.
	var attack, quiet map[string]rulerAlert
	deadline := time.Now().Add(60 * time.Second)
	for {
		ag, qg := srv.ruleGroups(t, "attack"), srv.ruleGroups(t, "quiet")
		attack, quiet = alerts(ag), alerts(qg)
		done := len(ag) == 1 && len(qg) == 1 && ag[0].LastEvaluation.After(sent) && qg[0].LastEvaluation.After(sent)
		for _, k := range want {
			done = done && attack[k].State == "firing"
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts not firing by the deadline: attack %v, quiet %v\n%s", attack, quiet, srv.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, g := range [][]rulerGroup{srv.ruleGroups(t, "attack"), srv.ruleGroups(t, "quiet")} {
		for _, r := range g[0].Rules {
			assert.Equal(t, "ok", r.Health, "%s evaluated without error: %s", r.Name, r.LastError)
		}
	}
	assert.ElementsMatch(t, want, slices.Collect(maps.Keys(attack)), "the attack fires these alerts and no other")
	assert.Empty(t, quiet, "nothing at a threshold fires, or is pending")

	// Each count is its own group's: the other address's failures, the
	// other user's denials are not added.
	value := func(k string) float64 {
		v, err := strconv.ParseFloat(attack[k].Value, 64)
		require.NoError(t, err, k)
		return v
	}
	assert.Equal(t, 11.0, value("CodomyrmexBruteForce{203.0.113.7}"))
	assert.Equal(t, 21.0, value("CodomyrmexAuthzDeniedBurst{u-burst}"))
	assert.Equal(t, 101.0, value("CodomyrmexRateLimitFlood{}"))
	assert.Equal(t, "high", attack["CodomyrmexBruteForce{203.0.113.7}"].Labels["severity"])
	assert.Equal(t, "critical", attack["CodomyrmexCriticalSecurityEvent{privilege_escalation}"].Labels["severity"])

	// The ruler's alerts endpoint, the one an operator or Grafana reads,
	// reports the brute force as firing, with its address and summary.
	var r struct {
		Data struct {
			Alerts []struct {
				rulerAlert
				Annotations map[string]string `json:"annotations"`
			} `json:"alerts"`
		} `json:"data"`
	}
	srv.rulerGet(t, "attack", "/prometheus/api/v1/alerts", &r)
	found := false
	for _, a := range r.Data.Alerts {
		if a.key() == "CodomyrmexBruteForce{203.0.113.7}" {
			found = true
			assert.Equal(t, "firing", a.State)
			assert.Contains(t, a.Annotations["summary"], "ip_address=203.0.113.7")
		}
	}
	assert.True(t, found, "brute force alert listed by /prometheus/api/v1/alerts: %+v", r.Data.Alerts)
}
