package fleet

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/internal/redistest"
	"github.com/lmn/aggregator/sources/danawa"
	"github.com/lmn/aggregator/vehicle"
)

// A Danawa row seen in a search on one replica answers a detail request on
// another, which never searched; without Redis each replica answers what it
// saw itself.
func TestDanawaRowsOnAnyReplica(t *testing.T) {
	srv := redistest.Start(t)
	log := slog.New(slog.DiscardHandler)
	run := func(name string) *Rows {
		r := NewRows(shared(t, srv, name), danawa.NewRecent(10), log)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return r
	}
	a, b := run("a"), run("b")
	seen := vehicle.Vehicle{ID: "danawa_abc123", Source: vehicle.Danawa, Make: "Kia", Model: "Sorento", Year: 2021,
		MileageKm: 41000, PriceKRW: 27_900_000, Options: []string{"sunroof"},
		ListedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, vehicle.KST), Seller: &vehicle.Seller{Type: "dealer", Name: "Busan Motors"}}
	a.Add([]*vehicle.Vehicle{&seen})

	var got vehicle.Vehicle
	waitFor(t, "the row on the replica that never searched", func() bool {
		var ok bool
		got, ok = b.Get(seen.ID)
		return ok
	})
	assert.Equal(t, seen.ID, got.ID)
	assert.Equal(t, seen.PriceKRW, got.PriceKRW)
	assert.Equal(t, seen.Options, got.Options)
	assert.Equal(t, *seen.Seller, *got.Seller)
	assert.True(t, seen.ListedAt.Equal(got.ListedAt))
	_, ok := b.local.Get(seen.ID)
	assert.True(t, ok, "remembered here once read")
	_, ok = b.Get("danawa_never_seen")
	assert.False(t, ok)

	ttl := srv.TTL(t, danawaRowKey+seen.ID)
	assert.Greater(t, ttl, danawaRowTTL-time.Minute, "rows expire")
	assert.LessOrEqual(t, ttl, danawaRowTTL)

	srv.Stop()
	other := vehicle.Vehicle{ID: "danawa_zz9", Source: vehicle.Danawa}
	a.Add([]*vehicle.Vehicle{&other})
	got, ok = a.Get(other.ID)
	require.True(t, ok, "per-instance: the replica that searched answers")
	assert.Equal(t, other.ID, got.ID)
}

// A popular search adds the same rows, from one parsed answer, with every
// request: they are queued for Redis once, and again only when a new
// answer (a new row) replaces them.
func TestDanawaRowsWrittenOncePerAnswer(t *testing.T) {
	srv := redistest.Start(t)
	r := NewRows(shared(t, srv, "a"), danawa.NewRecent(10), slog.New(slog.DiscardHandler))
	row1, row2 := &vehicle.Vehicle{ID: "danawa_1"}, &vehicle.Vehicle{ID: "danawa_2"}
	for range 100 {
		r.Add([]*vehicle.Vehicle{row1, row2})
	}
	require.Len(t, r.pending, 1, "one batch for a hundred requests")
	assert.Len(t, <-r.pending, 2)
	fresh := &vehicle.Vehicle{ID: "danawa_1", PriceKRW: 1}
	r.Add([]*vehicle.Vehicle{fresh, row2})
	require.Len(t, r.pending, 1, "the next answer's row is written")
	assert.Equal(t, []vehicle.Vehicle{*fresh}, <-r.pending)
}
