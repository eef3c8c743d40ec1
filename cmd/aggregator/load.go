package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
)

// loadPaths are the requests the load mixes, in turn.
var loadPaths = []string{
	"/v1/vehicles?make=Kia&model=Sorento&limit=50",
	"/v1/vehicles?source=dealer&make=Hyundai&sort=price_asc&limit=50",
	"/v1/vehicles?source=glovis&sort=year_desc&limit=200",
	"/v1/vehicles?source=encar&make=BMW&limit=20",
}

// load measures the service under a steady request rate, over loopback,
// against the simulator with a fixed upstream latency: the performance
// budget says p99 stays within the slowest healthy upstream's p99 + 5 ms.
func load(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rate := fs.Int("rate", 300, "requests per second (1..2000)")
	duration := fs.Duration("duration", 10*time.Second, "how long to send (at most 60s)")
	latency := fs.Duration("upstream-latency", 20*time.Millisecond, "latency the simulated dealer upstreams add")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the run (service, simulator and load together) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rate < 1 || *rate > 2000 || *duration <= 0 || *duration > time.Minute {
		return errors.New("load: -rate must be 1..2000 and -duration at most 60s")
	}
	s := sim.New()
	servers, err := s.Start()
	if err != nil {
		return err
	}
	defer servers.Close()
	for _, src := range []string{"encar", "danawa"} {
		if err := s.SetFault(src, sim.Fault{Mode: sim.Slow, LatencyMS: int(latency.Milliseconds())}); err != nil {
			return err
		}
	}
	keys := httpapi.NewKeys("stg")
	if err := keys.Add(DemoKey); err != nil {
		return err
	}
	codec, _ := cursor.NewCodec("load")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app := service.New(service.Config{EncarURL: servers.EncarURL, DanawaURL: servers.DanawaURL, GlovisURL: servers.GlovisURL,
		EncarTimeout: 2 * time.Second, DanawaTimeout: 2 * time.Second, GlovisTimeout: 10 * time.Second,
		GlovisSites: korean.SiteCodes(), CrawlInterval: time.Hour, Breaker: fanout.DefaultBreakerConfig,
		API: httpapi.Deps{Cursors: codec, Keys: keys, FXRate: 1350, Deadline: 3 * time.Second}}, log)
	if err := app.Crawler.Refresh(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: app.API, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		wg        sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	end := time.After(*duration)
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(stdout, "sending %d requests/s for %s; dealer upstreams answer after %s\n", *rate, *duration, *latency)
loop:
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-tick.C:
		}
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+loadPaths[i%len(loadPaths)], nil)
			req.Header.Set("x-api-key", DemoKey)
			start := time.Now()
			resp, err := client.Do(req)
			d := time.Since(start)
			ok := err == nil && resp.StatusCode == http.StatusOK && resp.Header.Get("X-LMN-Partial-Dealer-Unavailable") == ""
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				failures++
				return
			}
			latencies = append(latencies, d)
		})
	}
	wg.Wait()
	if len(latencies) == 0 {
		return errors.New("load: no request succeeded")
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	fmt.Fprintf(stdout, "requests: %d ok, %d failed or partial\nlatency: p50 %s  p90 %s  p99 %s  max %s\n",
		len(latencies), failures, pct(.50).Round(10*time.Microsecond), pct(.90).Round(10*time.Microsecond),
		pct(.99).Round(10*time.Microsecond), latencies[len(latencies)-1].Round(10*time.Microsecond))
	fmt.Fprintf(stdout, "budget: p99 <= upstream p99 (%s) + 5ms\n", *latency)
	return nil
}
