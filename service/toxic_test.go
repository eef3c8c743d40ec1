package service_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// The toxic test's settings. The source timeout is long enough that "opens
// within 1.2× the timeout" leaves the breaker most of a second of margin on
// a busy machine (at 25 requests a second the fifth call cut off by its
// deadline ends 160 ms after the first), and the probe interval short so
// recovery is quick.
const (
	toxicTimeout  = 4 * time.Second
	toxicSlowCall = time.Second
	toxicProbe    = 2 * time.Second
	toxicRate     = 25 // requests a second, open loop
	toxicMax      = 12 * time.Second
	toxicDemoKey  = "lmn_stg_demo000000000000000000000000"
)

// toxic is one toxiproxy toxic and what partners must be told under it.
type toxic struct {
	name  string
	attrs toxiproxy.Attributes
	// reasons a failed source may be given; empty when the toxic must not
	// fail the source at all.
	reasons []string
	// bySlow: the breaker opens on its slow-call rate, within its window,
	// not on its source's deadline.
	bySlow bool
}

var toxics = []toxic{
	{"latency", toxiproxy.Attributes{"latency": 1500, "jitter": 1000}, []string{"timeout", "breaker_open"}, true},
	{"bandwidth", toxiproxy.Attributes{"rate": 1}, []string{"timeout", "breaker_open"}, false},
	{"slicer", toxiproxy.Attributes{"average_size": 64, "size_variation": 32, "delay": 20_000}, []string{"timeout", "breaker_open"}, false},
	{"timeout", toxiproxy.Attributes{"timeout": 0}, []string{"timeout", "breaker_open"}, false},
	{"reset_peer", toxiproxy.Attributes{"timeout": 0}, []string{"unreachable", "breaker_open"}, false},
	{"limit_data", toxiproxy.Attributes{"bytes": 2000}, []string{"upstream_error", "unreachable", "breaker_open"}, false},
	{"slow_close", toxiproxy.Attributes{"delay": 3000}, nil, false},
}

// toxicSlice is what runs by default: three cases a 2-core CI box runs in
// well under a minute. LMN_TOXIC_MATRIX=full runs every toxic against both
// dealer sources (about three minutes).
var toxicSlice = map[string]string{"bandwidth": "encar", "timeout": "danawa", "latency": "danawa"}

// TestToxics puts a real toxiproxy between the service and the simulated
// dealer upstreams and runs each toxic against each dealer source under
// open-loop load, asserting what partners are told and what the breaker
// does; it logs the README's table rows.
func TestToxics(t *testing.T) {
	tp := startToxiproxy(t)
	s := sim.New()
	servers, err := registry.StartSim(s)
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	proxies := map[string]*toxiproxy.Proxy{}
	for src, up := range map[string]string{"encar": servers.URLs["encar"], "danawa": servers.URLs["danawa"]} {
		p, err := tp.CreateProxy(src, "127.0.0.1:0", strings.TrimPrefix(up, "http://"))
		require.NoError(t, err)
		proxies[src] = p
	}
	keys := httpapi.NewKeys("stg")
	require.NoError(t, keys.Add(toxicDemoKey))
	codec, err := cursor.NewCodec("test-secret-test-secret")
	require.NoError(t, err)
	bc := breaker.DefaultConfig
	bc.OpenFor = toxicProbe
	upstreams := service.Upstreams(servers.URLs, toxicTimeout)
	for _, src := range []vehicle.Source{vehicle.Encar, vehicle.Danawa} {
		st := upstreams[src]
		st.URL, st.SlowCall = "http://"+proxies[string(src)].Listen, toxicSlowCall
		upstreams[src] = st
	}
	svc, err := service.New(service.Config{
		Sources: upstreams, CrawlInterval: time.Hour, Breaker: bc,
		API: httpapi.Deps{Cursors: codec, Keys: keys, FXRate: 1350, Deadline: 3 * toxicTimeout},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	api := httptest.NewServer(svc.API)
	t.Cleanup(api.Close)
	breakers := map[string]*breaker.Breaker{}
	for _, b := range svc.Breakers {
		breakers[b.Name()] = b
	}

	l := &loader{url: api.URL + "/v1/vehicles?source=dealer&make=Kia&limit=5", client: &http.Client{Timeout: time.Minute}}
	l.run(time.Second) // warm the pools
	for _, b := range breakers {
		b.Reset("warm-up over")
	}
	idle := func() {
		svc.CloseIdleConnections()
		l.client.CloseIdleConnections()
	}
	baseGoroutines, baseFDs := settle(t, idle, 0, 0)

	full := os.Getenv("LMN_TOXIC_MATRIX") == "full"
	for _, tx := range toxics {
		for _, src := range []string{"encar", "danawa"} {
			if !full && toxicSlice[tx.name] != src {
				continue
			}
			t.Run(tx.name+"/"+src, func(t *testing.T) {
				// Each case starts from closed breakers with empty
				// windows, whatever the one before left.
				for _, b := range breakers {
					b.Reset("next case")
				}
				runToxic(t, tx, src, proxies[src], breakers[src], l)
				settle(t, idle, baseGoroutines, baseFDs)
			})
		}
	}
}

func runToxic(t *testing.T, tx toxic, src string, proxy *toxiproxy.Proxy, b *breaker.Breaker, l *loader) {
	stop := l.start()
	added := time.Now()
	_, err := proxy.AddToxic(tx.name, tx.name, "downstream", 1, tx.attrs)
	require.NoError(t, err)
	var opened time.Time
	var trip string
	deadline := added.Add(toxicMax)
	if tx.reasons == nil {
		deadline = added.Add(2 * toxicTimeout)
	}
	for time.Now().Before(deadline) && opened.IsZero() {
		time.Sleep(50 * time.Millisecond)
		opened, trip = openedAfter(b, added)
	}
	// toxiproxy confirms a removal once the toxic has let go of the data
	// it holds, which under bandwidth and slicer takes seconds: recovery
	// counts from the confirmation, when the toxic is surely gone.
	removing := time.Now()
	require.NoError(t, proxy.RemoveToxic(tx.name))
	removed := time.Now()
	// Recovery: the first request started after the removal that every
	// dealer answered.
	var recovered time.Time
	for time.Since(removed) < toxicProbe+2*toxicTimeout && recovered.IsZero() {
		time.Sleep(50 * time.Millisecond)
		recovered = l.firstComplete(removed)
	}
	results := stop()

	var affected []time.Duration
	told := map[string]int{}
	for _, r := range results {
		require.NoError(t, r.err)
		require.Equal(t, http.StatusOK, r.status, "Danawa or Encar still answers: %s", r.body)
		un, detail := r.header.Get("X-LMN-Partial-Dealer-Unavailable"), r.header.Get("X-LMN-Partial-Dealer-Detail")
		if un == "" {
			assert.Empty(t, detail, "detail without the partial header")
		} else {
			assert.Equal(t, src, un, "only the poisoned source fails")
			reason := detailReason(t, detail, src)
			told[reason]++
			assert.NotEqual(t, "overloaded", reason, "a slow or silent upstream is never this service's overload")
			allowed := tx.reasons
			if r.start.Before(removed) && r.start.Add(r.took).After(removing) {
				// Removing a toxic closes the connections it held, from
				// the moment the removal is asked for until toxiproxy
				// confirms it: a body cut short, a connection reset.
				allowed = append(slices.Clone(allowed), "upstream_error", "unreachable")
			}
			assert.Contains(t, allowed, reason, "%s under %s", src, tx.name)
		}
		if !r.start.Before(added) && r.start.Before(removed) {
			affected = append(affected, r.took)
		}
	}
	p50, p99 := percentile(affected, 50), percentile(affected, 99)
	row := fmt.Sprintf("| %s | %s | %s | %s | %s / %s | %s |", tx.name, src, toldText(told), sinceText(opened, added),
		p50.Round(time.Millisecond), p99.Round(time.Millisecond), sinceText(recovered, removed))
	t.Log(row)
	for _, tr := range b.Snapshot(true).History {
		if tr.At.After(added) {
			t.Logf("%s %s→%s %s", tr.At.Sub(added).Round(time.Millisecond), tr.From, tr.To, tr.Reason)
		}
	}
	if tx.reasons == nil {
		assert.True(t, opened.IsZero(), "the breaker opened under %s", tx.name)
		assert.Empty(t, told, "no source failed")
		assert.Zero(t, transitionsAfter(b, added), "no transition")
		return
	}
	require.False(t, opened.IsZero(), "the breaker did not open under %s", tx.name)
	if tx.bySlow {
		assert.LessOrEqual(t, opened.Sub(added), breaker.DefaultConfig.Window, "within the slow-call window")
		assert.Contains(t, trip, "slow")
	} else {
		assert.LessOrEqual(t, opened.Sub(added), toxicTimeout*12/10, "opened after %s", opened.Sub(added))
	}
	require.False(t, recovered.IsZero(), "no complete answer after the toxic was removed")
	assert.LessOrEqual(t, recovered.Sub(removed), toxicProbe+2*time.Second)
}

// openedAfter is when b went from closed to open after t, and why; zero
// when it has not.
func openedAfter(b *breaker.Breaker, t time.Time) (time.Time, string) {
	h := b.Snapshot(true).History
	for i := len(h) - 1; i >= 0; i-- { // oldest first
		if tr := h[i]; tr.To == "open" && tr.From == "closed" && tr.At.After(t) {
			return tr.At, tr.Reason
		}
	}
	return time.Time{}, ""
}

// transitionsAfter counts b's transitions after t.
func transitionsAfter(b *breaker.Breaker, t time.Time) int {
	n := 0
	for _, tr := range b.Snapshot(true).History {
		if tr.At.After(t) {
			n++
		}
	}
	return n
}

func detailReason(t *testing.T, detail, src string) string {
	t.Helper()
	// "encar;reason=timeout;retry_after=5": one failed source here.
	parts := strings.Split(detail, ";")
	require.Len(t, parts, 3, detail)
	require.Equal(t, src, parts[0], detail)
	require.True(t, strings.HasPrefix(parts[1], "reason="), detail)
	require.True(t, strings.HasPrefix(parts[2], "retry_after="), detail)
	return strings.TrimPrefix(parts[1], "reason=")
}

func toldText(told map[string]int) string {
	if len(told) == 0 {
		return "none (complete answers)"
	}
	var out []string
	for r, n := range told {
		out = append(out, fmt.Sprintf("%s ×%d", r, n))
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func sinceText(at, from time.Time) string {
	if at.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%.2f", at.Sub(from).Seconds())
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)*p/100, len(s)-1)]
}

// settle waits for the service to give back what the toxic made it hold
// and returns the goroutines and descriptors in use. With a baseline, it
// fails unless they come back to it. The pools' idle connections are
// closed first (idle): they are the pools' to keep, while a call still
// holding its connection is a leak. The slack is for the runtime's and the
// test's own goroutines (timers, the HTTP servers' accept loops) coming
// and going; leaks under these faults are in the hundreds.
func settle(t *testing.T, idle func(), goroutines, fds int) (int, int) {
	t.Helper()
	const slack = 6
	var g, f int
	ok := assert.Eventually(t, func() bool {
		idle()
		runtime.GC()
		g, f = runtime.NumGoroutine(), openFDs(t)
		return goroutines == 0 || (g <= goroutines+slack && f <= fds+slack)
	}, 20*time.Second, 200*time.Millisecond)
	if !ok {
		t.Errorf("goroutines %d (baseline %d), descriptors %d (baseline %d)", g, goroutines, f, fds)
	}
	return g, f
}

func openFDs(t *testing.T) int {
	es, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(es)
}

// result is one request of the load.
type result struct {
	start  time.Time
	took   time.Duration
	status int
	header http.Header
	body   string
	err    error
}

// loader sends requests at toxicRate a second, each on its own goroutine,
// whatever the earlier ones are doing (open loop, as partners do).
type loader struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	results []result
}

func (l *loader) start() (stop func() []result) {
	l.mu.Lock()
	l.results = nil
	l.mu.Unlock()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second / toxicRate)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				wg.Go(l.one)
			}
		}
	})
	return func() []result {
		close(done)
		wg.Wait()
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.results
	}
}

func (l *loader) run(d time.Duration) []result {
	stop := l.start()
	time.Sleep(d)
	return stop()
}

func (l *loader) one() {
	r := result{start: time.Now()}
	req, _ := http.NewRequest(http.MethodGet, l.url, nil)
	req.Header.Set("x-api-key", toxicDemoKey)
	resp, err := l.client.Do(req)
	if err == nil {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.status, r.header, r.body = resp.StatusCode, resp.Header, string(raw[:min(len(raw), 300)])
	}
	r.err, r.took = err, time.Since(r.start)
	l.mu.Lock()
	l.results = append(l.results, r)
	l.mu.Unlock()
}

// firstComplete is the end of the first request started at or after t
// that every dealer answered; zero when none has yet.
func (l *loader) firstComplete(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first time.Time
	for _, r := range l.results {
		if r.err == nil && r.status == http.StatusOK && !r.start.Before(t) && r.header.Get("X-LMN-Partial-Dealer-Unavailable") == "" {
			if end := r.start.Add(r.took); first.IsZero() || end.Before(first) {
				first = end
			}
		}
	}
	return first
}

// startToxiproxy builds toxiproxy's server from its Go module (go.mod's
// tool line pins the version, v2.5.0, and keeps its dependencies in
// go.sum) and runs it on a free loopback port for the test.
func startToxiproxy(t *testing.T) *toxiproxy.Client {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "toxiproxy-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/Shopify/toxiproxy/v2/cmd/server")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building toxiproxy: %s", out)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", port)
	cmd.Env = append(os.Environ(), "LOG_LEVEL=warn")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	c := toxiproxy.NewClient("127.0.0.1:" + port)
	require.Eventually(t, func() bool { _, err := c.Proxies(); return err == nil }, 30*time.Second, 50*time.Millisecond,
		"toxiproxy did not start")
	return c
}
