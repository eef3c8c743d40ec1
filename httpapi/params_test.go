package httpapi

import (
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/vehicle"
)

func issuesOf(t *testing.T, err error) map[string]bool {
	t.Helper()
	var e *Error
	require.True(t, errors.As(err, &e), "want a validation error, got %v", err)
	require.Equal(t, "validation_error", e.Code)
	paths := map[string]bool{}
	for _, i := range e.Details["issues"].([]Issue) {
		paths[i.Path] = true
	}
	return paths
}

func TestParseSearchRejects(t *testing.T) {
	for _, tc := range []struct{ query, path string }{
		{"source=sk&make=Kia", "source"},
		{"source=lotte&make=Kia", "source"},
		{"source=glovis,ebay", "source"},
		{"source=", "source"},
		{"source=glovis&make=Lada", "make"},
		{"source=glovis&make=Kia,", "make"},
		{"source=glovis&model=Sorento", "model"},
		{"source=glovis&make=Kia&model=Sonata", "model"},
		{"make=Kia&make=Kia", "make"},
		{"makes=Kia", "makes"},
		{"source=dealer", "make"},
		{"source=glovis&body_style=sedan", "body_style"},
		{"source=glovis&year_min=twenty", "year_min"},
		{"source=glovis&year_min=-1", "year_min"},
		{"source=glovis&year_min=2022&year_max=2020", "year_min"},
		{"source=glovis&year_max=3000", "year_max"},
		{"source=glovis&mileage_max_km=1.5", "mileage_max_km"},
		{"source=glovis&price_min_usd=20000&price_max_usd=10000", "price_min_usd"},
		{"source=glovis&price_max_usd=-5", "price_max_usd"},
		{"source=glovis&fuel=coal", "fuel"},
		{"source=glovis&transmission=steam", "transmission"},
		{"source=glovis&color=teal", "color"},
		{"source=glovis&options_include=jetpack", "options_include"},
		{"make=Kia&options_include=dashcam", "options_include"},
		{"source=dealer&make=Kia&options_include=panoramic_sunroof", "options_include"},
		{"source=glovis&accident_grade=E", "accident_grade"},
		{"source=glovis&exterior_grade=A%2B", "exterior_grade"},
		{"source=glovis&auction_status=won", "auction_status"},
		{"source=glovis&auction_date_from=2025-06-01", "auction_date_to"},
		{"source=glovis&auction_date_to=2025-06-01", "auction_date_from"},
		{"source=glovis&auction_date_from=2025-06-31&auction_date_to=2025-07-01", "auction_date_from"},
		{"source=glovis&auction_date_from=2025-07-01&auction_date_to=2025-06-01", "auction_date_from"},
		{"source=glovis&auction_count_min=3&auction_count_max=1", "auction_count_min"},
		{"source=glovis&auction_count_max=x", "auction_count_max"},
		{"source=glovis&sort=newest", "sort"},
		{"source=glovis&limit=0", "limit"},
		{"source=glovis&limit=201", "limit"},
		{"source=glovis&limit=", "limit"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			_, err = parseSearch(v, 1350)
			assert.True(t, issuesOf(t, err)[tc.path], "want an issue at %s", tc.path)
		})
	}
}

func TestParseSearchReportsEveryIssue(t *testing.T) {
	v, _ := url.ParseQuery("makes=Kia&limit=0&sort=x&fuel=coal&year_min=2022&year_max=2020")
	_, err := parseSearch(v, 1350)
	assert.Equal(t, map[string]bool{"makes": true, "limit": true, "sort": true, "fuel": true, "year_min": true, "make": true}, issuesOf(t, err))
}

func TestParseSearchAccepts(t *testing.T) {
	v, _ := url.ParseQuery("source=glovis,encar&make=kia,HYUNDAI&model=sorento,Avante&keyword=노블레스&body_style=van" +
		"&year_min=2018&year_max=2022&mileage_max_km=90000&price_min_usd=10000&price_max_usd=30000&fuel=diesel,hybrid" +
		"&transmission=auto&color=black,white&options_include=sunroof,navigation&sort=price_desc&limit=200")
	q, err := parseSearch(v, 1350)
	require.NoError(t, err)
	assert.Equal(t, []vehicle.Source{vehicle.Glovis, vehicle.Encar}, q.Sources)
	assert.Equal(t, []string{"Kia", "Hyundai"}, q.Makes)
	assert.Equal(t, []string{"Sorento", "Avante"}, q.Models)
	assert.True(t, q.Van)
	assert.Equal(t, 2018, q.YearMin)
	assert.Equal(t, 90000, *q.MileageMaxKm)
	assert.Equal(t, []string{"diesel", "hybrid"}, q.Fuels)
	assert.Equal(t, vehicle.SortPriceDesc, q.Sort)
	assert.Equal(t, 200, q.Limit)
	assert.False(t, q.AuctionOnly())

	v, _ = url.ParseQuery("source=glovis&accident_grade=A,B&auction_date_from=2025-06-01&auction_date_to=2025-06-30&auction_count_min=2")
	q, err = parseSearch(v, 1350)
	require.NoError(t, err)
	assert.True(t, q.AuctionOnly())
	assert.Equal(t, 50, q.Limit, "default limit")
	assert.Equal(t, vehicle.SortAuctionDateAsc, q.Sort, "default sort")
}

// TestEnumsIgnoreCase: every enum value, sort included, is accepted in any
// case and normalised to the contract's spelling.
func TestEnumsIgnoreCase(t *testing.T) {
	v, _ := url.ParseQuery("source=GLOVIS,Encar&make=KIA&sort=Price_Desc&fuel=Diesel&transmission=AUTO&color=Black" +
		"&options_include=SunRoof&body_style=VAN&accident_grade=a&exterior_grade=b&auction_status=Upcoming")
	q, err := parseSearch(v, 1350)
	require.NoError(t, err)
	assert.Equal(t, []vehicle.Source{vehicle.Glovis, vehicle.Encar}, q.Sources)
	assert.Equal(t, vehicle.SortPriceDesc, q.Sort)
	assert.Equal(t, []string{"diesel"}, q.Fuels)
	assert.Equal(t, []string{"auto"}, q.Transmissions)
	assert.Equal(t, []string{"black"}, q.Colors)
	assert.Equal(t, []string{"sunroof"}, q.Options)
	assert.True(t, q.Van)
	assert.Equal(t, []string{"A"}, q.AccidentGrades)
	assert.Equal(t, []string{"B"}, q.ExteriorGrades)
	assert.Equal(t, []string{"upcoming"}, q.AuctionStatuses)
}

func TestQueryIssues(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		paths []string
	}{
		{"make=Kia&fuel=diesel", nil},
		{"keyword=%EB%85%B8%EB%B8%94%EB%A0%88%EC%8A%A4&make=Kia%2CHyundai", nil},
		{"make=Kia&&limit=5&", nil},
		{"make=%ZZ", []string{"make"}},
		{"make=Kia&year_min=20%2", []string{"year_min"}},
		{"make=Kia;fuel=x", []string{"make"}},
		{"make=Kia&fuel=x;y&%G1=2", []string{"fuel", "%G1"}},
		{"keyword=a%3Bb", nil},
	} {
		var paths []string
		for _, i := range queryIssues(tc.raw) {
			paths = append(paths, i.Path)
		}
		assert.Equal(t, tc.paths, paths, tc.raw)
	}
}

func TestMixedPaginationRestartsTheRequestedSources(t *testing.T) {
	restart := func(srcs ...vehicle.Source) any { return mixedPagination(srcs).Details["restart"] }
	type r = []map[string]string
	assert.Equal(t, r{{"source": "glovis"}, {"source": "encar"}}, restart(vehicle.Glovis, vehicle.Encar))
	assert.Equal(t, r{{"source": "glovis"}, {"source": "danawa"}}, restart(vehicle.Glovis, vehicle.Danawa))
	assert.Equal(t, r{{"source": "glovis"}, {"source": "dealer"}}, restart(vehicle.Glovis, vehicle.Encar, vehicle.Danawa))
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"/v1/vehicles": "/v1/vehicles", "//v1/vehicles": "/v1/vehicles", "/v1/./vehicles": "/v1/vehicles",
		"/v1/x/../vehicles": "/v1/vehicles", "/v1/vehicles/": "/v1/vehicles/", "/": "/", "": "/",
	} {
		assert.Equal(t, want, cleanPath(in), in)
	}
}
