package kcar

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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

// Source describes the K Car auction to the registry.
var Source = registry.Description{
	Name:  vehicle.KCar,
	Kind:  registry.Auction,
	Title: "K Car auction",
	ID:    IDPattern,
	Defaults: registry.Defaults{
		URL: PublicBase, Timeout: 10 * time.Second,
		SimAddr: "127.0.0.1:9304",
	},
	Settings: []registry.Setting{
		{Name: "session", Help: "member session cookie (JSESSIONID)"},
		{Name: "lanes", Default: strings.Join(DefaultLanes, ","), Help: "lanes to crawl", Check: checkList},
		{Name: "page-types", Default: strings.Join(DefaultPageTypes, ","), Help: "pages to crawl: wCfm (confirmed exhibits), wRst (results)", Check: checkList},
		{Name: "paging", Default: PageNumber.String(), Help: "what START_RNUM counts: page (1, 2, 3…) or row (1, 101, 201…)", Check: checkPaging},
		{Name: "page-size", Default: strconv.Itoa(MaxPageSize), Help: "rows asked for per list page", Check: checkPageSize},
	},
	Sites: korean.KCarSites(),
	Build: build,
	Sim:   (*sim.Sim).KCar,
	Pages: registry.Pages{
		// The answer echoes its lane; the rows do not say theirs.
		List: registry.Page{Extract: func(page []byte, _ registry.PageOptions) (any, []vehicle.Vehicle, error) {
			l, err := ExtractList(page, "")
			if err != nil {
				return nil, nil, err
			}
			rows := make([]vehicle.Vehicle, 0, len(l.Lots))
			for _, lot := range l.Lots {
				rows = append(rows, lot.Vehicle)
			}
			return l, rows, nil
		}},
		Detail: registry.Page{Never: "K Car's detail page is never read (it holds the consignor's data); its rows come from lists"},
	},
}

func checkList(v string) error {
	for _, s := range strings.Split(v, ",") {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("an empty value in %q", v)
		}
	}
	return nil
}

func checkPaging(v string) error {
	_, err := ParsePaging(v)
	return err
}

func checkPageSize(v string) error {
	if n, err := strconv.Atoi(v); err != nil || n < 1 || n > MaxPageSize {
		return fmt.Errorf("want 1 to %d, got %q", MaxPageSize, v)
	}
	return nil
}

func build(env registry.Env) (registry.Parts, error) {
	for name, check := range map[string]func(string) error{"lanes": checkList, "page-types": checkList,
		"paging": checkPaging, "page-size": checkPageSize} {
		if err := check(env.Own(name)); err != nil {
			return registry.Parts{}, fmt.Errorf("kcar %s: %w", name, err)
		}
	}
	hc := env.HTTP(sources.ClientConfig{Timeout: env.Settings.Timeout, MaxConns: 8, MaxBody: 8 << 20})
	client := NewClient(env.Settings.URL, env.Own("session"), hc)
	client.Paging, _ = ParsePaging(env.Own("paging"))
	client.PageSize, _ = strconv.Atoi(env.Own("page-size"))
	return registry.Parts{Auction: &Auction{Crawler: &Crawler{
		Client: client, Store: &Store{}, AucType: DefaultAucType,
		Lanes: strings.Split(env.Own("lanes"), ","), PageTypes: strings.Split(env.Own("page-types"), ","),
		Interval: env.CrawlInterval, Snapshot: env.Snapshot, Log: env.Log, Parallel: 2, Breaker: env.Breaker,
	}}}, nil
}

// Auction is the K Car auction as the service sees every auction
// (auction.Source): the crawler and its index; a lot's detail is the
// index's row.
type Auction struct {
	*Crawler
}

var _ auction.Source = (*Auction)(nil)

// Source names the auction.
func (a *Auction) Source() vehicle.Source { return vehicle.KCar }

// Index is the index in service; nil before the first load.
func (a *Auction) Index() auction.Index {
	if ix := a.Store.Index(); ix != nil {
		return ix
	}
	return nil
}

// Status reports the index's size, age and the last crawl failure.
func (a *Auction) Status() auction.Status {
	st := a.Store.Status()
	return auction.Status{Loaded: st.Loaded, Rows: st.Rows, BuiltAt: st.BuiltAt, LastError: st.LastError,
		LastErrAt: st.LastErrAt, Failures: st.Failures}
}

// CrawlInterval is the time between successful crawls.
func (a *Auction) CrawlInterval() time.Duration { return a.Interval }

// Vehicle returns a lot from the index; K Car is never called for it.
func (a *Auction) Vehicle(_ context.Context, id string) (vehicle.Vehicle, *fanout.Outcome, error) {
	v, err := a.Store.Vehicle(id)
	if errors.Is(err, ErrNotLoaded) {
		return vehicle.Vehicle{}, nil, auction.ErrNotLoaded
	}
	return v, nil, err
}
