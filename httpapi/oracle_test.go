package httpapi_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// The oracle walks every page of seeded random dealer queries through the
// real service and simulator and compares the walk with the simulator's
// inventory, filtered, deduplicated and sorted by the plain code below,
// which shares nothing with search, merge or vehicle.Query.Matches.
//
// LMN_ORACLE_CASES sets how many queries (default 200); LMN_ORACLE_SEED
// moves the seed to see other queries; LMN_ORACLE_LONG walks the queries
// that once lost rows at page sizes 1, 7, 25, 50 and 200 under every sort.

// oracleRow is a dealer ad as the public API must show it, derived here
// from the simulator's own listing.
type oracleRow struct {
	id, source   string
	make, model  string
	text         string // make, model and trim, for keyword
	vanText      string // model and trim, for body_style
	year, km     int
	krw          int64
	fuel, trans  string
	listed       time.Time
	registeredYM int

	// Auction rows only (oracle_auction_test.go); zero for dealer rows.
	color              string
	accident, exterior string
	date               time.Time
	day                string // the auction's date, YYYY-MM-DD in Korea
	status             string
	count              int
}

// english names a simulated car's make and model group in the contract's words.
func english(t *testing.T, l sim.Listing) (string, string) {
	return englishOf(t, l.Make, l.ModelGroup)
}

// englishOf names a Korean make and model group in the contract's words,
// from a table written here rather than the service's dictionary, so that a
// mistake in the dictionary shows as rows the oracle expected and did not
// get. A make or model the simulator starts listing must be added here.
func englishOf(t *testing.T, make_, group string) (string, string) {
	names, ok := englishNames[make_+"|"+group]
	if !ok {
		t.Fatalf("the oracle has no English name for %q %q: add it to englishNames", make_, group)
	}
	return names[0], names[1]
}

// englishNames are the simulator's Korean make and model groups (Encar's
// words, which the simulated Glovis, K Car and Danawa answers carry too)
// and the English names partners search by.
var englishNames = map[string][2]string{
	"BMW|3시리즈": {"BMW", "3 Series"}, "BMW|5시리즈": {"BMW", "5 Series"}, "BMW|X5": {"BMW", "X5"},
	"KG모빌리티(쌍용)|토레스": {"KG Mobility", "Torres"}, "KG모빌리티(쌍용)|티볼리": {"KG Mobility", "Tivoli"},
	"기아|K5": {"Kia", "K5"}, "기아|K8": {"Kia", "K8"}, "기아|레이": {"Kia", "Ray"}, "기아|모닝": {"Kia", "Morning"},
	"기아|스포티지": {"Kia", "Sportage"}, "기아|쏘렌토": {"Kia", "Sorento"}, "기아|카니발": {"Kia", "Carnival"},
	"렉서스|ES":        {"Lexus", "ES"},
	"르노코리아(삼성)|QM6": {"Renault Korea", "QM6"}, "르노코리아(삼성)|SM6": {"Renault Korea", "SM6"},
	"벤츠|C클래스": {"Mercedes-Benz", "C-Class"}, "벤츠|E클래스": {"Mercedes-Benz", "E-Class"},
	"볼보|XC60":       {"Volvo", "XC60"},
	"쉐보레(GM대우)|말리부": {"Chevrolet", "Malibu"}, "쉐보레(GM대우)|알페온": {"Chevrolet", "Alpheon"},
	"쉐보레(GM대우)|임팔라": {"Chevrolet", "Impala"}, "쉐보레(GM대우)|캡티바": {"Chevrolet", "Captiva"},
	"쉐보레(GM대우)|트레일블레이저": {"Chevrolet", "Trailblazer"},
	"아우디|A6":   {"Audi", "A6"},
	"제네시스|G80": {"Genesis", "G80"}, "제네시스|GV70": {"Genesis", "GV70"}, "제네시스|GV80": {"Genesis", "GV80"},
	"테슬라|모델Y": {"Tesla", "Model Y"},
	"현대|그랜저":  {"Hyundai", "Grandeur"}, "현대|스타리아": {"Hyundai", "Staria"}, "현대|싼타페": {"Hyundai", "Santa Fe"},
	"현대|쏘나타": {"Hyundai", "Sonata"}, "현대|아반떼": {"Hyundai", "Avante"}, "현대|아이오닉5": {"Hyundai", "Ioniq 5"},
	"현대|제네시스": {"Hyundai", "Genesis"}, "현대|투싼": {"Hyundai", "Tucson"}, "현대|팰리세이드": {"Hyundai", "Palisade"},
}

// encarFuels are Encar's fuel words.
var encarFuels = map[string]string{"가솔린": "gasoline", "디젤": "diesel", "LPG": "lpg", "전기": "electric", "가솔린+전기": "hybrid",
	"디젤+전기": "diesel_hybrid", "수소": "hydrogen"}

// trimFuel is the fuel a Danawa title's trim names, if any (Danawa has no
// fuel column): the first word that names one.
func trimFuel(trim string) string {
	for _, w := range strings.Fields(trim) {
		switch u := strings.ToUpper(w); {
		case strings.Contains(w, "하이브리드"):
			return "hybrid"
		case strings.Contains(w, "디젤"):
			return "diesel"
		case u == "LPE" || u == "LPG" || u == "LPI":
			return "lpg"
		case strings.Contains(w, "가솔린"):
			return "gasoline"
		case strings.Contains(w, "전기"):
			return "electric"
		}
	}
	return ""
}

// inventory is what the walk of a query may return: for-sale Encar ads
// (no lease, rental, duplicate or sold ad) and priced Danawa ads.
func inventory(t *testing.T, s *sim.Sim) (encar, danawa []oracleRow) {
	for _, l := range s.EncarListings() {
		if l.Sold || l.Lease || l.Rental || l.Duplicate {
			continue
		}
		mk, md := english(t, l)
		r := oracleRow{id: "encar_" + l.ID, source: "encar", make: mk, model: md, year: l.Year, km: l.MileageKm,
			krw: int64(l.PriceManwon) * 10000, fuel: encarFuels[l.Fuel], trans: "auto", listed: l.Modified,
			registeredYM: l.Registered}
		if l.Manual {
			r.trans = "manual"
		}
		r.text = mk + " " + md + " " + l.Trim
		r.vanText = md + " " + l.Trim
		encar = append(encar, r)
	}
	for _, l := range s.DanawaListings() {
		if l.AskPrice {
			continue
		}
		mk, md := english(t, l)
		m := l.Modified.In(vehicle.KST)
		// Danawa's title is make, generation and trim; the trim is read as
		// what follows the model's word, so the generation's other words
		// may be part of it (no keyword below uses them).
		trim := l.Generation + " " + l.Trim
		danawa = append(danawa, oracleRow{id: "danawa_" + l.ID, source: "danawa", make: mk, model: md, year: l.Year,
			km: l.MileageKm, krw: int64(l.PriceManwon) * 10000, fuel: trimFuel(l.Trim),
			listed:  time.Date(m.Year(), m.Month(), m.Day(), 0, 0, 0, 0, vehicle.KST),
			text:    mk + " " + md + " " + trim,
			vanText: md + " " + trim})
	}
	return encar, danawa
}

// oracleQuery is one generated query.
type oracleQuery struct {
	sources               []string
	makes, models         []string
	keyword               string
	van                   bool
	yearMin, yearMax      int
	kmMax                 int
	priceMin, priceMax    int // dollars
	fuels, trans, colors  []string
	sort                  string
	limit                 int
	hasKmMax, hasPriceMin bool
	hasPriceMax           bool

	// Auction-only filters (oracle_auction_test.go).
	accident, exterior []string
	statuses           []string
	dateFrom, dateTo   string
	countMin, countMax int
}

func (q oracleQuery) path() string {
	v := url.Values{}
	if len(q.sources) > 0 { // none is every source
		v.Set("source", strings.Join(q.sources, ","))
	}
	if len(q.makes) > 0 {
		v.Set("make", strings.Join(q.makes, ","))
	}
	if len(q.models) > 0 {
		v.Set("model", strings.Join(q.models, ","))
	}
	if q.keyword != "" {
		v.Set("keyword", q.keyword)
	}
	if q.van {
		v.Set("body_style", "van")
	}
	if q.yearMin > 0 {
		v.Set("year_min", strconv.Itoa(q.yearMin))
	}
	if q.yearMax > 0 {
		v.Set("year_max", strconv.Itoa(q.yearMax))
	}
	if q.hasKmMax {
		v.Set("mileage_max_km", strconv.Itoa(q.kmMax))
	}
	if q.hasPriceMin {
		v.Set("price_min_usd", strconv.Itoa(q.priceMin))
	}
	if q.hasPriceMax {
		v.Set("price_max_usd", strconv.Itoa(q.priceMax))
	}
	if q.dateFrom != "" {
		v.Set("auction_date_from", q.dateFrom)
		v.Set("auction_date_to", q.dateTo)
	}
	if q.countMin > 0 {
		v.Set("auction_count_min", strconv.Itoa(q.countMin))
	}
	if q.countMax > 0 {
		v.Set("auction_count_max", strconv.Itoa(q.countMax))
	}
	for name, list := range map[string][]string{"fuel": q.fuels, "transmission": q.trans, "color": q.colors,
		"accident_grade": q.accident, "exterior_grade": q.exterior, "auction_status": q.statuses} {
		if len(list) > 0 {
			v.Set(name, strings.Join(list, ","))
		}
	}
	v.Set("sort", q.sort)
	v.Set("limit", strconv.Itoa(q.limit))
	return "/v1/vehicles?" + v.Encode()
}

// The README's body_style=van rule, written out again: trucks never; else
// a cargo word, a 2- or 3-seat word, or a 5- or 6-seat word on a model
// built as both van and people carrier. Words are whole, or without a
// generation number run into them.
var (
	oracleVanWords    = []string{"van", "밴", "cargo", "카고", "패널밴", "2인승", "3인승"}
	oracleVanBodies   = []string{"Staria", "Grand Starex", "Master", "Damas"}
	oracleTrucks      = []string{"Porter", "Bongo", "Labo", "Mighty", "Libero"}
	oracleVanBodySeat = []string{"5인승", "6인승"}
)

// match is the contract's predicate, written out for dealer and auction rows.
func (q oracleQuery) match(r *oracleRow) bool {
	auction := r.source == "glovis" || r.source == "kcar"
	asked := len(q.sources) == 0 || slices.Contains(q.sources, r.source) || (!auction && slices.Contains(q.sources, "dealer"))
	if !asked {
		return false
	}
	in := func(list []string, s string) bool {
		for _, x := range list {
			if strings.EqualFold(x, s) {
				return true
			}
		}
		return false
	}
	usd := int(math.Round(float64(r.krw) / 1350))
	switch {
	case len(q.makes) > 0 && !in(q.makes, r.make):
		return false
	case len(q.models) > 0 && !in(q.models, r.model):
		return false
	case q.yearMin > 0 && r.year < q.yearMin, q.yearMax > 0 && r.year > q.yearMax:
		return false
	case q.hasKmMax && r.km > q.kmMax:
		return false
	case q.hasPriceMin && usd < q.priceMin, q.hasPriceMax && usd > q.priceMax,
		(q.hasPriceMin || q.hasPriceMax) && r.krw == 0: // a price not published matches no price filter
		return false
	case len(q.fuels) > 0 && !slices.Contains(q.fuels, r.fuel):
		return false
	case len(q.trans) > 0 && !slices.Contains(q.trans, r.trans):
		return false
	case len(q.colors) > 0 && !slices.Contains(q.colors, r.color): // dealer lists show no colour: unknown never matches
		return false
	}
	// Auction-only filters: dealer rows have no grade, status, date or
	// count, so any of them excludes every dealer row.
	switch {
	case len(q.accident) > 0 && !slices.Contains(q.accident, r.accident),
		len(q.exterior) > 0 && !slices.Contains(q.exterior, r.exterior),
		len(q.statuses) > 0 && !slices.Contains(q.statuses, r.status):
		return false
	case q.dateFrom != "" && (!auction || r.day < q.dateFrom || r.day > q.dateTo):
		return false
	case q.countMin > 0 && (!auction || r.count < q.countMin), q.countMax > 0 && (!auction || r.count > q.countMax):
		return false
	}
	if q.keyword != "" {
		text := strings.ToLower(r.text)
		for _, w := range strings.Fields(strings.ToLower(q.keyword)) {
			if !strings.Contains(text, w) {
				return false
			}
		}
	}
	if q.van {
		if slices.Contains(oracleTrucks, r.model) {
			return false
		}
		found := false
		for _, w := range strings.FieldsFunc(strings.ToLower(r.vanText), func(c rune) bool {
			return !unicode.IsLetter(c) && !unicode.IsDigit(c)
		}) {
			found = found || slices.Contains(oracleVanWords, w) || slices.Contains(oracleVanWords, strings.TrimRight(w, "0123456789")) ||
				slices.Contains(oracleVanBodies, r.model) && slices.Contains(oracleVanBodySeat, w)
		}
		if !found {
			return false
		}
	}
	return true
}

// sameCar is the contract's cross-dealer identity: make, model, year,
// mileage and price.
func sameCar(r *oracleRow) string {
	return fmt.Sprintf("%s/%s/%d/%d/%d", strings.ToLower(r.make), strings.ToLower(r.model), r.year, r.km, r.krw)
}

// expect is the walk the query must produce.
func (q oracleQuery) expect(encar, danawa, auctions []oracleRow) []oracleRow {
	var out []oracleRow
	for i := range auctions {
		if q.match(&auctions[i]) {
			out = append(out, auctions[i])
		}
	}
	onEncar := map[string]bool{}
	for i := range encar {
		if q.match(&encar[i]) {
			out = append(out, encar[i])
			onEncar[sameCar(&encar[i])] = true
		}
	}
	for i := range danawa {
		if q.match(&danawa[i]) && !onEncar[sameCar(&danawa[i])] {
			out = append(out, danawa[i])
		}
	}
	slices.SortFunc(out, func(a, b oracleRow) int {
		var c int
		switch q.sort {
		case "price_asc", "price_desc":
			// A price not published (0) sorts after every known one.
			switch {
			case a.krw == 0 && b.krw == 0:
			case a.krw == 0:
				c = 1
			case b.krw == 0:
				c = -1
			case q.sort == "price_asc":
				c = cmp.Compare(a.krw, b.krw)
			default:
				c = cmp.Compare(b.krw, a.krw)
			}
		case "year_desc":
			c = cmp.Compare(b.year, a.year)
		case "mileage_asc":
			c = cmp.Compare(a.km, b.km)
		case "auction_date_asc":
			switch az, bz := a.date.IsZero(), b.date.IsZero(); {
			case !az && !bz:
				c = a.date.Compare(b.date)
			case az && bz: // dealer rows: newest listing first
				c = b.listed.Compare(a.listed)
			case az: // dealer rows have no auction date: after every auction row
				c = 1
			default:
				c = -1
			}
		}
		return cmp.Or(c, strings.Compare(a.id, b.id))
	})
	return out
}

// randomQuery draws a query over the simulator's makes and models.
// randomRanges draws the range filters (year, mileage, price) a random
// query may carry, the same way for dealer and auction queries.
func (q *oracleQuery) randomRanges(r *rand.Rand) {
	if r.IntN(5) == 0 {
		q.yearMin = 2017 + r.IntN(8)
	}
	if r.IntN(6) == 0 {
		q.yearMax = 2018 + r.IntN(8)
		q.yearMin = min(q.yearMin, q.yearMax)
	}
	if r.IntN(6) == 0 {
		q.hasKmMax, q.kmMax = true, 5000+r.IntN(100000)
	}
	if r.IntN(6) == 0 {
		q.hasPriceMin, q.priceMin = true, 5000+r.IntN(30000)
	}
	if r.IntN(6) == 0 {
		q.hasPriceMax, q.priceMax = true, q.priceMin+2000+r.IntN(40000)
	}
}

func randomQuery(r *rand.Rand, models map[string][]string) oracleQuery {
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
	sourceSets := [][]string{{"encar"}, {"danawa"}, {"dealer"}, {"encar", "danawa"}}
	q := oracleQuery{
		sources: sourceSets[r.IntN(len(sourceSets))],
		makes:   pick(makes, 1+r.IntN(3)),
		sort:    string(vehicle.Sorts[r.IntN(len(vehicle.Sorts))]),
	}
	if r.IntN(3) == 0 {
		var all []string
		for _, mk := range q.makes {
			all = append(all, models[mk]...)
		}
		q.models = pick(all, 1+r.IntN(2))
	}
	if r.IntN(4) == 0 {
		q.fuels = pick([]string{"gasoline", "diesel", "lpg", "electric", "hybrid"}, 1+r.IntN(2))
	}
	if r.IntN(6) == 0 {
		q.trans = pick([]string{"auto", "manual"}, 1)
	}
	if r.IntN(20) == 0 {
		q.colors = pick([]string{"black", "white"}, 1)
	}
	if r.IntN(8) == 0 {
		q.keyword = pick([]string{"4wd", "AWD", "노블레스", "프레스티지", "2.2", "sorento", "series", "santa", "m 스포츠"}, 1)[0]
	}
	if r.IntN(10) == 0 {
		q.van = true
	}
	q.randomRanges(r)
	limits := []int{1, 2, 3, 5, 7, 10, 25, 50, 100, 200}
	q.limit = limits[r.IntN(len(limits))]
	if r.IntN(3) == 0 {
		q.limit = 1 + r.IntN(200)
	}
	return q
}

// oracleAPI is the real service over the simulator, with a dealer call
// budget, the auction index restored from the simulator's crawl, and
// deadlines no busy machine reaches: the oracle is about rows.
func oracleAPI(t *testing.T, servers *registry.SimServers, calls map[vehicle.Source]int) *httptest.Server {
	t.Helper()
	keys := httpapi.NewKeys("stg")
	require.NoError(t, keys.Add(demoKey))
	codec, err := cursor.NewCodec("oracle-test-secret")
	require.NoError(t, err)
	file := auctionSnapshotsAt(t, t.TempDir())
	svc, err := service.New(service.Config{
		Sources: service.Upstreams(servers.URLs, time.Minute), CrawlInterval: time.Hour, Breaker: neverTrips, DealerCalls: calls,
		API:      httpapi.Deps{Cursors: codec, Keys: keys, FXRate: 1350, Deadline: 2 * time.Minute},
		Snapshot: file,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.NoError(t, svc.Restore())
	api := httptest.NewServer(svc.API)
	t.Cleanup(api.Close)
	return api
}

type oraclePage struct {
	Data []struct {
		ID string `json:"id"`
	} `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// oracleWalk follows next_cursor to the end and returns the ids served and
// how many pages were empty but for their cursor.
func oracleWalk(t *testing.T, client *http.Client, base, path string, maxPages int) (ids []string, empty int) {
	t.Helper()
	next := path
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, maxPages, "the walk does not end: %s", path)
		req, err := http.NewRequest(http.MethodGet, base+next, nil)
		require.NoError(t, err)
		req.Header.Set("x-api-key", demoKey)
		resp, err := client.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", next, body)
		require.Empty(t, resp.Header.Get("X-LMN-Partial-Dealer-Unavailable"), "%s: a source failed: %s", next, body)
		var p oraclePage
		require.NoError(t, json.Unmarshal(body, &p))
		for _, d := range p.Data {
			ids = append(ids, d.ID)
		}
		if p.NextCursor == nil {
			return ids, empty
		}
		if len(p.Data) == 0 {
			empty++
		}
		next = path + "&cursor=" + url.QueryEscape(*p.NextCursor)
	}
}

// oracleKnobs are LMN_ORACLE_CASES (or def) and LMN_ORACLE_SEED (or 1).
func oracleKnobs(t *testing.T, def int) (cases int, seed uint64) {
	cases, seed = def, 1
	if v := os.Getenv("LMN_ORACLE_CASES"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "LMN_ORACLE_CASES")
		cases = n
	}
	if v := os.Getenv("LMN_ORACLE_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "LMN_ORACLE_SEED")
		seed = n
	}
	return cases, seed
}

func TestOracleWalks(t *testing.T) {
	// 200 random walks, or 100 under the race detector: the walks look for
	// lost rows, which do not depend on it, and CI's race run must fit.
	cases, seed := oracleKnobs(t, 200)
	if raceDetector && os.Getenv("LMN_ORACLE_CASES") == "" {
		cases = 100
	}
	s := sim.New()
	servers, err := registry.StartSim(s)
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	encar, danawa := inventory(t, s)
	models := map[string][]string{}
	for _, r := range slices.Concat(encar, danawa) {
		if !slices.Contains(models[r.make], r.model) {
			models[r.make] = append(models[r.make], r.model)
		}
	}
	// Budgets from the production defaults down to one call, so that
	// pages end short or empty at a source's frontier.
	budgets := []map[vehicle.Source]int{
		nil,
		{vehicle.Encar: 1, vehicle.Danawa: 1},
		{vehicle.Encar: 2, vehicle.Danawa: 3},
	}
	apis := make([]*httptest.Server, len(budgets))
	for i, b := range budgets {
		apis[i] = oracleAPI(t, servers, b)
	}
	client := &http.Client{Timeout: 5 * time.Minute}
	type walkCase struct {
		q      oracleQuery
		budget int
	}
	// First the walks that once lost rows, at production budgets: Encar's
	// registration order, a budget spent before Encar's rows reached
	// Danawa's, and a budget spent before any match.
	var walks []walkCase
	for _, l := range []int{10, 25, 200} {
		walks = append(walks, walkCase{oracleQuery{sources: []string{"encar"}, makes: []string{"Hyundai"}, sort: "year_desc", limit: l}, 0})
	}
	walks = append(walks,
		walkCase{oracleQuery{sources: []string{"encar"}, makes: []string{"Kia"}, sort: "year_desc", limit: 10}, 0},
		walkCase{oracleQuery{sources: []string{"dealer"}, makes: []string{"Kia", "Hyundai"}, fuels: []string{"diesel"}, sort: "price_asc", limit: 7}, 0},
		walkCase{oracleQuery{sources: []string{"encar"}, makes: []string{"Kia", "Hyundai"}, fuels: []string{"diesel"}, trans: []string{"manual"},
			sort: "price_asc", limit: 1}, 0})
	if os.Getenv("LMN_ORACLE_LONG") != "" {
		// The same queries at every page size the contract names, under
		// every sort.
		for _, q := range []oracleQuery{
			{sources: []string{"encar"}, makes: []string{"Hyundai"}},
			{sources: []string{"encar"}, makes: []string{"Kia"}},
			{sources: []string{"dealer"}, makes: []string{"Kia", "Hyundai"}, fuels: []string{"diesel"}},
			{sources: []string{"encar"}, makes: []string{"Kia", "Hyundai"}, fuels: []string{"diesel"}, trans: []string{"manual"}},
		} {
			for _, sort := range vehicle.Sorts {
				for _, l := range []int{1, 7, 25, 50, 200} {
					q.sort, q.limit = string(sort), l
					walks = append(walks, walkCase{q, 0})
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(seed, 8))
	for i := range cases {
		q := randomQuery(r, models)
		// Ten full pages at most keeps the run short: small pages are
		// drawn for small results.
		if n := len(q.expect(encar, danawa, nil)); (n+q.limit-1)/q.limit > 10 {
			q.limit = min(200, (n+9)/10)
		}
		walks = append(walks, walkCase{q, i % len(budgets)})
	}
	byID := map[string]*oracleRow{}
	for j := range encar {
		byID[encar[j].id] = &encar[j]
	}
	for j := range danawa {
		byID[danawa[j].id] = &danawa[j]
	}
	emptyPages := 0
	for i, w := range walks {
		q, budget := w.q, w.budget
		want := q.expect(encar, danawa, nil)
		name := fmt.Sprintf("%d/budget%d%s", i, budget, q.path())
		t.Run(name, func(t *testing.T) {
			got, empty := oracleWalk(t, client, apis[budget].URL, q.path(), 5000)
			emptyPages += empty
			served := map[string]bool{}
			cars := map[string]string{}
			for _, id := range got {
				require.False(t, served[id], "%s served twice", id)
				served[id] = true
				if row := byID[id]; row != nil {
					// A site may list one car twice; two sites, never.
					k := sameCar(row)
					if other, ok := cars[k]; ok {
						require.Equal(t, byID[other].source, row.source, "%s and %s are the same car", other, id)
					}
					cars[k] = id
				}
			}
			var wantIDs []string
			for j := range want {
				wantIDs = append(wantIDs, want[j].id)
			}
			require.Equal(t, wantIDs, got, "walk of %s: %d rows, want %d", q.path(), len(got), len(want))
		})
	}
	if cases >= 100 {
		// The small budgets must have run out before a match somewhere, or
		// the walks above never tried a page that is empty but for its cursor.
		require.Positive(t, emptyPages, "no walk met an empty page")
	}
	t.Logf("%d walks, %d pages empty but for their cursor", len(walks), emptyPages)
}

// TestFilteredOutCountsWhatUpstreamsList: with an auction-only filter,
// X-LMN-Filtered-Out is the sum of what each dealer upstream lists for the
// filters it can be asked, counted here from the simulator's inventory:
// Encar's makes, models, price (whole 만원, widened), mileage and the
// registrations model years allow; Danawa's makes and models.
func TestFilteredOutCountsWhatUpstreamsList(t *testing.T) {
	s := sim.New()
	servers, err := registry.StartSim(s)
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	api := oracleAPI(t, servers, nil)
	for _, tc := range []struct {
		query                 string
		makes                 []string
		kmMax, usdMin, usdMax int
		yearMin, yearMax      int
	}{
		{query: "make=Kia", makes: []string{"Kia"}},
		{query: "make=Kia,Hyundai&mileage_max_km=60000&price_min_usd=12000&price_max_usd=25000",
			makes: []string{"Kia", "Hyundai"}, kmMax: 60000, usdMin: 12000, usdMax: 25000},
		{query: "make=Genesis&year_min=2021&year_max=2022", makes: []string{"Genesis"}, yearMin: 2021, yearMax: 2022},
	} {
		want := 0
		for _, l := range s.EncarListings() {
			mk, _ := english(t, l)
			switch {
			case l.Sold, !slices.Contains(tc.makes, mk),
				tc.kmMax > 0 && l.MileageKm > tc.kmMax,
				tc.usdMin > 0 && l.PriceManwon < int(math.Floor((float64(tc.usdMin)-0.5)*1350/10000)),
				tc.usdMax > 0 && l.PriceManwon > int(math.Ceil((float64(tc.usdMax)+0.5)*1350/10000)),
				tc.yearMin > 0 && l.Registered < (tc.yearMin-1)*100,
				tc.yearMax > 0 && l.Registered > (tc.yearMax+2)*100+12:
				continue
			}
			want++ // lease, rental and duplicate ads are in Encar's own count
		}
		for _, l := range s.DanawaListings() {
			if mk, _ := english(t, l); slices.Contains(tc.makes, mk) {
				want++
			}
		}
		req, err := http.NewRequest(http.MethodGet, api.URL+"/v1/vehicles?source=dealer&accident_grade=A&"+tc.query, nil)
		require.NoError(t, err)
		req.Header.Set("x-api-key", demoKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, tc.query)
		require.Equal(t, fmt.Sprintf("dealer=%d", want), resp.Header.Get("X-LMN-Filtered-Out"), tc.query)
	}
}
