// Package service wires the parts into a running service: one HTTP client
// and breaker per upstream, the fan-out, the search, the auction index with
// its crawler, and the public and admin handlers over them. `serve` and the
// end-to-end tests both build it here, so the tests exercise exactly
// what runs in production.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/dealer"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/fleet"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/lag"
	"github.com/lmn/aggregator/metrics"
	"github.com/lmn/aggregator/panics"
	"github.com/lmn/aggregator/search"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/sources/danawa"
	"github.com/lmn/aggregator/sources/encar"
	"github.com/lmn/aggregator/sources/glovis"
	"github.com/lmn/aggregator/upcache"
	"github.com/lmn/aggregator/vehicle"
)

// Config is what the wiring needs to know.
type Config struct {
	EncarURL, DanawaURL, GlovisURL string
	EncarTimeout                   time.Duration // one Encar call within a request
	DanawaTimeout                  time.Duration // Danawa's share of a request
	GlovisTimeout                  time.Duration // one Glovis page fetch
	GlovisDetailTimeout            time.Duration // one Glovis detail page read for a request; 0 for the default
	// EncarSlowCall and DanawaSlowCall are the slow-call thresholds (0:
	// half the source's timeout); EncarBulkhead and DanawaBulkhead bound
	// each source's calls in flight (0: DefaultBulkhead). See Source.
	EncarSlowCall, DanawaSlowCall time.Duration
	EncarBulkhead, DanawaBulkhead int
	// UpstreamCacheTTL is how long parsed Encar and Danawa search answers
	// are kept and shared between requests; 0 keeps none.
	UpstreamCacheTTL time.Duration
	GlovisSession    string
	GlovisSites      []string
	CrawlInterval    time.Duration
	Snapshot         string
	Breaker          breaker.Config
	Metrics          *metrics.Metrics // nil for none
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

// Service is the wired service.
type Service struct {
	Search   *search.Service
	Fanout   *fanout.Fanout
	Breakers []*breaker.Breaker // encar, danawa, glovis, glovis_detail
	Auction  *glovis.Store
	Crawler  *glovis.Crawler
	// Overrides shares operators' breaker actions with the other
	// replicas; nil without a fleet.
	Overrides *fleet.Overrides
	// Lease runs the crawler on one replica of the fleet at a time and
	// shares its index; nil without a fleet.
	Lease *fleet.Auction
	// Rows writes the Danawa rows seen here to the fleet; nil without one.
	Rows *fleet.Rows
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

const userAgent = "lmn-aggregator/1 (+partner API)"

// Per-request call budgets of the dealer sources: Encar answers up to 500
// rows a call, a Danawa list page holds 20.
const (
	encarCalls  = 8
	danawaCalls = 24
)

// UpstreamBodyBudget bounds the bytes of upstream bodies being read at once,
// across every request: at the usual sizes (tens to hundreds of KB) it is
// hundreds of calls, while 200 requests against an upstream sending huge
// bodies can no longer hold each call's cap at once.
const UpstreamBodyBudget = 64 << 20

// recentDanawaRows bounds the Danawa rows kept for detail requests: about
// 72 MB at ~720 bytes a row (the README derives it from the expected load).
const recentDanawaRows = 100_000

// glovisDetailTimeout is the default budget of reading a Glovis detail page
// for a request: well inside the request's deadline, so a slow Glovis costs a
// detail view a second at most and the lot is then served as listed.
const glovisDetailTimeout = time.Second

// upstreamAnswers bounds the answers kept per upstream: a parsed Encar
// answer of 60 rows or a Danawa page of 20 is tens of kilobytes, so a few
// tens of megabytes at most.
const upstreamAnswers = 512

// glovisDetail names the breaker of Glovis detail pages read on request. It
// is not the crawler's: a few slow detail views must not open the breaker
// the crawler needs and leave the index to go stale.
const glovisDetail = "glovis_detail"

// timelineEvery is how often the status page's charts sample the breakers:
// 360 samples an hour per source.
const timelineEvery = 10 * time.Second

// DefaultBulkhead bounds a dealer source's calls in flight when the
// configuration names no bound: half of the 32 requests per core serve
// lets in at once on one core, so a hung source holds at most half the
// instance and the rest answers from the other sources.
const DefaultBulkhead = 16

// Source is how calls to one upstream are bounded and judged: its breaker,
// its deadline, its slow-call threshold and its bulkhead. Sources builds
// every source's from the configuration, the one place they are decided.
type Source struct {
	Breaker breaker.Config
	fanout.Limits
}

// Sources is each source's settings, defaults filled in: a dealer's
// slow-call threshold is half its timeout (a source normally answering in
// tens of milliseconds and now taking over a second opens), its bulkhead
// DefaultBulkhead. Glovis pages are read by the crawler and a detail view's
// enrichment, which have their own budgets and no bulkhead or slow calls.
func (c Config) Sources() map[vehicle.Source]Source {
	orDefault := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	bulkhead := func(n int) int {
		if n > 0 {
			return n
		}
		return DefaultBulkhead
	}
	detail := c.GlovisDetailTimeout
	if detail <= 0 {
		detail = glovisDetailTimeout
	}
	return map[vehicle.Source]Source{
		vehicle.Encar: {Breaker: c.Breaker, Limits: fanout.Limits{Timeout: c.EncarTimeout,
			SlowCall: orDefault(c.EncarSlowCall, c.EncarTimeout/2), Bulkhead: bulkhead(c.EncarBulkhead)}},
		vehicle.Danawa: {Breaker: c.Breaker, Limits: fanout.Limits{Timeout: c.DanawaTimeout,
			SlowCall: orDefault(c.DanawaSlowCall, c.DanawaTimeout/2), Bulkhead: bulkhead(c.DanawaBulkhead)}},
		vehicle.Glovis: {Breaker: c.Breaker, Limits: fanout.Limits{Timeout: c.GlovisTimeout}},
		glovisDetail:   {Breaker: c.Breaker, Limits: fanout.Limits{Timeout: detail}},
	}
}

// New builds the service. Nothing runs until the caller starts the crawler.
func New(c Config, log *slog.Logger) *Service {
	settings := c.Sources()
	breakers := map[vehicle.Source]*breaker.Breaker{}
	var list []*breaker.Breaker
	for _, s := range []vehicle.Source{vehicle.Encar, vehicle.Danawa, vehicle.Glovis, glovisDetail} {
		b := breaker.New(string(s), settings[s].Breaker, breaker.Hooks{
			OnTransition: func(t breaker.Transition) {
				log.Warn("breaker changed state", "source", s, "from", t.From, "to", t.To, "reason", t.Reason)
				if c.Metrics != nil {
					c.Metrics.Transition(string(s), t.From, t.To)
				}
			},
			OnCall: func(outcome string, d time.Duration) {
				if c.Metrics != nil {
					c.Metrics.UpstreamCall(string(s), outcome, d)
				}
			},
		})
		breakers[s] = b
		list = append(list, b)
	}
	store := &glovis.Store{}
	sources.LogMissingTo(log)
	if c.Metrics != nil {
		c.Metrics.WatchBreakers(list)
		c.Metrics.WatchAuction(store)
	}
	detailBreaker := breakers[glovisDetail]
	delete(breakers, glovisDetail)
	fo := fanout.New(breakers, map[vehicle.Source]fanout.Limits{
		vehicle.Encar: settings[vehicle.Encar].Limits, vehicle.Danawa: settings[vehicle.Danawa].Limits, vehicle.Glovis: settings[vehicle.Glovis].Limits,
	})
	enrich := fanout.New(map[vehicle.Source]*breaker.Breaker{vehicle.Glovis: detailBreaker},
		map[vehicle.Source]fanout.Limits{vehicle.Glovis: settings[glovisDetail].Limits})
	panicked := func(s vehicle.Source, p *panics.Error) {
		log.Error("panic in a source's share of a request; the source failed", "source", s,
			"panic", fmt.Sprint(p.Value), "stack", string(p.Stack))
		if c.Metrics != nil {
			c.Metrics.Panic(string(s))
		}
	}
	fo.Panicked, enrich.Panicked = panicked, panicked
	probe := lag.New(lag.DefaultEvery)
	fo.Lag, enrich.Lag = probe, probe
	if c.Metrics != nil {
		c.Metrics.WatchSlowCalls(list)
		c.Metrics.WatchLag(probe.Total)
		for _, s := range []vehicle.Source{vehicle.Encar, vehicle.Danawa} {
			c.Metrics.WatchInFlight(string(s), settings[s].Bulkhead, func() int { return fo.InFlight(s) })
		}
		fo.BulkheadFull = func(s vehicle.Source, outcome string) { c.Metrics.UpstreamCall(string(s), outcome, 0) }
		fo.Finished = func(o *fanout.Outcome) { c.Metrics.UpstreamPhases(string(o.Source), o.Upstream) }
		enrich.Finished = func(o *fanout.Outcome) { c.Metrics.UpstreamPhases(glovisDetail, o.Upstream) }
	}
	// Each upstream has its own pool, so one slow site cannot starve the
	// others; the bytes of bodies being read are bounded across all three.
	budget := sources.NewBodyBudget(UpstreamBodyBudget)
	encarHTTP := sources.NewClient(sources.ClientConfig{Timeout: c.EncarTimeout, MaxConns: 128, MaxBody: 8 << 20, UserAgent: userAgent, Budget: budget})
	danawaHTTP := sources.NewClient(sources.ClientConfig{Timeout: c.DanawaTimeout, MaxConns: 128, MaxBody: 4 << 20, UserAgent: userAgent, Budget: budget})
	glovisHTTP := sources.NewClient(sources.ClientConfig{Timeout: c.GlovisTimeout, MaxConns: 8, MaxBody: 8 << 20, UserAgent: userAgent, Budget: budget})
	gclient := glovis.NewClient(c.GlovisURL, c.GlovisSession, glovisHTTP)
	eclient := encar.NewClient(c.EncarURL, encarHTTP)
	dclient := danawa.NewClient(c.DanawaURL, danawaHTTP)
	var answers *fleet.Answers
	if c.UpstreamCacheTTL > 0 {
		ea, da := upcache.New[*encar.List](c.UpstreamCacheTTL, upstreamAnswers), upcache.New[*danawa.List](c.UpstreamCacheTTL, upstreamAnswers)
		eclient.CacheAnswers(ea)
		dclient.CacheAnswers(da)
		if c.Fleet != nil {
			answers = fleet.NewAnswers(c.Fleet, log)
			// A replica waits for another's fetch at most as long as
			// that fetch may take: the upstream client's timeout.
			ea.Share(answers.For(string(vehicle.Encar)), c.EncarTimeout)
			da.Share(answers.For(string(vehicle.Danawa)), c.DanawaTimeout)
			if c.Metrics != nil {
				c.Metrics.WatchSharedAnswers(string(vehicle.Encar), ea)
				c.Metrics.WatchSharedAnswers(string(vehicle.Danawa), da)
			}
		}
		if c.Metrics != nil {
			c.Metrics.WatchUpstreamCache(string(vehicle.Encar), ea)
			c.Metrics.WatchUpstreamCache(string(vehicle.Danawa), da)
		}
	}
	local := danawa.NewRecent(recentDanawaRows)
	var recent danawa.Remembered = local
	var rows *fleet.Rows
	if c.Fleet != nil {
		rows = fleet.NewRows(c.Fleet, local, log)
		recent = rows
	}
	calls := map[vehicle.Source]int{vehicle.Encar: encarCalls, vehicle.Danawa: danawaCalls}
	for s, n := range c.DealerCalls {
		calls[s] = n
	}
	svc := &Service{
		Search: &search.Service{
			// Encar first: a car both list is served as its Encar ad, which
			// has a detail page.
			Dealers: []dealer.Dealer{
				&encar.Dealer{Client: eclient},
				&danawa.Dealer{Client: dclient, Recent: recent},
			},
			Calls:   calls,
			Encar:   eclient,
			Glovis:  gclient,
			Auction: store,
			Recent:  recent,
			Fanout:  fo,
			Enrich:  enrich,
		},
		Fanout:   fo,
		Lag:      probe,
		clients:  []*sources.Client{encarHTTP, danawaHTTP, glovisHTTP},
		Rows:     rows,
		Answers:  answers,
		Breakers: list,
		Auction:  store,
		Crawler: &glovis.Crawler{
			Client: gclient, Store: store, ACC: "20",
			Sites: c.GlovisSites, Interval: c.CrawlInterval, Snapshot: c.Snapshot, Log: log, Parallel: 4,
			Breaker: breakers[vehicle.Glovis], Details: true, Tracer: c.Tracing,
		},
	}
	svc.Timeline = httpapi.NewTimeline(list, timelineEvery, time.Hour)
	svc.API, svc.Admin = handlers(c, log, svc)
	return svc
}

// handlers builds the public and admin handlers over the wired parts.
func handlers(c Config, log *slog.Logger, svc *Service) (api, admin http.Handler) {
	a, d := c.API, c.Admin
	a.Log, a.Search, a.Tracing = log, svc.Search, c.Tracing
	d.Log, d.Breakers, d.Auction, d.Timeline = log, svc.Breakers, svc.Auction, svc.Timeline
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
		fence := ""
		if c.Snapshot != "" {
			fence = c.Snapshot + ".fence"
		}
		svc.Lease = fleet.NewAuction(c.Fleet, fleet.AuctionConfig{Source: string(vehicle.Glovis), Crawler: svc.Crawler,
			Lease: c.CrawlLease, Fence: fence, Log: log})
		d.Fleet = func() map[string]any {
			check := c.Fleet.ReadyCheck()
			check["crawling"] = svc.Lease.Crawling()
			check["auction_version"] = svc.Lease.Version()
			return check
		}
		if c.Metrics != nil {
			c.Metrics.WatchFleet(c.Fleet, fleet.Kinds)
			c.Metrics.WatchCrawlLease(svc.Lease)
			c.Metrics.WatchFleetDropped(func() uint64 {
				n := svc.Rows.Dropped()
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

// Run does the service's background work until ctx ends: the lag probe,
// the auction crawler, or in a fleet the crawler's lease (crawling when held, loading
// the shared index otherwise) and the other replicas' breaker overrides.
func (s *Service) Run(ctx context.Context) {
	go s.Lag.Run(ctx)
	if s.Overrides != nil {
		go s.Overrides.Run(ctx)
	}
	if s.Rows != nil {
		go s.Rows.Run(ctx)
	}
	if s.Answers != nil {
		go s.Answers.Run(ctx)
	}
	if s.Lease != nil {
		s.Lease.Run(ctx)
		return
	}
	s.Crawler.Run(ctx)
}
