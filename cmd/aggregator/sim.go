package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/lmn/aggregator/sim"
)

// simulate runs the simulated upstreams as a process of their own, so that
// a load run measures the service and not the simulator sharing its cores.
// It prints where each upstream listens, as the serve flags that point at
// them, and serves the fault-control API (GET /sim, PUT /sim/{source}).
func simulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addrs := map[string]*string{
		"encar":  fs.String("encar-addr", "127.0.0.1:9301", "Encar API address"),
		"danawa": fs.String("danawa-addr", "127.0.0.1:9302", "Danawa site address"),
		"glovis": fs.String("glovis-addr", "127.0.0.1:9303", "Glovis auction site address"),
	}
	control := fs.String("control-addr", "127.0.0.1:9300", "fault-control API address (GET /sim, PUT /sim/{source})")
	latency := fs.Duration("latency", 0, "latency every dealer upstream (Encar, Danawa) adds to each answer; puts them in slow mode")
	modes := map[string]*string{}
	for _, src := range sim.Sources {
		modes[src] = fs.String(src+"-mode", "", "start "+src+" in this mode (healthy, down, hang, slow, http403, blocked, drift, truncated, huge)")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sim: unexpected arguments %q", fs.Args())
	}
	if *latency < 0 {
		return fmt.Errorf("sim: -latency must not be negative, got %s", *latency)
	}
	s := sim.New()
	for _, src := range sim.Sources {
		f := sim.Fault{Mode: sim.Healthy}
		if *latency > 0 && src != "glovis" {
			f = sim.Fault{Mode: sim.Slow, LatencyMS: int(latency.Milliseconds())}
		}
		if m := *modes[src]; m != "" {
			f.Mode = m
		}
		if err := s.SetFault(src, f); err != nil {
			return fmt.Errorf("sim: -%s-mode: %w", src, err)
		}
	}
	handlers := map[string]http.Handler{"encar": s.Encar(), "danawa": s.Danawa(), "glovis": s.Glovis()}
	var servers []*http.Server
	errc := make(chan error, len(sim.Sources)+1)
	listen := func(addr string, h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return "", fmt.Errorf("sim: %w", err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(ln) }()
		return ln.Addr().String(), nil
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, srv := range servers {
			_ = srv.Shutdown(sctx)
		}
	}()
	defer s.Close() // runs first: releases handlers stuck in hang mode
	bound := map[string]string{}
	for _, src := range sim.Sources {
		a, err := listen(*addrs[src], handlers[src])
		if err != nil {
			return err
		}
		bound[src] = a
		s.SetURL(src, "http://"+a)
	}
	ctl, err := listen(*control, s.Control())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "simulated upstreams (dealer latency %s):\n  -encar-url http://%s -danawa-url http://%s -glovis-url http://%s\nfault control: http://%s/sim\n",
		*latency, bound["encar"], bound["danawa"], bound["glovis"], ctl)
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("sim: %w", err)
	}
}
