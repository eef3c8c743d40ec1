package glovis

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

func newCrawler(t *testing.T, base, snapshot string) *Crawler {
	hc := sources.NewClient(sources.ClientConfig{Timeout: 2 * time.Second})
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
	require.NoError(t, c.Refresh(context.Background()))
	ix := c.Store.Index()
	require.NotNil(t, ix)
	assert.Equal(t, 1100, ix.Len(), "every lot of every page of every site")
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
	c := &Crawler{}
	lot := func(round int, goods string) Lot {
		return Lot{GoodsNo: goods, Vehicle: vehicle.Vehicle{ID: goods, Auction: &vehicle.Auction{Round: round}}}
	}
	c.count([]Lot{lot(944, "C1"), lot(944, "C2")})
	c.count([]Lot{lot(945, "C1")})
	got := c.count([]Lot{lot(946, "C1"), lot(946, "C2"), lot(946, "C3")})
	assert.Equal(t, []int{3, 2, 1}, []int{got[0].Vehicle.Auction.Count, got[1].Vehicle.Auction.Count, got[2].Vehicle.Auction.Count})
}
