package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sim"
)

// syncBuffer is written by the server goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	apiRe   = regexp.MustCompile(`'(http://127\.0\.0\.1:\d+)(/v1/vehicles\?[^']*)'`)
	adminRe = regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/sim/encar`)
)

func noenv(string) string { return "" }

// TestServeSimAndBreakers runs the README's demo: serve -sim, then the
// breakers command against its admin listener, then a graceful shutdown.
func TestServeSimAndBreakers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		// Deadlines no busy machine misses: this test is about what the
		// demo answers, not how fast.
		done <- run(ctx, []string{"serve", "-sim", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-log-format", "json",
			"-encar-timeout", "30s", "-danawa-timeout", "30s", "-glovis-timeout", "30s", "-deadline", "1m"}, noenv, &stdout, &stderr)
	}()
	var api, example, admin string
	require.Eventually(t, func() bool {
		a, b := apiRe.FindStringSubmatch(stdout.String()), adminRe.FindStringSubmatch(stdout.String())
		if a == nil || b == nil {
			return false
		}
		api, example, admin = a[1], a[2], b[1]
		return true
	}, time.Minute, 20*time.Millisecond, "serve -sim printed no curl example: %s", stderr.String())
	require.Eventually(t, func() bool {
		resp, err := http.Get(admin + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 2*time.Minute, 20*time.Millisecond, "the first crawl did not finish")

	get := func(path string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, api+path, nil)
		req.Header.Set("x-api-key", DemoKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	// The printed example answers with rows from all four sources.
	req, _ := http.NewRequest(http.MethodGet, api+example, nil)
	req.Header.Set("x-api-key", DemoKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var page struct {
		Data []struct {
			Source       string  `json:"source"`
			DealerSource *string `json:"dealer_source"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
	resp.Body.Close()
	from := map[string]bool{}
	for _, r := range page.Data {
		if r.DealerSource != nil {
			from[*r.DealerSource] = true
		} else {
			from[r.Source] = true
		}
	}
	assert.Equal(t, map[string]bool{"glovis": true, "kcar": true, "encar": true, "danawa": true}, from, "the README's example")

	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"breakers", "-admin", admin, "force-open", "encar", "-reason", "test"}, noenv, &out, &out))
	assert.Equal(t, "encar is now forced_open\n", out.String())

	encarHits := func() int64 {
		resp, err := http.Get(admin + "/sim")
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]struct{ Requests int64 }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return m["encar"].Requests
	}
	before := encarHits()
	resp = get("/v1/vehicles?make=Kia&limit=5")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "encar", resp.Header.Get("X-LMN-Partial-Dealer-Unavailable"))
	assert.Equal(t, before, encarHits(), "a request reached Encar through a forced-open breaker")

	out.Reset()
	require.NoError(t, run(ctx, []string{"breakers", "-admin", admin}, noenv, &out, &out))
	table := out.String()
	assert.Regexp(t, `(?m)^encar\s+forced_open\s`, table)
	assert.Regexp(t, `(?m)^danawa\s+closed\s`, table)
	assert.Contains(t, table, "NEXT PROBE")

	out.Reset()
	require.NoError(t, run(ctx, []string{"breakers", "-admin", admin, "show", "encar"}, noenv, &out, &out))
	assert.Contains(t, out.String(), "operator: forced_open: test")

	// A blocked Danawa trips its breaker within a few requests.
	req, _ = http.NewRequest(http.MethodPut, admin+"/sim/danawa", strings.NewReader(`{"mode":"blocked"}`))
	sresp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	sresp.Body.Close()
	for range 5 {
		get("/v1/vehicles?source=danawa&make=Kia")
	}
	out.Reset()
	require.NoError(t, run(ctx, []string{"breakers", "-admin", admin}, noenv, &out, &out))
	assert.Regexp(t, `(?m)^danawa\s+open\s+60%\s+0%\s+5\s+2\s.*in [1-3]?\ds\s+danawa list: blocked.*\s/usedcar/: .*first byte in`, out.String(),
		"open: the rates and requests of the window that tripped it, 2 calls rejected, the next probe, the last failed call's phases")

	req, _ = http.NewRequest(http.MethodPut, admin+"/sim/danawa", strings.NewReader(`{"mode":"healthy"}`))
	sresp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	sresp.Body.Close()
	out.Reset()
	require.NoError(t, run(ctx, []string{"breakers", "-admin", admin, "reset", "encar", "-reason", "done"}, noenv, &out, &out))
	out.Reset()
	require.NoError(t, run(ctx, []string{"breakers", "-admin", admin, "reset", "danawa"}, noenv, &out, &out), "a reset needs no reason")
	out.Reset()
	require.NoError(t, run(ctx, []string{"breakers", "-admin", admin}, noenv, &out, &out))
	assert.Regexp(t, `(?m)^danawa\s+closed\s+0%\s+0%\s+0\s+0\s+\S+ ago\s+-\s+-\s+-$`, out.String(),
		"after a reset: no requests, none rejected, no last error")
	out.Reset()
	require.NoError(t, run(ctx, []string{"breakers", "-admin", admin, "show", "danawa"}, noenv, &out, &out))
	assert.Regexp(t, `(?m)^\S+\+09:00\s+open → closed\s+operator: reset: no reason given \(by aggregator-cli from `, out.String())
	out.Reset()
	require.NoError(t, run(ctx, []string{"breakers", "-admin", admin, "-json", "show", "danawa"}, noenv, &out, &out))
	assert.NotContains(t, out.String(), `Z"`, "admin timestamps are +09:00")
	assert.Contains(t, out.String(), `+09:00"`)
	err = run(ctx, []string{"breakers", "-admin", admin, "force-open", "danawa"}, noenv, &out, &out)
	assert.ErrorContains(t, err, "-reason is required", "forcing needs a reason")
	resp = get("/v1/vehicles?make=Kia&limit=5")
	assert.Empty(t, resp.Header.Get("X-LMN-Partial-Dealer-Unavailable"))

	// The access log records a request after its response is written, so
	// the last request may reach the metrics a moment after the client.
	want := []string{
		`lmn_breaker_state{source="encar",state="closed"} 1`,
		`lmn_breaker_transitions_total{from="closed",source="encar",to="forced_open"} 1`,
		`lmn_breaker_rejected_total{source="encar"} 1`,
		`lmn_partial_responses_total{failed_source="encar"} 1`,
		`lmn_upstream_requests_total{outcome="rejected",source="encar"} 1`,
		`lmn_upstream_requests_total{outcome="success",source="glovis"}`,
		`lmn_api_requests_total{route="GET /v1/vehicles",status="200"} 3`,
		`lmn_api_requests_total{route="GET /v1/vehicles",status="503"} 5`,
		`lmn_breaker_state{source="danawa",state="closed"} 1`,
		`lmn_breaker_transitions_total{from="open",source="danawa",to="closed"} 1`,
		`lmn_breaker_transitions_total{from="closed",source="danawa",to="open"} 1`,
		`lmn_upstream_requests_total{outcome="blocked",source="danawa"} 3`,
		`lmn_upstream_requests_total{outcome="rejected",source="danawa"} 2`,
		`lmn_dealer_unavailable_responses_total 5`,
		fmt.Sprintf(`lmn_auction_index_rows{source="glovis"} %d`, listedLots()),
		`lmn_dictionary_unmapped_total{kind="make"}`,
	}
	var metrics string
	complete := assert.Eventually(t, func() bool {
		mresp, err := http.Get(admin + "/metrics")
		if err != nil {
			return false
		}
		defer mresp.Body.Close()
		b, _ := io.ReadAll(mresp.Body)
		metrics = string(b)
		for _, s := range want {
			if !strings.Contains(metrics, s) {
				return false
			}
		}
		return true
	}, time.Minute, 20*time.Millisecond, "metrics")
	if !complete {
		for _, s := range want {
			assert.Contains(t, metrics, s) // names what is missing
		}
	}

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "graceful shutdown")
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop after its context ended")
	}
	assert.True(t, strings.Contains(stderr.String(), "shutting down"), "shutdown is logged")
}

// TestHelpExitsZero: -h prints the usage and is not a failure, for every
// command and every breakers action.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"serve", "-h"}, {"breakers", "-h"}, {"breakers", "show", "-h"}, {"breakers", "force-open", "-h"},
		{"breakers", "force-closed", "encar", "-h"}, {"breakers", "reset", "-h"}, {"extract", "-h"}, {"sim", "-h"},
		{"load", "-h"}, {"naive", "-h"}, {"keys", "-h"},
	} {
		var out bytes.Buffer
		assert.NoError(t, run(context.Background(), args, noenv, &out, &out), "%v", args)
		assert.Contains(t, strings.ToLower(out.String()), "usage", "%v", args)
	}
}

func TestBreakersUnreachable(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"breakers", "-admin", "http://127.0.0.1:1"}, noenv, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unreachable")
}

func TestServeNeedsKeysAndSecret(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0"}, noenv, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no API keys")
}

func TestServeConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		args    []string
		env     map[string]string
		wantErr string
	}{
		{env: map[string]string{"LMN_FX_RATE": "abc"}, wantErr: "$LMN_FX_RATE"},
		{args: []string{"-fx-rate", "-3"}, wantErr: "positive"},
		{env: map[string]string{"LMN_ENCAR_TIMEOUT": "soon"}, wantErr: "$LMN_ENCAR_TIMEOUT"},
		{args: []string{"-deadline", "0s"}, wantErr: "-deadline must be positive"},
		{args: []string{"-env", "prod"}, wantErr: "-env must be stg or live"},
		{args: []string{"-glovis-sites", "1100,9999"}, wantErr: "unknown site code"},
		{args: []string{"stray"}, wantErr: "unexpected arguments"},
		{args: []string{"-admin-addr", "0.0.0.0:9090"}, wantErr: "set -admin-token"},
		{args: []string{"-admin-addr", ":9090"}, wantErr: "set -admin-token"},
		{args: []string{"-admin-addr", "10.0.0.5:9090", "-admin-token", "short"}, wantErr: "at least 32"},
		{args: []string{"-drain-delay", "10s", "-shutdown-grace", "10s"}, wantErr: "-drain-delay"},
		{args: []string{"-rate-burst", "0"}, wantErr: "-rate-burst"},
		{args: []string{"-rate-per-second", "0"}, wantErr: "positive"},
		{args: []string{"-trusted-proxies", "10.0.0.0/8,proxy"}, wantErr: "-trusted-proxies"},
		{args: []string{"-max-in-flight", "0"}, wantErr: "-max-in-flight must be at least 1"},
		{env: map[string]string{"LMN_MAX_IN_FLIGHT": "many"}, wantErr: "$LMN_MAX_IN_FLIGHT"},
		{args: []string{"-upstream-cache-ttl", "5m"}, wantErr: "-upstream-cache-ttl must be 0 to 60s"},
		{args: []string{"-redis", "http://cache:6379"}, wantErr: "-redis"},
		{env: map[string]string{"LMN_REDIS_URL": "redis://cache:port"}, wantErr: "-redis"},
		{args: []string{"-redis-timeout", "0s"}, wantErr: "-redis-timeout must be positive"},
	} {
		_, err := parseConfig(flag.NewFlagSet("serve", flag.ContinueOnError), tc.args, env(tc.env))
		require.Error(t, err, "%v %v", tc.args, tc.env)
		assert.Contains(t, err.Error(), tc.wantErr)
	}
	c, err := parseConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"-fx-rate", "1400"},
		env(map[string]string{"LMN_FX_RATE": "1300", "LMN_ADDR": ":9999", "LMN_ENCAR_TIMEOUT": "750ms"}))
	require.NoError(t, err)
	assert.Equal(t, 1400.0, c.fxRate, "the command line wins over the environment")
	assert.Equal(t, ":9999", c.addr)
	assert.Equal(t, 750*time.Millisecond, c.sources["encar"].timeout)

	c, err = parseConfig(flag.NewFlagSet("serve", flag.ContinueOnError), nil, env(map[string]string{"LMN_MAX_IN_FLIGHT": "40"}))
	require.NoError(t, err)
	assert.Equal(t, 40, c.maxInFlight)
	assert.Equal(t, 30*time.Second, c.upstreamCacheTTL)

	c, err = parseConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"-sim"}, noenv)
	require.NoError(t, err)
	assert.Zero(t, c.upstreamCacheTTL, "the demo's faults show at once")

	c, err = parseConfig(flag.NewFlagSet("serve", flag.ContinueOnError), nil, env(map[string]string{"LMN_REDIS_URL": "redis://cache:6379/2"}))
	require.NoError(t, err)
	assert.Equal(t, "redis://cache:6379/2", c.redisURL)
	assert.Equal(t, 100*time.Millisecond, c.redisTimeout, "above a busy box's round-trip tail, below a request's patience (README)")
}

func TestServeRefusesShortCursorSecrets(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), []string{"serve", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0",
		"-api-keys", "lmn_stg_abcdefghijklmnop0123", "-cursor-secrets", "short"}, noenv, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "at least 16")
}

// listedLots counts the lots of the auction rounds the simulator shows at
// its start: what a crawl must index.
func listedLots() int {
	n := 0
	for _, l := range sim.New().GlovisLots() {
		if l.Listed {
			n++
		}
	}
	return n
}

// TestServeReloadsKeysOnSIGHUP: a key added to the file works and a key
// removed from it stops, without a restart.
func TestServeReloadsKeysOnSIGHUP(t *testing.T) {
	const acme, beta = "lmn_stg_acme0000000000000001", "lmn_stg_beta0000000000000002"
	file := filepath.Join(t.TempDir(), "keys.json")
	write := func(partner, key string) {
		require.NoError(t, os.WriteFile(file, []byte(`{"keys": [{"partner": "`+partner+`", "key": "`+key+`"}]}`), 0o600))
	}
	write("acme", acme)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-sim", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-log-format", "json",
			"-api-keys-file", file, "-drain-delay", "0s"}, noenv, &stdout, &stderr)
	}()
	var api string
	require.Eventually(t, func() bool {
		a := apiRe.FindStringSubmatch(stdout.String())
		if a != nil {
			api = a[1]
		}
		return a != nil
	}, 10*time.Second, 20*time.Millisecond, "serve printed no address: %s", stderr.String())
	status := func(key string) int {
		req, _ := http.NewRequest(http.MethodGet, api+"/v1/vehicles/encar_39000000", nil)
		req.Header.Set("x-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.NotEqual(t, http.StatusUnauthorized, status(acme))
	assert.NotEqual(t, http.StatusUnauthorized, status(DemoKey), "-sim adds the demo key")
	assert.Equal(t, http.StatusUnauthorized, status(beta))

	write("beta", beta)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "API keys reloaded") },
		10*time.Second, 20*time.Millisecond, "no reload logged: %s", stderr.String())
	assert.Equal(t, http.StatusUnauthorized, status(acme), "a removed key stops at once")
	assert.NotEqual(t, http.StatusUnauthorized, status(beta), "an added key works")

	// A broken file keeps the keys in service.
	require.NoError(t, os.WriteFile(file, []byte(`{"keys": [`), 0o600))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "API keys not reloaded") },
		10*time.Second, 20*time.Millisecond)
	assert.NotEqual(t, http.StatusUnauthorized, status(beta))
	// Both rereadings are counted, the failed one where an alert sees it.
	admin := adminRe.FindStringSubmatch(stdout.String())
	require.NotNil(t, admin)
	resp, err := http.Get(admin[1] + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), `lmn_keys_reloads_total{result="failed"} 1`)
	assert.Contains(t, string(body), `lmn_keys_reloads_total{result="ok"} 1`)
	cancel()
	require.NoError(t, <-done)
}

func TestKeysHash(t *testing.T) {
	var out, errOut bytes.Buffer
	// The expected value is sha256 of the key, computed by sha256sum.
	require.NoError(t, keys([]string{"hash"}, strings.NewReader(DemoKey+"\n"), &out, &errOut))
	assert.Equal(t, "ecc23a4f651154b7ad4c0a171487210c5f00d199262b8c2b44ea6af1775f7944\n", out.String())
	assert.Error(t, keys([]string{"hash"}, strings.NewReader("not a key\n"), &out, &errOut))
	assert.Error(t, keys(nil, strings.NewReader(""), &out, &errOut))
}

func TestServeAdminOffLoopbackWithToken(t *testing.T) {
	_, err := parseConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"-admin-addr", "0.0.0.0:9090"},
		func(k string) string {
			return map[string]string{"LMN_ADMIN_TOKEN": "admin-token-0123456789abcdefghijk"}[k]
		})
	assert.NoError(t, err, "a token from the environment allows an admin listener off loopback")
}

// TestServeMetricsApart: with -metrics-addr, /metrics is there alone and no
// longer on the admin listener.
func TestServeMetricsApart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-sim", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0",
			"-log-format", "json", "-drain-delay", "0s"}, noenv, &stdout, &stderr)
	}()
	metricsRe := regexp.MustCompile(`"metrics_addr":"(127\.0\.0\.1:\d+)"`)
	var metricsURL, admin string
	require.Eventually(t, func() bool {
		m, a := metricsRe.FindStringSubmatch(stderr.String()), adminRe.FindStringSubmatch(stdout.String())
		if m == nil || a == nil {
			return false
		}
		metricsURL, admin = "http://"+m[1], a[1]
		return true
	}, 10*time.Second, 20*time.Millisecond, "serve logged no metrics address: %s", stderr.String())
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get(metricsURL + "/metrics")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "lmn_breaker_state")
	status, _ = get(metricsURL + "/debug/breakers")
	assert.Equal(t, http.StatusNotFound, status, "the metrics listener serves nothing else")
	status, _ = get(admin + "/metrics")
	assert.Equal(t, http.StatusNotFound, status)
	cancel()
	require.NoError(t, <-done)
}

// TestDrain: /readyz fails first, requests are served through the delay,
// and only then do the listeners close. On synctest's clock.
func TestDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var draining atomic.Bool
		// Not started: a real socket would keep synctest's clock from moving.
		srv := &http.Server{}
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- drain(draining.Store, 5*time.Second, 10*time.Second, []*http.Server{srv}) }()
		synctest.Wait()
		assert.True(t, draining.Load(), "readiness fails at once")
		select {
		case <-done:
			t.Fatal("the listeners closed before the drain delay")
		default:
		}
		require.NoError(t, <-done)
		assert.Equal(t, 5*time.Second, time.Since(start), "closed after the delay")
	})
}
