package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStarvedServiceBlamesNoUpstream starves the real service binary of
// CPU, with its upstreams healthy: it runs with GOMAXPROCS=1 on core 0
// beside LMN_STARVATION_BUSY busy loops (default 3) pinned to the same core
// (taskset), so it gets a quarter of a core, while the simulator runs
// unhindered on core 1 and an open-loop load of LMN_STARVATION_RATE
// requests a second (default 200) asks for the most expensive dealer
// request for LMN_STARVATION_SECONDS (default 20).
//
// The service must see its own starvation, not the upstreams': no breaker
// transition, no 503 dealer_upstream_unavailable, no partial answer
// saying timeout; every answer complete, or a 503 overloaded. It takes
// about half a minute and a whole core, so it runs only with
// LMN_STARVATION=1 (README, "Whose fault is a slow answer").
func TestStarvedServiceBlamesNoUpstream(t *testing.T) {
	if os.Getenv("LMN_STARVATION") == "" {
		t.Skip("set LMN_STARVATION=1 to starve the service of CPU for half a minute")
	}
	_, err := exec.LookPath("taskset")
	require.NoError(t, err, "taskset (util-linux) pins the processes to one core")
	rate, seconds, busy := envInt("LMN_STARVATION_RATE", 200), envInt("LMN_STARVATION_SECONDS", 20), envInt("LMN_STARVATION_BUSY", 3)

	bin := filepath.Join(t.TempDir(), "aggregator")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)

	encar, danawa, glovis, kcar, control := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	start := func(name string, args []string, env ...string) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		require.NoError(t, cmd.Start(), "%s %v", name, args)
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	start("taskset", []string{"-c", "1", bin, "sim", "-encar-addr", encar, "-danawa-addr", danawa, "-glovis-addr", glovis, "-kcar-addr", kcar, "-control-addr", control})
	api, admin := freeAddr(t), freeAddr(t)
	start("taskset", []string{"-c", "0", bin, "serve", "-addr", api, "-admin-addr", admin,
		"-encar-url", "http://" + encar, "-danawa-url", "http://" + danawa, "-glovis-url", "http://" + glovis, "-kcar-url", "http://" + kcar,
		"-api-keys", DemoKey, "-cursor-secrets", "starvation-test-secret-0123456789", "-upstream-cache-ttl", "0",
		"-log-format", "text", "-rate-per-second", "100000", "-rate-burst", "100000"}, "GOMAXPROCS=1")
	client := &http.Client{Timeout: time.Minute}
	require.Eventually(t, func() bool {
		resp, err := client.Get("http://" + admin + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, time.Minute, 100*time.Millisecond, "the service did not start")
	// Warm the pools unstarved, then starve it.
	for range 10 {
		resp, err := get(client, "http://"+api+dealerQuery)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.status, resp.body)
	}
	for range busy {
		start("taskset", []string{"-c", "0", "sh", "-c", "while :; do :; done"})
	}
	time.Sleep(time.Second)

	var (
		mu      sync.Mutex
		answers []starvedAnswer
		wg      sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	end := time.Now().Add(time.Duration(seconds) * time.Second)
	for time.Now().Before(end) {
		<-tick.C
		wg.Go(func() {
			began := time.Now()
			a, err := get(client, "http://"+api+dealerQuery)
			a.took, a.err = time.Since(began), err
			mu.Lock()
			answers = append(answers, a)
			mu.Unlock()
		})
	}
	tick.Stop()
	wg.Wait()

	counts := map[string]int{}
	var okTook, shedTook []time.Duration
	for _, a := range answers {
		require.NoError(t, a.err)
		switch {
		case a.status == http.StatusOK && a.partial == "":
			counts["200 complete"]++
			okTook = append(okTook, a.took)
		case a.status == http.StatusOK:
			counts["200 partial "+a.partial]++
			assert.NotContains(t, a.partial, "reason=timeout", "a healthy upstream blamed for this service's starvation")
		case a.status == http.StatusServiceUnavailable && a.code == "overloaded":
			counts["503 overloaded"]++
			shedTook = append(shedTook, a.took)
		default:
			counts[fmt.Sprintf("%d %s", a.status, a.code)]++
			t.Errorf("answer %d %s: %s", a.status, a.code, a.body)
		}
	}
	for _, src := range []string{"encar", "danawa"} {
		var b struct {
			State   string `json:"state"`
			History []struct {
				From, To, Reason string
			} `json:"history"`
		}
		resp, err := client.Get("http://" + admin + "/debug/breakers/" + src)
		require.NoError(t, err)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&b))
		resp.Body.Close()
		assert.Equal(t, "closed", b.State, src)
		assert.Empty(t, b.History, "%s: no breaker transition while the upstreams were healthy", src)
	}
	lateness, overloaded := metricsOf(t, client, "http://"+admin+"/metrics")
	t.Logf("%d req/s for %d s, GOMAXPROCS=1 on a core shared with %d busy loops: %v", rate, seconds, busy, counts)
	t.Logf("complete answers p50 %s p99 %s; 503 overloaded p50 %s p99 %s", pct(okTook, 50), pct(okTook, 99), pct(shedTook, 50), pct(shedTook, 99))
	t.Logf("lag probe lateness %.1f s in all; upstream calls judged overloaded: %d", lateness, overloaded)
}

type starvedAnswer struct {
	status        int
	code, partial string
	body          string
	took          time.Duration
	err           error
}

func get(c *http.Client, url string) (starvedAnswer, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return starvedAnswer{}, err
	}
	req.Header.Set("x-api-key", DemoKey)
	resp, err := c.Do(req)
	if err != nil {
		return starvedAnswer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a := starvedAnswer{status: resp.StatusCode, partial: resp.Header.Get("X-LMN-Partial-Dealer-Detail"), body: string(raw[:min(len(raw), 300)])}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil {
		a.code = e.Error.Code
	}
	return a, err
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)*p/100, len(s)-1)].Round(time.Millisecond)
}

// metricsOf reads the lag probe's total lateness and the count of upstream
// calls judged this service's overload from the service's /metrics.
func metricsOf(t *testing.T, c *http.Client, url string) (lateness float64, overloaded int) {
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch {
		case strings.HasPrefix(line, "lmn_scheduling_lateness_seconds_total "):
			lateness = v
		case strings.HasPrefix(line, "lmn_upstream_requests_total{") && strings.Contains(line, `outcome="overloaded"`):
			overloaded += int(v)
		}
	}
	return lateness, overloaded
}
