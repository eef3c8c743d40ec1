package glovis

import (
	"bytes"
	"context"
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
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// newCrawler's page deadline is one no busy machine misses: these tests are
// about what a crawl reads, and the simulator never hangs in them.
func newCrawler(t *testing.T, base, snapshot string) *Crawler {
	hc := sources.NewClient(sources.ClientConfig{Timeout: time.Minute})
	return &Crawler{Client: NewClient(base, "", hc), Store: &Store{}, ACC: "20", Sites: korean.SiteCodes(),
		Interval: time.Hour, Snapshot: snapshot, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Parallel: 4, Details: true}
}

// TestCrawlSnapshotRestore: a crawl walks every page of every site, writes a
// snapshot, and a restarted service serves it before Glovis answers.
func TestCrawlSnapshotRestore(t *testing.T) {
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	snap := filepath.Join(t.TempDir(), "auction.json")

	c := newCrawler(t, servers.GlovisURL, snap)
	c.Now = s.Now
	require.NoError(t, c.Refresh(context.Background()))
	ix := c.Store.Index()
	require.NotNil(t, ix)
	want := map[string]sim.GlovisLot{}
	for _, l := range s.GlovisLots() {
		if l.Listed {
			want[l.ID] = l
		}
	}
	assert.Equal(t, len(want), ix.Len(), "every lot of every page of every site of every round shown")
	dates, statuses, counts := map[int64]bool{}, map[string]bool{}, map[int]bool{}
	for _, v := range ix.Rows() {
		w, ok := want[v.ID]
		require.True(t, ok, "%s is not a listed lot", v.ID)
		assert.Equal(t, w.Status, v.Auction.Status, v.ID)
		dates[v.Auction.Date.Unix()], statuses[v.Auction.Status], counts[v.Auction.Count] = true, true, true
	}
	assert.Len(t, dates, 2, "the round with results and the next one")
	assert.Len(t, statuses, len(vehicle.AuctionStatuses), "every status occurs: %v", statuses)
	assert.True(t, counts[2], "cars back from the last round are counted twice")
	_, err = os.Stat(snap)
	require.NoError(t, err, "snapshot written")
	for _, v := range ix.Rows() {
		require.NotEmpty(t, v.VIN, "%s: every lot's detail page read", v.ID)
	}

	hits := s.Hits("glovis")
	require.NoError(t, c.Refresh(context.Background()))
	assert.Less(t, s.Hits("glovis")-hits, int64(100), "a second crawl reads list pages, not the detail pages it already has")
	ix = c.Store.Index()

	require.NoError(t, s.SetFault("glovis", sim.Fault{Mode: sim.Down}))
	assert.Error(t, c.Refresh(context.Background()))
	assert.Same(t, ix, c.Store.Index(), "a failed crawl keeps the previous index")
	st := c.Store.Status()
	assert.Contains(t, st.LastError, "status 503")

	restarted := newCrawler(t, servers.GlovisURL, snap)
	require.NoError(t, restarted.Restore())
	rix := restarted.Store.Index()
	require.NotNil(t, rix, "restored from the snapshot while Glovis is down")
	assert.Equal(t, ix.Len(), rix.Len())
	assert.Equal(t, ix.BuiltAt().Unix(), rix.BuiltAt().Unix())
	id := ix.Rows()[0].ID
	a, _ := ix.Lot(id)
	b, ok := rix.Lot(id)
	require.True(t, ok)
	assert.Equal(t, a.Vehicle.PriceKRW, b.Vehicle.PriceKRW)
	assert.Equal(t, a.Vehicle.Auction.Date.Unix(), b.Vehicle.Auction.Date.Unix())
	assert.Equal(t, a.GN, b.GN, "the detail-page keys survive the snapshot")

	require.NoError(t, os.WriteFile(snap, []byte("{torn"), 0o644))
	assert.Error(t, newCrawler(t, servers.GlovisURL, snap).Restore(), "a corrupt snapshot is reported")
}

func TestAuctionCountAcrossRounds(t *testing.T) {
	c := &Crawler{Now: func() time.Time { return time.Date(2031, 1, 1, 0, 0, 0, 0, vehicle.KST) }} // a clock far off the site's changes nothing
	lot := func(round int, goods string) Lot {
		date := time.Date(2025, 6, 20, 13, 0, 0, 0, vehicle.KST).AddDate(0, 0, 7*(round-946))
		return Lot{GoodsNo: goods, Vehicle: vehicle.Vehicle{ID: goods, Auction: &vehicle.Auction{Round: round, Date: date}}}
	}
	c.count([]Lot{lot(944, "C1"), lot(944, "C2")})
	c.count([]Lot{lot(945, "C1")})
	got := c.count([]Lot{lot(946, "C1"), lot(946, "C2"), lot(946, "C3"), lot(945, "C1")})
	assert.Equal(t, []int{3, 2, 1, 2}, []int{got[0].Vehicle.Auction.Count, got[1].Vehicle.Auction.Count, got[2].Vehicle.Auction.Count, got[3].Vehicle.Auction.Count},
		"a lot counts the rounds up to its own")

	// Half a year on, the rounds of June are forgotten: the history stays bounded.
	got = c.count([]Lot{lot(980, "C1")})
	assert.Equal(t, 1, got[0].Vehicle.Auction.Count)
	assert.Len(t, c.history, 1, "cars not seen for HistoryKeep are dropped")
}

// TestStatusFollowsAuction: a lot upcoming at one crawl shows its result at
// the next crawl after its auction, on the list and in its detail, with
// the simulator's clock moved between the two crawls.
func TestStatusFollowsAuction(t *testing.T) {
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	c := newCrawler(t, servers.GlovisURL, "")
	c.Now, c.Sites = s.Now, []string{"3100"} // one site is variety enough, and half the work
	require.NoError(t, c.Refresh(context.Background()))

	next := time.Time{}
	for _, l := range s.GlovisLots() {
		if l.Listed && l.Date.After(s.Now()) {
			next = l.Date
		}
	}
	require.False(t, next.IsZero())
	upcoming := map[string]bool{}
	for _, v := range c.Store.Index().Rows() {
		if v.Auction.Date.Equal(next) {
			require.Equal(t, vehicle.AuctionUpcoming, v.Auction.Status, v.ID)
			upcoming[v.ID] = true
		}
	}
	require.NotEmpty(t, upcoming)

	s.SetNow(next.Add(sim.ResultsAfter + time.Hour))
	hits := s.Hits("glovis")
	require.NoError(t, c.Refresh(context.Background()))
	assert.GreaterOrEqual(t, s.Hits("glovis")-hits, int64(len(upcoming)), "every auctioned lot's detail is read again")
	truth := map[string]string{}
	for _, l := range s.GlovisLots() {
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
}

// TestStatusNeverFromAnOlderDetail: the detail page's status counts only
// when it was read after the auction, while the list showed what it shows.
func TestStatusNeverFromAnOlderDetail(t *testing.T) {
	date := time.Date(2025, 6, 20, 13, 0, 0, 0, vehicle.KST)
	lot := func(st string) *Lot {
		return &Lot{Vehicle: vehicle.Vehicle{Auction: &vehicle.Auction{Date: date, Status: st}}}
	}
	read := func(st string, at time.Time, list string) readDetail {
		return readDetail{Detail: Detail{Status: st}, ReadAt: at, ListStatus: list}
	}
	before, after := date.Add(-time.Hour), date.Add(5*time.Hour)
	for _, tc := range []struct {
		name string
		list string
		d    readDetail
		want string
	}{
		{"list result stands over an older detail", vehicle.AuctionNoBid, read(vehicle.AuctionUpcoming, before, vehicle.AuctionUpcoming), vehicle.AuctionNoBid},
		{"list result stands over any detail", vehicle.AuctionSold, read(vehicle.AuctionNoBid, after, vehicle.AuctionSold), vehicle.AuctionSold},
		{"a detail read after the auction fills a list without state", vehicle.AuctionUpcoming, read(vehicle.AuctionSold, after, vehicle.AuctionUpcoming), vehicle.AuctionSold},
		{"a detail read before the auction does not", vehicle.AuctionUpcoming, read(vehicle.AuctionSold, before, vehicle.AuctionUpcoming), vehicle.AuctionUpcoming},
		{"nor one read while the list said otherwise", vehicle.AuctionUpcoming, read(vehicle.AuctionSold, after, vehicle.AuctionNoBid), vehicle.AuctionUpcoming},
	} {
		assert.Equal(t, tc.want, status(lot(tc.list), tc.d, true), tc.name)
	}
	assert.True(t, stale(lot(vehicle.AuctionNoBid), read("", before, vehicle.AuctionUpcoming), true, before), "list state changed")
	assert.True(t, stale(lot(vehicle.AuctionUpcoming), read("", before, vehicle.AuctionUpcoming), true, after), "auction passed since the read")
	assert.False(t, stale(lot(vehicle.AuctionUpcoming), read("", before, vehicle.AuctionUpcoming), true, before), "nothing changed")
	assert.False(t, stale(lot(vehicle.AuctionSold), read("", after, vehicle.AuctionSold), true, after.Add(time.Hour)), "read after the auction")
}

// TestCrawlSurvivesAShrinkingRound: lots withdrawn while the crawl walks
// the pages leave a page empty and the count short; the crawl keeps what
// it found instead of failing.
func TestCrawlSurvivesAShrinkingRound(t *testing.T) {
	s := sim.New()
	glovisSite := s.Glovis()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auction/exhibitListInclude.do" {
			_ = r.ParseForm()
			if r.PostForm.Get("page") != "1" {
				// Past page 1 the round has shrunk to nothing.
				_, _ = w.Write([]byte(`<div id="div_total"><span class="total"> 총<span> 3</span>대</span></div><div id="div_list"></div>`))
				return
			}
		}
		glovisSite.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	c := newCrawler(t, srv.URL, "")
	c.Log, c.Details = slog.New(slog.NewTextHandler(&logs, nil)), false
	require.NoError(t, c.Refresh(context.Background()))
	assert.Equal(t, 2*RowLimit*len(korean.SiteCodes()), c.Store.Index().Len(), "page 1 of each round at each site")
	assert.Contains(t, logs.String(), "auction round changed while it was crawled")
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

// TestCrawlPanicIsAFailure: a panic anywhere in a crawl, on the crawl's
// own goroutine or on a page fetch's, is a logged (with stack), counted
// failure and the previous index stays.
func TestCrawlPanicIsAFailure(t *testing.T) {
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	for _, n := range []int{1, 3, 40} { // the rounds page, a list page, a detail page (two rounds, two pages each)
		var logs bytes.Buffer
		c := newCrawler(t, servers.GlovisURL, "")
		c.Log, c.Breaker, c.Sites = slog.New(slog.NewTextHandler(&logs, nil)), &panicky{n: n}, []string{"3100"}
		err := c.Refresh(context.Background())
		if n == 40 {
			// A detail page is not worth a crawl: its lot keeps the list's values.
			require.NoError(t, err)
			assert.Equal(t, int64(1), c.Store.Status().DetailErrors)
		} else {
			require.ErrorIs(t, err, errPanic)
			assert.Equal(t, int64(1), c.Store.Status().Failures)
			assert.Nil(t, c.Store.Index())
		}
		assert.Contains(t, logs.String(), "auction crawl panicked")
		assert.Contains(t, logs.String(), "goroutine", "the stack is logged")
	}
}

// TestSnapshotWriteFailureIsCounted: a snapshot that cannot be written
// (here its directory is gone, as a full or unmounted disk would fail it)
// leaves the crawl good and is counted for the metric and its alert.
func TestSnapshotWriteFailureIsCounted(t *testing.T) {
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	c := newCrawler(t, servers.GlovisURL, filepath.Join(t.TempDir(), "gone", "auction.json"))
	c.Now = s.Now
	require.NoError(t, c.Refresh(context.Background()), "the crawl itself succeeded")
	st := c.Store.Status()
	assert.True(t, st.Loaded)
	assert.Equal(t, int64(1), st.SnapshotFailures)
	assert.Equal(t, int64(0), st.Failures, "not a failed crawl")
}

// TestCrawlIsTraced: a crawl is a trace of its own, with a span per page
// fetched from Glovis below it, each with its status and size.
func TestCrawlIsTraced(t *testing.T) {
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	spans := tracetest.NewInMemoryExporter()
	c := newCrawler(t, servers.GlovisURL, "")
	c.Now, c.Tracer = s.Now, sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	before := s.Hits("glovis")
	require.NoError(t, c.Refresh(context.Background()))
	pages := s.Hits("glovis") - before

	var crawl tracetest.SpanStub
	for _, sp := range spans.GetSpans() {
		if sp.Name == "auction crawl" {
			crawl = sp
		}
	}
	require.Equal(t, "auction crawl", crawl.Name)
	assert.False(t, crawl.Parent.IsValid(), "a root span")
	var exchanges int64
	for _, sp := range spans.GetSpans() {
		if sp.Name == "HTTP GET" || sp.Name == "HTTP POST" {
			assert.Equal(t, crawl.SpanContext.SpanID(), sp.Parent.SpanID())
			exchanges++
		}
	}
	assert.Equal(t, pages, exchanges, "a span per page Glovis served")
	rows := map[string]int64{}
	for _, a := range crawl.Attributes {
		rows[string(a.Key)] = a.Value.AsInt64()
	}
	require.Contains(t, rows, "lmn.auction.rows")
	assert.Equal(t, int64(c.Store.Index().Len()), rows["lmn.auction.rows"])
}
