package sim

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/lmn/aggregator/korean"
)

// BenchmarkDealerQuery serves the five upstream calls of the load test's
// request (source=dealer&make=Hyundai&sort=price_asc&limit=50): one Encar
// search of 61 rows and Danawa's first four list pages. In a load run the
// simulator shares the machine with the service, so what it costs is taken
// from the service's latency.
func BenchmarkDealerQuery(b *testing.B) {
	s := New()
	encar, danawa := s.Encar(), s.Danawa()
	hyundai, _ := korean.MakeByEnglish("Hyundai")
	calls := []struct {
		h http.Handler
		u string
	}{{encar, "/search/car/list/general?count=true&q=" +
		url.QueryEscape("(And.Hidden.N._.(C.CarType.Y._.(C.Manufacturer."+hyundai.Korean+".)))") + "&sr=" + url.QueryEscape("|PriceAsc|0|61")}}
	for p := 1; p <= 4; p++ {
		calls = append(calls, struct {
			h http.Handler
			u string
		}{danawa, "/usedcar/?Work=list&Tab=list&Order=2&Brand=" + hyundai.DanawaBrand + "&Page=" + strconv.Itoa(p)})
	}
	// rendered: every answer made afresh; remembered: as a load run's
	// repeated query is served.
	for _, remembered := range []bool{false, true} {
		b.Run(map[bool]string{false: "rendered", true: "remembered"}[remembered], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !remembered {
					s.lists.clear()
				}
				for _, c := range calls {
					w := httptest.NewRecorder()
					c.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, c.u, nil))
					if w.Code != http.StatusOK || w.Body.Len() < 10_000 {
						b.Fatalf("%s: status %d, %d bytes", c.u, w.Code, w.Body.Len())
					}
				}
			}
		})
	}
}
