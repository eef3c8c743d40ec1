package encar

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// simAnswer is the simulator's Encar search answer to s, asked the way
// Client.Search asks: the same shape as the real list/general answers
// (unused arrays, photo objects, numbers as ints, floats and strings), with
// the simulator's inventory in it.
func simAnswer(b *testing.B, s Search) []byte {
	b.Helper()
	rec := httptest.NewRecorder()
	sim.New().Encar().ServeHTTP(rec, httptest.NewRequest("GET", "/search/car/list/general?count=true&q="+
		url.QueryEscape(Expression(s))+"&sr="+url.QueryEscape(fmt.Sprintf("|%s|%d|%d", SortCode(s.Sort), s.Offset, s.Count)), nil))
	body := rec.Body.Bytes()
	l, err := ExtractList(body, s.Offset, s.Count)
	if err != nil || l.Raw != s.Count {
		b.Fatalf("sim answer: %d rows, %v", l.Raw, err)
	}
	return body
}

func benchmarkExtractList(b *testing.B, s Search) {
	body := simAnswer(b, s)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ExtractList(body, s.Offset, s.Count); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtractList50 decodes the answer a dealer request reads
// (make=Hyundai&sort=price_asc&limit=50: one Encar call of 50 rows).
func BenchmarkExtractList50(b *testing.B) {
	benchmarkExtractList(b, Search{Makes: []string{"Hyundai"}, Sort: vehicle.SortPriceAsc, Count: 50})
}

// BenchmarkExtractList500 decodes a 500-row search answer, the largest
// Encar serves (budget: a few ms).
func BenchmarkExtractList500(b *testing.B) {
	benchmarkExtractList(b, Search{Count: 500})
}
