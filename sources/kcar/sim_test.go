package kcar

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources"
)

// TestSimulatorReadsLikeTheSite: every page the simulated site serves,
// before and after an auction, is read without drift, and each row says
// what the simulator's inventory says of its lot.
func TestSimulatorReadsLikeTheSite(t *testing.T) {
	s := sim.New()
	site := httptest.NewServer(s.KCar())
	defer site.Close()
	c := NewClient(site.URL, "", httpClient())
	c.PageSize = 30
	for _, now := range []time.Time{s.Now(), time.Date(2025, 6, 19, 19, 0, 0, 0, time.FixedZone("KST", 9*3600))} {
		s.SetNow(now)
		want := map[string]sim.KCarLot{}
		for _, l := range s.KCarLots() {
			if l.Listed {
				want[l.ID] = l
			}
		}
		got := 0
		for _, pt := range []string{"wCfm", "wRst"} {
			for _, lane := range []string{"A", "B", "C", "D"} {
				for p := 1; ; p++ {
					l, err := c.List(context.Background(), ListPage{AucType: "weekly", PageType: pt, Lane: lane, Page: p})
					require.NoError(t, err, "%s %s page %d", pt, lane, p)
					for _, lot := range l.Lots {
						w, ok := want[lot.Vehicle.ID]
						require.True(t, ok, lot.Vehicle.ID)
						got++
						v := lot.Vehicle
						assert.Equal(t, w.Status, v.Auction.Status, v.ID)
						assert.Equal(t, w.Plate, v.LicensePlate)
						assert.Equal(t, int64(w.PriceWon), v.PriceKRW)
						assert.Equal(t, w.MileageKm, v.MileageKm)
						assert.Equal(t, w.Year, v.Year)
						assert.Equal(t, w.Grade, v.AccidentGrade+strconv.Itoa(gradeNumber(v.ExteriorGrade, w.Grade)), v.ID)
						assert.Equal(t, w.Lane, lot.Lane)
						assert.True(t, w.Date.Equal(v.Auction.Date))
						assert.NotEmpty(t, v.Make)
					}
					if len(l.Lots) < c.PageSize {
						break
					}
				}
			}
		}
		assert.Equal(t, len(want), got, "every listed lot read once at %s", now)
	}
}

// gradeNumber picks, among the numbers that fold onto exterior grade g,
// the one the simulator's grade names, so the comparison checks the fold.
func gradeNumber(g, simGrade string) int {
	n, _ := strconv.Atoi(simGrade[1:])
	if ExteriorGrade(n) == g {
		return n
	}
	return -1
}

// TestSimulatorFaultsReadAsTheirKind: each fault mode of the simulated
// site reaches the crawler as the failure kind the breaker and the
// partners' headers are told.
func TestSimulatorFaultsReadAsTheirKind(t *testing.T) {
	s := sim.New()
	site := httptest.NewServer(s.KCar())
	defer site.Close()
	defer s.Close()
	c := NewClient(site.URL, "", sources.NewClient(sources.ClientConfig{Timeout: time.Minute, MaxBody: 8 << 20}))
	page := ListPage{AucType: "weekly", PageType: "wCfm", Lane: "B", Page: 1}
	for mode, want := range map[string]string{
		sim.Down: "http_5xx", sim.HTTP403: "blocked", sim.Blocked: "login", sim.Drift: "drift",
		sim.Truncated: "error", sim.Huge: "oversize", sim.Healthy: "success",
	} {
		require.NoError(t, s.SetFault(sim.KCarName, sim.Fault{Mode: mode}))
		_, err := c.List(context.Background(), page)
		assert.Equal(t, want, sources.Outcome(err), "%s: %v", mode, err)
	}
}
