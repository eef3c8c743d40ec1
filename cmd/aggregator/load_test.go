package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sim"
)

// startSim runs the sim command on ephemeral ports and returns the flags it
// printed for serve and its fault-control URL.
func startSim(t *testing.T, args ...string) (urls map[string]string, control string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"sim", "-control-addr", "127.0.0.1:0", "-encar-addr", "127.0.0.1:0",
			"-danawa-addr", "127.0.0.1:0", "-glovis-addr", "127.0.0.1:0", "-kcar-addr", "127.0.0.1:0"}, args...), noenv, &out, &out)
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	flagsRe := regexp.MustCompile(`-(encar|danawa|glovis)-url (http://127\.0\.0\.1:\d+)`)
	controlRe := regexp.MustCompile(`fault control: (http://127\.0\.0\.1:\d+)/sim`)
	require.Eventually(t, func() bool { return controlRe.MatchString(out.String()) }, 10*time.Second, 10*time.Millisecond, "sim printed: %s", out.String())
	urls = map[string]string{}
	for _, m := range flagsRe.FindAllStringSubmatch(out.String(), -1) {
		urls[m[1]] = m[2]
	}
	require.Len(t, urls, 3)
	return urls, controlRe.FindStringSubmatch(out.String())[1]
}

func TestSimCommand(t *testing.T) {
	urls, control := startSim(t, "-latency", "7ms", "-glovis-mode", "down")
	st, err := simStatus(t.Context(), http.DefaultClient, control)
	require.NoError(t, err)
	assert.Equal(t, simSource{Mode: "slow", LatencyMS: 7, URL: urls["encar"]}, st["encar"], "its mode and where it is served")
	assert.Equal(t, simSource{Mode: "slow", LatencyMS: 7, URL: urls["danawa"]}, st["danawa"])
	assert.Equal(t, "down", st["glovis"].Mode)

	resp, err := http.Get(urls["danawa"] + "/usedcar/?Work=list&Tab=list&Page=1&Order=2&Brand=303")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	st, err = simStatus(t.Context(), http.DefaultClient, control)
	require.NoError(t, err)
	assert.Equal(t, int64(1), st["danawa"].Requests)

	var out strings.Builder
	err = run(t.Context(), []string{"sim", "-encar-mode", "sideways"}, noenv, &out, &out)
	assert.ErrorContains(t, err, "-encar-mode")
}

// TestNaiveGatewayMakesTheServiceCalls: one request to the naive gateway is
// one Encar search and four Danawa pages, like the service's answer to the
// dealer query, and one JSON document out.
func TestNaiveGatewayMakesTheServiceCalls(t *testing.T) {
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	gw := httptest.NewServer(naiveHandler(servers.EncarURL, servers.DanawaURL))
	t.Cleanup(gw.Close)
	resp, err := http.Get(gw.URL + dealerQuery)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct {
		Encar  map[string]any `json:"encar"`
		Danawa [][]string     `json:"danawa"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.NotEmpty(t, body.Encar["SearchResults"])
	assert.Len(t, body.Danawa, 4)
	assert.Equal(t, int64(1), s.Hits("encar"))
	assert.Equal(t, int64(4), s.Hits("danawa"))

	require.NoError(t, s.SetFault("danawa", sim.Fault{Mode: sim.Down}))
	resp, err = http.Get(gw.URL + dealerQuery)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "a failed upstream is not an answer")
}

// TestLoadCountsEveryAnswer drives a stand-in service that answers in turn
// complete, partial and overloaded, and stalls some answers: every request
// scheduled is sent and counted, and the stalls show in the latencies.
func TestLoadCountsEveryAnswer(t *testing.T) {
	var n atomic.Int64
	release := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-key") != DemoKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		i := n.Add(1)
		w.Header().Set("X-Request-Id", fmt.Sprintf("req_%d", i))
		switch i % 4 {
		case 1:
			w.Header().Set("X-LMN-Partial-Dealer-Unavailable", "danawa")
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":{"code":"overloaded"}}`)
			return
		case 3:
			<-release // held until the generator has sent everything
		}
		fmt.Fprint(w, `{"data":[]}`)
	}))
	t.Cleanup(api.Close)
	var cpu atomic.Int64
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Each scrape reports 0.02 s more CPU and 1000 more allocations.
		c := cpu.Add(1)
		fmt.Fprintf(w, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %g\ngo_memstats_mallocs_total %d\n"+
			"lmn_breaker_transitions_total{from=\"closed\",source=\"encar\",to=\"open\"} %d\n", 0.02*float64(c), 1000*c, c-1)
	}))
	t.Cleanup(admin.Close)
	go func() {
		// Let the stalled requests go once the run is nearly over, so they
		// are counted late rather than never.
		for n.Load() < 20 {
			time.Sleep(time.Millisecond)
		}
		close(release)
	}()
	var out strings.Builder
	requests := filepath.Join(t.TempDir(), "requests.tsv")
	require.NoError(t, run(t.Context(), []string{"load", "-url", api.URL, "-admin", admin.URL, "-sim", "", "-baseline=false",
		"-path", "/v1/vehicles?source=encar&make=Kia", "-rate", "40", "-duration", "500ms", "-warmup", "0s", "-requests", requests}, noenv, &out, &out))
	t.Log(out.String())
	assert.Contains(t, out.String(), "| service | 20 | 200: 10, 200 partial: 5, 503 overloaded: 5 |")
	assert.Contains(t, out.String(), "| 1.00 | 50 |", "CPU ms and allocations per request from the two scrapes")
	assert.Contains(t, out.String(), "breaker transitions: 1")
	assert.Regexp(t, `the generator's own lateness in sending, p99: [0-9]+\.[0-9]ms`, out.String())

	// Each request is written with its answer and the id the service gave it.
	b, err := os.ReadFile(requests)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 1+20)
	assert.Equal(t, "target\tdue_ms\tlate_ms\tlatency_ms\tanswer\trequest_id", lines[0])
	answers, ids, dues := map[string]int{}, map[string]bool{}, map[string]bool{}
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		require.Len(t, f, 6, l)
		assert.Equal(t, "service", f[0])
		for _, ms := range f[1:4] {
			v, err := strconv.ParseFloat(ms, 64)
			require.NoError(t, err, l)
			assert.GreaterOrEqual(t, v, 0.0, l)
		}
		dues[f[1]] = true
		answers[f[4]]++
		ids[f[5]] = true
	}
	assert.Equal(t, map[string]int{"200": 10, "200 partial": 5, "503 overloaded": 5}, answers)
	assert.Len(t, ids, 20, "every answer's own id")
	assert.Contains(t, dues, "25.000", "the 2nd request is due 1/40 s after the first")

	err = run(t.Context(), []string{"load", "-rate", "0"}, noenv, &out, &out)
	assert.Error(t, err)
	err = run(t.Context(), []string{"load", "-url", api.URL, "-admin", admin.URL, "-sim", "", "-baseline=false",
		"-requests", filepath.Join(t.TempDir(), "no", "such", "dir", "requests.tsv")}, noenv, &out, &out)
	assert.ErrorContains(t, err, "no such file", "an unwritable -requests fails before the run")
	err = run(t.Context(), []string{"load", "-path", "/v1/vehicles?source=glovis"}, noenv, &out, &out)
	assert.ErrorContains(t, err, "-baseline=false")
}

// TestLoadProbesTheUpstreams: while the service is driven, the upstream
// calls of the dealer query are made directly too, and their p99 is what
// the service's p99 is set against.
func TestLoadProbesTheUpstreams(t *testing.T) {
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	control := httptest.NewServer(s.Control())
	t.Cleanup(control.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"data":[]}`) }))
	t.Cleanup(api.Close)
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "process_cpu_seconds_total 1\n")
	}))
	t.Cleanup(admin.Close)
	var out strings.Builder
	require.NoError(t, run(t.Context(), []string{"load", "-url", api.URL, "-admin", admin.URL, "-sim", control.URL, "-baseline=false",
		"-encar-url", servers.EncarURL, "-danawa-url", servers.DanawaURL, "-rate", "20", "-duration", "2s", "-warmup", "0s"}, noenv, &out, &out))
	t.Log(out.String())
	assert.Regexp(t, `upstreams' p99 measured directly meanwhile: danawa [0-9.]+ms \(\d+ calls\), encar [0-9.]+ms \(\d+ calls\), all of the query's calls answered [0-9.]+ms; p99 over the slowest upstream's p99: -?\+?[0-9.]+ms, over all calls answered: -?\+?[0-9.]+ms`, out.String())
	assert.Positive(t, s.Hits("encar"), "the probes reached the simulator")
	assert.Positive(t, s.Hits("danawa"))
	assert.Contains(t, out.String(), "| encar 0.00, danawa 0.00 |", "the probes' calls are not the service's")
}

// TestProbeCountsTheCallsUnderWay: the calls under way when a run ends are
// waited for, and each round counted once its calls have all answered.
func TestProbeCountsTheCallsUnderWay(t *testing.T) {
	got := make(chan struct{}, 1)
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- struct{}{}:
		default:
		}
		<-release
	}))
	t.Cleanup(up.Close)
	d := driver{client: up.Client(), probes: map[string][]string{"encar": {up.URL}}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan probed, 1)
	go func() { done <- d.probe(ctx) }()
	<-got // a round is under way
	cancel()
	close(release)
	p := <-done
	require.Positive(t, p.sent["encar"])
	assert.Len(t, p.bySource["encar"], int(p.sent["encar"]), "every call sent answered")
	assert.Len(t, p.all, int(p.sent["encar"]), "every round answered in full")
}

func TestSlowest(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	// encar's p99 of 100 values is its 99th smallest: 30 ms, not its one
	// 50 ms outlier; danawa's p99 of three is its largest, 41 ms.
	encar := ms(50)
	for range 99 {
		encar = append(encar, 30*time.Millisecond)
	}
	danawa := ms(41, 20, 21)
	src, p99 := slowest(map[string][]time.Duration{"encar": encar, "danawa": danawa, "none": nil})
	assert.Equal(t, "danawa", src)
	assert.Equal(t, 41*time.Millisecond, p99)
	src, _ = slowest(nil)
	assert.Empty(t, src)
}

// TestScheduleCountsTheGeneratorsStalls: a call made late because the
// generator stalled keeps its scheduled time, the calls missed meanwhile are
// made at once, and none is dropped; the target and the probes are
// scheduled by the same code.
func TestScheduleCountsTheGeneratorsStalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ms = time.Millisecond
		start := time.Now()
		var due, ran []time.Duration
		schedule(t.Context(), start, float64(10*ms), 6, func(at time.Time) {
			due = append(due, at.Sub(start))
			ran = append(ran, time.Since(start))
			if len(due) == 2 {
				time.Sleep(35 * ms) // the generator stalls in its second call
			}
		})
		assert.Equal(t, []time.Duration{0, 10 * ms, 20 * ms, 30 * ms, 40 * ms, 50 * ms}, due)
		assert.Equal(t, []time.Duration{0, 10 * ms, 45 * ms, 45 * ms, 45 * ms, 50 * ms}, ran)

		// Without a count, it runs until its context ends.
		ctx, cancel := context.WithTimeout(t.Context(), 25*ms)
		defer cancel()
		start, due = time.Now(), nil
		schedule(ctx, start, float64(10*ms), -1, func(at time.Time) { due = append(due, at.Sub(start)) })
		assert.Equal(t, []time.Duration{0, 10 * ms, 20 * ms}, due)
	})
}

func TestParseCPUTimes(t *testing.T) {
	for _, c := range []struct {
		line string
		want cpuTimes
	}{
		{"cpu  4705 150 1120 16250 520 0 20 35 0 0", cpuTimes{total: 4705 + 150 + 1120 + 16250 + 520 + 0 + 20 + 35, steal: 35, ok: true}},
		{"cpu 1 2 3 4 5 6 7 8", cpuTimes{total: 36, steal: 8, ok: true}}, // no guest columns
		{"cpu 1 2 3 4 5 6 7", cpuTimes{}},         // a kernel without steal
		{"cpu0 1 2 3 4 5 6 7 8 9 10", cpuTimes{}}, // one core's line, not the machine's
		{"cpu 1 2 3 x 5 6 7 8", cpuTimes{}},
		{"", cpuTimes{}},
	} {
		assert.Equal(t, c.want, parseCPUTimes(c.line), "%q", c.line)
	}
	before, after := cpuTimes{total: 1000, steal: 10, ok: true}, cpuTimes{total: 1400, steal: 90, ok: true}
	assert.Equal(t, cpuTimes{total: 400, steal: 80, ok: true}, after.since(before))
	assert.False(t, after.since(cpuTimes{}).ok, "no reading before: nothing to report")
	assert.False(t, before.since(after).ok, "a counter that went back is not a reading")
	assert.False(t, cpuTimes{total: 1400, steal: 5, ok: true}.since(before).ok, "nor is a steal counter that went back (some hypervisors)")
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	// Nearest rank: the smallest value with at least p of the values at or below it.
	assert.Equal(t, 500*time.Millisecond, percentile(d, .50))
	assert.Equal(t, 990*time.Millisecond, percentile(d, .99))
	assert.Equal(t, 999*time.Millisecond, percentile(d, .999))
	assert.Equal(t, 1000*time.Millisecond, percentile(d, 1))
	assert.Equal(t, 7*time.Millisecond, percentile([]time.Duration{7 * time.Millisecond}, .99))
	assert.Zero(t, percentile(nil, .5))
	assert.Equal(t, "+1.5ms", plusMs(1500*time.Microsecond))
	assert.Equal(t, "-4.6ms", plusMs(-4600*time.Microsecond))
}

// TestLoadFindsServeSimsSimulator: against serve -sim, load needs no
// simulator flags: it finds the simulator on the admin listener's /sim,
// probes the upstreams it serves, and counts the target's upstream calls
// from the simulator's own counters, less the probes'. The target here
// makes the dealer query's calls itself, one to Encar and four to Danawa
// per request, so those are the counts to expect.
func TestLoadFindsServeSimsSimulator(t *testing.T) {
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	calls := naiveCalls(servers.EncarURL, servers.DanawaURL)
	require.Len(t, calls, 5)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, u := range calls {
			resp, err := http.Get(u)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			resp.Body.Close()
		}
		fmt.Fprint(w, `{"data":[]}`)
	}))
	t.Cleanup(api.Close)
	admin := http.NewServeMux() // as serve -sim lays out its admin listener
	admin.Handle("/sim", s.Control())
	admin.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "process_cpu_seconds_total 1\n") })
	adminSrv := httptest.NewServer(admin)
	t.Cleanup(adminSrv.Close)

	var out strings.Builder
	require.NoError(t, run(t.Context(), []string{"load", "-url", api.URL, "-admin", adminSrv.URL, "-baseline=false",
		"-rate", "20", "-duration", "1s", "-warmup", "0s"}, noenv, &out, &out))
	t.Log(out.String())
	assert.Contains(t, out.String(), "simulator at "+adminSrv.URL)
	assert.Contains(t, out.String(), "| encar 1.00, danawa 4.00 |", "the target's calls, from the simulator's counters")
	assert.Regexp(t, `upstreams' p99 measured directly meanwhile: danawa [0-9.]+ms \(\d+ calls\)`, out.String(), "the probes found the upstreams")
}
