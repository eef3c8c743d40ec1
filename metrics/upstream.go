package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/sources"
)

// WatchSlowCalls exports each breaker's slow-call rate and failure rate
// over its window, read when Prometheus scrapes: the slow-call rate rising
// toward its threshold is a source about to open for being slow. It also
// registers the phases histogram UpstreamPhases records to.
func (m *Metrics) WatchSlowCalls(breakers []*breaker.Breaker) {
	m.phases = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lmn_upstream_phase_seconds", Help: "Time upstream HTTP requests spent in each phase: connect, tls, first_byte (request written to first byte), body (first byte to last); a phase cut off by a deadline counts until the cut.",
		Buckets: phaseBuckets,
	}, []string{"source", "phase"})
	m.reg.MustRegister(m.phases)
	for _, b := range breakers {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lmn_breaker_slow_call_rate", Help: "Share of the calls in a breaker's window that were slower than the source's slow-call threshold or cut off by its deadline.",
			ConstLabels: prometheus.Labels{"source": b.Name()},
		}, func() float64 { return b.Snapshot(false).SlowRate }))
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lmn_breaker_failure_rate", Help: "Share of the calls in a breaker's window charged to the upstream as failures.",
			ConstLabels: prometheus.Labels{"source": b.Name()},
		}, func() float64 { return b.Snapshot(false).FailureRate }))
	}
}

// WatchLag exports the lag probe's total lateness: its rate is the share of
// time a goroutine ready to run waited for a core while upstream calls were
// in flight (the probe sleeps otherwise), the measure that decides whether
// a missed deadline was this service's (sources' outcome "overloaded").
func (m *Metrics) WatchLag(total func() time.Duration) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lmn_scheduling_lateness_seconds_total", Help: "Total lateness of the lag probe's wake-ups, taken while upstream calls are in flight: time a ready goroutine waited to run.",
	}, func() float64 { return total().Seconds() }))
}

// WatchInFlight exports a source's calls in flight, against its bulkhead.
func (m *Metrics) WatchInFlight(source string, bulkhead int, inFlight func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lmn_upstream_in_flight", Help: "Calls to an upstream in flight; at lmn_upstream_bulkhead further calls fail at once (outcome bulkhead_full).",
		ConstLabels: prometheus.Labels{"source": source},
	}, func() float64 { return float64(inFlight()) }))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lmn_upstream_bulkhead", Help: "Bound on an upstream's calls in flight.",
		ConstLabels: prometheus.Labels{"source": source},
	}, func() float64 { return float64(bulkhead) }))
}

// phaseBuckets span a pooled connect (under a millisecond) to a body
// trickling for the whole of a 10 s Glovis budget.
var phaseBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10}

// UpstreamPhases records the phases of one call's HTTP requests.
func (m *Metrics) UpstreamPhases(source string, rs []sources.Phases) {
	if m.phases == nil {
		return
	}
	for _, p := range rs {
		end := func(t time.Time) time.Time {
			if t.IsZero() {
				return p.End
			}
			return t
		}
		if !p.ConnectStart.IsZero() {
			m.phases.WithLabelValues(source, "connect").Observe(end(p.ConnectDone).Sub(p.ConnectStart).Seconds())
		}
		if !p.TLSStart.IsZero() {
			m.phases.WithLabelValues(source, "tls").Observe(end(p.TLSDone).Sub(p.TLSStart).Seconds())
		}
		if !p.Wrote.IsZero() {
			m.phases.WithLabelValues(source, "first_byte").Observe(end(p.FirstByte).Sub(p.Wrote).Seconds())
		}
		if !p.FirstByte.IsZero() {
			m.phases.WithLabelValues(source, "body").Observe(end(p.BodyDone).Sub(p.FirstByte).Seconds())
		}
	}
}
