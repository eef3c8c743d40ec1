package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/service"
)

// fakeEncar lists 50,000 ads in price order and, like the real API, keeps
// answering the page at offset 10,000 for any offset past it.
func fakeEncar(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(r.URL.Query().Get("sr"), "|")
		offset, _ := strconv.Atoi(parts[2])
		count, _ := strconv.Atoi(parts[3])
		offset = min(offset, 10000)
		rows := []map[string]any{}
		for i := offset; i < offset+count; i++ {
			rows = append(rows, map[string]any{"Id": strconv.Itoa(1_000_000 + i), "Manufacturer": "기아", "Model": "K5 3세대", "FuelType": "가솔린",
				"FormYear": "2020", "Mileage": 1000, "Price": 1000 + i/10, "SellType": "일반",
				"ModifiedDate": "2025-06-01 10:00:00.000 +09"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Count": 50000, "SearchResults": rows})
	}))
}

func TestEncarOffsetCeilingEndsTheWalk(t *testing.T) {
	enc := fakeEncar(t)
	t.Cleanup(enc.Close)
	st := newStack(t, neverTrips, func(c *service.Config) { c.Sources["encar"] = registry.Settings{URL: enc.URL, Timeout: sourceTimeout} })

	ids := walk(t, st, "/v1/vehicles?source=encar&make=Kia&sort=price_asc&limit=200")
	seen := map[string]bool{}
	for _, id := range ids {
		require.False(t, seen[id], "%s twice: the walk looped on Encar's repeated page", id)
		seen[id] = true
	}
	assert.Equal(t, 10000, len(ids), "everything up to the ceiling, then the end")
	assert.Equal(t, fmt.Sprintf("encar_%d", 1_000_000+9999), ids[len(ids)-1])
}
