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
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// TestSourcesThatCannotMatchAreNotRead: a filter on a field a dealer's list
// rows never carry (Danawa: transmission, colour, options; Encar: colour,
// options) answers without calling that dealer, and without its rows.
func TestSourcesThatCannotMatchAreNotRead(t *testing.T) {
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	svc, err := service.New(service.Config{
		Sources: service.Upstreams(servers.URLs(), time.Minute), CrawlInterval: time.Hour, Breaker: breaker.DefaultConfig,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	dealers := []vehicle.Source{vehicle.Encar, vehicle.Danawa}
	for _, tc := range []struct {
		name   string
		q      vehicle.Query
		called map[string]bool
	}{
		{"transmission", vehicle.Query{Transmissions: []string{"auto"}}, map[string]bool{"encar": true, "danawa": false}},
		{"colour", vehicle.Query{Colors: []string{"white"}}, map[string]bool{"encar": false, "danawa": false}},
		{"options", vehicle.Query{Options: []string{"sunroof"}}, map[string]bool{"encar": false, "danawa": false}},
		{"fuel", vehicle.Query{Fuels: []string{"diesel"}}, map[string]bool{"encar": true, "danawa": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Sources, q.Makes, q.Sort, q.Limit, q.FXRate = dealers, []string{"Hyundai"}, vehicle.SortPriceAsc, 20, 1350
			before := map[string]int64{"encar": s.Hits("encar"), "danawa": s.Hits("danawa")}
			res, err := svc.Search.Search(context.Background(), q)
			require.NoError(t, err)
			assert.Empty(t, res.FailedDealers)
			for src, called := range tc.called {
				assert.Equal(t, called, s.Hits(src) > before[src], "%s called", src)
			}
			for _, v := range res.Rows {
				assert.True(t, tc.called[string(v.Source)], "a row from %s, which cannot match", v.Source)
			}
		})
	}
}
