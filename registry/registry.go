// Package registry lists the sources the service reads. Each source
// package exports one Description (its name, kind, id pattern, settings and
// their defaults, how to build it, its simulated upstream); one file lists
// them (service/sources.go), and everything that lists sources derives from
// here: query parsing, detail routing, serve's flags, the simulator,
// breakers, the status page, metrics labels and the OpenAPI enums.
//
// The package sits below the sources: they import it to describe
// themselves, it imports none of them.
package registry

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/dealer"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/upcache"
	"github.com/lmn/aggregator/vehicle"
)

// Kind is what a source provides.
type Kind string

const (
	// Auction sources are served from an in-memory index a crawler
	// refreshes; they contribute their index's rows to facets.
	Auction Kind = "auction"
	// Dealer sources are asked live per request, under their breaker; they
	// contribute the whole dictionary to facets (a live site may list any
	// make and model).
	Dealer Kind = "dealer"
)

// DealerAlias is the source value that means every dealer source.
const DealerAlias = "dealer"

// Defaults are a source's settings when nothing is configured.
type Defaults struct {
	URL     string        // the upstream's base URL
	Timeout time.Duration // one call (dealers: the source's share of a request; auctions: one page fetch)
	// SlowCall is the duration past which a dealer's call that succeeds
	// still counts toward opening its breaker; 0 for half the timeout.
	// Auctions are read by their crawler, which has no slow calls.
	SlowCall time.Duration
	// Bulkhead bounds a dealer's calls in flight; 0 leaves it to the
	// service (half the requests it works on at once).
	Bulkhead int
	// SimAddr is where `aggregator sim` serves its simulated upstream.
	SimAddr string
	// Calls bounds a dealer's upstream calls for one request.
	Calls int
}

// Setting is a setting of one source's own (Glovis's session cookie and
// sites), offered as the flag -<source>-<name> and the variable
// $LMN_<SOURCE>_<NAME>.
type Setting struct {
	Name, Default, Help string
	// Check rejects a bad value at start, with a message naming what is
	// wrong; nil accepts anything.
	Check func(string) error
}

// Settings are one source's configuration.
type Settings struct {
	URL     string
	Timeout time.Duration
	// SlowCall and Bulkhead apply to dealers (see Defaults).
	SlowCall time.Duration
	Bulkhead int
	// Own holds the values of the source's own settings by name; a missing
	// one is its default.
	Own map[string]string
}

// Description is everything the service knows of one source.
type Description struct {
	Name  vehicle.Source
	Kind  Kind
	Title string // for help texts: "Glovis auction", "Encar"
	// ID is the exact pattern of the source's ids, anchored, prefix
	// included (Name + "_"): an id that does not match it is not found
	// and never reaches the upstream.
	ID       *regexp.Regexp
	Defaults Defaults
	Settings []Setting
	// Sites are an auction's sites as its rows name them (auction.site,
	// in English), for the OpenAPI document.
	Sites []string
	// Build makes the source from its settings and what the service shares
	// with it.
	Build func(Env) (Parts, error)
	// Sim is the source's simulated upstream, served by `serve -sim` and
	// `aggregator sim`.
	Sim func(*sim.Sim) http.Handler
	// Pages are the source's upstream pages as `aggregator extract` reads
	// them from a file.
	Pages Pages
}

// Pages are a source's two kinds of upstream page.
type Pages struct{ List, Detail Page }

// Page is one kind of upstream page, for `aggregator extract`.
type Page struct {
	// Extract returns the extractor's own form of the page (what -raw
	// prints) and the vehicles it holds: a list's rows, or a detail's one.
	Extract func(page []byte, opt PageOptions) (internal any, vehicles []vehicle.Vehicle, err error)
	// Never says, in place of Extract, why this kind of page is never read.
	Never string
}

// PageOptions is what `aggregator extract` may say of a page that the page
// itself may not.
type PageOptions struct {
	// Date is an auction list's date, YYYY-MM-DD.
	Date string
}

// Env is what the service gives a source to build itself with.
type Env struct {
	Settings Settings // defaults filled in
	Log      *slog.Logger
	// HTTP makes the source's HTTP client: a connection pool of its own,
	// sharing the bound on body bytes being read with every other source.
	HTTP func(sources.ClientConfig) *sources.Client
	// Breaker is the source's breaker: requests' calls go through it (via
	// Fanout), and so do an auction crawler's.
	Breaker *breaker.Breaker
	// Fanout runs calls under the source's breaker and deadline: a dealer's
	// detail lookups.
	Fanout *fanout.Fanout
	// NewBreaker makes a further breaker of the source's own (Glovis's
	// detail pages read on request), shown and watched with the others.
	NewBreaker func(name string) *breaker.Breaker
	// NewFanout makes a fan-out of the source's own (Glovis's detail pages
	// read on request) for calls under breaker b, wired as the service's
	// (panics contained and logged, starvation measured, phases counted).
	NewFanout func(name string, b *breaker.Breaker, lim fanout.Limits) *fanout.Fanout
	// Tracing, when not nil, traces what the source does in the
	// background (an auction's crawls).
	Tracing trace.TracerProvider

	// CacheTTL is how long parsed answers may be kept and shared between
	// requests; 0 keeps none. Cache, when not nil, is given each answer
	// cache the source makes, to share it with a fleet and watch it.
	CacheTTL  time.Duration
	CacheSize int // answers kept at most per source
	Cache     func(c Cache)
	// Remember, when not nil, shares rows a dealer keeps for detail
	// requests with the fleet: it wraps the source's own store.
	Remember func(RowStore) RowStore

	// Auctions: the time between crawls and the snapshot file ("" none).
	CrawlInterval time.Duration
	Snapshot      string
}

// Own returns the value of the source's own setting name.
func (e Env) Own(name string) string { return e.Settings.Own[name] }

// Cache is an answer cache as the fleet shares it and metrics watch it
// (upcache.Cache of any answer type).
type Cache interface {
	Stats() (hits, misses, joined uint64)
	SharedHits() uint64
	FleetWaits() (joined, fellBack uint64)
	Share(s upcache.Shared, hold time.Duration)
}

// RowStore keeps rows seen in searches for detail requests.
type RowStore interface {
	Add(rows []*vehicle.Vehicle)
	Get(id string) (vehicle.Vehicle, bool)
}

// Parts are what a source built. A dealer sets Dealer and Detail, an
// auction sets Auction.
type Parts struct {
	Dealer dealer.Dealer
	// Detail looks up one dealer vehicle by an id that matched the
	// pattern: sources.ErrNotFound when it is not (or no longer) for sale;
	// outcome is set when the upstream was called, and its error makes
	// the source unavailable for the request.
	Detail  func(ctx context.Context, id string) (v vehicle.Vehicle, outcome *fanout.Outcome, err error)
	Auction auction.Source
}

var registered []Description

// Register adds sources to the registry, in order: each kind keeps the
// order its sources registered in, which is the order of lists and
// headers (and a dealer registered earlier is preferred when two list the
// same car). It panics on a description that cannot work, at start.
func Register(ds ...Description) bool {
	for _, d := range ds {
		switch {
		case d.Name == "" || strings.ToLower(string(d.Name)) != string(d.Name) || string(d.Name) == DealerAlias:
			panic(fmt.Sprintf("registry: bad source name %q", d.Name))
		case d.Kind != Auction && d.Kind != Dealer:
			panic(fmt.Sprintf("registry: %s: kind %q", d.Name, d.Kind))
		case d.ID == nil || !strings.HasPrefix(d.ID.String(), "^"+string(d.Name)+"_") || !strings.HasSuffix(d.ID.String(), "$"):
			panic(fmt.Sprintf("registry: %s: the id pattern must be anchored and start with %s_", d.Name, d.Name))
		case d.Build == nil:
			panic(fmt.Sprintf("registry: %s: no Build", d.Name))
		case slices.ContainsFunc(registered, func(r Description) bool { return r.Name == d.Name }):
			panic(fmt.Sprintf("registry: %s registered twice", d.Name))
		}
		registered = append(registered, d)
		vehicle.RegisterSource(d.Name, d.Kind == Dealer)
	}
	return true
}

// All returns every source: auctions, then dealers, each kind in the order
// it registered (vehicle.AllSources' order).
func All() []Description {
	out := make([]Description, 0, len(registered))
	for _, s := range vehicle.AllSources() {
		d, _ := Lookup(s)
		out = append(out, d)
	}
	return out
}

// OfKind returns the sources of kind k, in order.
func OfKind(k Kind) []Description {
	var out []Description
	for _, d := range All() {
		if d.Kind == k {
			out = append(out, d)
		}
	}
	return out
}

// Lookup returns the description of s.
func Lookup(s vehicle.Source) (Description, bool) {
	i := slices.IndexFunc(registered, func(d Description) bool { return d.Name == s })
	if i < 0 {
		return Description{}, false
	}
	return registered[i], true
}

// ForID returns the source whose exact id pattern id matches.
func ForID(id string) (Description, bool) {
	for _, d := range registered {
		if d.ID.MatchString(id) {
			return d, true
		}
	}
	return Description{}, false
}

// IDPattern is one pattern matching exactly the ids of every source.
func IDPattern() string {
	parts := make([]string, 0, len(registered))
	for _, d := range All() {
		parts = append(parts, strings.TrimSuffix(strings.TrimPrefix(d.ID.String(), "^"), "$"))
	}
	return "^(" + strings.Join(parts, "|") + ")$"
}

// Sites are the auction sites of every source, in order, each once.
func Sites() []string {
	var out []string
	for _, d := range All() {
		for _, s := range d.Sites {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// lmnSources are the source names LMN's partners know: asking this service
// for one it does not serve is an error naming it, not an empty answer.
var lmnSources = []string{"sk", "aj", "lotte"}

// Unserved are LMN source names no registered source serves.
func Unserved() []string {
	var out []string
	for _, s := range lmnSources {
		if _, ok := Lookup(vehicle.Source(s)); !ok {
			out = append(out, s)
		}
	}
	return out
}

// Fill fills in s's defaults for d.
func (d Description) Fill(s Settings) Settings {
	if s.URL == "" {
		s.URL = d.Defaults.URL
	}
	if s.Timeout <= 0 {
		s.Timeout = d.Defaults.Timeout
	}
	if d.Kind == Dealer {
		if s.SlowCall <= 0 {
			s.SlowCall = cmp.Or(d.Defaults.SlowCall, s.Timeout/2)
		}
		if s.Bulkhead <= 0 {
			s.Bulkhead = d.Defaults.Bulkhead
		}
	} else {
		s.SlowCall, s.Bulkhead = 0, 0
	}
	own := make(map[string]string, len(d.Settings))
	for _, st := range d.Settings {
		own[st.Name] = st.Default
		if v, ok := s.Own[st.Name]; ok {
			own[st.Name] = v
		}
	}
	s.Own = own
	return s
}
