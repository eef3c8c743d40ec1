package sim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClockControl: the control API moves the clock the auction ages by.
func TestClockControl(t *testing.T) {
	s := New()
	h := s.Control()
	put := func(body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/sim/clock", strings.NewReader(body)))
		return rec
	}
	rec := put(`{"now":"2025-06-20T18:00:00+09:00"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.True(t, s.Now().Equal(time.Date(2025, 6, 20, 9, 0, 0, 0, time.UTC)))
	assert.Equal(t, http.StatusBadRequest, put(`{"now":"soon"}`).Code)
	assert.Equal(t, http.StatusBadRequest, put(`{}`).Code)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sim/clock", nil))
	assert.JSONEq(t, `{"now":"2025-06-20T18:00:00+09:00"}`, rec.Body.String())
}

// TestAuctionAges: before a round its lots have no result; after it, each
// has its own, and unsold cars are back in the next round.
func TestAuctionAges(t *testing.T) {
	s := New()
	round946 := time.Date(2025, 6, 20, 13, 0, 0, 0, kst)
	count := func() (upcoming, decided int) {
		for _, l := range s.GlovisLots() {
			if l.Date.Equal(round946) {
				if l.Status == "upcoming" {
					upcoming++
				} else {
					decided++
				}
			}
		}
		return
	}
	u, d := count()
	assert.Zero(t, d, "no result before the round")
	s.SetNow(round946.Add(ResultsAfter))
	u2, d2 := count()
	assert.Zero(t, u2, "every lot has its result once the round is over")
	assert.Equal(t, u, d2)

	rounds := map[string]int{}
	for _, l := range s.GlovisLots() {
		rounds[l.Goods]++
	}
	again := 0
	for _, n := range rounds {
		if n > 1 {
			again++
		}
	}
	assert.Greater(t, again, 100, "unsold cars come back")
}

// TestGlovisFuelsAgreeWithTitles: a lot whose title names its fuel shows
// that fuel in its fuel column.
func TestGlovisFuelsAgreeWithTitles(t *testing.T) {
	s := New()
	checked := 0
	for _, l := range s.glovis {
		title := l.gen + " " + l.trim
		want := ""
		switch {
		case strings.Contains(title, "하이브리드"):
			want = "하이브리드"
		case strings.Contains(title, "디젤"):
			want = "경유"
		case strings.Contains(title, "LPe"), strings.Contains(title, "LPG"):
			want = "LPG"
		}
		if want != "" {
			checked++
			assert.Equal(t, want, glovisFuel[l.fuel], title)
		}
	}
	assert.Greater(t, checked, 100)
}

// TestDanawaLinksVary: the simulated list uses several bridge-link shapes.
func TestDanawaLinksVary(t *testing.T) {
	rec := httptest.NewRecorder()
	New().Danawa().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/usedcar/?Work=list&Tab=list&Page=1&Order=1", nil))
	body := rec.Body.String()
	for _, shape := range []string{"carSeq=", "cid=", `href="loadingBridge.php?partner=`} {
		assert.Contains(t, body, shape)
	}
}
