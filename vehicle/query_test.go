package vehicle

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func ids(vs []Vehicle) []string {
	out := make([]string, len(vs))
	for i := range vs {
		out[i] = vs[i].ID
	}
	return out
}

func TestCompareTotalOrderNullsLast(t *testing.T) {
	d1 := time.Date(2025, 6, 20, 13, 0, 0, 0, KST)
	rows := []Vehicle{
		{ID: "encar_2", PriceKRW: 0, Year: 0, MileageKm: 5, ListedAt: d1},
		{ID: "glovis_b", PriceKRW: 100, Year: 2020, MileageKm: 9, Auction: &Auction{Date: d1}},
		{ID: "glovis_a", PriceKRW: 100, Year: 2021, MileageKm: 9, Auction: &Auction{Date: d1}},
		{ID: "encar_1", PriceKRW: 50, Year: 2022, MileageKm: 1, ListedAt: d1.Add(time.Hour)},
		{ID: "danawa_1", PriceKRW: 70, Year: 2019, MileageKm: 3},
	}
	for sort, want := range map[Sort][]string{
		SortAuctionDateAsc: {"glovis_a", "glovis_b", "encar_1", "encar_2", "danawa_1"}, // dealers newest first, unknown date last
		SortPriceAsc:       {"encar_1", "danawa_1", "glovis_a", "glovis_b", "encar_2"}, // no price last
		SortPriceDesc:      {"glovis_a", "glovis_b", "danawa_1", "encar_1", "encar_2"}, // no price last, ties by id
		SortYearDesc:       {"encar_1", "glovis_a", "glovis_b", "danawa_1", "encar_2"},
		SortMileageAsc:     {"encar_1", "danawa_1", "encar_2", "glovis_a", "glovis_b"},
	} {
		got := slices.Clone(rows)
		slices.SortFunc(got, func(a, b Vehicle) int { return Compare(sort, &a, &b) })
		assert.Equal(t, want, ids(got), sort)
	}
}

func TestMatches(t *testing.T) {
	n := func(i int) *int { return &i }
	v := Vehicle{Make: "Kia", Model: "Sorento", Trim: "디젤 2.2 4WD 노블레스", Year: 2021, MileageKm: 40000, Fuel: FuelDiesel,
		Transmission: TransmissionAuto, Color: "black", Options: []string{"navigation", "sunroof"}, PriceKRW: 27_000_000,
		AccidentGrade: "A", Auction: &Auction{Date: time.Date(2025, 6, 20, 13, 0, 0, 0, KST), Status: AuctionUpcoming, Count: 2}}
	for name, tc := range map[string]struct {
		q    Query
		want bool
	}{
		"no filter":       {Query{}, true},
		"make any case":   {Query{Makes: []string{"kia"}}, true},
		"other make":      {Query{Makes: []string{"Hyundai"}}, false},
		"keyword words":   {Query{Keyword: "SORENTO 노블레스"}, true},
		"keyword missing": {Query{Keyword: "sorento gravity"}, false},
		"year range":      {Query{YearMin: 2021, YearMax: 2021}, true},
		"too old":         {Query{YearMin: 2022}, false},
		"mileage":         {Query{MileageMaxKm: n(39999)}, false},
		"price in usd":    {Query{PriceMaxUSD: n(20000), FXRate: 1350}, true}, // $20,000
		"price too low":   {Query{PriceMaxUSD: n(19999), FXRate: 1350}, false},
		"options all":     {Query{Options: []string{"sunroof", "navigation"}}, true},
		"option missing":  {Query{Options: []string{"dashcam"}}, false},
		"grade":           {Query{AccidentGrades: []string{"A", "B"}}, true},
		"auction day":     {Query{AuctionDateFrom: time.Date(2025, 6, 20, 0, 0, 0, 0, KST), AuctionDateTo: time.Date(2025, 6, 20, 0, 0, 0, 0, KST)}, true},
		"auction after":   {Query{AuctionDateFrom: time.Date(2025, 6, 21, 0, 0, 0, 0, KST), AuctionDateTo: time.Date(2025, 6, 30, 0, 0, 0, 0, KST)}, false},
		"count":           {Query{AuctionCountMin: n(3)}, false},
		"van":             {Query{Van: true}, false},
		"unknown fuel no": {Query{Fuels: []string{FuelHybrid}}, false},
	} {
		assert.Equal(t, tc.want, tc.q.Matches(&v), name)
	}
	dealer := Vehicle{Make: "Kia", Model: "Sorento"}
	assert.False(t, Query{AuctionStatuses: []string{AuctionUpcoming}}.Matches(&dealer), "auction-only filters exclude dealer rows")
}

func TestIsVanByWord(t *testing.T) {
	for _, tc := range []struct {
		model, trim string
		want        bool
	}{
		{"Porter", "2 초장축", false}, // a truck
		{"Porter II", "초장축 슈퍼캡 3인승", false},
		{"포터2", "", false},
		{"Bongo", "III 1톤 킹캡", false},
		{"Staria", "2.2 투어러 9인승", false}, // a passenger minivan
		{"Staria", "2.2 카고 3인승 스마트", true},
		{"Staria", "2.2 카고 5인승", true},
		{"Carnival", "2.2 9인승 노블레스", false},
		{"Grand Starex", "밴 3인승 스마트", true},
		{"Grand Starex", "왜건 12인승 스마트", false},
		{"Grand Starex", "5인승 CVX", true},
		{"Ray", "밴 1.0", true},
		{"Ray Van", "", true},
		{"Ray", "1.0 프레스티지", false},
		{"Avante", "1.6 인스퍼레이션", false},
		{"Avante", "CN7 1.6 모던", false},
		{"Tucson", "2.0 디젤 5인승", false},
		{"Santa Fe", "카고 2인승", true},
		{"Sorento", "2.2 (밴)", true},
		{"Sonata", "2.0 12인승", false},
		{"K5", "Vantage", false},
	} {
		assert.Equal(t, tc.want, IsVan(&Vehicle{Model: tc.model, Trim: tc.trim}), "%s %s", tc.model, tc.trim)
	}
}
