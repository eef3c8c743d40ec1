package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

const demoKey = "lmn_stg_demo000000000000000000000000"

// Deadlines far above what any healthy call needs, however busy the machine:
// these tests are about answers, not timing. A test of a hung source gives
// that source alone a short deadline (hung), since its failure is certain
// whatever the load; what a deadline costs is tested in fanout, on a fake
// clock.
const (
	sourceTimeout   = 30 * time.Second
	requestDeadline = time.Minute
	hungTimeout     = 200 * time.Millisecond
)

var requestIDRe = regexp.MustCompile(`^req_[0-9a-f]{24}$`)

type stack struct {
	sim    *sim.Sim
	svc    *service.Service
	api    *httptest.Server
	admin  *httptest.Server
	client *http.Client
}

var discard = slog.New(slog.DiscardHandler)

// auctionSnapshots are the simulator's auctions crawled once per test
// binary, by source; every stack restores them instead of crawling in its
// set-up. The simulator's inventory is deterministic, so they are also
// every other simulator's auctions.
var auctionSnapshots = sync.OnceValues(func() (map[string][]byte, error) {
	servers, err := registry.StartSim(sim.New())
	if err != nil {
		return nil, err
	}
	defer servers.Close()
	dir, err := os.MkdirTemp("", "auction")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "auction.json")
	svc, err := service.New(service.Config{Sources: service.Upstreams(servers.URLs, sourceTimeout),
		CrawlInterval: time.Hour, Snapshot: file, Breaker: neverTrips}, discard)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, a := range svc.Auctions {
		if err := a.Refresh(context.Background()); err != nil {
			return nil, fmt.Errorf("%s: %w", a.Source(), err)
		}
		if out[string(a.Source())], err = os.ReadFile(service.SnapshotFile(file, a.Source())); err != nil {
			return nil, err
		}
	}
	return out, nil
})

// auctionSnapshotsAt writes the auctions' snapshots into dir and returns
// the snapshot setting that restores them.
func auctionSnapshotsAt(t *testing.T, dir string) string {
	t.Helper()
	snapshots, err := auctionSnapshots()
	require.NoError(t, err, "crawling the simulator's auctions")
	file := filepath.Join(dir, "auction.json")
	for source, data := range snapshots {
		require.NoError(t, os.WriteFile(service.SnapshotFile(file, vehicle.Source(source)), data, 0o600))
	}
	return file
}

// newStack starts the simulator and the real service, wired as `serve` wires
// it, over loopback, with the auction indexes restored from auctionSnapshots.
func newStack(t *testing.T, breaker breaker.Config, options ...func(*service.Config)) *stack {
	t.Helper()
	return newStackAltered(t, breaker, nil, options...)
}

// newStackAltered is newStack with alter applied to the wired service before
// it serves, for a test that breaks a part of it on purpose.
func newStackAltered(t *testing.T, breaker breaker.Config, alter func(*service.Service), options ...func(*service.Config)) *stack {
	t.Helper()
	file := auctionSnapshotsAt(t, t.TempDir())
	s := sim.New()
	servers, err := registry.StartSim(s)
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	keys := httpapi.NewKeys("stg")
	require.NoError(t, keys.Add(demoKey))
	codec, err := cursor.NewCodec("test-secret")
	require.NoError(t, err)
	cfg := service.Config{
		Sources:       service.Upstreams(servers.URLs, sourceTimeout),
		CrawlInterval: time.Hour, Snapshot: file, Breaker: breaker,
		API:   httpapi.Deps{Cursors: codec, Keys: keys, FXRate: 1350, Deadline: requestDeadline},
		Admin: httpapi.AdminDeps{Sim: s.Control()},
	}
	for _, o := range options {
		o(&cfg)
	}
	svc, err := service.New(cfg, discard)
	require.NoError(t, err)
	require.NoError(t, svc.Restore())
	if alter != nil {
		alter(svc)
	}
	api := httptest.NewServer(svc.API)
	t.Cleanup(api.Close)
	admin := httptest.NewServer(svc.Admin)
	t.Cleanup(admin.Close)
	return &stack{sim: s, svc: svc, api: api, admin: admin, client: &http.Client{Timeout: 2 * requestDeadline}}
}

// hung gives source a short deadline, for a test that makes it hang.
func hung(source string) func(*service.Config) {
	return func(c *service.Config) {
		set := c.Sources[vehicle.Source(source)]
		set.Timeout = hungTimeout
		c.Sources[vehicle.Source(source)] = set
	}
}

// neverTrips keeps the breakers closed so the fault matrix sees every failure.
var neverTrips = breaker.Config{Window: time.Minute, Buckets: 6, MinRequests: 1 << 30, FailureRate: 1, OpenFor: time.Minute}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (s *stack) get(t *testing.T, path string, key string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.api.URL+path, nil)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	resp, err := s.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &a.body), "body of %s", path)
	checkOpenAPI(t, req, resp, raw)
	assert.Regexp(t, requestIDRe, resp.Header.Get("X-Request-Id"), "X-Request-Id of %s", path)
	if resp.StatusCode >= 400 {
		e, _ := a.body["error"].(map[string]any)
		require.NotNil(t, e, "error envelope of %s: %v", path, a.body)
		assert.Equal(t, resp.Header.Get("X-Request-Id"), e["request_id"])
		assert.NotNil(t, e["details"])
	}
	return a
}

func rows(a answer) []map[string]any {
	var out []map[string]any
	data, _ := a.body["data"].([]any)
	for _, d := range data {
		out = append(out, d.(map[string]any))
	}
	return out
}

func countBy(rs []map[string]any) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		if ds, ok := r["dealer_source"].(string); ok {
			m[ds]++
		} else {
			m[r["source"].(string)]++
		}
	}
	return m
}

// TestFaultMatrix switches each upstream into each failure mode and checks
// the status and partial header of every kind of request.
func TestFaultMatrix(t *testing.T) {
	healthy := newStack(t, neverTrips)
	requests := map[string]string{
		"dealer": "/v1/vehicles?source=dealer&make=Kia&limit=20",
		"encar":  "/v1/vehicles?source=encar&make=Kia&limit=20",
		"glovis": "/v1/vehicles?source=glovis&make=Kia&limit=20",
		"mixed":  "/v1/vehicles?make=Kia&limit=60",
	}
	modes := []string{sim.Healthy, sim.Down, sim.Hang, sim.Slow, sim.HTTP403, sim.Blocked, sim.Drift, sim.Truncated, sim.Huge}
	for _, source := range sim.Sources {
		for _, mode := range modes {
			t.Run(source+"/"+mode, func(t *testing.T) {
				st := healthy
				if mode == sim.Hang {
					st = newStack(t, neverTrips, hung(source))
				}
				require.NoError(t, st.sim.SetFault(source, sim.Fault{Mode: mode, LatencyMS: 50}))
				defer st.sim.Reset()
				fails := mode != sim.Healthy && mode != sim.Slow
				if source == "glovis" {
					err := st.svc.Auction("glovis").Refresh(context.Background())
					if fails {
						require.Error(t, err, "a crawl against a %s Glovis must fail", mode)
					} else {
						require.NoError(t, err)
					}
				}
				dealerDown := fails && source != "glovis"
				for kind, path := range requests {
					a := st.get(t, path, demoKey)
					partial := a.header.Get("X-LMN-Partial-Dealer-Unavailable")
					got := countBy(rows(a))
					switch {
					case kind == "encar" && dealerDown && source == "encar":
						assert.Equal(t, http.StatusServiceUnavailable, a.status, kind)
						assert.Equal(t, "5", a.header.Get("Retry-After"), "breakers closed: the short backoff")
						e := a.body["error"].(map[string]any)
						assert.Equal(t, "dealer_upstream_unavailable", e["code"])
						assert.Equal(t, []any{"encar"}, e["details"].(map[string]any)["failed_sources"])
					case dealerDown && (kind == "dealer" || kind == "mixed"):
						assert.Equal(t, http.StatusOK, a.status, kind)
						assert.Equal(t, source, partial, kind)
						assert.Zero(t, got[source], "%s: rows of a failed source", kind)
						assert.NotZero(t, len(got), "%s: the surviving sources' rows", kind)
					default:
						assert.Equal(t, http.StatusOK, a.status, kind)
						assert.Empty(t, partial, kind)
						assert.NotEmpty(t, rows(a), kind)
					}
					if kind == "glovis" || kind == "mixed" {
						assert.NotZero(t, got["glovis"], "%s: auction rows survive any upstream outage", kind)
					}
				}
			})
		}
	}
}

func TestBothDealersDown(t *testing.T) {
	st := newStack(t, neverTrips, hung("danawa"))
	require.NoError(t, st.sim.SetFault("encar", sim.Fault{Mode: sim.Down}))
	require.NoError(t, st.sim.SetFault("danawa", sim.Fault{Mode: sim.Hang}))

	a := st.get(t, "/v1/vehicles?source=dealer&make=Kia", demoKey)
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
	assert.Equal(t, "5", a.header.Get("Retry-After"), "breakers closed: the short backoff")
	e := a.body["error"].(map[string]any)
	assert.Equal(t, "dealer_upstream_unavailable", e["code"])
	assert.Equal(t, []any{"encar", "danawa"}, e["details"].(map[string]any)["failed_sources"])
	assert.Equal(t, []failure{{"encar", "upstream_error", 5}, {"danawa", "timeout", 5}}, sourcesOf(t, a))

	a = st.get(t, "/v1/vehicles?make=Kia", demoKey)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "encar,danawa", a.header.Get("X-LMN-Partial-Dealer-Unavailable"))
	assert.Equal(t, []failure{{"encar", "upstream_error", 5}, {"danawa", "timeout", 5}}, parseDetail(t, a.header))
	rs := rows(a)
	assert.Len(t, rs, 50)
	for _, r := range rs {
		assert.Contains(t, []any{"glovis", "kcar"}, r["source"], "auction rows only")
	}
}

func TestOpenBreakerIsNotCalled(t *testing.T) {
	st := newStack(t, breaker.DefaultConfig)
	st.svc.Breakers[0].Force(breaker.ForcedOpen, "test")
	before := st.sim.Hits("encar")
	a := st.get(t, "/v1/vehicles?source=dealer&make=Kia&limit=5", demoKey)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "encar", a.header.Get("X-LMN-Partial-Dealer-Unavailable"))
	assert.Equal(t, before, st.sim.Hits("encar"), "a request reached Encar through an open breaker")
	assert.Equal(t, map[string]int{"danawa": 5}, countBy(rows(a)))
}

func TestBreakerTripsOnBlockedSource(t *testing.T) {
	st := newStack(t, breaker.DefaultConfig)
	require.NoError(t, st.sim.SetFault("danawa", sim.Fault{Mode: sim.Blocked}))
	for range 5 {
		st.get(t, "/v1/vehicles?source=danawa&make=Kia", demoKey)
	}
	snap := st.svc.Breakers[1].Snapshot(true)
	assert.Equal(t, "open", snap.State)
	require.NotNil(t, snap.Trip)
	assert.Contains(t, snap.Trip.LastError, "blocked")
	require.NotNil(t, snap.NextProbeAt)
	hits := st.sim.Hits("danawa")
	a := st.get(t, "/v1/vehicles?source=danawa&make=Kia", demoKey)
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
	assert.Equal(t, hits, st.sim.Hits("danawa"), "an open breaker let a call through")
}

func TestSearchRows(t *testing.T) {
	st := newStack(t, neverTrips)
	a := st.get(t, "/v1/vehicles?make=Kia&model=Sorento&sort=price_asc&limit=200", demoKey)
	require.Equal(t, http.StatusOK, a.status)
	rs := rows(a)
	got := countBy(rs)
	assert.NotZero(t, got["glovis"])
	assert.NotZero(t, got["encar"])
	assert.NotZero(t, got["danawa"])
	prev := -1
	seen := map[string]bool{}
	for _, r := range rs {
		assert.Equal(t, "Kia", r["make"])
		assert.Equal(t, "Sorento", r["model"])
		// A price not published (K Car's start price "0") is null: after
		// every known one.
		listed := r["pricing"].(map[string]any)["listing_price"]
		if listed == nil {
			prev = math.MaxInt
		} else {
			price := int(listed.(float64))
			assert.Positive(t, price)
			assert.GreaterOrEqual(t, price, prev, "price_asc order")
			prev = price
		}
		id := r["id"].(string)
		assert.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
		for _, field := range []string{"trim", "fuel", "transmission", "color", "engine_cc", "drivetrain", "accident_grade", "exterior_grade", "auction", "photo_url", "listed_at", "dealer_source"} {
			_, present := r[field]
			assert.True(t, present, "field %s must be present, null or not", field)
		}
	}
	if len(rs) < 200 {
		assert.Nil(t, a.body["next_cursor"], "next_cursor on the last page")
	} else {
		assert.NotNil(t, a.body["next_cursor"])
	}
}

func TestAuctionPagination(t *testing.T) {
	st := newStack(t, neverTrips)
	seen := map[string]bool{}
	path := "/v1/vehicles?source=glovis&sort=price_desc&limit=200"
	next := path
	for pages := 0; ; pages++ {
		require.Less(t, pages, 20, "pagination does not end")
		a := st.get(t, next, demoKey)
		require.Equal(t, http.StatusOK, a.status)
		for _, r := range rows(a) {
			id := r["id"].(string)
			require.False(t, seen[id], "id %s on two pages", id)
			seen[id] = true
		}
		c, ok := a.body["next_cursor"].(string)
		if !ok {
			break
		}
		next = path + "&cursor=" + c
	}
	assert.Equal(t, st.svc.Auction("glovis").Index().Len(), len(seen), "every auction row exactly once")

	a := st.get(t, "/v1/vehicles?make=Kia&cursor=anything", demoKey)
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, "mixed_source_pagination_unsupported", a.body["error"].(map[string]any)["code"])
}

func TestRequestErrors(t *testing.T) {
	st := newStack(t, neverTrips)
	for _, tc := range []struct {
		name, path, key string
		status          int
		code            string
		issuePath       string
	}{
		{"no key", "/v1/vehicles?make=Kia", "", 401, "missing_api_key", ""},
		{"unknown key", "/v1/vehicles?make=Kia", "lmn_stg_0000000000000000000000000000", 401, "invalid_api_key", ""},
		{"dealer without make", "/v1/vehicles", demoKey, 400, "validation_error", "make"},
		{"typo", "/v1/vehicles?makes=Kia", demoKey, 400, "validation_error", "makes"},
		{"model without make", "/v1/vehicles?source=glovis&model=Sorento", demoKey, 400, "validation_error", "model"},
		{"limit", "/v1/vehicles?make=Kia&limit=201", demoKey, 400, "validation_error", "limit"},
		{"limit not int", "/v1/vehicles?make=Kia&limit=ten", demoKey, 400, "validation_error", "limit"},
		{"sort", "/v1/vehicles?make=Kia&sort=cheapest", demoKey, 400, "validation_error", "sort"},
		{"not served", "/v1/vehicles?source=lotte&make=Kia", demoKey, 400, "validation_error", "source"},
		{"twice", "/v1/vehicles?make=Kia&make=Hyundai", demoKey, 400, "validation_error", "make"},
		{"bad cursor", "/v1/vehicles?source=glovis&cursor=x", demoKey, 400, "invalid_cursor", ""},
		{"unknown route", "/v2/cars", demoKey, 404, "not_found", ""},
		{"bad escape", "/v1/vehicles?make=%ZZ", demoKey, 400, "validation_error", "make"},
		{"bad escape in a number", "/v1/vehicles?make=Kia&year_min=20%2", demoKey, 400, "validation_error", "year_min"},
		{"semicolon", "/v1/vehicles?make=Kia;fuel=x", demoKey, 400, "validation_error", "make"},
		{"facets bad escape", "/v1/vehicles/facets?source=%ZZ", demoKey, 400, "validation_error", "source"},
		{"key before query", "/v1/vehicles?make=%ZZ", "", 401, "missing_api_key", ""},
		{"double slash", "//v1/vehicles?make=Kia", demoKey, 404, "not_found", ""},
		{"dot segment", "/v1/./vehicles?make=Kia", demoKey, 404, "not_found", ""},
		{"mixed cursor", "/v1/vehicles?source=glovis,encar&make=Kia&cursor=x", demoKey, 400, "mixed_source_pagination_unsupported", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := st.get(t, tc.path, tc.key)
			assert.Equal(t, tc.status, a.status)
			e := a.body["error"].(map[string]any)
			assert.Equal(t, tc.code, e["code"])
			if tc.issuePath != "" {
				issues := e["details"].(map[string]any)["issues"].([]any)
				var paths []string
				for _, i := range issues {
					paths = append(paths, i.(map[string]any)["path"].(string))
				}
				assert.Contains(t, paths, tc.issuePath)
			}
		})
	}
	resp, err := http.Post(st.api.URL+"/v1/vehicles", "text/plain", strings.NewReader(""))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestReadyzIgnoresDealerBreakers(t *testing.T) {
	st := newStack(t, breaker.DefaultConfig)
	st.svc.Breakers[0].Force(breaker.ForcedOpen, "test")
	st.svc.Breakers[1].Force(breaker.ForcedOpen, "test")
	resp, err := http.Get(st.admin.URL + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
