package kcar

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// newCrawler leaves AucType to its default. Its deadline is one no busy machine misses: these tests are
// about what a crawl reads, and the simulator never hangs in them.
func newCrawler(t *testing.T, base, snapshot string) *Crawler {
	hc := sources.NewClient(sources.ClientConfig{Timeout: time.Minute})
	return &Crawler{Client: NewClient(base, "", hc), Store: &Store{}, Interval: time.Hour,
		Snapshot: snapshot, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Parallel: 4}
}

func simSite(t *testing.T) (*sim.Sim, string) {
	s := sim.New()
	srv := httptest.NewServer(s.KCar())
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close)
	return s, srv.URL
}

// wantCounts is auction.count computed from the simulator's inventory: a
// car is its plate, and it counts the listed auctions it was put up at
// up to this one (the crawler knows only what the pages show).
func wantCounts(lots []sim.KCarLot) map[string]int {
	out := map[string]int{}
	for _, l := range lots {
		if !l.Listed {
			continue
		}
		for _, o := range lots {
			if o.Listed && o.Plate == l.Plate && !o.Date.After(l.Date) {
				out[l.ID]++
			}
		}
	}
	return out
}

// TestCrawlSnapshotRestore: a crawl walks every page of every lane of both
// page types, writes a snapshot, and a restarted service serves it before
// K Car answers.
func TestCrawlSnapshotRestore(t *testing.T) {
	s, base := simSite(t)
	snap := filepath.Join(t.TempDir(), "kcar.json")
	c := newCrawler(t, base, snap)
	c.Now = s.Now
	c.Client.PageSize = 40 // several pages a lane
	require.NoError(t, c.Refresh(context.Background()))
	ix := c.Store.Index()
	require.NotNil(t, ix)
	lots := s.KCarLots()
	want := map[string]sim.KCarLot{}
	for _, l := range lots {
		if l.Listed {
			want[l.ID] = l
		}
	}
	counts := wantCounts(lots)
	assert.Equal(t, len(want), ix.Len(), "every lot of every page of every lane shown")
	dates, statuses, seenCounts := map[int64]bool{}, map[string]int{}, map[int]int{}
	for _, v := range ix.Rows() {
		w, ok := want[v.ID]
		require.True(t, ok, "%s is not a listed lot", v.ID)
		assert.Equal(t, w.Status, v.Auction.Status, v.ID)
		assert.Equal(t, counts[v.ID], v.Auction.Count, v.ID)
		dates[v.Auction.Date.Unix()] = true
		statuses[v.Auction.Status]++
		seenCounts[v.Auction.Count]++
	}
	assert.Len(t, dates, 2, "the auction with results and the next one")
	assert.Positive(t, statuses[vehicle.AuctionSold])
	assert.Positive(t, statuses[vehicle.AuctionNoBid])
	assert.Positive(t, statuses[vehicle.AuctionUpcoming])
	assert.Positive(t, seenCounts[2], "cars back from the last auction are counted twice")
	_, err := os.Stat(snap)
	require.NoError(t, err, "snapshot written")

	require.NoError(t, s.SetFault(sim.KCarName, sim.Fault{Mode: sim.Down}))
	assert.Error(t, c.Refresh(context.Background()))
	assert.Same(t, ix, c.Store.Index(), "a failed crawl keeps the previous index")
	st := c.Store.Status()
	assert.Contains(t, st.LastError, "status 503")
	assert.Equal(t, int64(1), st.Failures)
	assert.True(t, st.Loaded)

	require.NoError(t, s.SetFault(sim.KCarName, sim.Fault{Mode: sim.Drift}))
	err = c.Refresh(context.Background())
	require.ErrorIs(t, err, sources.ErrDrift, "a renamed field fails the crawl")
	assert.Contains(t, err.Error(), "MILG")
	assert.Same(t, ix, c.Store.Index())

	require.NoError(t, s.SetFault(sim.KCarName, sim.Fault{Mode: sim.Blocked}))
	require.ErrorIs(t, c.Refresh(context.Background()), sources.ErrLogin, "an expired session is a login failure")

	restarted := newCrawler(t, base, snap)
	require.NoError(t, restarted.Restore())
	rix := restarted.Store.Index()
	require.NotNil(t, rix, "restored from the snapshot while K Car is down")
	assert.Equal(t, ix.Len(), rix.Len())
	assert.Equal(t, ix.BuiltAt().Unix(), rix.BuiltAt().Unix())
	for _, v := range ix.Rows() {
		a, _ := ix.Lot(v.ID)
		b, ok := rix.Lot(v.ID)
		require.True(t, ok)
		assert.Equal(t, [3]string{a.CarID, a.AucCode, a.Lane}, [3]string{b.CarID, b.AucCode, b.Lane})
		assert.Equal(t, a.Vehicle.Auction.Count, b.Vehicle.Auction.Count)
		assert.True(t, a.Vehicle.Auction.Date.Equal(b.Vehicle.Auction.Date))
	}

	require.NoError(t, os.WriteFile(snap, []byte("{torn"), 0o644))
	assert.Error(t, newCrawler(t, base, snap).Restore(), "a corrupt snapshot is reported")
}

// TestStatusFollowsAuction: a lot upcoming at one crawl shows its result
// at the first crawl after its bidding closes, with the simulator's clock
// moved between the two crawls; a car unsold then is counted again when
// it comes back.
func TestStatusFollowsAuction(t *testing.T) {
	s, base := simSite(t)
	c := newCrawler(t, base, "")
	c.Now = s.Now
	require.NoError(t, c.Refresh(context.Background()))
	var next time.Time
	upcoming := map[string]bool{}
	for _, v := range c.Store.Index().Rows() {
		if v.Auction.Date.After(s.Now()) {
			next = v.Auction.Date
			require.Equal(t, vehicle.AuctionUpcoming, v.Auction.Status, v.ID)
			upcoming[v.ID] = true
		}
	}
	require.NotEmpty(t, upcoming)

	s.SetNow(next.Add(sim.KCarWindow + time.Minute))
	require.NoError(t, c.Refresh(context.Background()))
	truth := map[string]string{}
	lots := s.KCarLots()
	for _, l := range lots {
		truth[l.ID] = l.Status
	}
	ix := c.Store.Index()
	moved := map[string]int{}
	for id := range upcoming {
		lot, ok := ix.Lot(id)
		require.True(t, ok, "%s still listed after its auction", id)
		assert.Equal(t, truth[id], lot.Vehicle.Auction.Status, id)
		moved[lot.Vehicle.Auction.Status]++
	}
	assert.NotZero(t, moved[vehicle.AuctionSold], "%v", moved)
	assert.NotZero(t, moved[vehicle.AuctionNoBid], "%v", moved)
	assert.Zero(t, moved[vehicle.AuctionUpcoming], "no auctioned lot is still upcoming")

	// The crawler remembers the auction it read a week before, which the
	// pages no longer show: a car back for its third time counts 3.
	plates := map[string]int{}
	for _, l := range lots {
		if !l.Date.After(next.AddDate(0, 0, 7)) && !l.Date.Before(next.AddDate(0, 0, -7)) {
			plates[l.Plate]++
		}
	}
	threes := 0
	for _, v := range ix.Rows() {
		if v.Auction.Date.After(next) {
			assert.Equal(t, plates[v.LicensePlate], v.Auction.Count, v.ID)
			if v.Auction.Count == 3 {
				threes++
			}
		}
	}
	assert.Positive(t, threes)
}

func TestAuctionCountAcrossAuctions(t *testing.T) {
	c := &Crawler{}
	lot := func(week int, carID, plate string) Lot {
		date := time.Date(2025, 6, 19, 13, 0, 0, 0, vehicle.KST).AddDate(0, 0, 7*week)
		code := fmt.Sprintf("AC2025%04d", 600+week)
		return Lot{CarID: carID, AucCode: code, Vehicle: vehicle.Vehicle{ID: code + carID, LicensePlate: plate, Auction: &vehicle.Auction{Date: date}}}
	}
	c.count([]Lot{lot(0, "CA1", "11가1111"), lot(0, "CA2", "22나2222")})
	c.count([]Lot{lot(1, "CA1", "11가1111"), lot(1, "CA3", "")})
	got := c.count([]Lot{lot(2, "CA9", "11가1111"), lot(2, "CA2", "22나2222"), lot(2, "CA3", ""), lot(2, "CA4", "44라4444"), lot(1, "CA1", "11가1111")})
	counts := make([]int, len(got))
	for i := range got {
		counts[i] = got[i].Vehicle.Auction.Count
	}
	assert.Equal(t, []int{3, 2, 2, 1, 2}, counts,
		"a new car record with the same plate is the same car; no plate, the record alone; a lot counts the auctions up to its own")

	got = c.count([]Lot{lot(30, "CA1", "11가1111")})
	assert.Equal(t, 1, got[0].Vehicle.Auction.Count, "half a year on, the auctions of June are forgotten")
	assert.Len(t, c.history, 2, "cars not seen for HistoryKeep are dropped: the record and the plate of the one car left")
}

// TestWalkEndsOnARepeatedPage: a site that answers every page with the
// first (a paging it does not understand) ends the walk, not loops it.
func TestWalkEndsOnARepeatedPage(t *testing.T) {
	body, err := os.ReadFile(capture)
	require.NoError(t, err)
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_ = r.ParseForm()
		if r.PostForm.Get("LANE_TYPE") != "B" {
			b := bytes.Replace(body, []byte(`"LANE_TYPE": "B"`), []byte(`"LANE_TYPE": "`+r.PostForm.Get("LANE_TYPE")+`"`), 1)
			b = bytes.Replace(b, []byte(`"CAR_LIST": [`), []byte(`"CAR_LIST": [], "x": [`), 1)
			_, _ = w.Write(b)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c := newCrawler(t, srv.URL, "")
	c.PageTypes = []string{"wCfm"}
	require.NoError(t, c.Refresh(context.Background()))
	assert.Equal(t, 100, c.Store.Index().Len())
	assert.Equal(t, int64(2+3), calls.Load(), "lane B: a full page, then the same page again; lanes A, C, D: one empty page each")
}

func writeSnapshot(t *testing.T, file string, lots int) {
	t.Helper()
	s := snapshot{Version: snapshotVersion, BuiltAt: time.Now()}
	for i := range lots {
		s.Lots = append(s.Lots, Lot{Vehicle: vehicle.Vehicle{ID: fmt.Sprintf("kcar_ac20260409_%d", 2001+i)}})
	}
	data, err := json.Marshal(s)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, data, 0o600))
}

// TestImplausibleSnapshotNotServed: an empty or tiny snapshot leaves the
// index unloaded (not ready) rather than serving an auction that is not there.
func TestImplausibleSnapshotNotServed(t *testing.T) {
	for _, n := range []int{0, 1, MinSnapshotLots - 1} {
		file := filepath.Join(t.TempDir(), "kcar.json")
		writeSnapshot(t, file, n)
		c := newCrawler(t, "http://127.0.0.1:1", file)
		err := c.Restore()
		require.Error(t, err, "%d lots", n)
		assert.Contains(t, err.Error(), "plausible")
		assert.False(t, c.Store.Status().Loaded, "%d lots", n)
	}
	file := filepath.Join(t.TempDir(), "kcar.json")
	writeSnapshot(t, file, MinSnapshotLots)
	c := newCrawler(t, "http://127.0.0.1:1", file)
	require.NoError(t, c.Restore())
	assert.Equal(t, MinSnapshotLots, c.Store.Status().Rows)
}

func TestStaleSnapshotTempsRemovedAtStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "kcar.json")
	writeSnapshot(t, file, MinSnapshotLots)
	stale, fresh, glovis := filepath.Join(dir, ".kcar-auction-123.tmp"), filepath.Join(dir, ".kcar-auction-456.tmp"), filepath.Join(dir, ".auction-789.tmp")
	for _, f := range []string{stale, fresh, glovis} {
		require.NoError(t, os.WriteFile(f, []byte("{torn"), 0o600))
	}
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))
	require.NoError(t, os.Chtimes(glovis, old, old))
	require.NoError(t, newCrawler(t, "http://127.0.0.1:1", file).Restore())
	assert.NoFileExists(t, stale, "left by a crashed write")
	assert.FileExists(t, fresh, "may be another process's write in progress")
	assert.FileExists(t, glovis, "Glovis' own temporary file is Glovis' to sweep")
}

// panicky is a breaker that panics on its nth call, as a bug would.
type panicky struct {
	n     int
	calls atomic.Int64
}

func (p *panicky) Do(fn func() error) error {
	if p.calls.Add(1) == int64(p.n) {
		panic("boom")
	}
	return fn()
}

// TestCrawlPanicIsAFailure: a panic in a lane's walk is a logged (with
// stack), counted failure, and the previous index stays.
func TestCrawlPanicIsAFailure(t *testing.T) {
	_, base := simSite(t)
	var logs bytes.Buffer
	c := newCrawler(t, base, "")
	c.Log, c.Breaker = slog.New(slog.NewTextHandler(&logs, nil)), &panicky{n: 3}
	require.ErrorIs(t, c.Refresh(context.Background()), errPanic)
	assert.Equal(t, int64(1), c.Store.Status().Failures)
	assert.Nil(t, c.Store.Index())
	assert.Contains(t, logs.String(), "kcar auction crawl panicked")
	assert.Contains(t, logs.String(), "goroutine", "the stack is logged")
}

// TestVehicleFromTheIndex: a detail is the index's row, under the exact
// id pattern.
func TestVehicleFromTheIndex(t *testing.T) {
	body, err := os.ReadFile(capture)
	require.NoError(t, err)
	l, err := ExtractList(body, "B")
	require.NoError(t, err)
	st := &Store{}
	_, err = st.Vehicle("kcar_ac20260409_2001")
	require.ErrorIs(t, err, ErrNotLoaded)
	built := time.Date(2026, 4, 29, 9, 0, 0, 0, vehicle.KST)
	st.Swap(NewIndex(l.Lots, built))
	v, err := st.Vehicle("kcar_ac20260409_2001")
	require.NoError(t, err)
	assert.Equal(t, "35수0329", v.LicensePlate)
	assert.True(t, v.FetchedAt.Equal(built))
	for _, id := range []string{"kcar_ac20260409_2101", "kcar_AC20260409_2001", "kcar_ac20260409_02001", "kcar_ac2026040_2001", "glovis_20250620_3100_1001", "kcar_ac20260409_2001 "} {
		_, err := st.Vehicle(id)
		assert.ErrorIs(t, err, sources.ErrNotFound, id)
	}
}

// TestResultWinsOverTheConfirmedList: a lot both pages show (the results
// page and a confirmed list not yet moved on) is served with its result,
// whichever page type is walked first.
func TestResultWinsOverTheConfirmedList(t *testing.T) {
	body, err := os.ReadFile(capture)
	require.NoError(t, err)
	results := bytes.ReplaceAll(body, []byte(`"PAGE_TYPE": "wCfm"`), []byte(`"PAGE_TYPE": "wRst"`))
	results = bytes.ReplaceAll(results, []byte(`"AUC_STAT_NM": "출품마감"`), []byte(`"AUC_STAT_NM": "유찰"`))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		b := body
		if r.PostForm.Get("PAGE_TYPE") == "wRst" {
			b = results
		}
		if r.PostForm.Get("START_RNUM") != "1" {
			b = bytes.Replace(b, []byte(`"CAR_LIST": [`), []byte(`"CAR_LIST": [], "x": [`), 1)
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	for _, order := range [][]string{{"wCfm", "wRst"}, {"wRst", "wCfm"}} {
		c := newCrawler(t, srv.URL, "")
		c.Lanes, c.PageTypes = []string{"B"}, order
		require.NoError(t, c.Refresh(context.Background()))
		ix := c.Store.Index()
		require.Equal(t, 100, ix.Len(), "%v", order)
		for _, v := range ix.Rows() {
			require.Equal(t, vehicle.AuctionNoBid, v.Auction.Status, "%v %s", order, v.ID)
		}
	}
}
