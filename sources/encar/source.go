package encar

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/upcache"
	"github.com/lmn/aggregator/vehicle"
)

// Source describes Encar to the registry.
var Source = registry.Description{
	Name:  vehicle.Encar,
	Kind:  registry.Dealer,
	Title: "Encar",
	// Encar's listing number without leading zeros, as Encar writes it:
	// encar_0039000008 is not another spelling of encar_39000008 (SPEC §3.2).
	ID: regexp.MustCompile(`^encar_[1-9]\d{0,11}$`),
	Defaults: registry.Defaults{
		URL: "https://api.encar.com", Timeout: 2 * time.Second,
		SimAddr: "127.0.0.1:9301",
		// Encar answers up to 500 rows a call.
		Calls: 8,
	},
	Build: build,
	Sim:   (*sim.Sim).Encar,
	Pages: registry.Pages{
		List: registry.Page{Extract: func(page []byte, _ registry.PageOptions) (any, []vehicle.Vehicle, error) {
			l, err := ExtractList(page, 0, MaxCount)
			if err != nil {
				return nil, nil, err
			}
			return l, l.Rows, nil
		}},
		Detail: registry.Page{Extract: func(page []byte, _ registry.PageOptions) (any, []vehicle.Vehicle, error) {
			v, err := ExtractDetail(page)
			if err != nil {
				return nil, nil, err
			}
			return v, []vehicle.Vehicle{v}, nil
		}},
	},
}

func build(env registry.Env) (registry.Parts, error) {
	client := NewClient(env.Settings.URL, env.HTTP(sources.ClientConfig{Timeout: env.Settings.Timeout, MaxConns: 128, MaxBody: 8 << 20}))
	if env.CacheTTL > 0 {
		c := upcache.New[*List](env.CacheTTL, env.CacheSize)
		client.CacheAnswers(c)
		if env.Cache != nil {
			env.Cache(c)
		}
	}
	detail := func(ctx context.Context, id string) (v vehicle.Vehicle, _ *fanout.Outcome, _ error) {
		o := env.Fanout.Call(ctx, fanout.Task{Source: vehicle.Encar, Run: func(ctx context.Context) (err error) {
			v, err = client.Detail(ctx, strings.TrimPrefix(id, "encar_"))
			if errors.Is(err, sources.ErrNotFound) {
				// Not for sale says nothing bad about Encar's health.
				return nil
			}
			return err
		}})
		switch {
		case o.Err != nil:
			return vehicle.Vehicle{}, &o, o.Err
		case v.ID == "":
			return vehicle.Vehicle{}, &o, sources.ErrNotFound
		}
		v.FetchedAt = time.Now()
		return v, &o, nil
	}
	return registry.Parts{Dealer: &Dealer{Client: client}, Detail: detail}, nil
}
