// Package metrics exposes the service's Prometheus metrics. Label values are
// bounded: sources, outcomes, routes and states, never ids or error text.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/buildinfo"
	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Metrics holds every series the service records.
type Metrics struct {
	reg *prometheus.Registry

	transitions  *prometheus.CounterVec
	upstreamReqs *prometheus.CounterVec
	upstreamDur  *prometheus.HistogramVec
	apiReqs      *prometheus.CounterVec
	apiDur       *prometheus.HistogramVec
	partial      *prometheus.CounterVec
	unavailable  prometheus.Counter
	panics       *prometheus.CounterVec
	partnerReqs  *prometheus.CounterVec
	adminAuth    *prometheus.CounterVec
	keysReload   *prometheus.CounterVec
	phases       *prometheus.HistogramVec // lmn_upstream_phase_seconds, registered by WatchSlowCalls
}

// New creates the metrics on their own registry (not the global one, so tests
// can build several services in one process).
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lmn_breaker_transitions_total", Help: "Circuit breaker state changes, operator actions included.",
	}, []string{"source", "from", "to"})
	m.upstreamReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lmn_upstream_requests_total", Help: "Calls to an upstream by outcome (success, timeout, http_5xx, blocked, login, drift, oversize, connection, rejected, …).",
	}, []string{"source", "outcome"})
	m.upstreamDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lmn_upstream_request_duration_seconds", Help: "Duration of calls to an upstream, rejected calls included.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10},
	}, []string{"source"})
	m.apiReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lmn_api_requests_total", Help: "API requests by route pattern and status code.",
	}, []string{"route", "status"})
	m.apiDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lmn_api_request_duration_seconds", Help: "API request duration by route pattern.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5},
	}, []string{"route"})
	m.partial = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lmn_partial_responses_total", Help: "Responses that left a failed dealer source out, by that source.",
	}, []string{"failed_source"})
	m.unavailable = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lmn_dealer_unavailable_responses_total", Help: "503 dealer_upstream_unavailable responses.",
	})
	m.panics = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lmn_panics_total", Help: "Panics recovered in a source's share of a request (a bug; the stack is in the log), by source.",
	}, []string{"source"})
	m.reg.MustRegister(m.panics)
	m.partnerReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lmn_partner_requests_total", Help: "Requests with a known API key by partner and status (403 ip_not_allowed, 429 rate_limited, 499 client gone, …).",
	}, []string{"partner", "status"})
	m.adminAuth = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lmn_admin_auth_failures_total", Help: "Wrong admin tokens presented (refused), and attempts refused unread because their address had guessed too often (throttled).",
	}, []string{"result"})
	for _, r := range []string{"refused", "throttled"} {
		m.adminAuth.WithLabelValues(r)
	}
	m.reg.MustRegister(m.adminAuth)
	m.keysReload = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lmn_keys_reloads_total", Help: "Rereadings of the API keys file (SIGHUP) by result: ok, or failed (the file did not parse; the previous keys stay in service).",
	}, []string{"result"})
	for _, r := range []string{"ok", "failed"} {
		m.keysReload.WithLabelValues(r)
	}
	m.reg.MustRegister(m.keysReload)
	m.reg.MustRegister(m.transitions, m.upstreamReqs, m.upstreamDur, m.apiReqs, m.apiDur, m.partial, m.unavailable, m.partnerReqs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(pairCounts{prometheus.NewDesc("lmn_extract_field_missing_total",
		"Pages of 10 or more rows on which an optional field was empty on every row, by source and field: a renamed field.",
		[]string{"source", "field"}, nil), sources.MissingCounts})
	m.reg.MustRegister(pairCounts{prometheus.NewDesc("lmn_extract_rows_skipped_total",
		"Rows left out of a page because their shape was never seen (e.g. a Danawa link without an identifier), by source and reason.",
		[]string{"source", "reason"}, nil), sources.SkippedCounts})
	b := buildinfo.Get()
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lmn_build_info", Help: "Always 1; its labels say which build runs (version and revision from the build, Go version).",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "go_version": b.GoVersion},
	}, func() float64 { return 1 }))
	for k := range korean.Unmapped() {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lmn_dictionary_unmapped_total", Help: "Upstream values the Korean dictionary could not translate, by kind.",
			ConstLabels: prometheus.Labels{"kind": k},
		}, func() float64 { return float64(korean.Unmapped()[k]) }))
	}
	return m
}

// states are the values of lmn_breaker_state's state label.
var states = []string{"closed", "half_open", "open", "forced_open", "forced_closed"}

// WatchBreakers exports each breaker's state (one 0/1 series per state) and
// its count of rejected calls, read when Prometheus scrapes.
func (m *Metrics) WatchBreakers(breakers []*breaker.Breaker) {
	for _, b := range breakers {
		// Every family a dashboard or alert reads exists from the start,
		// at 0, instead of appearing with its first event.
		m.panics.WithLabelValues(b.Name())
		m.upstreamReqs.WithLabelValues(b.Name(), "success")
		m.upstreamDur.WithLabelValues(b.Name())
		for _, st := range states {
			m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "lmn_breaker_state", Help: "1 for the state each source's breaker is in, 0 for the others.",
				ConstLabels: prometheus.Labels{"source": b.Name(), "state": st},
			}, func() float64 {
				if b.State() == st {
					return 1
				}
				return 0
			}))
		}
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lmn_breaker_rejected_total", Help: "Calls a breaker refused without calling the upstream.",
			ConstLabels: prometheus.Labels{"source": b.Name()},
		}, func() float64 { return float64(b.Snapshot(false).Rejected) }))
	}
}

// WatchAuction exports an auction index's age and size, labelled with its
// source.
func (m *Metrics) WatchAuction(source string, a interface{ Status() auction.Status }) {
	labels := prometheus.Labels{"source": source}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lmn_auction_index_age_seconds", Help: "Seconds since the auction index in service was built; -1 before it has loaded.",
		ConstLabels: labels,
	}, func() float64 {
		st := a.Status()
		if !st.Loaded {
			return -1
		}
		return time.Since(st.BuiltAt).Seconds()
	}))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lmn_auction_index_rows", Help: "Lots in the auction index in service.", ConstLabels: labels,
	}, func() float64 { return float64(a.Status().Rows) }))
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lmn_auction_crawl_failures_total", Help: "Auction crawls that failed (panics included); the previous index stays in service.",
		ConstLabels: labels,
	}, func() float64 { return float64(a.Status().Failures) }))
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lmn_auction_snapshot_write_failures_total", Help: "Auction index snapshots not written (disk full, no permission); a restart would come up without an index until a crawl succeeds.",
		ConstLabels: labels,
	}, func() float64 { return float64(a.Status().SnapshotFailures) }))
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lmn_auction_detail_errors_total", Help: "Auction detail pages a crawl could not read; their lots keep the list's values.",
		ConstLabels: labels,
	}, func() float64 { return float64(a.Status().DetailErrors) }))
}

// pairCounts exports counts kept by sources (fields missing, rows
// skipped): their labels are the extractors' declared field names and
// reasons, so they are bounded.
type pairCounts struct {
	desc  *prometheus.Desc
	count func() map[[2]string]int64
}

func (p pairCounts) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }

func (p pairCounts) Collect(ch chan<- prometheus.Metric) {
	for k, n := range p.count() {
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.CounterValue, float64(n), k[0], k[1])
	}
}

// Transition counts a breaker state change.
func (m *Metrics) Transition(source, from, to string) {
	m.transitions.WithLabelValues(source, from, to).Inc()
}

// UpstreamCall counts one call to an upstream.
func (m *Metrics) UpstreamCall(source, outcome string, d time.Duration) {
	m.upstreamReqs.WithLabelValues(source, outcome).Inc()
	m.upstreamDur.WithLabelValues(source).Observe(d.Seconds())
}

// Request counts one API request.
func (m *Metrics) Request(route string, status int, d time.Duration) {
	m.apiReqs.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.apiDur.WithLabelValues(route).Observe(d.Seconds())
}

// PartnerRequest counts one request with a known key. Partners come from
// the keys file, so the label set is bounded.
func (m *Metrics) PartnerRequest(partner string, status int) {
	m.partnerReqs.WithLabelValues(partner, strconv.Itoa(status)).Inc()
}

// Partial counts a response that left failed dealer sources out.
func (m *Metrics) Partial(failed []vehicle.Source) {
	for _, s := range failed {
		m.partial.WithLabelValues(string(s)).Inc()
	}
}

// Panic counts a panic recovered in a source's task.
func (m *Metrics) Panic(source string) { m.panics.WithLabelValues(source).Inc() }

// KeysReload counts a rereading of the API keys file, failed or not.
func (m *Metrics) KeysReload(failed bool) {
	r := "ok"
	if failed {
		r = "failed"
	}
	m.keysReload.WithLabelValues(r).Inc()
}

// AdminAuthFailure counts a wrong admin token, or an attempt refused
// unread because its address had guessed too often.
func (m *Metrics) AdminAuthFailure(throttled bool) {
	r := "refused"
	if throttled {
		r = "throttled"
	}
	m.adminAuth.WithLabelValues(r).Inc()
}

// DealersUnavailable counts a 503 dealer_upstream_unavailable.
func (m *Metrics) DealersUnavailable() { m.unavailable.Inc() }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// WatchOverload exports the API requests in flight and how many were shed
// with 503 overloaded, read when Prometheus scrapes.
func (m *Metrics) WatchOverload(o interface {
	InFlight() int
	Shed() uint64
}) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lmn_api_in_flight", Help: "API requests being worked on now.",
		}, func() float64 { return float64(o.InFlight()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lmn_api_overloaded_total", Help: "API requests answered 503 overloaded because the instance was at its bound of requests in flight.",
		}, func() float64 { return float64(o.Shed()) }),
	)
}

// WatchFleet exports whether the instance shares state through Redis or
// works alone, why, and Redis commands that failed by kind, read when
// Prometheus scrapes.
func (m *Metrics) WatchFleet(f interface {
	Shared() bool
	ErrorsOf(kind string) uint64
	Size() int
}, kinds []string) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lmn_fleet_shared", Help: "1 while the instance shares rate limits, overrides, the auction and Danawa rows through Redis; 0 in per-instance mode (Redis unreachable, refusing our credentials, full, read only or too slow).",
		}, func() float64 {
			if f.Shared() {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lmn_fleet_size", Help: "Replicas this one assumes are in the fleet (heartbeats seen in Redis, or -fleet-size): without Redis it grants each key this share of its rate.",
		}, func() float64 { return float64(f.Size()) }),
	)
	for _, kind := range kinds {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lmn_fleet_redis_errors_total", Help: "Redis commands that failed, by kind (unreachable, timeout, auth, oom, readonly, unavailable, reply_error); auth, oom, readonly and unavailable switch to per-instance mode at once (reply_error, one key's budget answered with an error, shares that key out per replica), three unreachables in a row too, timeouts in a row for a second.",
			ConstLabels: prometheus.Labels{"kind": kind},
		}, func() float64 { return float64(f.ErrorsOf(kind)) }))
	}
}

// WatchCrawlLease exports whether this replica is the fleet's crawler of
// source's auction and the shared index version it serves, read when
// Prometheus scrapes.
func (m *Metrics) WatchCrawlLease(source string, lease interface {
	Crawling() bool
	Version() int64
}) {
	labels := prometheus.Labels{"source": source}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lmn_fleet_crawling", Help: "1 on the replica that holds the auction's crawler lease (it crawls and shares the index), 0 on the others.",
			ConstLabels: labels,
		}, func() float64 {
			if lease.Crawling() {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lmn_fleet_auction_version", Help: "Version of the fleet's shared auction index in service here (0: none loaded from the fleet).",
			ConstLabels: labels,
		}, func() float64 { return float64(lease.Version()) }),
	)
}

// WatchUpstreamCache exports how source's search calls were answered by
// its cache of upstream answers: hit (kept answer), miss (read upstream),
// joined (shared a read another request had started).
func (m *Metrics) WatchUpstreamCache(source string, c interface {
	Stats() (hits, misses, joined uint64)
}) {
	for i, result := range []string{"hit", "miss", "joined"} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lmn_upstream_cache_total", Help: "Dealer search calls by how the cache of upstream answers answered them.",
			ConstLabels: prometheus.Labels{"source": source, "result": result},
		}, func() float64 {
			h, mi, j := c.Stats()
			return float64([3]uint64{h, mi, j}[i])
		}))
	}
}

// WatchFleetDropped exports the writes to Redis given up because their
// queue was full (Danawa rows, upstream answers): kept on this replica only.
func (m *Metrics) WatchFleetDropped(dropped func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lmn_fleet_writes_dropped_total", Help: "Danawa rows and upstream answers not written to Redis because the queue was full; the other replicas cannot use them.",
	}, func() float64 { return float64(dropped()) }))
}

// WatchSharedAnswers exports the cache misses another replica's answer
// served from Redis, without calling the upstream, and the waits for
// another replica's fetch of the same answer.
func (m *Metrics) WatchSharedAnswers(source string, c interface {
	SharedHits() uint64
	FleetWaits() (joined, fellBack uint64)
}) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lmn_upstream_cache_shared_hits_total", Help: "Cache misses answered by an answer another replica fetched (from Redis), without calling the upstream.",
		ConstLabels: prometheus.Labels{"source": source},
	}, func() float64 { return float64(c.SharedHits()) }))
	for i, result := range []string{"joined", "fell_back"} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lmn_upstream_cache_fleet_waits_total", Help: "Cache misses that found another replica fetching the same answer: joined (its answer served them) or fell_back (no answer came; fetched here).",
			ConstLabels: prometheus.Labels{"source": source, "result": result},
		}, func() float64 {
			j, f := c.FleetWaits()
			return float64([2]uint64{j, f}[i])
		}))
	}
}

// WatchListener exports a listener's open connections and its cap, read
// when Prometheus scrapes: a listener at its cap queues new connections.
func (m *Metrics) WatchListener(name string, open func() int, maxConns int) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lmn_listener_connections", Help: "Connections a listener (public, admin, health, metrics) has open.",
			ConstLabels: prometheus.Labels{"listener": name},
		}, func() float64 { return float64(open()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lmn_listener_max_connections", Help: "A listener's cap on open connections; past it new connections wait in the accept queue.",
			ConstLabels: prometheus.Labels{"listener": name},
		}, func() float64 { return float64(maxConns) }),
	)
}
