package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/html"

	"github.com/lmn/aggregator/sources/danawa"
	"github.com/lmn/aggregator/sources/encar"
	"github.com/lmn/aggregator/vehicle"
)

// naiveQuery is the request the naive gateway stands in for:
// source=dealer&make=Hyundai&sort=price_asc&limit=50.
var naiveQuery = struct {
	make        string
	sort        vehicle.Sort
	encarCount  int // what the service asks Encar for, for a 50-row page
	danawaPages int // the Danawa pages it reads at once for one
}{"Hyundai", vehicle.SortPriceAsc, 61, 4}

// naive runs the baseline a load run compares the service with: a gateway
// that makes the same upstream calls as the service does for naiveQuery (one
// Encar search, four Danawa list pages, in parallel), decodes every answer
// generically (JSON into maps, HTML into a node tree whose text it keeps)
// and writes them out as one JSON document. No breakers, no merge, no
// typed rows: what any proxy of these upstreams has to spend at least.
func naive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("naive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	encarURL := fs.String("encar-url", "", "Encar API base URL (the simulator's)")
	danawaURL := fs.String("danawa-url", "", "Danawa base URL (the simulator's)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *encarURL == "" || *danawaURL == "" {
		return errors.New("naive: -encar-url and -danawa-url are required")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /v1/vehicles", naiveHandler(strings.TrimRight(*encarURL, "/"), strings.TrimRight(*danawaURL, "/")))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("naive: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(stdout, "naive gateway on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("naive: %w", err)
	}
	return nil
}

// naiveCalls are the upstream calls the service makes for naiveQuery: the
// Encar search first, then the Danawa pages.
func naiveCalls(encarBase, danawaBase string) []string {
	es := encar.Search{Makes: []string{naiveQuery.make}, Sort: naiveQuery.sort, Count: naiveQuery.encarCount}
	urls := []string{encarBase + "/search/car/list/general?count=true&q=" + url.QueryEscape(encar.Expression(es)) +
		"&sr=" + url.QueryEscape("|"+encar.SortCode(es.Sort)+"|0|"+strconv.Itoa(es.Count))}
	for page := 1; page <= naiveQuery.danawaPages; page++ {
		p := danawa.Params(danawa.Search{Makes: []string{naiveQuery.make}, Sort: naiveQuery.sort, Page: page})
		urls = append(urls, danawaBase+"/usedcar/?"+p.Encode())
	}
	return urls
}

func naiveHandler(encarBase, danawaBase string) http.Handler {
	urls := naiveCalls(encarBase, danawaBase)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := make([]any, len(urls))
		errs := make([]error, len(urls))
		var wg sync.WaitGroup
		for i, u := range urls {
			wg.Go(func() { out[i], errs[i] = naiveFetch(r.Context(), client, u) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"encar": out[0], "danawa": out[1:]})
	})
}

// naiveFetch reads one upstream answer and decodes it without knowing its
// shape: JSON into maps and slices, HTML into a tree whose text nodes it
// keeps.
func naiveFetch(ctx context.Context, c *http.Client, u string) (any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d", req.URL.Host, resp.StatusCode)
	}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		var v any
		err := json.NewDecoder(resp.Body).Decode(&v)
		return v, err
	}
	doc, err := html.Parse(resp.Body)
	if err != nil {
		return nil, err
	}
	var text []string
	for n := range doc.Descendants() {
		if n.Type == html.TextNode {
			if t := strings.TrimSpace(n.Data); t != "" {
				text = append(text, t)
			}
		}
	}
	return text, nil
}
