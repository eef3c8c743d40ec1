package glovis

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Source describes the Glovis auction to the registry.
var Source = registry.Description{
	Name:  vehicle.Glovis,
	Kind:  registry.Auction,
	Title: "Glovis auction",
	// Auction date, site code, lot number, written without leading zeros
	// as lots are numbered: glovis_…_01001 is no other spelling of
	// glovis_…_1001 (SPEC §3.2).
	ID: regexp.MustCompile(`^glovis_\d{8}_(1100|2100|3100|5100)_[1-9]\d{0,4}$`),
	Defaults: registry.Defaults{
		URL: "https://auction.autobell.co.kr", Timeout: 10 * time.Second,
		SimAddr: "127.0.0.1:9303",
	},
	Settings: []registry.Setting{
		{Name: "session", Help: "member session cookie (JSESSIONID)"},
		{Name: "sites", Default: strings.Join(korean.SiteCodes(), ","), Help: "site codes to crawl", Check: checkSites},
		{Name: "detail-timeout", Default: "1s", Help: "deadline of reading one lot's detail page for a request (the lot is served as listed past it)", Check: checkPositive},
	},
	Sites: siteNames(),
	Build: build,
	Sim:   (*sim.Sim).Glovis,
	Pages: registry.Pages{List: registry.Page{Extract: extractListPage}, Detail: registry.Page{Extract: extractDetailPage}},
}

// extractListPage reads a saved list page for `aggregator extract`. A login
// or drifted page says so before a missing date does.
func extractListPage(page []byte, opt registry.PageOptions) (any, []vehicle.Vehicle, error) {
	d, dateErr := listDate(page, opt.Date)
	l, err := ExtractList(page, d)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]vehicle.Vehicle, 0, len(l.Lots))
	for _, lot := range l.Lots {
		rows = append(rows, lot.Vehicle)
	}
	return l, rows, dateErr
}

// listDate is the auction date of a list page: the one given, or the
// page's own round selector. Lot ids contain the date, so it is never
// guessed.
func listDate(page []byte, given string) (time.Time, error) {
	if given != "" {
		d, err := time.ParseInLocation("2006-01-02", given, vehicle.KST)
		if err != nil {
			return time.Time{}, fmt.Errorf("-date: want YYYY-MM-DD, got %q", given)
		}
		return d.Add(13 * time.Hour), nil
	}
	if rounds, err := ExtractRounds(page); err == nil && len(rounds) == 1 {
		return rounds[0].Date, nil
	}
	return time.Time{}, errors.New("the page does not say its auction date; give -date YYYY-MM-DD")
}

// extractDetailPage reads a saved detail page. The page names no lot or
// auction date: the API merges it into the lot's list row; this shows what
// the page adds.
func extractDetailPage(page []byte, _ registry.PageOptions) (any, []vehicle.Vehicle, error) {
	d, err := ExtractDetail(page)
	if err != nil {
		return nil, nil, err
	}
	v := Enrich(vehicle.Vehicle{Source: vehicle.Glovis, Make: d.Make, Model: d.Model, Trim: d.Trim,
		Year: d.Year, MileageKm: d.MileageKm, PriceKRW: d.PriceKRW, EngineCC: d.EngineCC}, d)
	return d, []vehicle.Vehicle{v}, nil
}

func siteNames() []string {
	var out []string
	for _, code := range korean.SiteCodes() {
		name, _ := korean.Site(code)
		out = append(out, name)
	}
	return out
}

func checkSites(v string) error {
	for _, site := range strings.Split(v, ",") {
		if _, ok := korean.Site(site); !ok {
			return fmt.Errorf("unknown site code %q; known: %s", site, strings.Join(korean.SiteCodes(), ","))
		}
	}
	return nil
}

func checkPositive(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration, got %q", v)
	}
	return nil
}

// detailBreaker names the breaker of detail pages read on request. It is
// not the crawler's: a few slow detail views must not open the breaker the
// crawler needs and leave the index to go stale.
const detailBreaker = "glovis_detail"

func build(env registry.Env) (registry.Parts, error) {
	if err := checkSites(env.Own("sites")); err != nil {
		return registry.Parts{}, fmt.Errorf("glovis sites: %w", err)
	}
	if err := checkPositive(env.Own("detail-timeout")); err != nil {
		return registry.Parts{}, fmt.Errorf("glovis detail-timeout: %w", err)
	}
	detailTimeout, _ := time.ParseDuration(env.Own("detail-timeout"))
	hc := env.HTTP(sources.ClientConfig{Timeout: env.Settings.Timeout, MaxConns: 8, MaxBody: 8 << 20})
	client := NewClient(env.Settings.URL, env.Own("session"), hc)
	detail := env.NewFanout(detailBreaker, env.NewBreaker(detailBreaker), fanout.Limits{Timeout: detailTimeout})
	return registry.Parts{Auction: &Auction{
		Crawler: &Crawler{
			Client: client, Store: &Store{}, ACC: "20", Sites: strings.Split(env.Own("sites"), ","),
			Interval: env.CrawlInterval, Snapshot: env.Snapshot, Log: env.Log, Parallel: 4,
			Breaker: env.Breaker, Details: true, Tracer: env.Tracing,
		},
		detail: detail,
	}}, nil
}

// Auction is the Glovis auction as the service sees every auction
// (auction.Source): the crawler and its index, and lots' detail pages read
// for requests under a breaker and a budget of their own.
type Auction struct {
	*Crawler
	detail   *fanout.Fanout
	enriched enrichedLots // what detail read, kept for the index it was read for
}

var _ auction.Source = (*Auction)(nil)

// Source names the auction.
func (a *Auction) Source() vehicle.Source { return vehicle.Glovis }

// Index is the index in service; nil before the first load.
func (a *Auction) Index() auction.Index {
	if ix := a.Store.Index(); ix != nil {
		return ix
	}
	return nil
}

// Status reports the index's size, age and the last crawl failure.
func (a *Auction) Status() auction.Status { return a.Store.Status() }

// CrawlInterval is the time between successful crawls.
func (a *Auction) CrawlInterval() time.Duration { return a.Interval }

// Vehicle returns a lot from the index, enriched from its detail page when
// the crawl could not read it and Glovis answers now. A Glovis outage
// leaves the index row as it is: auction answers never depend on Glovis
// being up.
func (a *Auction) Vehicle(ctx context.Context, id string) (v vehicle.Vehicle, outcome *fanout.Outcome, err error) {
	ix := a.Store.Index()
	if ix == nil {
		return vehicle.Vehicle{}, nil, auction.ErrNotLoaded
	}
	lot, ok := ix.Lot(id)
	if !ok {
		return vehicle.Vehicle{}, nil, sources.ErrNotFound
	}
	v = lot.Vehicle
	if kept, ok := a.enriched.get(id, ix.BuiltAt()); ok {
		v = kept
	} else if v.VIN == "" && lot.GN != "" {
		o := a.detail.Call(ctx, fanout.Task{Source: vehicle.Glovis, Run: func(ctx context.Context) error {
			d, err := a.Client.Detail(ctx, lot)
			if err != nil {
				return err
			}
			v = Enrich(v, d)
			return nil
		}})
		if o.Err == nil {
			a.enriched.put(v, ix.BuiltAt())
		}
		outcome = &o
	}
	v.FetchedAt = ix.BuiltAt()
	return v, outcome, nil
}
