package sim

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// The network-level modes act below the application: on the pace of the
// body's bytes, on the connection itself. They are the shapes a real
// network gives a healthy upstream's answer (a congested link, a proxy
// that stalls, a middlebox that resets, a host that drops packets), which
// the application-level modes cannot: there every byte arrives at once or
// none does.

// trickle sends p's headers at once and its body at bytes/s, in pieces
// every 100 ms, stopping when the client goes away.
func (s *Sim) trickle(w http.ResponseWriter, r *http.Request, p page, bytesPerS int) {
	if bytesPerS <= 0 {
		bytesPerS = DefaultTrickle
	}
	const tick = 100 * time.Millisecond
	piece := max(bytesPerS/10, 1)
	w.Header().Set("Content-Length", strconv.Itoa(len(p.body)))
	w.WriteHeader(p.status)
	t := time.NewTicker(tick)
	defer t.Stop()
	for body := p.body; len(body) > 0; {
		n := min(piece, len(body))
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		body = body[n:]
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		}
	}
}

// hold keeps a request unanswered (headers already sent or not) until the
// client gives up or the simulator closes.
func (s *Sim) hold(_ http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.closed:
	}
}

// resetConn ends the connection under w with a TCP reset (SO_LINGER 0)
// instead of an orderly close: the client reads "connection reset by peer"
// in the middle of the body.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// holeListener parks the connections it accepts while its source is in
// blackhole mode: the kernel completes the TCP handshake, and then nothing
// reads or writes on them, as a host that drops every packet after the
// SYN-ACK, or a TLS terminator that never answers the ClientHello. A
// parked connection is closed when its client closes it or the simulator
// closes.
// Listener wraps ln, the listener source's simulated upstream is served
// on, so that the source's blackhole mode acts on the connections it
// accepts.
func (s *Sim) Listener(source string, ln net.Listener) net.Listener {
	return &holeListener{Listener: ln, sim: s, source: source}
}

type holeListener struct {
	net.Listener
	sim    *Sim
	source string
}

func (l *holeListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.sim.fault(l.source).Mode != BlackHole {
			return c, err
		}
		go l.park(c)
	}
}

func (l *holeListener) park(c net.Conn) {
	done := make(chan struct{})
	go func() {
		select {
		case <-l.sim.closed:
			_ = c.Close()
		case <-done:
		}
	}()
	// What the client sends is read and dropped, never answered: reading
	// is what sees the client close its end, so its descriptor is freed.
	_, _ = io.Copy(io.Discard, c)
	close(done)
	_ = c.Close()
}
