package danawa

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lmn/aggregator/sim"
)

// page20 is the simulator's answer to the request the service makes for
// make=Hyundai&sort=price_asc: a full list page of 20 rows (and one ad
// between them). No real Danawa page could be saved and testdata's pages
// hold 8 rows, so the simulator's page is the realistic 20-row one we have;
// it is written without indentation, so a real page's white space and
// scripts cost a little more than here.
func page20(b *testing.B) []byte {
	b.Helper()
	rec := httptest.NewRecorder()
	sim.New().Danawa().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/usedcar/?Work=list&Tab=list&Page=1&Order=2&Brand=303", nil))
	body := rec.Body.Bytes()
	if n := strings.Count(string(body), `class="name"`); n != 20 {
		b.Fatalf("the simulator's page has %d rows, not 20", n)
	}
	return body
}

// BenchmarkExtractList20 reads a 20-row list page. warm is the steady
// state of a service answering the same cars page after page (titles,
// links, photos and regions remembered); cold empties those memos before
// every page, as for cars never seen by this package (the dictionary's own
// memo of model matches, in korean, stays warm: nothing here can empty it).
func BenchmarkExtractList20(b *testing.B) {
	body := page20(b)
	check := func(b *testing.B, l *List, err error) {
		if err != nil {
			b.Fatal(err)
		}
		if len(l.Rows) == 0 {
			b.Fatal("no row read")
		}
	}
	b.Run("warm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l, err := ExtractList(body, 1)
			check(b, l, err)
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			forget()
			b.StartTimer()
			l, err := ExtractList(body, 1)
			check(b, l, err)
		}
	})
}

// forget empties the memos.
func forget() {
	clearMemo(titles)
	clearMemo(links)
	clearMemo(photos)
	clearMemo(regions)
}

func clearMemo[V any](c *memo[V]) {
	c.mu.Lock()
	c.m = make(map[string]V)
	c.mu.Unlock()
}
