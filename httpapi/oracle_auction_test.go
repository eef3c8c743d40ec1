package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// The auction side of the oracle: auction-only queries walked to the end
// of the index, and mixed queries (auction and dealer rows), whose first
// page only is served, compared with the simulator's lots filtered and
// sorted by the plain code of oracle_test.go.

// oracleGlovisColors are the colour words of the simulated auction, in the
// contract's words; a word not here (-, or a colour no query asks for)
// matches no colour filter.
var oracleGlovisColors = map[string]string{"검정": "black", "흰색": "white", "진주색": "white", "회색": "gray", "쥐색": "gray",
	"은색": "silver", "파랑": "blue", "빨강": "red"}

// oracleExterior folds Glovis' exterior condition, 1 (best) to 8, onto the
// contract's A..F, as the README says: 1-2 A, 3-4 B, 5-6 C, 7 D, 8 F.
var oracleExterior = map[byte]string{'1': "A", '2': "A", '3': "B", '4': "B", '5': "C", '6': "C", '7': "D", '8': "F"}

// auctionInventory is what an auction query may return: the lots of the
// rounds the site shows (the index is a crawl of those), with
// auction.count the rounds shown so far that put the same car up.
func auctionInventory(t *testing.T, s *sim.Sim) []oracleRow {
	lots := s.GlovisLots()
	var out []oracleRow
	for _, l := range lots {
		if !l.Listed {
			continue
		}
		mk, md := englishOf(t, l.Make, l.ModelGroup)
		r := oracleRow{id: l.ID, source: "glovis", make: mk, model: md, year: l.Year, km: l.MileageKm,
			krw: int64(l.PriceManwon) * 10000, fuel: encarFuels[l.Fuel], trans: "auto", color: oracleGlovisColors[l.Color],
			date: l.Date, day: l.Date.In(vehicle.KST).Format("2006-01-02"), status: l.Status}
		if l.Manual {
			r.trans = "manual"
		}
		if len(l.Grade) == 3 && l.Grade[1] == '/' {
			r.accident, r.exterior = l.Grade[:1], oracleExterior[l.Grade[2]]
		}
		for _, o := range lots {
			if o.Listed && o.Goods == l.Goods && !o.Date.After(l.Date) {
				r.count++
			}
		}
		out = append(out, r)
	}
	return out
}

// oracleKCarColors are the colour words of the simulated K Car auction, in
// the contract's words; 기타 ("other") is no colour.
var oracleKCarColors = map[string]string{"검정색": "black", "흰색": "white", "진주색": "white", "회색": "gray",
	"은색": "silver", "파란색": "blue", "빨간색": "red"}

// oracleKCarExterior folds K Car's score, 1..8 with 8 best, onto A..F as
// the README says: 8-7 A, 6-5 B, 4-3 C, 2 D, 1 F.
var oracleKCarExterior = map[byte]string{'8': "A", '7': "A", '6': "B", '5': "B", '4': "C", '3': "C", '2': "D", '1': "F"}

// kcarInventory is what a K Car query may return: the lots the site's
// pages show (the index is a crawl of those), with auction.count the
// auctions shown that put the same car (record or plate) up, up to the
// lot's own.
func kcarInventory(t *testing.T, s *sim.Sim) []oracleRow {
	lots := s.KCarLots()
	var out []oracleRow
	for _, l := range lots {
		if !l.Listed {
			continue
		}
		mk, md := englishOf(t, l.Make, l.ModelGroup)
		r := oracleRow{id: l.ID, source: "kcar", make: mk, model: md, year: l.Year, km: l.MileageKm,
			krw: int64(l.PriceWon), fuel: encarFuels[l.Fuel], trans: "auto", color: oracleKCarColors[l.Color],
			date: l.Date, day: l.Date.In(vehicle.KST).Format("2006-01-02"), status: l.Status}
		if l.Manual {
			r.trans = "manual"
		}
		if len(l.Grade) == 2 {
			r.accident, r.exterior = l.Grade[:1], oracleKCarExterior[l.Grade[1]]
		}
		auctions := map[time.Time]bool{}
		for _, o := range lots {
			if o.Listed && (o.CarID == l.CarID || o.Plate == l.Plate) && !o.Date.After(l.Date) {
				auctions[o.Date] = true
			}
		}
		r.count = len(auctions)
		out = append(out, r)
	}
	return out
}

// randomAuctionQuery draws a query with an auction source: auction-only
// (make optional) or mixed (make required, §4).
func randomAuctionQuery(r *rand.Rand, models map[string][]string, days []string) oracleQuery {
	pick := func(list []string, n int) []string {
		c := slices.Clone(list)
		r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
		return c[:min(n, len(c))]
	}
	var makes []string
	for mk := range models {
		makes = append(makes, mk)
	}
	slices.Sort(makes)
	sourceSets := [][]string{{"glovis"}, {"kcar"}, {"glovis", "kcar"}, {"glovis", "kcar"}, {"glovis", "encar"},
		{"kcar", "danawa"}, {"glovis", "dealer"}, {"kcar", "dealer"}, nil}
	q := oracleQuery{
		sources: sourceSets[r.IntN(len(sourceSets))],
		sort:    string(vehicle.Sorts[r.IntN(len(vehicle.Sorts))]),
	}
	if q.mixed() || r.IntN(3) != 0 {
		q.makes = pick(makes, 1+r.IntN(3))
	}
	if len(q.makes) > 0 && r.IntN(3) == 0 {
		var all []string
		for _, mk := range q.makes {
			all = append(all, models[mk]...)
		}
		q.models = pick(all, 1+r.IntN(2))
	}
	if r.IntN(5) == 0 {
		q.fuels = pick([]string{"gasoline", "diesel", "lpg", "electric", "hybrid"}, 1+r.IntN(2))
	}
	if r.IntN(6) == 0 {
		q.trans = pick([]string{"auto", "manual"}, 1)
	}
	if r.IntN(6) == 0 {
		q.colors = pick([]string{"black", "white", "gray", "silver", "blue", "red"}, 1+r.IntN(2))
	}
	q.randomRanges(r)
	// The auction-only filters, rarer on mixed queries, where any of them
	// leaves only auction rows.
	odds := 3
	if q.mixed() {
		odds = 8
	}
	if r.IntN(odds) == 0 {
		q.accident = pick([]string{"A", "B", "C", "D", "F"}, 1+r.IntN(3))
	}
	if r.IntN(odds) == 0 {
		q.exterior = pick([]string{"A", "B", "C", "D", "F"}, 1+r.IntN(3))
	}
	if r.IntN(odds) == 0 {
		q.statuses = pick(vehicle.AuctionStatuses, 1+r.IntN(2))
	}
	if r.IntN(odds) == 0 {
		// One day, both, or a range that begins or ends between them.
		from, to := days[r.IntN(len(days))], days[r.IntN(len(days))]
		if from > to {
			from, to = to, from
		}
		if r.IntN(3) == 0 {
			from = "2025-06-01"
		}
		q.dateFrom, q.dateTo = from, to
	}
	switch r.IntN(odds * 2) {
	case 0:
		q.countMin = 2
	case 1:
		q.countMax = 1
	}
	limits := []int{1, 2, 3, 5, 7, 10, 25, 50, 100, 200}
	q.limit = limits[r.IntN(len(limits))]
	if r.IntN(3) == 0 {
		q.limit = 1 + r.IntN(200)
	}
	return q
}

// mixed reports whether q asks for auction and dealer rows together.
func (q oracleQuery) mixed() bool {
	auction := slices.ContainsFunc(q.sources, func(s string) bool { return s == "glovis" || s == "kcar" })
	dealer := slices.ContainsFunc(q.sources, func(s string) bool { return s != "glovis" && s != "kcar" })
	return len(q.sources) == 0 || auction && dealer
}

// oracleGet is one request's status and body.
func oracleGet(t *testing.T, client *http.Client, base, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(t, err)
	req.Header.Set("x-api-key", demoKey)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Empty(t, resp.Header.Get("X-LMN-Partial-Dealer-Unavailable"), "%s: a source failed: %s", path, body)
	return resp.StatusCode, body
}

func TestOracleAuctionWalks(t *testing.T) {
	cases, seed := oracleKnobs(t, 200)
	s := sim.New()
	servers, err := registry.StartSim(s)
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	encar, danawa := inventory(t, s)
	auctions := slices.Concat(auctionInventory(t, s), kcarInventory(t, s))
	models := map[string][]string{}
	var days []string
	statuses := map[string]bool{}
	counts := map[int]bool{}
	for _, r := range slices.Concat(auctions, encar, danawa) {
		if !slices.Contains(models[r.make], r.model) {
			models[r.make] = append(models[r.make], r.model)
		}
		if r.day != "" && !slices.Contains(days, r.day) {
			days = append(days, r.day)
		}
		statuses[r.status] = true
		counts[r.count] = true
	}
	// The variety the filters need to mean something.
	require.GreaterOrEqual(t, len(days), 4, "two auction dates a house")
	require.True(t, counts[2], "cars back for a second round")
	for _, st := range vehicle.AuctionStatuses {
		require.True(t, statuses[st], "the simulator has %s lots", st)
	}
	api := oracleAPI(t, servers, nil)
	client := &http.Client{Timeout: 5 * time.Minute}

	// First the queries whose order rests on ties and nulls: every sort
	// over the whole auction, and mixed queries whose dealer rows sort
	// after the auction's under auction_date_asc.
	var qs []oracleQuery
	for _, sort := range vehicle.Sorts {
		qs = append(qs,
			oracleQuery{sources: []string{"glovis"}, sort: string(sort), limit: 200},
			oracleQuery{sources: []string{"glovis", "kcar"}, sort: string(sort), limit: 200},
			oracleQuery{sources: []string{"glovis", "dealer"}, makes: []string{"Chevrolet"}, sort: string(sort), limit: 200},
			oracleQuery{makes: []string{"Kia"}, statuses: []string{"upcoming"}, sort: string(sort), limit: 50})
	}
	if os.Getenv("LMN_ORACLE_LONG") != "" {
		// The whole auction and a mixed query at every page size the
		// contract names, under every sort.
		for _, sort := range vehicle.Sorts {
			for _, l := range []int{1, 7, 25, 50} {
				qs = append(qs,
					oracleQuery{sources: []string{"glovis"}, sort: string(sort), limit: l},
					oracleQuery{makes: []string{"Hyundai"}, sort: string(sort), limit: l})
			}
		}
	}
	fixed := len(qs)
	r := rand.New(rand.NewPCG(seed, 9))
	for range cases {
		qs = append(qs, randomAuctionQuery(r, models, days))
	}
	mixedMore := 0
	for i, q := range qs {
		want := q.expect(encar, danawa, auctions)
		if i >= fixed && !q.mixed() {
			// Ten full pages at most keeps the run short.
			if n := len(want); (n+q.limit-1)/q.limit > 10 {
				q.limit = min(200, (n+9)/10)
			}
		}
		var wantIDs []string
		for j := range want {
			wantIDs = append(wantIDs, want[j].id)
		}
		t.Run(fmt.Sprintf("%d%s", i, q.path()), func(t *testing.T) {
			if !q.mixed() {
				got, _ := oracleWalk(t, client, api.URL, q.path(), 5000)
				require.Equal(t, wantIDs, got, "walk of %s: %d rows, want %d", q.path(), len(got), len(want))
				return
			}
			// Mixed: the first page is the first limit rows of the merge.
			status, body := oracleGet(t, client, api.URL, q.path())
			require.Equal(t, http.StatusOK, status, "%s: %s", q.path(), body)
			var p oraclePage
			require.NoError(t, json.Unmarshal(body, &p))
			var got []string
			for _, d := range p.Data {
				got = append(got, d.ID)
			}
			require.Equal(t, wantIDs[:min(q.limit, len(wantIDs))], got, "first page of %s, %d rows in all", q.path(), len(want))
			if len(want) > q.limit {
				require.NotNil(t, p.NextCursor, "%s: %d rows, no next_cursor", q.path(), len(want))
				mixedMore++
			}
			if p.NextCursor == nil {
				return
			}
			status, body = oracleGet(t, client, api.URL, q.path()+"&cursor="+url.QueryEscape(*p.NextCursor))
			require.Equal(t, http.StatusBadRequest, status, "%s with its cursor: %s", q.path(), body)
			var e struct {
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			require.NoError(t, json.Unmarshal(body, &e))
			require.Equal(t, "mixed_source_pagination_unsupported", e.Error.Code, "%s", body)
		})
	}
	require.Positive(t, mixedMore, "no mixed query had a second page to refuse")
	t.Logf("%d queries, %d mixed with more rows than one page", len(qs), mixedMore)
}
