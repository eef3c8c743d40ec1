// Package service wires the parts into a running service: every source
// the registry lists (sources.go) with its HTTP client and breaker, the
// fan-out, the search, the auction indexes with their crawlers, and the
// public and admin handlers over them. `serve` and the
// end-to-end tests both build it here, so the tests exercise exactly
// what runs in production.
package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/fleet"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/lag"
	"github.com/lmn/aggregator/metrics"
	"github.com/lmn/aggregator/panics"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/search"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Config is what the wiring needs to know.
type Config struct {
	// Sources are the upstreams' settings by source; a source missing here,
	// or a setting left zero, takes its description's default (the real
	// site's URL included: tests point every source at the simulator).
	Sources map[vehicle.Source]registry.Settings
	// UpstreamCacheTTL is how long parsed dealer search answers are kept
	// and shared between requests; 0 keeps none.
	UpstreamCacheTTL time.Duration
	CrawlInterval    time.Duration
	// Snapshot is the file auction indexes are saved to and restored from,
	// one per auction source: SnapshotFile(Snapshot, source). "" for none.
	Snapshot string
	Breaker  breaker.Config
	Metrics  *metrics.Metrics // nil for none
	// Fleet, when not nil, shares state with the other replicas through
	// Redis (see package fleet); nil serves alone.
	Fleet *fleet.Fleet
	// Tracing, when not nil, makes spans of API requests (and below them
	// each source's share and upstream exchange) and of auction crawls.
	Tracing trace.TracerProvider
	// CrawlLease is the period of the crawler's lease in a fleet; 0 for
	// fleet.DefaultLease.
	CrawlLease time.Duration

	// DealerCalls overrides, per dealer source, how many upstream calls
	// one request may make (tests shrink it to run budgets out).
	DealerCalls map[vehicle.Source]int

	// API and Admin are the two listeners' own settings (keys, cursors,
	// deadline, the simulator's controls …). New fills in what it wires
	// itself: the logger, the search, the breakers, the auction and metrics.
	API   httpapi.Deps
	Admin httpapi.AdminDeps
}

// Upstreams are settings that point every registered source at urls
// (by source name, as sim.Servers and the simulator list them) with one
// timeout: the simulator's upstreams in tests and `serve -sim`.
func Upstreams(urls map[string]string, timeout time.Duration) map[vehicle.Source]registry.Settings {
	out := map[vehicle.Source]registry.Settings{}
	for _, d := range registry.All() {
		out[d.Name] = registry.Settings{URL: urls[string(d.Name)], Timeout: timeout}
	}
	return out
}

// SnapshotFile is the snapshot of source's index beside base: its name
// with the source before the extension (auction.json: auction-glovis.json).
func SnapshotFile(base string, source vehicle.Source) string {
	if base == "" {
		return ""
	}
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "-" + string(source) + ext
}

// Service is the wired service.
type Service struct {
	Search   *search.Service
	Fanout   *fanout.Fanout
	Breakers []*breaker.Breaker // the dealers', the auctions', then the sources' own (glovis_detail)
	// Auctions are the auction sources, in registry order.
	Auctions []auction.Source
	// Overrides shares operators' breaker actions with the other
	// replicas; nil without a fleet.
	Overrides *fleet.Overrides
	// Leases run each auction's crawler on one replica of the fleet at a
	// time and share its index; none without a fleet.
	Leases []*fleet.Auction
	// Rows write the rows dealers keep for detail requests to the fleet;
	// none without one.
	Rows []*fleet.Rows
	// Answers writes the upstream answers fetched here to the fleet; nil
	// without one or without the cache.
	Answers *fleet.Answers

	API   http.Handler // the public API
	Admin http.Handler // the admin listener
	// Health serves only /healthz and /readyz, for probes on an address of
	// their own.
	Health http.Handler
	// Timeline samples the breakers for the status page's last hour; the
	// caller runs it.
	Timeline *httpapi.Timeline
	// Lag measures how starved of CPU the service is, so that a missed
	// deadline is charged to the right side; Run runs it.
	Lag *lag.Probe

	clients []*sources.Client
}

// CloseIdleConnections closes the upstream connections pooled and not in
// use: a test can then tell a leak (calls still holding theirs) from the
// pools' normal idle connections.
func (s *Service) CloseIdleConnections() {
	for _, c := range s.clients {
		c.CloseIdleConnections()
	}
}

// Auction returns the auction source named s, nil if none.
func (s *Service) Auction(name vehicle.Source) auction.Source {
	for _, a := range s.Auctions {
		if a.Source() == name {
			return a
		}
	}
	return nil
}

const userAgent = "lmn-aggregator/1 (+partner API)"

// UpstreamBodyBudget bounds the bytes of upstream bodies being read at once,
// across every request: at the usual sizes (tens to hundreds of KB) it is
// hundreds of calls, while 200 requests against an upstream sending huge
// bodies can no longer hold each call's cap at once.
const UpstreamBodyBudget = 64 << 20

// upstreamAnswers bounds the answers kept per upstream: a parsed Encar
// answer of 60 rows or a Danawa page of 20 is tens of kilobytes, so a few
// tens of megabytes at most.
const upstreamAnswers = 512

// timelineEvery is how often the status page's charts sample the breakers:
// 360 samples an hour per source.
const timelineEvery = 10 * time.Second

// DefaultBulkhead bounds a dealer source's calls in flight when the
// configuration names no bound: half of the 32 requests per core serve
// lets in at once on one core, so a hung source holds at most half the
// instance and the rest answers from the other sources.
const DefaultBulkhead = 16

// New builds every registered source and wires them. Nothing runs until
// the caller starts the crawlers (Run). It fails on a source's setting it
// cannot use.
func New(c Config, log *slog.Logger) (*Service, error) {
	svc := &Service{Lag: lag.New(lag.DefaultEvery)}
	newBreaker := func(name string) *breaker.Breaker {
		b := breaker.New(name, c.Breaker, breaker.Hooks{
			OnTransition: func(t breaker.Transition) {
				log.Warn("breaker changed state", "source", name, "from", t.From, "to", t.To, "reason", t.Reason)
				if c.Metrics != nil {
					c.Metrics.Transition(name, t.From, t.To)
				}
			},
			OnCall: func(outcome string, d time.Duration) {
				if c.Metrics != nil {
					c.Metrics.UpstreamCall(name, outcome, d)
				}
			},
		})
		return b
	}
	panicked := func(s vehicle.Source, p *panics.Error) {
		log.Error("panic in a source's share of a request; the source failed", "source", s,
			"panic", fmt.Sprint(p.Value), "stack", string(p.Stack))
		if c.Metrics != nil {
			c.Metrics.Panic(string(s))
		}
	}
	sources.LogMissingTo(log)

	// The sources' own breakers, dealers first as the status page lists
	// them; further breakers a source makes (Glovis's detail pages) after.
	order := append(append([]registry.Description(nil), registry.OfKind(registry.Dealer)...), registry.OfKind(registry.Auction)...)
	breakers := map[vehicle.Source]*breaker.Breaker{}
	limits := map[vehicle.Source]fanout.Limits{}
	settings := map[vehicle.Source]registry.Settings{}
	for _, d := range order {
		set := d.Fill(c.Sources[d.Name])
		if d.Kind == registry.Dealer && set.Bulkhead <= 0 {
			set.Bulkhead = DefaultBulkhead
		}
		settings[d.Name] = set
		breakers[d.Name] = newBreaker(string(d.Name))
		limits[d.Name] = fanout.Limits{Timeout: set.Timeout, SlowCall: set.SlowCall, Bulkhead: set.Bulkhead}
		svc.Breakers = append(svc.Breakers, breakers[d.Name])
	}
	// wire gives a fan-out what every fan-out of the service has: panics
	// contained and logged, starvation measured, each call's phases counted.
	wire := func(f *fanout.Fanout, phases string) *fanout.Fanout {
		f.Panicked, f.Lag = panicked, svc.Lag
		if c.Metrics != nil {
			f.BulkheadFull = func(s vehicle.Source, outcome string) { c.Metrics.UpstreamCall(string(s), outcome, 0) }
			f.Finished = func(o *fanout.Outcome) {
				c.Metrics.UpstreamPhases(cmp.Or(phases, string(o.Source)), o.Upstream)
			}
		}
		return f
	}
	svc.Fanout = wire(fanout.New(breakers, limits), "")
	var extra []*breaker.Breaker

	// Each upstream has its own pool, so one slow site cannot starve the
	// others; the bytes of bodies being read are bounded across all.
	budget := sources.NewBodyBudget(UpstreamBodyBudget)
	if c.UpstreamCacheTTL > 0 && c.Fleet != nil {
		svc.Answers = fleet.NewAnswers(c.Fleet, log)
	}
	svc.Search = &search.Service{Calls: map[vehicle.Source]int{}, Details: map[vehicle.Source]search.Detail{}, Fanout: svc.Fanout}
	for _, d := range registry.All() {
		name, set := d.Name, settings[d.Name]
		env := registry.Env{
			Settings: set, Log: log.With("source", name), Breaker: breakers[name], Fanout: svc.Fanout,
			HTTP: func(cc sources.ClientConfig) *sources.Client {
				cc.UserAgent, cc.Budget = userAgent, budget
				hc := sources.NewClient(cc)
				svc.clients = append(svc.clients, hc)
				return hc
			},
			NewBreaker: func(n string) *breaker.Breaker {
				b := newBreaker(n)
				extra = append(extra, b)
				return b
			},
			NewFanout: func(n string, b *breaker.Breaker, lim fanout.Limits) *fanout.Fanout {
				return wire(fanout.New(map[vehicle.Source]*breaker.Breaker{name: b}, map[vehicle.Source]fanout.Limits{name: lim}), n)
			},
			Tracing:  c.Tracing,
			CacheTTL: c.UpstreamCacheTTL, CacheSize: upstreamAnswers,
			Cache: func(cache registry.Cache) {
				if svc.Answers != nil {
					// A replica waits for another's fetch at most as long
					// as that fetch may take: the upstream client's timeout.
					cache.Share(svc.Answers.For(string(name)), set.Timeout)
					if c.Metrics != nil {
						c.Metrics.WatchSharedAnswers(string(name), cache)
					}
				}
				if c.Metrics != nil {
					c.Metrics.WatchUpstreamCache(string(name), cache)
				}
			},
			CrawlInterval: c.CrawlInterval, Snapshot: SnapshotFile(c.Snapshot, name),
		}
		if c.Fleet != nil {
			env.Remember = func(local registry.RowStore) registry.RowStore {
				rows := fleet.NewRows(c.Fleet, local, log)
				svc.Rows = append(svc.Rows, rows)
				return rows
			}
		}
		parts, err := d.Build(env)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", name, err)
		}
		switch {
		case parts.Dealer != nil:
			svc.Search.Dealers = append(svc.Search.Dealers, parts.Dealer)
			svc.Search.Details[name] = parts.Detail
			svc.Search.Calls[name] = d.Defaults.Calls
		case parts.Auction != nil:
			svc.Auctions = append(svc.Auctions, parts.Auction)
			svc.Search.Auctions = append(svc.Search.Auctions, parts.Auction)
			svc.Search.Details[name] = parts.Auction.Vehicle
		default:
			return nil, fmt.Errorf("source %s: built neither a dealer nor an auction", name)
		}
	}
	for s, n := range c.DealerCalls {
		svc.Search.Calls[s] = n
	}
	svc.Breakers = append(svc.Breakers, extra...)
	if c.Metrics != nil {
		c.Metrics.WatchBreakers(svc.Breakers)
		c.Metrics.WatchSlowCalls(svc.Breakers)
		c.Metrics.WatchLag(svc.Lag.Total)
		for _, a := range svc.Auctions {
			c.Metrics.WatchAuction(string(a.Source()), a)
		}
		for _, d := range registry.OfKind(registry.Dealer) {
			c.Metrics.WatchInFlight(string(d.Name), settings[d.Name].Bulkhead, func() int { return svc.Fanout.InFlight(d.Name) })
		}
	}
	svc.Timeline = httpapi.NewTimeline(svc.Breakers, timelineEvery, time.Hour)
	svc.API, svc.Admin = handlers(c, log, svc)
	return svc, nil
}

// handlers builds the public and admin handlers over the wired parts.
func handlers(c Config, log *slog.Logger, svc *Service) (api, admin http.Handler) {
	a, d := c.API, c.Admin
	a.Log, a.Search, a.Tracing = log, svc.Search, c.Tracing
	d.Log, d.Breakers, d.Timeline = log, svc.Breakers, svc.Timeline
	for _, a := range svc.Auctions {
		d.Auctions = append(d.Auctions, a)
	}
	if c.Metrics != nil {
		a.Metrics = c.Metrics
		d.Metrics = c.Metrics.Handler()
		d.AuthFailed = c.Metrics.AdminAuthFailure
	}
	if c.Fleet != nil {
		now := a.Now
		if now == nil {
			now = time.Now
		}
		a.Limiter = fleet.NewLimiter(c.Fleet, httpapi.NewLocalLimiter(now))
		svc.Overrides = fleet.NewOverrides(c.Fleet, svc.Breakers, log)
		d.Override = svc.Overrides.Publish
		for _, a := range svc.Auctions {
			fence := SnapshotFile(c.Snapshot, a.Source())
			if fence != "" {
				fence += ".fence"
			}
			svc.Leases = append(svc.Leases, fleet.NewAuction(c.Fleet, fleet.AuctionConfig{Source: string(a.Source()),
				Crawler: leased{a}, Lease: c.CrawlLease, Fence: fence, Log: log}))
		}
		d.Fleet = func() map[string]any {
			check := c.Fleet.ReadyCheck()
			for i, l := range svc.Leases {
				// The first auction's keys as they were; the others by name.
				suffix := ""
				if i > 0 {
					suffix = "_" + string(svc.Auctions[i].Source())
				}
				check["crawling"+suffix] = l.Crawling()
				check["auction_version"+suffix] = l.Version()
			}
			return check
		}
		if c.Metrics != nil {
			c.Metrics.WatchFleet(c.Fleet, fleet.Kinds)
			for i, l := range svc.Leases {
				c.Metrics.WatchCrawlLease(string(svc.Auctions[i].Source()), l)
			}
			c.Metrics.WatchFleetDropped(func() uint64 {
				var n uint64
				for _, r := range svc.Rows {
					n += r.Dropped()
				}
				if svc.Answers != nil {
					n += svc.Answers.Dropped()
				}
				return n
			})
		}
	}
	svc.Health = httpapi.NewHealth(d)
	return httpapi.NewServer(a), httpapi.NewAdmin(d)
}

// leased is an auction source as a fleet lease drives it.
type leased struct{ auction.Source }

// IndexBuiltAt is when the index in service was built; zero for none.
func (l leased) IndexBuiltAt() time.Time {
	if ix := l.Index(); ix != nil {
		return ix.BuiltAt()
	}
	return time.Time{}
}

// Run does the service's background work until ctx ends: the lag probe,
// each auction's
// crawler, or in a fleet each crawler's lease (crawling when held, loading
// the shared index otherwise) and the other replicas' breaker overrides.
func (s *Service) Run(ctx context.Context) {
	go s.Lag.Run(ctx)
	if s.Overrides != nil {
		go s.Overrides.Run(ctx)
	}
	for _, r := range s.Rows {
		go r.Run(ctx)
	}
	if s.Answers != nil {
		go s.Answers.Run(ctx)
	}
	var wg sync.WaitGroup
	if s.Leases != nil {
		for _, l := range s.Leases {
			wg.Go(func() { l.Run(ctx) })
		}
	} else {
		for _, a := range s.Auctions {
			wg.Go(func() { a.Run(ctx) })
		}
	}
	wg.Wait()
}

// Restore loads each auction's snapshot, if it has one; a snapshot that
// cannot be read leaves its auction waiting for its first crawl.
func (s *Service) Restore() error {
	var errs []error
	for _, a := range s.Auctions {
		if err := a.Restore(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.Source(), err))
		}
	}
	return errors.Join(errs...)
}
