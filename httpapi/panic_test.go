package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/dealer"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/metrics"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/vehicle"
)

// TestPanicInASourceTaskFailsThatSourceOnly: a source's task that panics (a
// nil client here, a bug's stand-in) is that source's failure, answered as
// one and counted; the process goes on serving every other request.
func TestPanicInASourceTaskFailsThatSourceOnly(t *testing.T) {
	m := metrics.New()
	st := newStackAltered(t, neverTrips, func(svc *service.Service) {
		// The detail read, run under Encar's breaker as the real one is,
		// panics as a nil client would.
		svc.Search.Details["encar"] = func(ctx context.Context, id string) (vehicle.Vehicle, *fanout.Outcome, error) {
			o := svc.Fanout.Call(ctx, fanout.Task{Source: "encar", Run: func(context.Context) error {
				var client *struct{ url string }
				_ = client.url
				return nil
			}})
			return vehicle.Vehicle{}, &o, o.Err
		}
	}, func(c *service.Config) { c.Metrics = m })

	a := st.get(t, "/v1/vehicles/encar_39000000", demoKey)
	require.Equal(t, http.StatusServiceUnavailable, a.status, "%v", a.body)
	e := a.body["error"].(map[string]any)
	assert.Equal(t, "dealer_upstream_unavailable", e["code"])
	assert.Equal(t, []any{"encar"}, e["details"].(map[string]any)["failed_sources"])

	a = st.get(t, "/v1/vehicles?source=danawa&make=Kia&limit=5", demoKey)
	assert.Equal(t, http.StatusOK, a.status, "still serving")
	assert.Len(t, rows(a), 5)

	assert.Contains(t, scrape(t, st), `lmn_panics_total{source="encar"} 1`)
}

// scrape returns the stack's metrics.
func scrape(t *testing.T, st *stack) string {
	t.Helper()
	resp, err := http.Get(st.admin.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

// panicking is a dealer whose reading panics, as an extractor with a bug
// would.
type panicking struct{ dealer.Dealer }

func (panicking) Read(context.Context, dealer.Request) (*dealer.Batch, error) {
	panic("index out of range in an extractor")
}

// TestPanicInADealerFailsThatDealerOnly: a search whose Danawa reading
// panics answers with the other sources' rows and names danawa as failed.
func TestPanicInADealerFailsThatDealerOnly(t *testing.T) {
	m := metrics.New()
	st := newStackAltered(t, neverTrips, func(svc *service.Service) {
		for i, d := range svc.Search.Dealers {
			if d.Source() == vehicle.Danawa {
				svc.Search.Dealers[i] = panicking{d}
			}
		}
	}, func(c *service.Config) { c.Metrics = m })

	a := st.get(t, "/v1/vehicles?make=Kia&sort=price_asc&limit=200", demoKey)
	require.Equal(t, http.StatusOK, a.status, "%v", a.body)
	assert.Equal(t, "danawa", a.header.Get("X-LMN-Partial-Dealer-Unavailable"))
	got := countBy(rows(a))
	assert.Zero(t, got["danawa"])
	assert.NotZero(t, got["encar"])
	assert.NotZero(t, got["glovis"])

	a = st.get(t, "/v1/vehicles?source=danawa&make=Kia", demoKey)
	assert.Equal(t, http.StatusServiceUnavailable, a.status, "a dealer-only request whose one dealer panicked")
	assert.Contains(t, scrape(t, st), `lmn_panics_total{source="danawa"} 2`)
}
