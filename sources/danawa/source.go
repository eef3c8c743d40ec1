package danawa

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/upcache"
	"github.com/lmn/aggregator/vehicle"
)

// Source describes Danawa to the registry.
var Source = registry.Description{
	Name:  vehicle.Danawa,
	Kind:  registry.Dealer,
	Title: "Danawa Auto",
	ID:    regexp.MustCompile(`^danawa_[A-Za-z0-9_-]{1,64}$`),
	Defaults: registry.Defaults{
		URL: "https://auto.danawa.com", Timeout: 2 * time.Second,
		SimAddr: "127.0.0.1:9302",
		// A list page holds 20 rows.
		Calls: 24,
	},
	Build: build,
	Sim:   (*sim.Sim).Danawa,
	Pages: registry.Pages{
		List: registry.Page{Extract: func(page []byte, _ registry.PageOptions) (any, []vehicle.Vehicle, error) {
			l, err := ExtractList(page, 1)
			if err != nil {
				return nil, nil, err
			}
			return l, l.Rows, nil
		}},
		Detail: registry.Page{Never: "Danawa has no detail page; its rows come from lists"},
	},
}

// recentRows bounds the rows kept for detail requests: about 72 MB at ~720
// bytes a row (the README derives it from the expected load).
const recentRows = 100_000

func build(env registry.Env) (registry.Parts, error) {
	client := NewClient(env.Settings.URL, env.HTTP(sources.ClientConfig{Timeout: env.Settings.Timeout, MaxConns: 128, MaxBody: 4 << 20}))
	if env.CacheTTL > 0 {
		c := upcache.New[*List](env.CacheTTL, env.CacheSize)
		client.CacheAnswers(c)
		if env.Cache != nil {
			env.Cache(c)
		}
	}
	local := NewRecent(recentRows)
	var recent Remembered = local
	if env.Remember != nil {
		recent = env.Remember(local)
	}
	// Danawa has no detail page: an id is answered from the rows recent
	// searches saw, without calling Danawa.
	detail := func(_ context.Context, id string) (vehicle.Vehicle, *fanout.Outcome, error) {
		v, ok := recent.Get(id)
		if !ok {
			return vehicle.Vehicle{}, nil, fmt.Errorf("%w: not seen in a recent search", sources.ErrNotFound)
		}
		return v, nil, nil
	}
	return registry.Parts{Dealer: &Dealer{Client: client, Recent: recent}, Detail: detail}, nil
}
