package fleet

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/internal/redistest"
	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/sources/glovis"
)

// shared connects a fleet member named instance to srv and waits for shared
// mode. Commands get a deadline only a dead Redis misses.
func shared(t *testing.T, srv *redistest.Server, instance string) *Fleet {
	t.Helper()
	f, err := New(Config{URL: srv.URL(), Timeout: 2 * time.Second, Instance: instance})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; f.Close() })
	waitFor(t, "shared mode", f.Shared)
	return f
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after a minute", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// crawlerOf crawls the simulator's Glovis, one site, without detail pages:
// the tests are about who crawls, not what.
func crawlerOf(s *sim.Servers) *glovis.Auction {
	hc := sources.NewClient(sources.ClientConfig{Timeout: time.Minute, MaxConns: 4, MaxBody: 8 << 20})
	return &glovis.Auction{Crawler: &glovis.Crawler{Client: glovis.NewClient(s.GlovisURL, "", hc), Store: &glovis.Store{}, ACC: "20",
		Sites: korean.SiteCodes()[:1], Interval: time.Hour, Log: slog.New(slog.DiscardHandler), Parallel: 2}}
}

// The lease goes to one replica; a replica that lost it cannot publish
// (fencing); the one that took it over can, and the others load what it
// publishes. The lease is real Redis expiry, short, and waited for by
// polling: nothing depends on a deadline being met.
func TestLeaseAndFencing(t *testing.T) {
	srv := redistest.Start(t)
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)
	// A lease no busy machine outlives by accident while a publishes; a
	// short one for the handover.
	const lease, short = time.Minute, 300 * time.Millisecond
	a := NewAuction(shared(t, srv, "a"), crawlerOf(servers), lease, slog.New(slog.DiscardHandler))
	b := NewAuction(shared(t, srv, "b"), crawlerOf(servers), lease, slog.New(slog.DiscardHandler))
	ctx := context.Background()

	tokA, err := a.acquire(ctx)
	require.NoError(t, err)
	require.Positive(t, tokA)
	tokB, err := b.acquire(ctx)
	require.NoError(t, err)
	assert.Zero(t, tokB, "held by a")
	again, err := a.acquire(ctx)
	require.NoError(t, err)
	assert.Equal(t, tokA, again, "renewing keeps the token")

	require.NoError(t, a.crawler.Refresh(ctx))
	rows := a.crawler.Status().Rows
	require.Positive(t, rows)
	require.NoError(t, a.publish(ctx, tokA))
	assert.Equal(t, int64(1), a.Version())
	v, err := b.follow(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), v)
	require.True(t, b.crawler.Status().Loaded, "b serves what a crawled")
	assert.Equal(t, rows, b.crawler.Status().Rows)

	// a renews a last time, for a short period, and stops (a paused or dead
	// crawler): the lease expires and b takes it, with a greater token.
	a.lease = short
	_, err = a.acquire(ctx)
	require.NoError(t, err)
	stopped := time.Now()
	waitFor(t, "b holding the lease", func() bool { tokB, err = b.acquire(ctx); return err == nil && tokB != 0 })
	t.Logf("lease of %s moved %s after its last renewal", short, time.Since(stopped).Round(time.Millisecond))
	assert.Greater(t, tokB, tokA)

	assert.ErrorIs(t, a.publish(ctx, tokA), ErrFenced, "a crawler that lost its lease cannot publish")
	assert.False(t, a.Crawling())
	require.NoError(t, b.publish(ctx, tokB))
	v, err = a.follow(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), v, "the fenced publish left no version behind")
}

// Three replicas running: one crawls (the simulator's Glovis sees one
// crawl's pages), all serve its index; stopping the crawler hands the lease
// on at once (it gives it back), and a replica that starts while Glovis is
// down serves the shared index.
func TestOneCrawlerForTheFleet(t *testing.T) {
	srv := redistest.Start(t)
	s := sim.New()
	servers, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(servers.Close)

	// One crawl alone, to know what one crawl costs the site.
	require.NoError(t, crawlerOf(servers).Refresh(context.Background()))
	oneCrawl := s.Hits("glovis")
	require.Positive(t, oneCrawl)

	// Long enough that no busy machine misses a renewal by accident, which
	// would make two crawlers; the handover below does not wait for it.
	const lease = 3 * time.Second
	type replica struct {
		a    *Auction
		stop context.CancelFunc
		done chan struct{}
	}
	run := func(name string) *replica {
		a := NewAuction(shared(t, srv, name), crawlerOf(servers), lease, slog.New(slog.DiscardHandler))
		ctx, cancel := context.WithCancel(context.Background())
		r := &replica{a: a, stop: cancel, done: make(chan struct{})}
		go func() { a.Run(ctx); close(r.done) }()
		t.Cleanup(func() { cancel(); <-r.done })
		return r
	}
	rs := []*replica{run("a"), run("b"), run("c")}
	loaded := func() bool {
		for _, r := range rs {
			if !r.a.crawler.Status().Loaded {
				return false
			}
		}
		return true
	}
	waitFor(t, "every replica serving the auction", loaded)
	crawling := 0
	var leader *replica
	for _, r := range rs {
		if r.a.Crawling() {
			crawling++
			leader = r
		}
	}
	require.Equal(t, 1, crawling, "one crawler")
	// A lease period later, still one crawl's pages: nobody else crawled
	// (the index is fresh for an hour).
	time.Sleep(lease)
	assert.Equal(t, 2*oneCrawl, s.Hits("glovis"), "the fleet crawled once")

	leader.stop()
	<-leader.done
	stopped := time.Now()
	waitFor(t, "another replica crawling", func() bool {
		for _, r := range rs {
			if r != leader && r.a.Crawling() {
				return true
			}
		}
		return false
	})
	t.Logf("lease handed on %s after the crawler stopped", time.Since(stopped).Round(time.Millisecond))
	assert.Equal(t, 2*oneCrawl, s.Hits("glovis"), "the new crawler goes on from the shared index, fresh, without crawling")

	require.NoError(t, s.SetFault("glovis", sim.Fault{Mode: sim.Down}))
	late := run("late")
	waitFor(t, "the late replica serving the shared index while Glovis is down",
		func() bool { return late.a.crawler.Status().Loaded })
	assert.Equal(t, leader.a.crawler.Status().Rows, late.a.crawler.Status().Rows)
}
