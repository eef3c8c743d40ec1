package glovis

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lmn/aggregator/sim"
)

// BenchmarkExtractList99 parses a 99-row exhibit-list page (budget: a few ms).
func BenchmarkExtractList99(b *testing.B) {
	form := url.Values{"atn": {"946"}, "acc": {"20"}, "page": {"1"}, "rowLimit": {"99"}}
	req := httptest.NewRequest(http.MethodPost, "/auction/exhibitListInclude.do", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	sim.New().Glovis().ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	l, err := ExtractList(body, time.Now())
	if err != nil || len(l.Lots) != 99 {
		b.Fatalf("sim page: %v, %d lots", err, len(l.Lots))
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ExtractList(body, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
