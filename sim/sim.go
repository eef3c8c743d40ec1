// Package sim plays the three upstreams (Encar, Danawa, Glovis) on loopback
// with a generated, deterministic inventory, and lets a test or an operator
// switch each one into a failure mode at run time. It is a double of the
// upstreams only: the service under test is always the real one.
package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Modes an upstream can be switched into.
const (
	Healthy   = "healthy"
	Down      = "down"      // 503
	Hang      = "hang"      // never answers
	Slow      = "slow"      // answers after latency_ms
	HTTP403   = "http403"   // 403
	Blocked   = "blocked"   // 200 with a bot check or login page
	Drift     = "drift"     // renamed fields or changed markup
	Truncated = "truncated" // the body stops half way
	Huge      = "huge"      // a body far over any sane size
	// Network-level modes: what a real network does to a healthy answer.
	Trickle   = "trickle"   // the body at bytes_per_s
	Stall     = "stall"     // headers and the body's first bytes, then silence
	Reset     = "reset"     // half the body, then a TCP reset
	BlackHole = "blackhole" // connections accepted and never answered, not even read
)

var modes = []string{Healthy, Down, Hang, Slow, HTTP403, Blocked, Drift, Truncated, Huge, Trickle, Stall, Reset, BlackHole}

// Modes lists every mode an upstream can be switched to.
func Modes() []string { return slices.Clone(modes) }

// Sources the simulator plays.
var Sources = []string{"encar", "danawa", "glovis"}

// Fault is an upstream's current behaviour.
type Fault struct {
	Mode      string `json:"mode"`
	LatencyMS int    `json:"latency_ms"`
	// BytesPerS is the trickle's rate (0: DefaultTrickle).
	BytesPerS int `json:"bytes_per_s,omitempty"`
}

// DefaultTrickle is a trickle's rate when the fault names none: 1 KB/s, a
// list answer of tens of kilobytes taking tens of seconds.
const DefaultTrickle = 1024

// HugeSize is how large a huge body is.
const HugeSize = 64 << 20

// Sim is the simulated upstreams.
type Sim struct {
	encar  []car
	danawa []car
	glovis []lot
	kcar   []kcarLot
	lists  listPages // rendered Encar and Danawa list answers

	mu     sync.RWMutex
	now    time.Time // the simulated clock
	faults map[string]Fault
	hits   map[string]*atomic.Int64
	urls   map[string]string // where each upstream is served, once known
	closed chan struct{}
	once   sync.Once
}

// New generates the inventory: 2,400 Encar ads (one in fifty sold: gone
// from search, SOLD in its detail), 900 Danawa ads (a tenth of
// them the same cars as Encar ads, for dedupe) and 2,000 cars put up at
// the Glovis auction over five weekly rounds (about 2,800 lots, about
// 1,100 of them in the two rounds the site shows at the start).
func New() *Sim {
	r := rand.New(rand.NewPCG(20250618, 1))
	s := &Sim{faults: map[string]Fault{}, hits: map[string]*atomic.Int64{}, closed: make(chan struct{}), now: epoch}
	s.encar = generate(r, 2400, 39_000_000)
	for i := 7; i < len(s.encar); i += 50 {
		s.encar[i].sold = true
	}
	s.danawa = generate(r, 900, 71_000_000)
	for i := 0; i < len(s.danawa); i += 10 {
		e := s.encar[r.IntN(len(s.encar))]
		if e.sellType == "일반" && !e.dup && !e.sold {
			e.id = s.danawa[i].id
			s.danawa[i] = e
		}
	}
	s.glovis = generateLots(r, 2000)
	for _, src := range Sources {
		s.faults[src] = Fault{Mode: Healthy}
		s.hits[src] = new(atomic.Int64)
	}
	// K Car draws from a generator of its own, so that the other
	// inventories stay what they were.
	s.kcar = generateKCar(rand.New(rand.NewPCG(20250619, 2)), 900)
	s.faults[KCarName] = Fault{Mode: Healthy}
	s.hits[KCarName] = new(atomic.Int64)
	return s
}

// Now is the simulated clock. It starts at 2025-06-18 12:00 KST, between
// two auction rounds, and moves only when told to (SetNow): a test decides
// when an auction has taken place, with no sleeping.
func (s *Sim) Now() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.now
}

// SetNow moves the simulated clock: lots get their results once their
// round is ResultsAfter old, and the round selector moves on.
func (s *Sim) SetNow(t time.Time) {
	s.mu.Lock()
	s.now = t
	s.mu.Unlock()
}

// SetFault switches source into f.
func (s *Sim) SetFault(source string, f Fault) error {
	if s.hits[source] == nil { // fixed when the simulator is made
		return fmt.Errorf("unknown source %q", source)
	}
	if !slices.Contains(modes, f.Mode) {
		return fmt.Errorf("unknown mode %q", f.Mode)
	}
	if f.LatencyMS < 0 || f.LatencyMS > 600_000 {
		return fmt.Errorf("latency_ms %d out of range 0..600000", f.LatencyMS)
	}
	if f.BytesPerS < 0 || f.BytesPerS > 1<<30 {
		return fmt.Errorf("bytes_per_s %d out of range 0..%d", f.BytesPerS, 1<<30)
	}
	s.mu.Lock()
	s.faults[source] = f
	s.mu.Unlock()
	return nil
}

// Reset makes every source healthy.
func (s *Sim) Reset() {
	for src := range s.hits {
		_ = s.SetFault(src, Fault{Mode: Healthy})
	}
}

func (s *Sim) fault(source string) Fault {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.faults[source]
}

// SetURL records where source is served, for GET /sim: a load generator
// reading this simulator's counts finds its upstreams there, wherever they
// listen (serve -sim picks free ports).
func (s *Sim) SetURL(source, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.urls == nil {
		s.urls = map[string]string{}
	}
	s.urls[source] = url
}

func (s *Sim) url(source string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.urls[source]
}

// Hits is how many requests reached source.
func (s *Sim) Hits(source string) int64 { return s.hits[source].Load() }

// Close releases handlers stuck in hang mode.
func (s *Sim) Close() { s.once.Do(func() { close(s.closed) }) }

// page is a rendered answer before the fault decides how it is sent.
type page struct {
	status      int
	contentType string
	body        []byte
}

// render is an upstream's handler: it renders the healthy (or drifted) page.
type render func(r *http.Request, drift bool) page

// serve applies source's fault around render.
func (s *Sim) serve(source string, fn render, blocked func() page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits[source].Add(1)
		f := s.fault(source)
		var p page
		switch f.Mode {
		case Down:
			p = page{http.StatusServiceUnavailable, "text/html", []byte("<html><body><h1>503 Service Unavailable</h1></body></html>")}
		case Hang:
			select {
			case <-r.Context().Done():
			case <-s.closed:
			}
			return
		case BlackHole:
			// A connection pooled before the hole opened: its request was
			// read, but nothing is ever written on it.
			s.hold(w, r)
			return
		case Slow:
			select {
			case <-time.After(time.Duration(f.LatencyMS) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			p = fn(r, false)
		case HTTP403:
			p = page{http.StatusForbidden, "text/html", []byte("<html><body><h1>403 Forbidden</h1></body></html>")}
		case Blocked:
			p = blocked()
		case Drift:
			p = fn(r, true)
		default:
			p = fn(r, false)
		}
		w.Header().Set("Content-Type", p.contentType)
		switch f.Mode {
		case Truncated:
			// Promise the whole body, send half: the client sees an unexpected EOF.
			w.Header().Set("Content-Length", strconv.Itoa(len(p.body)))
			w.WriteHeader(p.status)
			_, _ = w.Write(p.body[:len(p.body)/2])
			return
		case Trickle:
			s.trickle(w, r, p, f.BytesPerS)
			return
		case Stall:
			w.Header().Set("Content-Length", strconv.Itoa(len(p.body)))
			w.WriteHeader(p.status)
			_, _ = w.Write(p.body[:min(len(p.body), 512)])
			w.(http.Flusher).Flush()
			s.hold(w, r)
			return
		case Reset:
			w.Header().Set("Content-Length", strconv.Itoa(len(p.body)))
			w.WriteHeader(p.status)
			_, _ = w.Write(p.body[:len(p.body)/2])
			w.(http.Flusher).Flush()
			resetConn(w)
			return
		case Huge:
			w.WriteHeader(p.status)
			_, _ = w.Write(p.body[:len(p.body)/2])
			pad := bytes.Repeat([]byte(" "), 64<<10)
			for n := 0; n < HugeSize; n += len(pad) {
				if _, err := w.Write(pad); err != nil {
					return
				}
			}
			return
		}
		w.WriteHeader(p.status)
		_, _ = w.Write(p.body)
	})
}

// Encar returns the Encar API handler.
func (s *Sim) Encar() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /search/car/list/general", s.serve("encar", s.encarSearch, encarBlocked))
	mux.Handle("GET /v1/readside/vehicle/{id}", s.serve("encar", s.encarDetail, encarBlocked))
	mux.Handle("/", s.serve("encar", notFound, encarBlocked))
	return mux
}

// Danawa returns the Danawa site handler.
func (s *Sim) Danawa() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /usedcar/", s.serve("danawa", s.danawaList, danawaBlocked))
	mux.Handle("/", s.serve("danawa", notFound, danawaBlocked))
	return mux
}

// Glovis returns the Glovis auction site handler.
func (s *Sim) Glovis() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /auction/exhibitList.do", s.serve("glovis", s.glovisRounds, glovisLogin))
	mux.Handle("POST /auction/exhibitListInclude.do", s.serve("glovis", s.glovisList, glovisLogin))
	mux.Handle("GET /auction/exhibitView.do", s.serve("glovis", s.glovisDetail, glovisLogin))
	mux.Handle("/", s.serve("glovis", notFound, glovisLogin))
	return mux
}

func notFound(*http.Request, bool) page {
	return page{http.StatusNotFound, "text/html", []byte("<html><body>404 Not Found</body></html>")}
}

// Control returns the fault-control API: GET /sim shows every source's
// mode and how many requests reached it; PUT /sim/{source} with {"mode": …, "latency_ms": …} changes one;
// GET /sim/clock and PUT /sim/clock with {"now": RFC 3339} show and move the simulated clock.
func (s *Sim) Control() http.Handler {
	mux := http.NewServeMux()
	type status struct {
		Fault
		Requests int64  `json:"requests"`      // how many requests reached this upstream
		URL      string `json:"url,omitempty"` // where it is served
	}
	mux.HandleFunc("GET /sim", func(w http.ResponseWriter, _ *http.Request) {
		out := map[string]status{}
		for src := range s.hits { // every upstream played, K Car's included
			out[src] = status{Fault: s.fault(src), Requests: s.Hits(src), URL: s.url(src)}
		}
		writeJSON(w, http.StatusOK, out)
	})
	type clock struct {
		Now time.Time `json:"now"`
	}
	mux.HandleFunc("GET /sim/clock", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, clock{s.Now()})
	})
	mux.HandleFunc("PUT /sim/clock", func(w http.ResponseWriter, r *http.Request) {
		var c clock
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil || c.Now.IsZero() {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"now\": \"2025-06-20T18:00:00+09:00\"}"})
			return
		}
		s.SetNow(c.Now.In(kst))
		writeJSON(w, http.StatusOK, clock{s.Now()})
	})
	mux.HandleFunc("PUT /sim/{source}", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"mode\": …, \"latency_ms\": …}: " + err.Error()})
			return
		}
		if err := s.SetFault(r.PathValue("source"), f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error(), "modes": fmt.Sprint(modes)})
			return
		}
		writeJSON(w, http.StatusOK, f)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Servers are the three upstreams listening on loopback.
type Servers struct {
	EncarURL, DanawaURL, GlovisURL, KCarURL string
	servers                                 []*http.Server
	sim                                     *Sim
}

// Start serves s's upstreams on ephemeral loopback ports.
func (s *Sim) Start() (*Servers, error) {
	out := &Servers{sim: s}
	for _, h := range []struct {
		source string
		url    *string
		h      http.Handler
	}{{"encar", &out.EncarURL, s.Encar()}, {"danawa", &out.DanawaURL, s.Danawa()}, {"glovis", &out.GlovisURL, s.Glovis()},
		{KCarName, &out.KCarURL, s.KCar()}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			out.Close()
			return nil, fmt.Errorf("sim: %w", err)
		}
		ln = s.Listener(h.source, ln)
		srv := &http.Server{Handler: h.h, ReadHeaderTimeout: 5 * time.Second}
		out.servers = append(out.servers, srv)
		*h.url = "http://" + ln.Addr().String()
		s.SetURL(h.source, *h.url)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				panic(err) // a loopback listener we just opened cannot fail but by a bug
			}
		}()
	}
	return out, nil
}

// URLs are the upstreams' base URLs by source name.
func (ss *Servers) URLs() map[string]string {
	return map[string]string{"encar": ss.EncarURL, "danawa": ss.DanawaURL, "glovis": ss.GlovisURL, KCarName: ss.KCarURL}
}

// Close stops the servers, releasing hung handlers first.
func (ss *Servers) Close() {
	ss.sim.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range ss.servers {
		_ = srv.Shutdown(ctx)
	}
}
