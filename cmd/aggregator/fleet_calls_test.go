package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/internal/redistest"
)

// popular are the queries of the fleet measurement: dealer searches for five
// makes, whose upstream requests have none in common (one Encar search and
// Danawa pages, each naming its make).
var popular = []string{
	"/v1/vehicles?source=dealer&make=Hyundai&sort=price_asc&limit=50",
	"/v1/vehicles?source=dealer&make=Kia&sort=price_asc&limit=50",
	"/v1/vehicles?source=dealer&make=Genesis&sort=price_asc&limit=50",
	"/v1/vehicles?source=dealer&make=BMW&sort=price_asc&limit=50",
	"/v1/vehicles?source=dealer&make=Chevrolet&sort=price_asc&limit=50",
}

// TestFleetUpstreamCalls measures what the fleet costs the upstreams and
// the CPU it costs us: the real binary as replicas on one real Redis, one
// simulator process, popular queries sent open-loop across the replicas
// from a cold start, upstream calls counted by the simulator.
//
// The distinct upstream requests of the queries are counted apart, by a
// lone instance without any cache answering each query once: the figure is
// upstream calls per distinct request per cache period, 1.0 when every
// identical request reached the upstream once per period for the fleet.
//
// In CI: three replicas, 300 requests/s for 5 s, one cache period.
// LMN_FLEET_MEASURE=1 runs the README's table: one instance, then 3 and 6
// instances without Redis and as replicas, 300/s for 60 s over three 20 s
// cache periods; LMN_FLEET_MEASURE=<duration> sends for that long instead,
// over cache periods of a third of it. The CPU these cost is
// TestFleetCPU's to compare.
func TestFleetUpstreamCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary: not in -short")
	}
	long, span := os.Getenv("LMN_FLEET_MEASURE") != "", time.Minute
	if d, err := time.ParseDuration(os.Getenv("LMN_FLEET_MEASURE")); err == nil && d > 0 {
		span = d
	}
	h := newFleetHarness(t)
	distinct := h.distinct(t)
	t.Logf("popular queries: %d, distinct upstream requests: %d", len(popular), distinct)

	if !long {
		m := h.measure(t, 3, 300, 5*time.Second, 30*time.Second, true)
		t.Logf("3 replicas: %s", m.line(distinct))
		assert.LessOrEqual(t, m.perDistinct(distinct), 1.1, "one upstream call per distinct request per cache period")
		return
	}
	alone := h.measure(t, 1, 300, span, span/3, false)
	t.Logf("one instance, no Redis: %s", alone.line(distinct))
	for _, n := range []int{3, 6} {
		apart := h.measure(t, n, 300, span, span/3, false)
		t.Logf("%d instances, no Redis: %s", n, apart.line(distinct))
		m := h.measure(t, n, 300, span, span/3, true)
		t.Logf("%d replicas: %s", n, m.line(distinct))
		assert.LessOrEqual(t, m.perDistinct(distinct), 1.1, "%d replicas: one upstream call per distinct request per cache period", n)
	}
}

// TestFleetCPU measures the CPU a request costs in fleet mode against one
// instance alone, and against the same number of instances without Redis:
// the three sets run side by side on this box, warmed, and are driven in
// turn (300 requests/s for 10 s each, the order rotating every round), so
// that a change in what else the machine is doing falls on all of them
// alike. The figure is the median over the rounds of the fleet's CPU per
// request over the lone instance's in the same round.
//
// A fourth drive in each round sends the lone instance a replica's share,
// 300/n requests/s: what a process costs per request at the rate each
// replica sees, with no fleet and no other instance at all.
//
// It only measures (timing on a shared machine is no test): it runs with
// LMN_FLEET_MEASURE set, for 3 and 6 replicas; LMN_FLEET_ROUNDS sets the
// rounds (default 4).
func TestFleetCPU(t *testing.T) {
	if os.Getenv("LMN_FLEET_MEASURE") == "" {
		t.Skip("set LMN_FLEET_MEASURE=1 to measure the fleet's CPU per request (several minutes)")
	}
	rounds := 4
	if r, err := strconv.Atoi(os.Getenv("LMN_FLEET_ROUNDS")); err == nil && r > 0 {
		rounds = r
	}
	const rate, slice, ttl = 300, 10 * time.Second, 20 * time.Second
	h := newFleetHarness(t)
	for _, n := range []int{3, 6} {
		alone := h.startSet(t, fmt.Sprintf("cpu%d-alone", n), 1, ttl, false)
		fleet := h.startSet(t, fmt.Sprintf("cpu%d-fleet", n), n, ttl, true)
		apart := h.startSet(t, fmt.Sprintf("cpu%d-apart", n), n, ttl, false)
		drives := []struct {
			set  *fleetSet
			rate int
			what string
		}{
			{alone, rate, "one instance"},
			{fleet, rate, fmt.Sprintf("%d replicas", n)},
			{apart, rate, fmt.Sprintf("%d instances without Redis", n)},
			{alone, rate / n, fmt.Sprintf("one instance at %d/s", rate/n)},
		}
		for _, s := range []*fleetSet{alone, fleet, apart} {
			h.drive(t, s, rate, 5*time.Second) // warm: the first answers, the pools, the heap
		}
		perRequest := make([][]float64, len(drives)) // [drive][round] seconds
		for r := range rounds {
			for k := range drives {
				i := (k + r) % len(drives)
				m := h.drive(t, drives[i].set, drives[i].rate, slice)
				perRequest[i] = append(perRequest[i], m.cpuPerRequest())
				t.Logf("round %d, %s: %.0f µs per request (Redis's own %.0f µs), %d of %d answered 200",
					r+1, drives[i].what, m.cpuPerRequest()*1e6, m.redisCPUPerRequest()*1e6, m.ok, m.sent)
			}
		}
		for _, s := range []*fleetSet{alone, fleet, apart} {
			s.stop()
		}
		t.Logf("%d replicas: CPU per request %s one instance's; %d instances without Redis %s; the fleet against those %s; one instance at %d/s %s its own at %d/s",
			n, ratios(perRequest[1], perRequest[0]), n, ratios(perRequest[2], perRequest[0]), ratios(perRequest[1], perRequest[2]),
			rate/n, ratios(perRequest[3], perRequest[0]), rate)
	}
}

// spread is a median and its range.
type spread struct{ median, lo, hi float64 }

func (s spread) String() string {
	return fmt.Sprintf("%.2f× (rounds %.2f–%.2f)", s.median, s.lo, s.hi)
}

// ratios pairs the rounds of a and b: the median of a/b and its range.
func ratios(a, b []float64) spread {
	var r []float64
	for i := range min(len(a), len(b)) {
		r = append(r, a[i]/b[i])
	}
	slices.Sort(r)
	if len(r) == 0 {
		return spread{}
	}
	m := r[len(r)/2]
	if len(r)%2 == 0 {
		m = (r[len(r)/2-1] + r[len(r)/2]) / 2
	}
	return spread{median: m, lo: r[0], hi: r[len(r)-1]}
}

// fleetHarness is a built binary and one simulator process.
type fleetHarness struct {
	dir, bin, keys string
	encar, danawa  string
	glovis, kcar   string
	ctl            string
}

func newFleetHarness(t *testing.T) *fleetHarness {
	t.Helper()
	h := &fleetHarness{dir: t.TempDir()}
	h.bin = filepath.Join(h.dir, "aggregator")
	if out, err := exec.Command("go", "build", "-o", h.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	h.keys = filepath.Join(h.dir, "keys.json")
	require.NoError(t, os.WriteFile(h.keys, []byte(`{"keys": [
		{"partner": "open", "key": "`+fleetOpenKey+`", "rate": {"per_second": 100000, "burst": 100000}}]}`), 0o600))
	h.encar, h.danawa, h.glovis, h.kcar, h.ctl = freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	start(t, filepath.Join(h.dir, "sim.log"), h.bin, "sim", "-encar-addr", h.encar, "-danawa-addr", h.danawa,
		"-glovis-addr", h.glovis, "-kcar-addr", h.kcar, "-control-addr", h.ctl)
	poll(t, "the simulator up", func() bool { return status("http://"+h.ctl+"/sim", "") == http.StatusOK })
	return h
}

// serve starts one instance; redisURL "" for none.
func (h *fleetHarness) serve(t *testing.T, name, redisURL string, ttl time.Duration) *fleetReplica {
	t.Helper()
	r := &fleetReplica{api: "http://" + freeAddr(t), admin: "http://" + freeAddr(t)}
	args := []string{"serve",
		"-addr", strings.TrimPrefix(r.api, "http://"), "-admin-addr", strings.TrimPrefix(r.admin, "http://"),
		"-encar-url", "http://" + h.encar, "-danawa-url", "http://" + h.danawa, "-glovis-url", "http://" + h.glovis, "-kcar-url", "http://" + h.kcar,
		"-api-keys-file", h.keys, "-cursor-secrets", "fleet-test-cursor-secret-0123456789",
		"-log-format", "text", "-glovis-sites", "1100", "-drain-delay", "0s",
		"-upstream-cache-ttl", ttl.String()}
	if redisURL != "" {
		args = append(args, "-redis", redisURL) // the default -redis-timeout: it is what is measured
	}
	r.cmd = start(t, filepath.Join(h.dir, name+".log"), h.bin, args...)
	poll(t, name+" ready", func() bool { return status(r.admin+"/readyz", "") == http.StatusOK })
	return r
}

// dealerCalls is how many calls the simulator's Encar and Danawa answered.
func (h *fleetHarness) dealerCalls(t *testing.T) int64 {
	t.Helper()
	var st map[string]struct {
		Requests int64 `json:"requests"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, "http://"+h.ctl+"/sim", "", &st))
	return st["encar"].Requests + st["danawa"].Requests
}

// distinct counts the popular queries' upstream requests: each query once,
// one after the other, on an instance that keeps no answer.
func (h *fleetHarness) distinct(t *testing.T) int64 {
	t.Helper()
	r := h.serve(t, "distinct", "", 0)
	defer func() { _ = r.cmd.Process.Kill() }()
	before := h.dealerCalls(t)
	for _, q := range popular {
		require.Equal(t, http.StatusOK, status(r.api+q, fleetOpenKey), q)
	}
	return h.dealerCalls(t) - before
}

// fleetRun is one measurement.
type fleetRun struct {
	replicas      int
	sent, ok      int64
	calls         int64
	periods       int
	cpu, redisCPU float64 // seconds, over the drive
	took          time.Duration
	rtt           []time.Duration // Redis round trips seen during the drive, sorted
}

// rttLine is the round trips' quantiles.
func (m fleetRun) rttLine() string {
	if len(m.rtt) == 0 {
		return "none"
	}
	q := func(p float64) time.Duration {
		return m.rtt[min(len(m.rtt)-1, int(p*float64(len(m.rtt))))].Round(10 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %s, p99 %s, p99.9 %s, max %s", q(0.5), q(0.99), q(0.999), m.rtt[len(m.rtt)-1].Round(10*time.Microsecond))
}

func (m fleetRun) perDistinct(distinct int64) float64 {
	return float64(m.calls) / float64(distinct) / float64(m.periods)
}
func (m fleetRun) cpuPerRequest() float64      { return m.cpu / float64(m.sent) }
func (m fleetRun) redisCPUPerRequest() float64 { return m.redisCPU / float64(m.sent) }

func (m fleetRun) line(distinct int64) string {
	return fmt.Sprintf("%d requests (%d answered 200) in %s; %d upstream calls for %d distinct requests over %d cache period(s): %.2f per distinct request per period; CPU %.0f µs per request (Redis %.0f µs)",
		m.sent, m.ok, m.took.Round(time.Millisecond), m.calls, distinct, m.periods, m.perDistinct(distinct),
		m.cpuPerRequest()*1e6, m.redisCPUPerRequest()*1e6)
}

// fleetSet is n instances of the binary: replicas on one fresh Redis, or
// instances alone.
type fleetSet struct {
	name string
	rs   []*fleetReplica
	srv  *redistest.Server // nil when the instances are alone
}

// startSet starts n instances, cold, with a cache period of ttl: replicas
// on a fresh Redis when fleet, each alone otherwise. It returns once all
// are ready (and, in fleet mode, sharing).
func (h *fleetHarness) startSet(t *testing.T, name string, n int, ttl time.Duration, fleet bool) *fleetSet {
	t.Helper()
	s := &fleetSet{name: name}
	url := ""
	if fleet {
		s.srv = redistest.Start(t)
		url = s.srv.URL()
	}
	for i := range n {
		s.rs = append(s.rs, h.serve(t, fmt.Sprintf("%s-%d", name, i), url, ttl))
	}
	if fleet {
		for _, r := range s.rs {
			poll(t, "shared mode", func() bool { return r.fleetCheck(t)["mode"] == "shared" })
		}
	}
	return s
}

// stop ends the instances, then Redis.
func (s *fleetSet) stop() {
	for _, r := range s.rs {
		_ = r.cmd.Process.Signal(os.Interrupt)
		_ = r.cmd.Wait()
	}
	if s.srv != nil {
		s.srv.Stop()
	}
}

// measure starts n instances (replicas on a fresh Redis when fleet), cold,
// drives them for d with a cache period of ttl, and stops them.
func (h *fleetHarness) measure(t *testing.T, n, rate int, d, ttl time.Duration, fleet bool) fleetRun {
	t.Helper()
	s := h.startSet(t, fmt.Sprintf("measure-%d-%v", n, fleet), n, ttl, fleet)
	defer s.stop()
	m := h.drive(t, s, rate, d)
	m.periods = int(math.Ceil(d.Seconds() / ttl.Seconds()))
	return m
}

// drive sends rate requests a second for d across the set, each to the
// next instance, the popular queries in turn, and returns what they cost.
// With LMN_FLEET_PROFILE set to a folder, each instance's CPU profile over
// the drive is written there.
func (h *fleetHarness) drive(t *testing.T, s *fleetSet, rate int, d time.Duration) fleetRun {
	t.Helper()
	rs, srv, n := s.rs, s.srv, len(s.rs)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	cpu := func() float64 {
		total := 0.0
		for _, r := range rs {
			m, err := scrape(context.Background(), client, r.admin+"/metrics")
			require.NoError(t, err)
			total += m["process_cpu_seconds_total"]
		}
		return total
	}
	redisCPU := func() float64 {
		if srv == nil {
			return 0
		}
		info := srv.CLI(t, "INFO", "cpu")
		total := 0.0
		for _, line := range strings.Split(info, "\n") {
			k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
			if k == "used_cpu_sys" || k == "used_cpu_user" {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
		return total
	}

	// Redis's round trip as a client on this box sees it during the burst:
	// what -redis-timeout must exceed (README).
	rtts := make(chan []time.Duration, 1)
	stopRTT := make(chan struct{})
	if srv != nil {
		go func() {
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DisableIdentity: true})
			defer rdb.Close()
			var seen []time.Duration
			for {
				select {
				case <-stopRTT:
					rtts <- seen
					return
				case <-time.After(5 * time.Millisecond):
				}
				t0 := time.Now()
				if rdb.Ping(context.Background()).Err() == nil {
					seen = append(seen, time.Since(t0))
				}
			}
		}()
	}
	var profiles sync.WaitGroup
	if dir := os.Getenv("LMN_FLEET_PROFILE"); dir != "" {
		for i, r := range rs {
			profiles.Go(func() {
				url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", r.admin, max(1, int(d.Seconds())))
				res, err := http.Get(url) // no client timeout: the profile takes d
				if err != nil {
					t.Logf("profile: %v", err)
					return
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", s.name, i)), b, 0o644)
			})
		}
	}
	callsBefore, cpuBefore, redisBefore := h.dealerCalls(t), cpu(), redisCPU()
	began := time.Now()
	var sent, ok atomic.Int64
	var wg sync.WaitGroup
	every := time.Second / time.Duration(rate)
	tick := time.NewTicker(every)
	for i := 0; time.Since(began) < d; i++ {
		<-tick.C
		r, q := rs[i%n], popular[(i/n)%len(popular)]
		wg.Add(1)
		sent.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", r.api+q, nil)
			req.Header.Set("x-api-key", fleetOpenKey)
			res, err := client.Do(req)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				ok.Add(1)
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	took := time.Since(began)
	m := fleetRun{replicas: n, sent: sent.Load(), ok: ok.Load(), calls: h.dealerCalls(t) - callsBefore,
		periods: 1, cpu: cpu() - cpuBefore, redisCPU: redisCPU() - redisBefore, took: took}
	profiles.Wait()
	if srv != nil {
		close(stopRTT)
		m.rtt = <-rtts
		slices.Sort(m.rtt)
		t.Logf("Redis round trip during the run (%d pings): %s", len(m.rtt), m.rttLine())
	}
	t.Logf("(GOMAXPROCS %d, load average %s)", runtime.GOMAXPROCS(0), loadAverage())
	for i := range n {
		logWarnings(t, filepath.Join(h.dir, fmt.Sprintf("%s-%d.log", s.name, i)))
	}
	return m
}

// logWarnings sums up a replica's warnings and errors by message: a Redis
// command that missed its deadline shows here before it shows in the calls.
func logWarnings(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	counts := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, "level=WARN") && !strings.Contains(line, "level=ERROR") {
			continue
		}
		_, msg, _ := strings.Cut(line, "msg=")
		if msg, _, ok := strings.Cut(msg, `" `); ok {
			counts[msg+`"`]++
		}
	}
	if len(counts) > 0 {
		t.Logf("%s: %v", filepath.Base(path), counts)
	}
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
