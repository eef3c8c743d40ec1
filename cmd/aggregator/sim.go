package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/sim"
)

// simulate runs the simulated upstreams of every registered source as a
// process of their own, so that a load run measures the service and not the
// simulator sharing its cores. It prints where each upstream listens, as the
// serve flags that point at them, and serves the fault-control API (GET
// /sim, PUT /sim/{source}).
func simulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var simulated []registry.Description
	addrs, modes := map[string]*string{}, map[string]*string{}
	for _, d := range registry.All() {
		if d.Sim == nil {
			continue
		}
		simulated = append(simulated, d)
		name := string(d.Name)
		addrs[name] = fs.String(name+"-addr", d.Defaults.SimAddr, d.Title+" address")
		modes[name] = fs.String(name+"-mode", "", "start "+name+" in this mode ("+strings.Join(sim.Modes(), ", ")+")")
	}
	control := fs.String("control-addr", "127.0.0.1:9300", "fault-control API address (GET /sim, PUT /sim/{source})")
	latency := fs.Duration("latency", 0, "latency every dealer upstream adds to each answer; puts them in slow mode")
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
	for _, d := range simulated {
		f := sim.Fault{Mode: sim.Healthy}
		if *latency > 0 && d.Kind == registry.Dealer {
			f = sim.Fault{Mode: sim.Slow, LatencyMS: int(latency.Milliseconds())}
		}
		if m := *modes[string(d.Name)]; m != "" {
			f.Mode = m
		}
		if f != (sim.Fault{Mode: sim.Healthy}) {
			if err := s.SetFault(string(d.Name), f); err != nil {
				return fmt.Errorf("sim: -%s-mode: %w", d.Name, err)
			}
		}
	}
	var servers []*http.Server
	errc := make(chan error, len(simulated)+1)
	listen := func(source, addr string, h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return "", fmt.Errorf("sim: %w", err)
		}
		if source != "" {
			ln = s.Listener(source, ln)
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
	var flags []string
	for _, d := range simulated {
		a, err := listen(string(d.Name), *addrs[string(d.Name)], d.Sim(s))
		if err != nil {
			return err
		}
		flags = append(flags, fmt.Sprintf("-%s-url http://%s", d.Name, a))
		s.SetURL(string(d.Name), "http://"+a)
	}
	ctl, err := listen("", *control, s.Control())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "simulated upstreams (dealer latency %s):\n  %s\nfault control: http://%s/sim\n",
		*latency, strings.Join(flags, " "), ctl)
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
