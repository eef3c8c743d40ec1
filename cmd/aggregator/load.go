package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// dealerQuery is the request a load run sends unless told otherwise: one
// Encar call and four Danawa pages, the service's most expensive common
// request, and the one the naive gateway reproduces.
const dealerQuery = "/v1/vehicles?source=dealer&make=Hyundai&sort=price_asc&limit=50"

// load drives an already running service open-loop: requests leave at the
// scheduled rate whatever the answers do, every latency is measured from the
// request's scheduled send time (so a service that stalls is not let off by
// a generator that waits for it), and every answer is counted by status and
// partial header. The service's CPU and allocations per request come from
// its own /metrics. A naive gateway making the same upstream calls is driven
// the same way in the same run, so the ratio of the two is printed.
func load(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("url", "http://127.0.0.1:8080", "public API of the running service")
	admin := fs.String("admin", "http://127.0.0.1:9090", "its admin listener, for /metrics")
	simURL := fs.String("sim", "auto", "the simulator's fault control, for upstream latency and calls: auto finds serve -sim's (the admin listener's /sim), else aggregator sim's (http://127.0.0.1:9300); empty to skip")
	key := fs.String("key", DemoKey, "API key to send")
	path := fs.String("path", dealerQuery, "request to send")
	rate := fs.Int("rate", 100, "requests per second (1..5000)")
	duration := fs.Duration("duration", 10*time.Second, "how long to send, after the warm-up (at most 5m)")
	warmup := fs.Duration("warmup", 2*time.Second, "how long to send first without counting (fills connection pools)")
	baseline := fs.Bool("baseline", true, "also drive a naive gateway making the same upstream calls, started as a child process (for -path "+dealerQuery+" only)")
	encarURL := fs.String("encar-url", "", "Encar upstream of the naive gateway and the probes (default: where the simulator says it serves Encar, else http://127.0.0.1:9301)")
	danawaURL := fs.String("danawa-url", "", "Danawa upstream of the naive gateway and the probes (default: where the simulator says it serves Danawa, else http://127.0.0.1:9302)")
	requests := fs.String("requests", "", "also write every measured request to this file, a line each (tab-separated: target, due and late and latency in ms, answer, X-Request-Id), to set against the service's access log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *rate < 1 || *rate > 5000 || *duration <= 0 || *duration > 5*time.Minute || *warmup < 0 {
		return errors.New("load: -rate must be 1..5000, -duration positive and at most 5m, -warmup not negative")
	}
	if *baseline && *path != dealerQuery {
		return fmt.Errorf("load: the naive gateway only reproduces %s; add -baseline=false for another -path", dealerQuery)
	}
	var requestsFile *os.File
	if *requests != "" {
		// Created before the run, so that a path that cannot be written
		// fails now rather than after it.
		f, err := os.Create(*requests)
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		defer f.Close() // a second Close after writeRequests' is harmless
		requestsFile = f
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4096}}
	found, err := findSim(ctx, client, *simURL, *admin)
	if err != nil {
		return err
	}
	*simURL = found.control
	for _, u := range []struct {
		flag     *string
		src, def string
	}{{encarURL, "encar", "http://127.0.0.1:9301"}, {danawaURL, "danawa", "http://127.0.0.1:9302"}} {
		if *u.flag == "" {
			*u.flag = cmp.Or(found.status[u.src].URL, u.def)
		}
	}
	d := driver{client: client, key: *key, rate: *rate, duration: *duration, warmup: *warmup, sim: *simURL}
	if *simURL != "" && *path == dealerQuery {
		calls := naiveCalls(*encarURL, *danawaURL)
		d.probes = map[string][]string{"encar": calls[:1], "danawa": calls[1:]}
	}

	var upstreamLatency time.Duration
	for _, src := range []string{"encar", "danawa"} {
		if st := found.status[src]; st.Mode == "slow" {
			upstreamLatency = max(upstreamLatency, time.Duration(st.LatencyMS)*time.Millisecond)
		}
	}
	fmt.Fprintf(stdout, "open loop: %d req/s for %s after a %s warm-up: GET %s\n", *rate, *duration, *warmup, *path)
	if *simURL != "" {
		fmt.Fprintf(stdout, "dealer upstreams (simulator at %s: encar %s, danawa %s) answer after %s\n", *simURL, *encarURL, *danawaURL, upstreamLatency)
	} else {
		fmt.Fprintln(stdout, "no simulator: upstream calls per request are not counted")
	}
	svc, err := d.run(ctx, "service", *api+*path, *admin)
	if err != nil {
		return err
	}
	results := []*result{svc}
	if *baseline {
		base, err := d.runNaive(ctx, *path, *encarURL, *danawaURL)
		if err != nil {
			return err
		}
		results = append(results, base)
	}
	report(stdout, results, upstreamLatency)
	if requestsFile != nil {
		return writeRequests(requestsFile, results)
	}
	return nil
}

// writeRequests writes every measured request of every target: with the
// service's X-Request-Id, a slow answer can be found in its access log and
// its time split between the generator (late), the upstreams and the
// service.
func writeRequests(f *os.File, results []*result) error {
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "target\tdue_ms\tlate_ms\tlatency_ms\tanswer\trequest_id")
	for _, r := range results {
		for _, s := range r.requests {
			fmt.Fprintf(w, "%s\t%.3f\t%.3f\t%.3f\t%s\t%s\n", r.name, msf(s.due), msf(s.late), msf(s.took), s.kind, s.id)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type driver struct {
	client           *http.Client
	key              string
	rate             int
	duration, warmup time.Duration
	sim              string
	// probes are the upstream calls the request makes, by source: while a
	// run drives its target they are also made directly, so that the
	// target's latency is set against what the upstreams took at the same
	// moment on the same machine, not against their configured latency.
	probes map[string][]string
}

// probeEvery is how often each probe call is made during a run.
const probeEvery = 50 * time.Millisecond

// result is one target's run.
type result struct {
	name       string
	sent       int
	answers    map[string]int // "200", "200 partial", "503 overloaded", "error: timeout", …
	latencies  []time.Duration
	complete   []time.Duration // 200s without the partial header
	late       []time.Duration // how late the generator sent each request: its own stalls, counted in the latencies
	requests   []measured
	probed     probed
	before     metricsSample
	after      metricsSample
	simBefore  map[string]simSource
	simAfter   map[string]simSource
	hasMetrics bool
	// machine is this machine's CPU time over the run, where /proc/stat
	// tells it: a virtual machine whose host runs other guests on its cores
	// loses time to them (steal), and every process on it stalls meanwhile.
	machine cpuTimes
}

// runNaive starts the naive gateway as a child process of this binary and
// drives it like the service.
func (d driver) runNaive(ctx context.Context, path, encarURL, danawaURL string) (*result, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("load: naive gateway: %w", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(cctx, exe, "naive", "-encar-url", encarURL, "-danawa-url", danawaURL)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("load: naive gateway: %w", err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load: naive gateway: %w", err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "naive gateway on ")
	if err != nil || !ok {
		return nil, fmt.Errorf("load: naive gateway did not start: %q %v", line, err)
	}
	return d.run(ctx, "naive", base+path, base)
}

// run warms target up, then drives it for the measured duration between two
// samples of its metrics (and of the simulator's call counts).
func (d driver) run(ctx context.Context, name, target, metricsBase string) (*result, error) {
	if d.warmup > 0 {
		d.drive(ctx, target, d.warmup)
	}
	r := &result{name: name}
	var err error
	if r.before, err = scrape(ctx, d.client, metricsBase+"/metrics"); err != nil {
		return nil, err
	}
	if d.sim != "" {
		if r.simBefore, err = simStatus(ctx, d.client, d.sim); err != nil {
			return nil, err
		}
	}
	before := readCPUTimes()
	probing, stopProbes := context.WithCancel(ctx)
	probeDone := make(chan struct{})
	go func() { r.probed = d.probe(probing); close(probeDone) }()
	got := d.drive(ctx, target, d.duration)
	stopProbes()
	<-probeDone
	r.machine = readCPUTimes().since(before)
	if r.after, err = scrape(ctx, d.client, metricsBase+"/metrics"); err != nil {
		return nil, err
	}
	if d.sim != "" {
		if r.simAfter, err = simStatus(ctx, d.client, d.sim); err != nil {
			return nil, err
		}
	}
	r.sent, r.requests, r.answers = got.sent, got.requests, map[string]int{}
	for _, s := range got.requests {
		r.answers[s.kind]++
		r.latencies = append(r.latencies, s.took)
		r.late = append(r.late, s.late)
		if s.kind == "200" {
			r.complete = append(r.complete, s.took)
		}
	}
	return r, ctx.Err()
}

type driven struct {
	sent     int
	requests []measured // in the order they were answered
}

// measured is one request of a run.
type measured struct {
	due, late, took time.Duration // due from the run's start; late and took from due
	kind, id        string        // the answer's kind (see send) and its X-Request-Id
}

// drive sends requests to target at d.rate for dur, on schedule: each
// latency runs from the request's scheduled time, so a stall of the target,
// or of the generator, shows in full.
func (d driver) drive(ctx context.Context, target string, dur time.Duration) driven {
	n := int(dur.Seconds() * float64(d.rate))
	var out driven
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now().Add(5 * time.Millisecond)
	schedule(ctx, start, float64(time.Second)/float64(d.rate), n, func(at time.Time) {
		out.sent++
		wg.Go(func() {
			late := time.Since(at)
			kind, id := d.send(ctx, target)
			took := time.Since(at)
			mu.Lock()
			defer mu.Unlock()
			out.requests = append(out.requests, measured{due: at.Sub(start), late: late, took: took, kind: kind, id: id})
		})
	})
	wg.Wait()
	return out
}

// schedule calls f(at) for at = start + i*interval (nanoseconds), i from 0,
// n times (or, when n < 0, until ctx ends). f gets the scheduled time, not
// the time it runs: when the generator falls behind, the calls it missed
// are made at once and their latencies still run from when they were due,
// rather than being dropped or re-timed (coordinated omission). The target
// and the probes are scheduled alike, so neither is spared the generator's
// own stalls.
func schedule(ctx context.Context, start time.Time, interval float64, n int, f func(at time.Time)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := 0; n < 0 || i < n; i++ {
		at := start.Add(time.Duration(float64(i) * interval))
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			return // the timer and the end may come at once: no call after the end
		}
		f(at)
	}
}

// probed is what the probes of a run measured.
type probed struct {
	bySource map[string][]time.Duration // each call's latency, by source
	// all is, for each round of probes whose calls all answered, the time
	// until the last did: the least any gateway making them at once needs.
	all  []time.Duration
	sent map[string]int64 // calls that reached the upstream, by source: not the target's
}

// probe makes every probe call at once every probeEvery until ctx ends, on
// the same schedule as drive, and returns the latencies of the complete
// answers.
// Calls under way when ctx ends are waited for, so that every call sent
// has reached the simulator when the run reads its counts.
func (d driver) probe(ctx context.Context) probed {
	out := probed{bySource: map[string][]time.Duration{}, sent: map[string]int64{}}
	if len(d.probes) == 0 {
		return out
	}
	var mu sync.Mutex
	var rounds sync.WaitGroup
	schedule(ctx, time.Now().Add(probeEvery), float64(probeEvery), -1, func(at time.Time) {
		var round sync.WaitGroup
		var failed atomic.Bool
		for src, urls := range d.probes {
			for _, u := range urls {
				round.Go(func() {
					reached, ok := d.fetch(context.WithoutCancel(ctx), u)
					took := time.Since(at)
					mu.Lock()
					defer mu.Unlock()
					if reached {
						out.sent[src]++ // a call the simulator counted
					}
					if !ok {
						failed.Store(true) // not a latency
						return
					}
					out.bySource[src] = append(out.bySource[src], took)
				})
			}
		}
		rounds.Go(func() {
			round.Wait()
			if !failed.Load() {
				took := time.Since(at)
				mu.Lock()
				out.all = append(out.all, took)
				mu.Unlock()
			}
		})
	})
	rounds.Wait() // before out is copied: the rounds append to it
	return out
}

// fetch reads u whole and says whether it answered 200.
// fetch makes one probe call: reached says an answer came back (the
// upstream counted the call), ok that it was a whole 200.
func (d driver) fetch(ctx context.Context, u string) (reached, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, false
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return false, false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return true, err == nil && resp.StatusCode == http.StatusOK
}

// send makes one request and names its answer: the status, "partial" when
// a dealer source was left out, and the error code of a non-200; and
// returns the answer's X-Request-Id.
func (d driver) send(ctx context.Context, target string) (kind, id string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "error: " + err.Error(), ""
	}
	req.Header.Set("x-api-key", d.key)
	resp, err := d.client.Do(req)
	if err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return "error: timeout", ""
		}
		return "error: connection", ""
	}
	defer resp.Body.Close()
	id = resp.Header.Get("X-Request-Id")
	kind = strconv.Itoa(resp.StatusCode)
	if resp.StatusCode == http.StatusOK {
		_, err := io.Copy(io.Discard, resp.Body)
		if err != nil {
			return "error: body cut short", id
		}
		if resp.Header.Get("X-LMN-Partial-Dealer-Unavailable") != "" {
			kind += " partial"
		}
		return kind, id
	}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e) == nil && e.Error.Code != "" {
		kind += " " + e.Error.Code
	}
	return kind, id
}

// metricsSample is the counters a run reads from a target's /metrics.
type metricsSample map[string]float64

// sampled are the series summed over their labels.
var sampled = []string{"process_cpu_seconds_total", "go_memstats_mallocs_total", "go_memstats_alloc_bytes_total",
	"lmn_breaker_transitions_total", "lmn_api_overloaded_total"}

// scrape reads the Prometheus text format at url, summing each sampled
// series over its labels.
func scrape(ctx context.Context, c *http.Client, url string) (metricsSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load: metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("load: metrics: %s answered %d", url, resp.StatusCode)
	}
	m := metricsSample{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
			_, rest, _ = strings.Cut(line, "} ")
		}
		if !slices.Contains(sampled, name) {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			return nil, fmt.Errorf("load: metrics: %q: %w", line, err)
		}
		m[name] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load: metrics: %w", err)
	}
	if _, ok := m["process_cpu_seconds_total"]; !ok {
		return nil, fmt.Errorf("load: metrics: %s has no process_cpu_seconds_total", url)
	}
	return m, nil
}

type simSource struct {
	Mode      string `json:"mode"`
	LatencyMS int    `json:"latency_ms"`
	Requests  int64  `json:"requests"`
	URL       string `json:"url,omitempty"`
}

// foundSim is the simulator a run reads its counts from: its fault-control
// base URL ("" when there is none) and its status at the start.
type foundSim struct {
	control string
	status  map[string]simSource
}

// findSim resolves -sim. "auto" is the simulator serve -sim mounts on its
// admin listener, else the standalone one of aggregator sim, else none (a
// real service: its upstream calls cannot be counted); any other value
// must answer.
func findSim(ctx context.Context, c *http.Client, flagValue, admin string) (foundSim, error) {
	if flagValue == "" {
		return foundSim{}, nil
	}
	if flagValue != "auto" {
		st, err := simStatus(ctx, c, flagValue)
		return foundSim{flagValue, st}, err
	}
	for _, base := range []string{strings.TrimRight(admin, "/"), "http://127.0.0.1:9300"} {
		if st, err := simStatus(ctx, c, base); err == nil && len(st) > 0 {
			return foundSim{base, st}, nil
		}
	}
	return foundSim{}, nil
}

func simStatus(ctx context.Context, c *http.Client, base string) (map[string]simSource, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sim", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load: simulator: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("load: simulator: %s/sim: status %d", base, resp.StatusCode)
	}
	var st map[string]simSource
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("load: simulator: %s/sim: %w", base, err)
	}
	return st, nil
}

// cpuTimes is the machine's CPU time, in clock ticks, as the first line of
// /proc/stat counts it.
type cpuTimes struct {
	total, steal uint64
	ok           bool
}

func (c cpuTimes) since(before cpuTimes) cpuTimes {
	if !c.ok || !before.ok || c.total <= before.total || c.steal < before.steal {
		return cpuTimes{}
	}
	return cpuTimes{total: c.total - before.total, steal: c.steal - before.steal, ok: true}
}

// readCPUTimes reads /proc/stat; where there is none (not Linux) the times
// are not ok and the report leaves them out.
func readCPUTimes() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseCPUTimes(line)
}

// parseCPUTimes reads the "cpu" line of /proc/stat: user, nice, system,
// idle, iowait, irq, softirq, steal, then guest times already counted in
// user. A line of another shape is not ok.
func parseCPUTimes(line string) cpuTimes {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}
	}
	var c cpuTimes
	for i, v := range f[1:9] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return cpuTimes{}
		}
		c.total += n
		if i == 7 {
			c.steal = n
		}
	}
	c.ok = true
	return c
}

// slowest is the source whose latencies have the highest p99, and that p99;
// it sorts each source's latencies.
func slowest(bySource map[string][]time.Duration) (string, time.Duration) {
	var src string
	var p99 time.Duration
	for _, s := range slices.Sorted(maps.Keys(bySource)) {
		l := bySource[s]
		slices.Sort(l)
		if p := percentile(l, .99); len(l) > 0 && (src == "" || p > p99) {
			src, p99 = s, p
		}
	}
	return src, p99
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// plusMs is d in milliseconds with its sign.
func plusMs(d time.Duration) string {
	if d >= 0 {
		return "+" + ms(d) + "ms"
	}
	return ms(d) + "ms"
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

func report(w io.Writer, results []*result, upstream time.Duration) {
	fmt.Fprintf(w, "\n| target | sent | answers | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | CPU ms/req | allocs/req | KB alloc/req | upstream calls/req |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	cpu := map[string]float64{}
	for _, r := range results {
		slices.Sort(r.latencies)
		n := float64(max(r.sent, 1))
		delta := func(name string) float64 { return r.after[name] - r.before[name] }
		cpu[r.name] = delta("process_cpu_seconds_total") * 1000 / n
		var answers []string
		for _, k := range slices.Sorted(maps.Keys(r.answers)) {
			answers = append(answers, fmt.Sprintf("%s: %d", k, r.answers[k]))
		}
		calls := "n/a"
		if r.simAfter != nil {
			var parts []string
			for _, src := range []string{"encar", "danawa"} {
				calls := r.simAfter[src].Requests - r.simBefore[src].Requests - r.probed.sent[src]
				parts = append(parts, fmt.Sprintf("%s %.2f", src, float64(calls)/n))
			}
			calls = strings.Join(parts, ", ")
		}
		l := r.latencies
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %.2f | %.0f | %.0f | %s |\n", r.name, r.sent, strings.Join(answers, ", "),
			ms(percentile(l, .50)), ms(percentile(l, .90)), ms(percentile(l, .99)), ms(percentile(l, .999)), ms(percentile(l, 1)),
			cpu[r.name], delta("go_memstats_mallocs_total")/n, delta("go_memstats_alloc_bytes_total")/1024/n, calls)
	}
	fmt.Fprintln(w)
	for _, r := range results {
		slices.Sort(r.complete)
		fmt.Fprintf(w, "%s: p99 of every answer %sms, of complete answers %sms", r.name, ms(percentile(r.latencies, .99)), ms(percentile(r.complete, .99)))
		if upstream > 0 {
			fmt.Fprintf(w, "; p99 over the upstreams' configured latency: %s", plusMs(percentile(r.latencies, .99)-upstream))
		}
		if src, p99 := slowest(r.probed.bySource); src != "" {
			var each []string
			for _, s := range slices.Sorted(maps.Keys(r.probed.bySource)) {
				each = append(each, fmt.Sprintf("%s %sms (%d calls)", s, ms(percentile(r.probed.bySource[s], .99)), len(r.probed.bySource[s])))
			}
			slices.Sort(r.probed.all)
			all := percentile(r.probed.all, .99)
			fmt.Fprintf(w, "; upstreams' p99 measured directly meanwhile: %s, all of the query's calls answered %sms; "+
				"p99 over the slowest upstream's p99: %s, over all calls answered: %s",
				strings.Join(each, ", "), ms(all), plusMs(percentile(r.latencies, .99)-p99), plusMs(percentile(r.latencies, .99)-all))
		}
		slices.Sort(r.late)
		fmt.Fprintf(w, "; the generator's own lateness in sending, p99: %sms", ms(percentile(r.late, .99)))
		if r.machine.ok {
			fmt.Fprintf(w, "; CPU time this machine's host gave to others meanwhile (steal): %.1f%%", 100*float64(r.machine.steal)/float64(r.machine.total))
		}
		if r.name == "service" {
			fmt.Fprintf(w, "; breaker transitions: %.0f; shed as overloaded: %.0f",
				r.after["lmn_breaker_transitions_total"]-r.before["lmn_breaker_transitions_total"],
				r.after["lmn_api_overloaded_total"]-r.before["lmn_api_overloaded_total"])
		}
		fmt.Fprintln(w)
	}
	if b, ok := cpu["naive"]; ok && b > 0 {
		fmt.Fprintf(w, "CPU per request, service / naive gateway: %.2f\n", cpu["service"]/b)
	}
}
