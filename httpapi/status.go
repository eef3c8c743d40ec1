package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/buildinfo"
	"github.com/lmn/aggregator/vehicle"
)

// The status page: the breakers, their last hour and history, the auction
// index and (with -sim) the simulator's modes, for a human on call. It is
// rendered on the server from one embedded template, with no build step and
// nothing fetched from elsewhere, and refreshes itself: a meta refresh
// without JavaScript, a script that holds the refresh while a form is being
// filled in with it.

//go:embed status.html
var statusHTML string

var statusTmpl = template.Must(template.New("status").Parse(statusHTML))

// statusRefresh is how often the page reloads itself, in seconds.
const statusRefresh = 5

// chart geometry of a source's last hour, in SVG user units.
const (
	chartW, chartRateH, chartBandH = 600.0, 48.0, 12.0
	chartSpan                      = time.Hour
)

type statusPage struct {
	Now      string
	Build    buildinfo.Info
	Refresh  int
	Sources  []sourceStatus
	History  []historyRow
	Auctions []auctionStatus
	Fleet    []fleetRow // with -redis: the shared state's health, row by row
	Degraded bool       // the fleet is in per-instance mode
	Sim      []simStatus
	SimModes []string
	Login    bool   // the token form instead of the page
	Problem  string // why the last form was refused
}

type sourceStatus struct {
	Name, State    string
	Forced         bool
	FailureRate    string
	Requests       uint32
	Failures       uint32
	Rejected       uint64
	RejectedRecent string // in the last minute, from the timeline; "" without one
	LastError      string
	LastErrorAt    string
	SlowRate       string
	Slow           uint32
	LastCall       string // the phases of the last failed or slow call
	LastCallAt     string
	NextProbe      string
	LastChangeAgo  string
	Chart          chart
}

type chart struct {
	W, H, RateH float64
	Bands       []band
	Line        string // polyline points of the failure rate
	Samples     int
}

type band struct {
	X, W, Y, H float64
	State      string
}

type historyRow struct {
	At, Source, From, To, Reason string
}

type auctionStatus struct {
	Source     string
	Loaded     bool
	Rows       int
	BuiltAt    string
	Age        string
	LastError  string
	LastErrAt  string
	Failures   int64
	DetailErrs int64
}

// fleetRow is one line of the fleet's check (see AdminDeps.Fleet).
type fleetRow struct{ Name, Value string }

// fleetOrder is the order the fleet's check is shown in; other fields
// follow, by name.
var fleetOrder = []string{"mode", "failure", "since", "required", "instance", "fleet_size", "members_seen", "crawling", "auction_version", "errors", "last_error"}

// fleetRows lays the fleet's check out for the page: every field, the known
// ones first, counters by kind on one line.
func fleetRows(check map[string]any) []fleetRow {
	names := make([]string, 0, len(check))
	for k := range check {
		if k != "name" && k != "ok" {
			names = append(names, k)
		}
	}
	rank := func(k string) int {
		if i := slices.Index(fleetOrder, k); i >= 0 {
			return i
		}
		return len(fleetOrder)
	}
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	rows := make([]fleetRow, 0, len(names))
	for _, k := range names {
		v := fmt.Sprint(check[k])
		if m, ok := check[k].(map[string]uint64); ok {
			kinds := make([]string, 0, len(m))
			for kind := range m {
				kinds = append(kinds, kind)
			}
			slices.Sort(kinds)
			parts := make([]string, len(kinds))
			for i, kind := range kinds {
				parts[i] = fmt.Sprintf("%s %d", kind, m[kind])
			}
			v = strings.Join(parts, ", ")
		}
		rows = append(rows, fleetRow{Name: strings.ReplaceAll(k, "_", " "), Value: v})
	}
	return rows
}

type simStatus struct {
	Source   string
	Mode     string
	Requests int64
}

func kst(t time.Time) string { return t.In(vehicle.KST).Format("2006-01-02 15:04:05-07:00") }

func handleStatus(d AdminDeps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		renderStatus(w, r, d, http.StatusOK, "")
	}
}

func renderStatus(w http.ResponseWriter, r *http.Request, d AdminDeps, code int, problem string) {
	now := time.Now()
	p := statusPage{Now: kst(now), Build: buildinfo.Get(), Refresh: statusRefresh, Problem: problem}
	for _, b := range d.Breakers {
		s := b.Snapshot(true)
		p.Sources = append(p.Sources, sourceView(s, d.Timeline, now))
		for _, t := range s.History {
			p.History = append(p.History, historyRow{At: kst(t.At), Source: s.Source, From: t.From, To: t.To, Reason: t.Reason})
		}
	}
	slices.SortStableFunc(p.History, func(a, b historyRow) int { return strings.Compare(b.At, a.At) })
	for _, au := range d.Auctions {
		st := au.Status()
		a := auctionStatus{Source: string(au.Source()), Loaded: st.Loaded, Rows: st.Rows, LastError: st.LastError, Failures: st.Failures, DetailErrs: st.DetailErrors}
		if st.Loaded {
			a.BuiltAt, a.Age = kst(st.BuiltAt), now.Sub(st.BuiltAt).Round(time.Second).String()
		}
		if !st.LastErrAt.IsZero() {
			a.LastErrAt = kst(st.LastErrAt)
		}
		p.Auctions = append(p.Auctions, a)
	}
	if d.Fleet != nil {
		check := d.Fleet()
		p.Fleet, p.Degraded = fleetRows(check), check["mode"] != "shared"
	}
	if d.Sim != nil {
		p.Sim, p.SimModes = simState(r, d), d.SimModes
	}
	writeHTML(w, code, p)
}

func writeHTML(w http.ResponseWriter, code int, p statusPage) {
	var buf bytes.Buffer
	if err := statusTmpl.Execute(&buf, p); err != nil {
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Everything is inline and from here: nothing else may load or frame it.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func sourceView(s breaker.Snapshot, tl *Timeline, now time.Time) sourceStatus {
	v := sourceStatus{Name: s.Source, State: s.State, Forced: s.Forced, Requests: s.Requests, Failures: s.Failures,
		Rejected: s.RejectedSince, LastChangeAgo: now.Sub(s.ChangedAt).Round(time.Second).String()}
	rate, slow := s.FailureRate, s.SlowRate
	v.Slow = s.SlowCalls
	if s.State == "open" && s.Trip != nil && s.Trip.Requests > 0 {
		// The window is emptied when it trips: show the one that did.
		n := float64(s.Trip.Requests)
		rate, slow, v.Requests, v.Failures, v.Slow = float64(s.Trip.Failures)/n, float64(s.Trip.Slow)/n, s.Trip.Requests, s.Trip.Failures, s.Trip.Slow
	}
	v.FailureRate, v.SlowRate = fmt.Sprintf("%.0f%%", rate*100), fmt.Sprintf("%.0f%%", slow*100)
	if s.LastCall != nil {
		v.LastCall, v.LastCallAt = *s.LastCall, kst(*s.LastCallAt)
	}
	if s.LastError != nil {
		v.LastError, v.LastErrorAt = *s.LastError, kst(*s.LastErrorAt)
	}
	if s.NextProbeAt != nil {
		v.NextProbe = fmt.Sprintf("%s (in %s)", kst(*s.NextProbeAt), max(s.NextProbeAt.Sub(now), 0).Round(time.Second))
	}
	if tl != nil {
		v.Chart = drawChart(tl.Samples(s.Source), tl.Every(), now)
		if n, ok := tl.RejectedSince(s.Source, now.Add(-time.Minute), s.Rejected); ok {
			v.RejectedRecent = fmt.Sprint(n)
		}
	} else {
		v.Chart = chart{W: chartW, H: chartRateH + chartBandH, RateH: chartRateH}
	}
	return v
}

// drawChart lays out the last hour of samples: a band coloured by state
// along the bottom and the failure rate as a line above it (0% at the
// band, 100% at the top).
func drawChart(samples []Sample, every time.Duration, now time.Time) chart {
	c := chart{W: chartW, H: chartRateH + chartBandH, RateH: chartRateH}
	start := now.Add(-chartSpan)
	x := func(t time.Time) float64 { return float64(t.Sub(start)) / float64(chartSpan) * chartW }
	width := max(float64(every)/float64(chartSpan)*chartW, 1)
	var pts []string
	for _, s := range samples {
		if s.At.Before(start) {
			continue
		}
		c.Samples++
		sx := x(s.At)
		if n := len(c.Bands); n > 0 && c.Bands[n-1].State == s.State && c.Bands[n-1].X+c.Bands[n-1].W >= sx-0.5 {
			c.Bands[n-1].W = sx + width - c.Bands[n-1].X
		} else {
			c.Bands = append(c.Bands, band{X: sx, W: width, Y: chartRateH + 1, H: chartBandH - 1, State: s.State})
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx, chartRateH*(1-s.FailureRate)))
	}
	c.Line = strings.Join(pts, " ")
	return c
}

// simState reads the simulator's current modes through its own control
// API, the same one curl uses.
func simState(r *http.Request, d AdminDeps) []simStatus {
	rec := newCapture()
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "/sim", nil)
	d.Sim.ServeHTTP(rec, req)
	var m map[string]struct {
		Mode     string `json:"mode"`
		Requests int64  `json:"requests"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &m) != nil {
		return []simStatus{{Source: "simulator", Mode: fmt.Sprintf("unreadable (status %d)", rec.Code)}}
	}
	var out []simStatus
	for src, st := range m {
		out = append(out, simStatus{Source: src, Mode: st.Mode, Requests: st.Requests})
	}
	slices.SortFunc(out, func(a, b simStatus) int { return strings.Compare(a.Source, b.Source) })
	return out
}

// capture is the response of an in-process call to the simulator's API.
type capture struct {
	header http.Header
	Code   int
	Body   bytes.Buffer
}

func newCapture() *capture { return &capture{header: http.Header{}} }

func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(code int) {
	if c.Code == 0 {
		c.Code = code
	}
}

func (c *capture) Write(p []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.Body.Write(p)
}

// handleStatusBreaker applies a breaker form of the status page, then sends
// the browser back to the page (post, redirect, get: a reload does not post
// again).
func handleStatusBreaker(d AdminDeps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b := findBreaker(d, r.PathValue("source"))
		if b == nil {
			renderStatus(w, r, d, http.StatusNotFound, "no breaker for that source")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		if err := r.ParseForm(); err != nil {
			renderStatus(w, r, d, http.StatusBadRequest, "unreadable form: "+err.Error())
			return
		}
		if err := operate(r, d, b, r.PostForm.Get("action"), strings.TrimSpace(r.PostForm.Get("reason")), "status page"); err != nil {
			renderStatus(w, r, d, toError(err).Status, toError(err).Message)
			return
		}
		http.Redirect(w, r, "/status", http.StatusSeeOther)
	}
}

// handleStatusSim switches a simulated upstream's mode through the
// simulator's control API.
func handleStatusSim(d AdminDeps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		if err := r.ParseForm(); err != nil {
			renderStatus(w, r, d, http.StatusBadRequest, "unreadable form: "+err.Error())
			return
		}
		body, _ := json.Marshal(map[string]string{"mode": r.PostForm.Get("mode")})
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPut, "/sim/"+url.PathEscape(r.PathValue("source")), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := newCapture()
		d.Sim.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			renderStatus(w, r, d, http.StatusBadRequest, "the simulator refused: "+strings.TrimSpace(rec.Body.String()))
			return
		}
		d.Log.Warn("simulator mode changed from the status page", "source", r.PathValue("source"), "mode", r.PostForm.Get("mode"))
		http.Redirect(w, r, "/status", http.StatusSeeOther)
	}
}

// statusCookie holds a status page session: a random id the gate knows
// until it expires, not the token nor anything derived from it.
const statusCookie = "lmn_admin"

// withStatusToken asks for the admin token, when one is set, before any
// status page route: a browser cannot send a bearer header, so the page's
// login form trades the token for a session cookie (HttpOnly,
// SameSite=Strict, expiring). A bearer header works too, for scripts.
func withStatusToken(d AdminDeps, g *adminGate) middleware {
	return func(next http.Handler) http.Handler {
		if d.Token == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, err := r.Cookie(statusCookie); err == nil && g.session(c.Value) {
				next.ServeHTTP(w, r)
				return
			}
			if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				ok, answered := g.check(w, r, bearer)
				if answered {
					return
				}
				if ok {
					next.ServeHTTP(w, r)
					return
				}
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="admin"`)
			writeHTML(w, http.StatusUnauthorized, statusPage{Login: true, Now: kst(time.Now())})
		})
	}
}

// withOwnPage refuses a form not posted from this listener's own pages: a
// page on another site can post a form to it without asking (CSRF).
func withOwnPage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r) {
			writeHTML(w, http.StatusForbidden, statusPage{Now: kst(time.Now()), Problem: "a form must be posted from this status page"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// handleStatusLogin trades the admin token typed into the login form for
// a session cookie that ends with the session.
func handleStatusLogin(d AdminDeps, g *adminGate) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		_ = r.ParseForm()
		if d.Token == "" {
			writeHTML(w, http.StatusUnauthorized, statusPage{Login: true, Now: kst(time.Now()), Problem: "this listener has no admin token"})
			return
		}
		ok, answered := g.check(w, r, r.PostForm.Get("token"))
		if answered {
			return
		}
		if !ok {
			writeHTML(w, http.StatusUnauthorized, statusPage{Login: true, Now: kst(time.Now()), Problem: "that is not the admin token"})
			return
		}
		id, expires := g.openSession()
		http.SetCookie(w, &http.Cookie{Name: statusCookie, Value: id, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, Expires: expires, MaxAge: int(sessionTTL.Seconds())})
		http.Redirect(w, r, "/status", http.StatusSeeOther)
	}
}
