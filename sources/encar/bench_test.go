package encar

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/lmn/aggregator/sim"
)

// BenchmarkExtractList500 decodes a 500-row search answer (budget: a few ms).
func BenchmarkExtractList500(b *testing.B) {
	rec := httptest.NewRecorder()
	sim.New().Encar().ServeHTTP(rec, httptest.NewRequest("GET", "/search/car/list/general?count=true&q="+
		url.QueryEscape("(And.Hidden.N.)")+"&sr="+url.QueryEscape("|ModifiedDate|0|500"), nil))
	body := rec.Body.Bytes()
	l, err := ExtractList(body, 0, 500)
	if err != nil || l.Raw != 500 {
		b.Fatalf("sim page: %v", err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ExtractList(body, 0, 500); err != nil {
			b.Fatal(err)
		}
	}
}
