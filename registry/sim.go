package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/lmn/aggregator/sim"
)

// SimServers are the registered sources' simulated upstreams listening on
// loopback.
type SimServers struct {
	// URLs are the upstreams' base URLs by source name.
	URLs    map[string]string
	sim     *sim.Sim
	servers []*http.Server
}

// StartSim serves every registered source's simulated upstream, played by
// s, on an ephemeral loopback port.
func StartSim(s *sim.Sim) (*SimServers, error) {
	out := &SimServers{URLs: map[string]string{}, sim: s}
	for _, d := range All() {
		if d.Sim == nil {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			out.Close()
			return nil, fmt.Errorf("sim: %w", err)
		}
		ln = s.Listener(string(d.Name), ln)
		srv := &http.Server{Handler: d.Sim(s), ReadHeaderTimeout: 5 * time.Second}
		out.servers = append(out.servers, srv)
		out.URLs[string(d.Name)] = "http://" + ln.Addr().String()
		s.SetURL(string(d.Name), out.URLs[string(d.Name)])
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				panic(err) // a loopback listener just opened cannot fail but by a bug
			}
		}()
	}
	return out, nil
}

// Close stops the servers, releasing hung handlers first.
func (ss *SimServers) Close() {
	ss.sim.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range ss.servers {
		_ = srv.Shutdown(ctx)
	}
}
