package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/dealer"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Two sources that exist only in this test binary: a dealer site
// (fleamarket) and an auction house (barnyard), each with an upstream of
// its own. Registering them is all it takes for the service to serve them.
const (
	fleamarket vehicle.Source = "fleamarket"
	barnyard   vehicle.Source = "barnyard"
)

// fakeCar is a car as the fake upstreams list it.
type fakeCar struct {
	N     int    `json:"n"`
	Make  string `json:"make"`
	Model string `json:"model"`
	Year  int    `json:"year"`
	Km    int    `json:"km"`
	Won   int64  `json:"won"`
	Day   int    `json:"day"` // barnyard: auction day of June 2025
}

// Their inventories: a few Kias and Hyundais, prices with ties.
var (
	fleaCars = []fakeCar{
		{N: 1, Make: "Kia", Model: "Ray", Year: 2019, Km: 40_000, Won: 9_000_000},
		{N: 2, Make: "Kia", Model: "Ray", Year: 2021, Km: 12_000, Won: 12_500_000},
		{N: 3, Make: "Hyundai", Model: "Sonata", Year: 2020, Km: 30_000, Won: 18_000_000},
		{N: 4, Make: "Kia", Model: "Sorento", Year: 2022, Km: 8_000, Won: 31_000_000},
	}
	barnCars = []fakeCar{
		{N: 1, Make: "Kia", Model: "Ray", Year: 2018, Km: 70_000, Won: 6_000_000, Day: 20},
		{N: 2, Make: "Hyundai", Model: "Sonata", Year: 2019, Km: 60_000, Won: 11_000_000, Day: 20},
		{N: 3, Make: "Kia", Model: "Sorento", Year: 2020, Km: 50_000, Won: 11_000_000, Day: 21},
		{N: 4, Make: "Hyundai", Model: "Grandeur", Year: 2021, Km: 20_000, Won: 24_000_000, Day: 21},
		{N: 5, Make: "Kia", Model: "Ray", Year: 2017, Km: 90_000, Won: 4_000_000, Day: 22},
	}
)

func (c fakeCar) vehicle(src vehicle.Source) vehicle.Vehicle {
	v := vehicle.Vehicle{ID: fmt.Sprintf("%s_%d", src, c.N), Source: src, Make: c.Make, Model: c.Model, Year: c.Year,
		MileageKm: c.Km, PriceKRW: c.Won, Options: []string{}}
	if src == barnyard {
		v.Auction = &vehicle.Auction{Date: time.Date(2025, 6, c.Day, 10, 0, 0, 0, vehicle.KST), Site: "Barn", LotNumber: c.N,
			Round: 1, Status: vehicle.AuctionUpcoming, Count: 1}
		v.Seller = &vehicle.Seller{Type: "auction", Name: "Barnyard"}
	}
	return v
}

// upstream serves a fake inventory: GET /cars, GET /cars/{n}; down makes
// it answer 503.
type upstream struct {
	cars []fakeCar
	down atomic.Bool
	hits atomic.Int64
}

func (u *upstream) handler(*sim.Sim) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cars", func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		if u.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(u.cars)
	})
	mux.HandleFunc("GET /cars/{n}", func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		if u.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		for _, c := range u.cars {
			if strconv.Itoa(c.N) == r.PathValue("n") {
				_ = json.NewEncoder(w).Encode(c)
				return
			}
		}
		http.NotFound(w, r)
	})
	return mux
}

var fleaUp, barnUp = &upstream{cars: fleaCars}, &upstream{cars: barnCars}

// fetch reads one answer of a fake upstream.
func fetch(ctx context.Context, hc *sources.Client, base, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	if resp.Status == http.StatusNotFound {
		return sources.ErrNotFound
	}
	return json.Unmarshal(resp.Body, into)
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func init() {
	registry.Register(
		registry.Description{
			Name: barnyard, Kind: registry.Auction, Title: "Barnyard auction", ID: regexp.MustCompile(`^barnyard_\d{1,4}$`),
			Defaults: registry.Defaults{Timeout: time.Minute},
			Sites:    []string{"Barn"},
			Sim:      barnUp.handler,
			Build: func(env registry.Env) (registry.Parts, error) {
				return registry.Parts{Auction: &barn{env: env, hc: env.HTTP(sources.ClientConfig{Timeout: env.Settings.Timeout})}}, nil
			},
		},
		registry.Description{
			Name: fleamarket, Kind: registry.Dealer, Title: "Flea market", ID: regexp.MustCompile(`^fleamarket_\d{1,4}$`),
			Defaults: registry.Defaults{Timeout: time.Minute, Calls: 2},
			Sim:      fleaUp.handler,
			Build: func(env registry.Env) (registry.Parts, error) {
				f := &flea{base: env.Settings.URL, hc: env.HTTP(sources.ClientConfig{Timeout: env.Settings.Timeout})}
				detail := func(ctx context.Context, id string) (v vehicle.Vehicle, _ *fanout.Outcome, _ error) {
					var c fakeCar
					o := env.Fanout.Call(ctx, fanout.Task{Source: fleamarket, Run: func(ctx context.Context) error {
						err := fetch(ctx, f.hc, f.base, "/cars/"+strings.TrimPrefix(id, "fleamarket_"), &c)
						if errors.Is(err, sources.ErrNotFound) {
							return nil
						}
						return err
					}})
					switch {
					case o.Err != nil:
						return v, &o, o.Err
					case c.N == 0:
						return v, &o, sources.ErrNotFound
					}
					return c.vehicle(fleamarket), &o, nil
				}
				return registry.Parts{Dealer: f, Detail: detail}, nil
			},
		},
	)
}

// flea is the fake dealer: one call reads everything, sorted here.
type flea struct {
	base string
	hc   *sources.Client
}

func (f *flea) Source() vehicle.Source            { return fleamarket }
func (f *flea) Order(s vehicle.Sort) dealer.Order { return dealer.SameOrder{Sort: s} }
func (f *flea) CannotMatch(q vehicle.Query) bool  { return false }
func (f *flea) Count(ctx context.Context, q vehicle.Query) (int, error) {
	b, err := f.Read(ctx, dealer.Request{Query: q})
	if err != nil {
		return 0, err
	}
	return len(b.Rows), nil
}

func (f *flea) Read(ctx context.Context, r dealer.Request) (*dealer.Batch, error) {
	var cars []fakeCar
	if err := fetch(ctx, f.hc, f.base, "/cars", &cars); err != nil {
		return nil, fmt.Errorf("fleamarket list: %w", err)
	}
	var rows []*vehicle.Vehicle
	for _, c := range cars {
		v := c.vehicle(fleamarket)
		if r.Query.Matches(&v) {
			rows = append(rows, &v)
		}
	}
	slices.SortFunc(rows, func(a, b *vehicle.Vehicle) int { return vehicle.Compare(r.Query.Sort, a, b) })
	b := &dealer.Batch{Exhausted: true, Calls: 1}
	for i, v := range rows[min(r.From, len(rows)):] {
		b.Rows = append(b.Rows, dealer.Row{V: v, Pos: r.From + i})
	}
	b.Next = len(rows)
	return b, nil
}

// barn is the fake auction: its index is the upstream's list, read under
// its breaker.
type barn struct {
	env registry.Env
	hc  *sources.Client
	ix  atomic.Pointer[barnIndex]
	mu  sync.Mutex
	st  auction.Status
}

type barnIndex struct {
	rows    []vehicle.Vehicle
	builtAt time.Time
}

func (ix *barnIndex) Rows() []vehicle.Vehicle { return ix.rows }
func (ix *barnIndex) Len() int                { return len(ix.rows) }
func (ix *barnIndex) BuiltAt() time.Time      { return ix.builtAt }
func (ix *barnIndex) Search(q vehicle.Query, after *vehicle.Vehicle, limit int) ([]vehicle.Vehicle, bool) {
	rows := slices.Clone(ix.rows)
	slices.SortFunc(rows, func(a, b vehicle.Vehicle) int { return vehicle.Compare(q.Sort, &a, &b) })
	var out []vehicle.Vehicle
	for i := range rows {
		if !q.Matches(&rows[i]) || after != nil && vehicle.Compare(q.Sort, &rows[i], after) <= 0 {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, rows[i])
	}
	return out, false
}

func (b *barn) Source() vehicle.Source { return barnyard }
func (b *barn) Index() auction.Index {
	if ix := b.ix.Load(); ix != nil {
		return ix
	}
	return nil
}

func (b *barn) Status() auction.Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st
}

func (b *barn) Vehicle(_ context.Context, id string) (vehicle.Vehicle, *fanout.Outcome, error) {
	ix := b.ix.Load()
	if ix == nil {
		return vehicle.Vehicle{}, nil, auction.ErrNotLoaded
	}
	for _, v := range ix.rows {
		if v.ID == id {
			v.FetchedAt = ix.builtAt
			return v, nil, nil
		}
	}
	return vehicle.Vehicle{}, nil, sources.ErrNotFound
}

func (b *barn) Refresh(ctx context.Context) error {
	var cars []fakeCar
	err := b.env.Breaker.Do(func() error { return fetch(ctx, b.hc, b.env.Settings.URL, "/cars", &cars) })
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.st.Failures++
		b.st.LastError, b.st.LastErrAt = err.Error(), time.Now()
		return err
	}
	ix := &barnIndex{builtAt: time.Now()}
	for _, c := range cars {
		ix.rows = append(ix.rows, c.vehicle(barnyard))
	}
	b.ix.Store(ix)
	b.st.Loaded, b.st.Rows, b.st.BuiltAt = true, ix.Len(), ix.builtAt
	return nil
}

func (b *barn) Run(ctx context.Context)      { _ = b.Refresh(ctx); <-ctx.Done() }
func (b *barn) CrawlInterval() time.Duration { return b.env.CrawlInterval }
func (b *barn) Restore() error               { return nil }
func (b *barn) Export() ([]byte, error)      { return nil, errors.New("barnyard: no snapshot") }
func (b *barn) Import([]byte) error          { return errors.New("barnyard: no snapshot") }

// TestRegisteredSourcesAreServed: two sources registered in this test
// binary, a dealer and an auction, are searched, merged, paged, looked up,
// put behind breakers, shown on the status page and readiness, and listed
// in the OpenAPI document the answers validate against, with no line of
// the service naming them.
func TestRegisteredSourcesAreServed(t *testing.T) {
	const key = "lmn_stg_demo000000000000000000000000"
	s := sim.New()
	servers, err := registry.StartSim(s)
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	require.Contains(t, servers.URLs, string(fleamarket), "the simulator serves every registered source")
	require.Contains(t, servers.URLs, string(barnyard))
	keys := httpapi.NewKeys("stg")
	require.NoError(t, keys.Add(key))
	codec, err := cursor.NewCodec("test-secret")
	require.NoError(t, err)
	never := breaker.Config{Window: time.Minute, Buckets: 6, MinRequests: 1 << 30, FailureRate: 1, OpenFor: time.Minute}
	svc, err := service.New(service.Config{
		Sources: service.Upstreams(servers.URLs, time.Minute), CrawlInterval: time.Hour, Breaker: never,
		API:   httpapi.Deps{Cursors: codec, Keys: keys, FXRate: 1350, Deadline: 2 * time.Minute},
		Admin: httpapi.AdminDeps{},
	}, discardLog())
	require.NoError(t, err)
	api := httptest.NewServer(svc.API)
	t.Cleanup(api.Close)
	admin := httptest.NewServer(svc.Admin)
	t.Cleanup(admin.Close)

	// The document is fetched as a partner would, and every answer below
	// is checked against it.
	doc, raw := openapiOf(t, api.URL)
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	get := func(base, path string) (int, http.Header, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		req.Header.Set("x-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var m map[string]any
		if base == api.URL {
			route, params, err := router.FindRoute(req)
			require.NoError(t, err, path)
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
					Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
				Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
				Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
			}
			require.NoError(t, openapi3filter.ValidateResponse(context.Background(), in), "%s → %d:\n%s", path, resp.StatusCode, body)
		}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			require.NoError(t, json.Unmarshal(body, &m), path)
		} else {
			m = map[string]any{"html": string(body)}
		}
		return resp.StatusCode, resp.Header, m
	}
	ids := func(m map[string]any) []string {
		var out []string
		for _, r := range m["data"].([]any) {
			out = append(out, r.(map[string]any)["id"].(string))
		}
		return out
	}

	// The OpenAPI enums and the id pattern list them.
	for _, want := range []string{`"fleamarket"`, `"barnyard"`, `"encar,danawa,fleamarket"`, `"glovis,barnyard"`} {
		assert.Contains(t, string(raw), want)
	}
	idPattern := regexp.MustCompile(doc.Components.Schemas["VehicleSummary"].Value.Properties["id"].Value.Pattern)
	for id, ok := range map[string]bool{"fleamarket_4": true, "barnyard_12": true, "encar_40849700": true, "fleamarket_x": false, "barnyard_": false} {
		assert.Equal(t, ok, idPattern.MatchString(id), id)
	}

	// Before the barn's first crawl: a request for it alone is 503, one
	// that also needs a dealer is answered by the dealer and names it.
	code, hdr, m := get(api.URL, "/v1/vehicles?source=barnyard")
	require.Equal(t, http.StatusServiceUnavailable, code, "%v", m)
	e := m["error"].(map[string]any)
	assert.Equal(t, "auction_index_unavailable", e["code"])
	assert.Equal(t, []any{map[string]any{"source": "barnyard", "reason": "not_loaded", "retry_after": 10.0}}, e["details"].(map[string]any)["sources"])
	assert.Equal(t, "10", hdr.Get("Retry-After"))
	code, hdr, m = get(api.URL, "/v1/vehicles?source=barnyard,fleamarket&make=Kia&sort=price_asc")
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.Equal(t, "barnyard", hdr.Get("X-LMN-Partial-Auction-Unavailable"))
	assert.Equal(t, []string{"fleamarket_1", "fleamarket_2", "fleamarket_4"}, ids(m), "the Kias, by price")
	code, _, m = get(admin.URL, "/readyz?verbose")
	assert.Equal(t, http.StatusServiceUnavailable, code, "not ready before every auction has loaded: %v", m)

	// Every auction crawls once.
	for _, a := range svc.Auctions {
		require.NoError(t, a.Refresh(context.Background()), "%s", a.Source())
	}
	code, _, m = get(admin.URL, "/readyz?verbose")
	require.Equal(t, http.StatusOK, code, "%v", m)
	var barnCheck map[string]any
	for _, c := range m["checks"].([]any) {
		if c.(map[string]any)["source"] == "barnyard" {
			barnCheck = c.(map[string]any)
		}
	}
	require.NotNil(t, barnCheck, "readiness shows the barn's index: %v", m)
	assert.Equal(t, float64(len(barnCars)), barnCheck["rows"])
	assert.Contains(t, barnCheck, "age_seconds")

	// The barn alone, walked page by page: by price, ties by id (by hand).
	var walked []string
	next := "/v1/vehicles?source=barnyard&sort=price_asc&limit=2"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 10)
		code, _, m = get(api.URL, next)
		require.Equal(t, http.StatusOK, code, "%v", m)
		walked = append(walked, ids(m)...)
		next = ""
		if c, ok := m["next_cursor"].(string); ok {
			next = "/v1/vehicles?source=barnyard&sort=price_asc&limit=2&cursor=" + url.QueryEscape(c)
		}
	}
	assert.Equal(t, []string{"barnyard_5", "barnyard_1", "barnyard_2", "barnyard_3", "barnyard_4"}, walked)

	// With Glovis, to the end of both indexes: every lot once, in price order.
	shown := 0
	for _, l := range s.GlovisLots() {
		if l.Listed {
			shown++
		}
	}
	seen := map[string]bool{}
	var last float64
	next = "/v1/vehicles?source=glovis,barnyard&sort=price_asc&limit=200"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 50)
		code, _, m = get(api.URL, next)
		require.Equal(t, http.StatusOK, code, "%v", m)
		for _, r := range m["data"].([]any) {
			row := r.(map[string]any)
			id, price := row["id"].(string), row["pricing"].(map[string]any)["listing_price"].(float64)
			assert.False(t, seen[id], "%s twice", id)
			assert.GreaterOrEqual(t, price, last, "%s out of order", id)
			seen[id], last = true, price
		}
		next = ""
		if c, ok := m["next_cursor"].(string); ok {
			next = "/v1/vehicles?source=glovis,barnyard&sort=price_asc&limit=200&cursor=" + url.QueryEscape(c)
		}
	}
	assert.Len(t, seen, shown+len(barnCars))
	for _, c := range barnCars {
		assert.True(t, seen[fmt.Sprintf("barnyard_%d", c.N)], "barnyard_%d", c.N)
	}

	// Facets of the barn: its rows' makes and models.
	code, _, m = get(api.URL, "/v1/vehicles/facets?source=barnyard")
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.Equal(t, []any{"Hyundai", "Kia"}, m["makes"])
	assert.Equal(t, []any{"Ray", "Sorento"}, m["models"].(map[string]any)["Kia"])

	// Detail by id pattern, from each source.
	code, _, m = get(api.URL, "/v1/vehicles/barnyard_3")
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.Equal(t, "Sorento", m["model"])
	code, _, _ = get(api.URL, "/v1/vehicles/barnyard_99")
	assert.Equal(t, http.StatusNotFound, code)
	before := fleaUp.hits.Load()
	code, _, m = get(api.URL, "/v1/vehicles/fleamarket_3")
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.Equal(t, "Sonata", m["model"])
	assert.Equal(t, "fleamarket", m["dealer_source"])
	code, _, _ = get(api.URL, "/v1/vehicles/fleamarket_three")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, before+1, fleaUp.hits.Load(), "a malformed id never reaches the upstream")

	// Its breaker: the market down is left out and named, or a 503 when
	// it was all the request needed.
	fleaUp.down.Store(true)
	code, hdr, m = get(api.URL, "/v1/vehicles?source=encar,fleamarket&make=Kia&limit=5")
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.Equal(t, "fleamarket", hdr.Get("X-LMN-Partial-Dealer-Unavailable"))
	assert.Regexp(t, `^fleamarket;reason=upstream_error;retry_after=\d+$`, hdr.Get("X-LMN-Partial-Dealer-Detail"))
	code, _, m = get(api.URL, "/v1/vehicles?source=fleamarket&make=Kia")
	require.Equal(t, http.StatusServiceUnavailable, code, "%v", m)
	assert.Equal(t, []any{"fleamarket"}, m["error"].(map[string]any)["details"].(map[string]any)["failed_sources"])
	fleaUp.down.Store(false)
	code, _, m = get(admin.URL, "/debug/breakers/fleamarket")
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.EqualValues(t, 2, m["failures_in_window"], "%v", m)
	code, _, m = get(admin.URL, "/debug/breakers/barnyard")
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.Equal(t, float64(len(barnCars)), m["auction_index"].(map[string]any)["rows"], "the breaker view shows the index")

	// The status page lists both.
	code, _, m = get(admin.URL, "/status")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, m["html"], "fleamarket")
	assert.Contains(t, m["html"], "Auction index: barnyard")
}

func openapiOf(t *testing.T, base string) (*openapi3.T, []byte) {
	t.Helper()
	resp, err := http.Get(base + "/v1/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	doc.Servers = nil // match any host
	return doc, raw
}
