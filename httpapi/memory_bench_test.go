package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
)

// BenchmarkHugeBodies200 sends 200 concurrent dealer searches while Encar and
// Danawa answer every call with a 64 MiB body, and reports the process's
// peak resident memory (VmHWM, Linux). Each call is capped at 4–8 MiB, so
// without the shared body budget 200 requests could hold gigabytes; with it
// the bodies being read stay under service.UpstreamBodyBudget. Run it alone,
// since the peak is the whole process's:
//
//	go test ./httpapi -run '^$' -bench HugeBodies200 -benchtime 3x
func BenchmarkHugeBodies200(b *testing.B) {
	s := sim.New()
	servers, err := s.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer servers.Close()
	for _, src := range []string{"encar", "danawa"} {
		if err := s.SetFault(src, sim.Fault{Mode: sim.Huge}); err != nil {
			b.Fatal(err)
		}
	}
	keys := httpapi.NewKeys("stg")
	if err := keys.Add(demoKey); err != nil {
		b.Fatal(err)
	}
	codec, err := cursor.NewCodec("bench-secret-bench-secret")
	if err != nil {
		b.Fatal(err)
	}
	svc, err := service.New(service.Config{
		Sources: service.Upstreams(servers.URLs(), 5*time.Second), CrawlInterval: time.Hour, Breaker: neverTrips,
		API: httpapi.Deps{Cursors: codec, Keys: keys, FXRate: 1350, Deadline: 10 * time.Second},
	}, discard)
	if err != nil {
		b.Fatal(err)
	}
	api := httptest.NewServer(svc.API)
	defer api.Close()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	before := peakRSS(b)
	statuses := map[int]int{}
	var mu sync.Mutex
	for b.Loop() {
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, api.URL+"/v1/vehicles?source=dealer&make=Kia", nil)
				req.Header.Set("x-api-key", demoKey)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	if statuses[http.StatusServiceUnavailable] == 0 {
		b.Fatalf("huge bodies should fail every dealer source: %v", statuses)
	}
	b.ReportMetric(float64(before)/(1<<20), "MiB-RSS-before")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "MiB-RSS-peak")
}

// peakRSS reads the process's peak resident set from /proc.
func peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status: peak RSS is measured on Linux")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
