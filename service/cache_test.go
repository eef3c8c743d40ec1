package service_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/dealer"

	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// TestUpstreamAnswersAreKept: with UpstreamCacheTTL the same upstream
// request read twice reaches the upstream once, for both dealers; without
// it, every read does.
func TestUpstreamAnswersAreKept(t *testing.T) {
	for _, ttl := range []time.Duration{0, 30 * time.Second} {
		s := sim.New()
		servers, err := s.Start()
		require.NoError(t, err)
		t.Cleanup(servers.Close)
		svc, err := service.New(service.Config{
			Sources: service.Upstreams(servers.URLs(), time.Minute), CrawlInterval: time.Hour, Breaker: breaker.DefaultConfig,
			UpstreamCacheTTL: ttl,
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		require.NoError(t, err)
		q := vehicle.Query{Makes: []string{"Hyundai"}, Sort: vehicle.SortPriceAsc, Limit: 20, FXRate: 1350}
		want := map[string]int64{"encar": 2, "danawa": 2}
		if ttl > 0 {
			want = map[string]int64{"encar": 1, "danawa": 1}
		}
		for _, d := range svc.Search.Dealers {
			var first []string
			for range 2 {
				b, err := d.Read(context.Background(), dealer.Request{Query: q, Want: 20, MaxCalls: 1})
				require.NoError(t, err)
				require.NotEmpty(t, b.Rows)
				var ids []string
				for _, r := range b.Rows {
					ids = append(ids, r.V.ID)
				}
				if first != nil {
					assert.Equal(t, first, ids, "the same rows either way")
				}
				first = ids
			}
			src := string(d.Source())
			assert.Equal(t, want[src], s.Hits(src), "%s with ttl %s", src, ttl)
		}
	}
}
