package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/netutil"

	"github.com/lmn/aggregator/metrics"
)

// listenerSpec is one address serve listens on and how much it holds.
// Every listener has read, write and idle timeouts and a cap on
// connections, so that idle or slow connections on one of them (the admin
// listener, say) cannot use up the process's file descriptors and memory
// and take the public API down with them.
type listenerSpec struct {
	name     string // public, admin, health, metrics: the log attribute and metric label
	addr     string
	handler  http.Handler
	maxConns int
	// write bounds writing one answer: the request deadline on the public
	// listener, a pprof profile's 30 s on the admin one.
	write time.Duration
	idle  time.Duration
}

// listening is a listener open and its server, not yet serving.
type listening struct {
	spec listenerSpec
	srv  *http.Server
	ln   net.Listener
}

// openListeners listens on every spec's address, or on none: a listener
// that cannot open closes those opened before it.
func openListeners(specs []listenerSpec, log *slog.Logger, m *metrics.Metrics) ([]listening, error) {
	var open []listening
	for _, s := range specs {
		l, err := openListener(s, log, m)
		if err != nil {
			for _, o := range open {
				o.ln.Close()
			}
			return nil, err
		}
		open = append(open, l)
	}
	return open, nil
}

func openListener(s listenerSpec, log *slog.Logger, m *metrics.Metrics) (listening, error) {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return listening{}, fmt.Errorf("serve: %s listener: %w", s.name, err)
	}
	// Past the cap, connections wait in the kernel's accept queue: they
	// cost no descriptor of ours until a slot frees.
	counted := &countingListener{Listener: netutil.LimitListener(ln, s.maxConns)}
	if m != nil {
		m.WatchListener(s.name, counted.Open, s.maxConns)
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      s.write,
		IdleTimeout:       s.idle,
		// Go's own errors (accept failures, TLS handshakes, panics it
		// recovered) go through the service's logger, as JSON, not to
		// stderr in another format.
		ErrorLog: slog.NewLogLogger(log.With("listener", s.name).Handler(), slog.LevelError),
	}
	return listening{spec: s, srv: srv, ln: counted}, nil
}

// countingListener counts the connections it accepted that are still open.
type countingListener struct {
	net.Listener
	open atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.open.Add(1)
	return &countedConn{Conn: c, l: l}, nil
}

// Open is the number of connections accepted and not yet closed.
func (l *countingListener) Open() int { return int(l.open.Load()) }

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
