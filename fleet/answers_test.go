package fleet

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/internal/redistest"
	"github.com/lmn/aggregator/upcache"
	"github.com/lmn/aggregator/vehicle"
)

type page struct {
	Total int
	Rows  []vehicle.Vehicle
}

// A popular query costs the upstream one call per cache period for the
// fleet: the replica that fetched shares the answer, the others read it;
// a failure is never shared.
func TestUpstreamAnswersShared(t *testing.T) {
	srv := redistest.Start(t)
	log := slog.New(slog.DiscardHandler)
	var calls atomic.Int64
	fetch := func(context.Context) (*page, error) {
		calls.Add(1)
		return &page{Total: 2, Rows: []vehicle.Vehicle{{ID: "encar_1", PriceKRW: 15_000_000}, {ID: "encar_2"}}}, nil
	}
	replica := func(name string) *upcache.Cache[*page] {
		a := NewAnswers(shared(t, srv, name), log)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		c := upcache.New[*page](time.Minute, 16)
		c.Share(a.For("encar"))
		return c
	}
	a, b, c := replica("a"), replica("b"), replica("c")
	ctx := context.Background()
	got, err := a.Get(ctx, "q=Kia", fetch)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Total)
	// b and c read a's answer once it is written (after a's request),
	// which one more replica's shared level watches for.
	look := NewAnswers(shared(t, srv, "look"), log).For("encar")
	waitFor(t, "the answer shared", func() bool {
		_, _, ok := look.Get(ctx, "q=Kia")
		return ok
	})
	for _, r := range []*upcache.Cache[*page]{b, c} {
		got, err := r.Get(ctx, "q=Kia", fetch)
		require.NoError(t, err)
		assert.Equal(t, "encar_1", got.Rows[0].ID)
		assert.Equal(t, int64(15_000_000), got.Rows[0].PriceKRW)
		assert.Equal(t, uint64(1), r.SharedHits())
	}
	assert.Equal(t, int64(1), calls.Load(), "one upstream call for three replicas")

	_, err = a.Get(ctx, "q=broken", func(context.Context) (*page, error) { return nil, errors.New("upstream 503") })
	require.Error(t, err)
	_, err = b.Get(ctx, "q=broken", fetch)
	require.NoError(t, err, "a failure is not shared")
	assert.Equal(t, int64(2), calls.Load())
}
