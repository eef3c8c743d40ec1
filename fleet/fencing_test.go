package fleet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis/go-redis/v9"

	"github.com/lmn/aggregator/internal/redistest"
)

// clock is a time the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

// crawlLog records when each replica started a crawl.
type crawlLog struct {
	mu     sync.Mutex
	starts map[string][]time.Time
}

func (l *crawlLog) add(name string, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.starts == nil {
		l.starts = map[string][]time.Time{}
	}
	l.starts[name] = append(l.starts[name], t)
}

// fakeCrawler is an auction source whose crawl takes no time and builds an
// index stamped with the clock: the tests are about who crawls when, and
// which version and token they see, not about what an index holds.
type fakeCrawler struct {
	name     string
	clock    *clock
	interval time.Duration
	log      *crawlLog

	mu    sync.Mutex
	built time.Time
}

func (c *fakeCrawler) Refresh(context.Context) error {
	now := c.clock.now()
	if c.log != nil {
		c.log.add(c.name, now)
	}
	c.mu.Lock()
	c.built = now
	c.mu.Unlock()
	return nil
}

func (c *fakeCrawler) Export() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.built.IsZero() {
		return nil, nil
	}
	return json.Marshal(c.built)
}

func (c *fakeCrawler) Import(raw []byte) error {
	var t time.Time
	if err := json.Unmarshal(raw, &t); err != nil {
		return err
	}
	c.mu.Lock()
	c.built = t
	c.mu.Unlock()
	return nil
}

func (c *fakeCrawler) IndexBuiltAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.built
}

func (c *fakeCrawler) CrawlInterval() time.Duration { return c.interval }

// Redis restarted without its data: the next lease's token is greater than
// every token handed out before, the next version greater than every
// version served, a replica refuses a lower version, and a replica that
// restarts too reads its floors back from its fence file.
func TestFencingSurvivesRedisRestartedEmpty(t *testing.T) {
	srv := redistest.Start(t)
	clk := &clock{t: time.Now()}
	dir := t.TempDir()
	replica := func(name string) (*Auction, *fakeCrawler) {
		c := &fakeCrawler{name: name, clock: clk, interval: time.Hour}
		a := NewAuction(shared(t, srv, name), AuctionConfig{Source: "glovis", Crawler: c, Lease: time.Minute,
			Fence: filepath.Join(dir, name+".fence")})
		a.now = clk.now
		return a, c
	}
	ctx := context.Background()
	a, ac := replica("a")
	b, _ := replica("b")
	c, _ := replica("c")

	var tokens []int64 // every token handed out, in order
	take := func(x *Auction) int64 {
		t.Helper()
		tok, err := x.acquire(ctx)
		require.NoError(t, err)
		require.Positive(t, tok, "%s takes the free lease", x.fleet.instance)
		tokens = append(tokens, tok)
		return tok
	}
	tokA := take(a)
	require.NoError(t, ac.Refresh(ctx))
	require.NoError(t, a.publish(ctx, tokA))
	clk.add(time.Minute)
	require.NoError(t, ac.Refresh(ctx))
	require.NoError(t, a.publish(ctx, tokA))
	require.Equal(t, int64(2), a.Version())
	for _, x := range []*Auction{b, c} {
		v, err := x.follow(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(2), v)
	}

	srv.Restart() // empty: no lease, no fence, no snapshot
	for _, x := range []*Auction{a, b, c} {
		waitFor(t, "shared mode after the restart", x.fleet.Shared)
	}
	// c, which never held the lease, takes it first.
	tokC := take(c)
	assert.Greater(t, tokC, tokA, "a token is never handed out twice")
	_, err := b.acquire(ctx) // b only tells Redis what it has seen
	require.NoError(t, err)
	require.NoError(t, c.publish(ctx, tokC))
	assert.Greater(t, c.Version(), int64(2), "the first version after the restart is greater than the last before")
	for _, x := range []*Auction{a, b} {
		v, err := x.follow(ctx)
		require.NoError(t, err)
		assert.Equal(t, c.Version(), v)
		assert.Equal(t, c.Version(), x.Version(), "%s loads it", x.fleet.instance)
	}
	served := c.Version()

	// A lower version appearing (a stale writer, a restored Redis dump) is
	// refused by every replica.
	require.NoError(t, c.fleet.rdb.HSet(ctx, c.keys.snapshot, "version", 1).Err())
	for _, x := range []*Auction{a, b} {
		_, err := x.follow(ctx)
		require.NoError(t, err)
		assert.Equal(t, served, x.Version(), "%s keeps the greater version", x.fleet.instance)
	}

	// Redis empty again, and a replica restarted too: it reads its floors
	// from its fence file, so what it hands out and publishes still grows.
	srv.Restart()
	d := NewAuction(shared(t, srv, "c2"), AuctionConfig{Source: "glovis", Crawler: &fakeCrawler{name: "c2", clock: clk, interval: time.Hour},
		Lease: time.Minute, Fence: filepath.Join(dir, "c.fence")})
	data, err := os.ReadFile(filepath.Join(dir, "c.fence"))
	require.NoError(t, err)
	var f fence
	require.NoError(t, json.Unmarshal(data, &f))
	assert.Equal(t, fence{Token: tokC, Version: served}, f, "c kept the greatest token and version it saw")
	require.NoError(t, d.crawler.Refresh(ctx))
	tokD := take(d)
	require.NoError(t, d.publish(ctx, tokD))
	assert.Greater(t, d.Version(), served)

	for i := 1; i < len(tokens); i++ {
		assert.Greater(t, tokens[i], tokens[i-1], "tokens only grow: %v", tokens)
	}
	t.Logf("lease tokens seen: %v; versions: 2, then %d, then %d", tokens, served, d.Version())
}

// Redis lost: the replicas, which all serve the same shared index, do not
// all crawl when it comes due. Each waits its place in the fleet's order,
// so no two crawls overlap, and none crawls twice in one interval. Time is
// the test's; Redis is real (the replicas learn their order from it).
func TestOneCrawlAtATimeWithoutRedis(t *testing.T) {
	const interval = 10 * time.Minute
	// A crawl of the real site takes minutes with detail pages; two crawls
	// that start closer than this are taken to run at once.
	const crawlTakes = 2 * time.Minute
	srv := redistest.Start(t)
	clk := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	log := &crawlLog{}
	var as []*Auction
	for _, name := range []string{"a", "b", "c"} {
		f := shared(t, srv, name)
		c := &fakeCrawler{name: name, clock: clk, interval: interval, log: log}
		a := NewAuction(f, AuctionConfig{Source: "glovis", Crawler: c, Lease: time.Minute})
		a.now = clk.now
		as = append(as, a)
	}
	for _, a := range as {
		waitFor(t, "three replicas seen", func() bool { return a.fleet.Size() == 3 })
	}
	ctx := context.Background()
	// One crawler, the others load its index: all serve one built at T0.
	for _, a := range as {
		a.step(ctx)
	}
	for _, a := range as {
		a.step(ctx)
	}
	crawled := 0
	for _, a := range as {
		crawled += len(log.starts[a.fleet.instance])
		require.False(t, a.crawler.IndexBuiltAt().IsZero(), "%s serves the index", a.fleet.instance)
	}
	require.Equal(t, 1, crawled, "with Redis, one crawl for the fleet")
	log.starts = nil

	srv.Stop()
	for _, a := range as {
		waitFor(t, "per-instance mode", func() bool {
			_ = a.fleet.Do(ctx, func(ctx context.Context, rdb *redis.Client) error { return rdb.Ping(ctx).Err() })
			return !a.fleet.Shared()
		})
	}
	start := clk.now()
	for clk.now().Before(start.Add(4 * interval)) {
		clk.add(time.Second)
		for _, a := range as {
			a.step(ctx)
		}
	}
	var all []time.Time
	for name, starts := range log.starts {
		assert.NotEmpty(t, starts, "%s crawls alone when its index is due", name)
		for i := 1; i < len(starts); i++ {
			assert.GreaterOrEqual(t, starts[i].Sub(starts[i-1]), interval, "%s crawled twice in one interval", name)
		}
		all = append(all, starts...)
	}
	most := 0
	for _, s := range all {
		at := 0
		for _, o := range all {
			if !o.Before(s) && o.Sub(s) < crawlTakes {
				at++
			}
		}
		most = max(most, at)
	}
	assert.Equal(t, 1, most, "crawls at once: %v", log.starts)
	t.Logf("most crawls at once: %d; crawls in 4 intervals: %d", most, len(all))
}

// Commands that time out together (a busy machine's stall) do not switch
// the fleet to per-instance mode; timeouts that last a second do, and a
// refused password does at once.
func TestTimeoutsTripOnlyWhenTheyLast(t *testing.T) {
	f, err := New(Config{URL: "redis://127.0.0.1:1/0"})
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	f.setMode(true, "", nil)
	ctx := context.Background()
	for range 10 {
		f.observe(ctx, context.DeadlineExceeded, false)
	}
	assert.True(t, f.Shared(), "ten timeouts at once are a stall")
	assert.Equal(t, uint64(10), f.ErrorsOf(KindTimeout), "counted all the same")
	f.streak.Add(-int64(timeoutStreak)) // the first of them a second ago
	f.observe(ctx, context.DeadlineExceeded, false)
	assert.False(t, f.Shared(), "timeouts for a second are a Redis that does not answer")
	assert.Equal(t, KindTimeout, f.Status().Kind)

	f.setMode(true, "", nil)
	f.observe(ctx, replyError("WRONGPASS invalid username-password pair or user is disabled."), false)
	assert.False(t, f.Shared())
	assert.Equal(t, KindAuth, f.Status().Kind)
}

// replyError is an error reply as the Redis client returns it.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}
