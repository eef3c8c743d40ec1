package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
		c.Share(a.For("encar"), time.Minute)
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
	waitFor(t, "the answer shared", func() bool { return srv.CLI(t, "EXISTS", look.key("q=Kia")) == "1" })
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

// awaiting tells a test when a replica has started waiting for another's
// fetch, so the test can order events by channels, not by time.
type awaiting struct {
	*SourceAnswers
	waits chan<- string
	name  string
}

func (a awaiting) Await(ctx context.Context, key string, hold time.Duration) ([]byte, time.Duration, bool) {
	a.waits <- a.name
	return a.SourceAnswers.Await(ctx, key, hold)
}

// replicas are caches of one source sharing one Redis, each telling waits.
func replicas(t *testing.T, srv *redistest.Server, waits chan<- string, names ...string) ([]*upcache.Cache[*page], []*Fleet) {
	log := slog.New(slog.DiscardHandler)
	var cs []*upcache.Cache[*page]
	var fs []*Fleet
	for _, name := range names {
		f := shared(t, srv, name)
		a := NewAnswers(f, log)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		c := upcache.New[*page](time.Minute, 16)
		c.Share(awaiting{a.For("encar"), waits, name}, time.Minute)
		cs, fs = append(cs, c), append(fs, f)
	}
	return cs, fs
}

// wait receives from ch, failing the test after a generous bound rather
// than hanging it.
func wait[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("still no %s after a minute", what)
		panic("unreachable")
	}
}

// Identical calls made at once on three replicas cost the upstream one
// call: the first replica fetches, the others wait for its answer in Redis.
func TestIdenticalCallsCoalescedAcrossTheFleet(t *testing.T) {
	srv := redistest.Start(t)
	waits := make(chan string, 16)
	cs, _ := replicas(t, srv, waits, "a", "b", "c")
	var calls atomic.Int64
	started, release := make(chan struct{}, 16), make(chan struct{})
	fetch := func(context.Context) (*page, error) {
		calls.Add(1)
		started <- struct{}{}
		<-release
		return &page{Total: 1, Rows: []vehicle.Vehicle{{ID: "encar_7", PriceKRW: 9_900_000}}}, nil
	}
	const perReplica = 4
	type result struct {
		p   *page
		err error
	}
	results := make(chan result, 3*perReplica)
	get := func(c *upcache.Cache[*page]) {
		p, err := c.Get(context.Background(), "q=Morning", fetch)
		results <- result{p, err}
	}
	go get(cs[0])
	wait(t, "fetch on a", started) // a holds the claim
	for _, c := range cs {
		for range perReplica - 1 {
			go get(c)
		}
	}
	go get(cs[1])
	go get(cs[2])
	// b and c each wait for a's fetch once; their other callers join
	// that wait inside the replica.
	seen := map[string]bool{wait(t, "a wait", waits): true, wait(t, "a second wait", waits): true}
	assert.Equal(t, map[string]bool{"b": true, "c": true}, seen)
	close(release)
	for range 3 * perReplica {
		r := wait(t, "an answer", results)
		require.NoError(t, r.err)
		require.Len(t, r.p.Rows, 1)
		assert.Equal(t, "encar_7", r.p.Rows[0].ID)
		assert.Equal(t, int64(9_900_000), r.p.Rows[0].PriceKRW)
	}
	assert.Equal(t, int64(1), calls.Load(), "one upstream call for the fleet")
	for i, c := range cs[1:] {
		joined, fellBack := c.FleetWaits()
		assert.Equal(t, [2]uint64{1, 0}, [2]uint64{joined, fellBack}, "replica %d", i+1)
	}
	sum := sha256.Sum256([]byte("q=Morning"))
	assert.Equal(t, -2*time.Millisecond, srv.TTL(t, "lmn:answers:encar:"+hex.EncodeToString(sum[:])+":fetching"), "the claim is freed")
	assert.Greater(t, srv.TTL(t, "lmn:answers:encar:"+hex.EncodeToString(sum[:])), time.Duration(0), "the answer is kept")
}

// A fetch that fails is not shared: the replicas waiting for it stop
// waiting as soon as its claim is freed and fetch themselves, each getting
// its own answer or its own error.
func TestFailedFetchReleasesTheWaiters(t *testing.T) {
	srv := redistest.Start(t)
	waits := make(chan string, 16)
	cs, _ := replicas(t, srv, waits, "a", "b", "c")
	var calls atomic.Int64
	started, release := make(chan struct{}, 16), make(chan struct{})
	failing := func(context.Context) (*page, error) {
		calls.Add(1)
		started <- struct{}{}
		<-release
		return nil, errors.New("upstream 503")
	}
	errs := make(chan error, 3)
	go func() { _, err := cs[0].Get(context.Background(), "q=Ray", failing); errs <- err }()
	wait(t, "fetch on a", started)
	fine := func(context.Context) (*page, error) {
		calls.Add(1)
		// b answers only once c too has given up waiting: otherwise c may
		// find b's answer in Redis and take it, which is right but is
		// not what this test is about.
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, fellBack := cs[2].FleetWaits(); fellBack == 1 {
				break
			}
		}
		return &page{Total: 3}, nil
	}
	b := make(chan *page, 1)
	go func() { p, err := cs[1].Get(context.Background(), "q=Ray", fine); assert.NoError(t, err); b <- p }()
	go func() { _, err := cs[2].Get(context.Background(), "q=Ray", failing); errs <- err }()
	wait(t, "a wait", waits)
	wait(t, "a second wait", waits)
	close(release)
	assert.EqualError(t, wait(t, "a's error", errs), "upstream 503")
	assert.EqualError(t, wait(t, "c's error", errs), "upstream 503", "c fetched itself and got its own error")
	assert.Equal(t, 3, wait(t, "b's answer", b).Total)
	assert.Equal(t, int64(3), calls.Load(), "a's failed call, then one each for b and c")
	for i, c := range cs[1:] {
		joined, fellBack := c.FleetWaits()
		assert.Equal(t, [2]uint64{0, 1}, [2]uint64{joined, fellBack}, "replica %d", i+1)
	}
}

// Without Redis each replica fetches once for its own callers, at once,
// as a lone instance does: nobody waits for a fleet that is not there.
func TestIdenticalCallsPerReplicaWithoutRedis(t *testing.T) {
	srv := redistest.Start(t)
	waits := make(chan string, 16)
	cs, fs := replicas(t, srv, waits, "a", "b")
	srv.Stop()
	for _, f := range fs {
		waitFor(t, "per-instance mode", func() bool { return !f.Shared() })
	}
	var calls atomic.Int64
	release := make(chan struct{})
	fetch := func(context.Context) (*page, error) { calls.Add(1); <-release; return &page{Total: 5}, nil }
	results := make(chan *page, 6)
	for _, c := range cs {
		for range 3 {
			go func() { p, err := c.Get(context.Background(), "q=Avante", fetch); assert.NoError(t, err); results <- p }()
		}
	}
	waitFor(t, "one call from each replica", func() bool { return calls.Load() == 2 })
	close(release)
	for range 6 {
		assert.Equal(t, 5, wait(t, "an answer", results).Total)
	}
	assert.Equal(t, int64(2), calls.Load())
	assert.Empty(t, waits, "no replica waited")
}
