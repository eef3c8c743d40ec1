package search_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources/glovis"
)

// TestGlovisDetailOnRequestHasItsOwnBudget: reading a lot's detail page for
// a request runs under a breaker and a deadline of its own. A hanging Glovis
// costs each detail view that budget, opens the detail breaker after a few
// views, and never touches the breaker the crawler needs; a page read once
// is kept for the index it completes.
func TestGlovisDetailOnRequestHasItsOwnBudget(t *testing.T) {
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	upstreams := service.Upstreams(servers.URLs(), time.Minute)
	// Short so the test does not wait long for a hanging Glovis, yet
	// long enough that a busy machine's scheduling delays stay well
	// under half of it: a call that waited on the upstream for less than
	// half its budget counts as this instance's overload, not a timeout.
	upstreams["glovis"] = registry.Settings{URL: servers.GlovisURL, Timeout: time.Minute,
		Own: map[string]string{"detail-timeout": "500ms"}}
	svc, err := service.New(service.Config{
		Sources: upstreams, CrawlInterval: time.Hour, Breaker: breaker.DefaultConfig,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	auction := svc.Auction("glovis").(*glovis.Auction)
	require.NoError(t, auction.Refresh(context.Background()))

	// A lot whose detail page the crawl could not read.
	ix := auction.Store.Index()
	lots := append([]glovis.Lot(nil), ix.Lots()...)
	lots[0].Vehicle.VIN = ""
	id := lots[0].Vehicle.ID
	auction.Store.Swap(glovis.NewIndex(lots, ix.BuiltAt()))
	breaker := func(name string) *breaker.Breaker {
		for _, b := range svc.Breakers {
			if b.Name() == name {
				return b
			}
		}
		t.Fatalf("no breaker %q", name)
		return nil
	}
	crawler, detail := breaker("glovis"), breaker("glovis_detail")

	crawled := crawler.Snapshot(false).Requests
	require.NoError(t, s.SetFault("glovis", sim.Fault{Mode: sim.Hang}))
	labels := map[string]int{}
	for range 6 {
		v, o, err := svc.Search.Vehicle(context.Background(), id)
		require.NoError(t, err, "a lot is served as listed when Glovis does not answer")
		assert.Equal(t, id, v.ID)
		assert.Empty(t, v.VIN)
		require.NotNil(t, o)
		labels[o.Label()]++
	}
	assert.Equal(t, map[string]int{"timeout": 5, "rejected": 1}, labels, "five timeouts in a row open the detail breaker")
	assert.Equal(t, "open", detail.State())
	c := crawler.Snapshot(false)
	assert.Equal(t, "closed", c.State)
	assert.Equal(t, crawled, c.Requests, "detail views never count against the crawler's breaker")

	require.NoError(t, s.SetFault("glovis", sim.Fault{Mode: sim.Healthy}))
	detail.Reset("test")
	v, o, err := svc.Search.Vehicle(context.Background(), id)
	require.NoError(t, err)
	require.NotNil(t, o)
	require.NoError(t, o.Err)
	assert.NotEmpty(t, v.VIN, "enriched from the detail page")
	hits := s.Hits("glovis")
	again, o, err := svc.Search.Vehicle(context.Background(), id)
	require.NoError(t, err)
	assert.Nil(t, o, "no upstream call")
	assert.Equal(t, v.VIN, again.VIN)
	assert.Equal(t, hits, s.Hits("glovis"), "what was read is kept")
}
