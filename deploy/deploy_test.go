// Package deploy_test keeps the alert rules and the dashboard in deploy/
// true: promtool checks and unit-tests the rules, every query names only
// metrics the service exports, and every alert's runbook link leads to a
// README section.
package deploy_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/fleet"
	"github.com/lmn/aggregator/metrics"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/sources/glovis"
	"github.com/lmn/aggregator/vehicle"
)

func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("no promtool on PATH: .ci/run installs it (apt-get install -y prometheus)")
	}
	return p
}

func TestAlertRulesCheck(t *testing.T) {
	out, err := exec.Command(promtool(t), "check", "rules", "prometheus/alerts.yml").CombinedOutput()
	require.NoError(t, err, "promtool check rules:\n%s", out)
}

func TestAlertRulesUnitTests(t *testing.T) {
	out, err := exec.Command(promtool(t), "test", "rules", "prometheus/alerts_test.yml").CombinedOutput()
	require.NoError(t, err, "promtool test rules:\n%s", out)
}

type fakeOverload struct{}

func (fakeOverload) InFlight() int { return 1 }
func (fakeOverload) Shed() uint64  { return 1 }

type fakeFleet struct{}

func (fakeFleet) Shared() bool              { return true }
func (fakeFleet) ErrorsOf(string) uint64    { return 1 }
func (fakeFleet) Size() int                 { return 3 }
func (fakeFleet) Crawling() bool            { return true }
func (fakeFleet) Version() int64            { return 1 }
func (fakeFleet) SharedHits() uint64        { return 1 }
func (fakeFleet) FleetWaits() (j, f uint64) { return 1, 1 }

// exported lists every metric family the service exports, with its type:
// a service's metrics with every recording method called once, so that
// vectors have a series to show.
func exported(t *testing.T) map[string]string {
	t.Helper()
	m := metrics.New()
	b := breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{})
	m.WatchBreakers([]*breaker.Breaker{b})
	m.WatchAuction("glovis", &glovis.Auction{Crawler: &glovis.Crawler{Store: &glovis.Store{}}})
	m.WatchOverload(fakeOverload{})
	m.WatchFleet(fakeFleet{}, fleet.Kinds)
	m.WatchCrawlLease("glovis", fakeFleet{})
	m.WatchSharedAnswers("encar", fakeFleet{})
	m.Transition("encar", "closed", "open")
	m.UpstreamCall("encar", "success", time.Millisecond)
	m.Request("GET /v1/vehicles", 200, time.Millisecond)
	m.PartnerRequest("acme", 200)
	m.Partial([]vehicle.Source{vehicle.Encar})
	m.Panic("encar")
	m.DealersUnavailable()
	m.WatchListener("admin", func() int { return 1 }, 64)
	m.KeysReload(true)
	m.AdminAuthFailure(false)
	sources.NoteMissing("encar", "color", sources.MinRowsForMissing)
	sources.NoteSkipped("danawa", "no_id", 10, "example")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	types := map[string]string{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
		}
	}
	require.NotEmpty(t, types)
	return types
}

var metricName = regexp.MustCompile(`\blmn_[a-z0-9_]+`)

// checkNames fails for any lmn_ name in query the service does not export
// (a histogram's _bucket, _sum and _count included).
func checkNames(t *testing.T, where, query string, types map[string]string) {
	t.Helper()
	names := metricName.FindAllString(query, -1)
	assert.NotEmpty(t, names, "%s: %q names no lmn_ metric", where, query)
	for _, n := range names {
		if _, ok := types[n]; ok {
			continue
		}
		base := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		assert.Equal(t, "histogram", types[base], "%s: %s is not a metric the service exports", where, n)
	}
}

// TestFamiliesPresentFromStart: a service as serve wires it, before any
// request, crawl or failure, already exports every family a panel or an
// alert counts failures with, at 0, so that no panel says "No data" and
// increase() sees the first failure.
func TestFamiliesPresentFromStart(t *testing.T) {
	m := metrics.New()
	_, err := service.New(service.Config{Metrics: m, Breaker: breaker.DefaultConfig, CrawlInterval: time.Minute}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, series := range []string{
		`lmn_panics_total{source="encar"} 0`,
		`lmn_panics_total{source="glovis_detail"} 0`,
		`lmn_upstream_requests_total{outcome="success",source="danawa"} 0`,
		`lmn_upstream_request_duration_seconds_count{source="encar"} 0`,
		`lmn_extract_field_missing_total{field="fuel",source="encar"} 0`,
		`lmn_extract_field_missing_total{field="region",source="danawa"} 0`,
		`lmn_extract_rows_skipped_total{reason="link_shape",source="danawa"} 0`,
		`lmn_auction_snapshot_write_failures_total{source="glovis"} 0`,
		`lmn_keys_reloads_total{result="failed"} 0`,
		`lmn_admin_auth_failures_total{result="refused"} 0`,
		`lmn_build_info{go_version="` + runtime.Version() + `",revision="unknown",version="unknown"} 1`,
	} {
		assert.Contains(t, body, series+"\n")
	}
}

func TestAlertsNameExportedMetrics(t *testing.T) {
	types := exported(t)
	raw, err := os.ReadFile("prometheus/alerts.yml")
	require.NoError(t, err)
	exprs := regexp.MustCompile(`(?s)expr: (\|\n.*?|[^\n]*)\n\s+(?:for|labels):`).FindAllStringSubmatch(string(raw), -1)
	require.Len(t, exprs, strings.Count(string(raw), "- alert: "), "an expression per alert")
	for _, e := range exprs {
		checkNames(t, "alerts.yml", e[1], types)
	}
}

func TestDashboardNamesExportedMetrics(t *testing.T) {
	types := exported(t)
	raw, err := os.ReadFile("grafana/aggregator.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	queries := 0
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, tg := range p.Targets {
			checkNames(t, "panel "+p.Title, tg.Expr, types)
			queries++
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			checkNames(t, "variable "+v.Name, q["query"].(string), types)
			queries++
		}
	}
	t.Logf("%d queries checked against %d exported families", queries, len(types))
}

// TestAlertsLinkTheirRunbook: every alert links the README section named
// after it, and that section exists.
func TestAlertsLinkTheirRunbook(t *testing.T) {
	raw, err := os.ReadFile("prometheus/alerts.yml")
	require.NoError(t, err)
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	alerts := regexp.MustCompile(`- alert: (\w+)`).FindAllStringSubmatch(string(raw), -1)
	links := regexp.MustCompile(`runbook_url: https://github\.com/lmn/aggregator/blob/main/README\.md#(\S+)`).FindAllStringSubmatch(string(raw), -1)
	require.NotEmpty(t, alerts)
	require.Len(t, links, len(alerts), "a runbook link per alert")
	for i, a := range alerts {
		assert.Equal(t, strings.ToLower(a[1]), links[i][1], "%s links another section", a[1])
		assert.Regexp(t, `(?m)^#### `+a[1]+`$`, string(readme), "README has no section for %s", a[1])
	}
}
