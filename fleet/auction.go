package fleet

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/vehicle"
)

// One replica at a time crawls Glovis (a members-only site with one
// session: N crawlers would read every page N times). It holds a lease in
// Redis, renewed every third of its period; each new index it builds is
// published to Redis, versioned and compressed, and the other replicas load
// each new version within a poll. The lease carries a fencing token that
// only grows: publishing checks, in one script, that the lease still holds
// the publisher's token, so a crawler that lost its lease (paused, cut off)
// can never overwrite the index of the one that took over.
const (
	// Each auction source has its own keys: lmn:auction:<source>:lease
	// ("instance token", expiring), …:fence (the last token handed out) and
	// …:snapshot (version, token, by, data as gzip JSON).
	auctionKeys = "lmn:auction:"
	// DefaultLease is the lease's period: a crawler that dies hands over
	// within it.
	DefaultLease = 15 * time.Second
	// maxSnapshot bounds a snapshot read back from Redis, decompressed.
	maxSnapshot = 256 << 20
)

// acquire takes the lease if it is free, or renews it if this instance
// holds it, and returns the token; 0 when another instance holds it.
var acquire = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local inst, tok = string.match(cur, '^(.*) (%d+)$')
  if inst == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(tok)
  end
  return 0
end
local tok = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. tok, 'PX', ARGV[2])
return tok
`)

// publish stores a snapshot if, and only if, the lease still holds the
// publisher's token, and returns the snapshot's new version.
var publish = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then
  return redis.error_reply('FENCED lease lost')
end
local v = redis.call('HINCRBY', KEYS[2], 'version', 1)
redis.call('HSET', KEYS[2], 'token', ARGV[2], 'by', ARGV[1], 'data', ARGV[3])
return v
`)

// release gives the lease up if this instance holds it, so a replica that
// shuts down hands over at once.
var release = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] .. ' ' .. ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// ErrFenced is a publish refused because the lease has moved on.
var ErrFenced = errors.New("auction not published: this instance no longer holds the crawler's lease")

// Auction runs the crawler on one replica of the fleet at a time and shares
// its index with the others. In per-instance mode (Redis unreachable) each
// replica crawls when its own index is older than the crawl interval, as a
// lone instance does.
type Auction struct {
	fleet   *Fleet
	crawler Crawler
	lease   time.Duration
	log     *slog.Logger

	// leaseKey, fenceKey and snapshotKey are the crawler's source's keys.
	leaseKey, fenceKey, snapshotKey string

	token   atomic.Int64 // the lease's token while held, else 0
	version atomic.Int64 // the shared snapshot version in service here

	nextTry time.Time     // not before: backoff after a failed crawl
	backoff time.Duration // after the next failure
}

// Crawler is the auction crawler a lease runs and whose index it shares
// (an auction.Source).
type Crawler interface {
	Refresh(ctx context.Context) error
	Export() ([]byte, error)
	Import(data []byte) error
	Source() vehicle.Source
	Status() auction.Status
	CrawlInterval() time.Duration
}

// NewAuction shares c's work across the fleet; lease ≤ 0 is DefaultLease.
func NewAuction(f *Fleet, c Crawler, lease time.Duration, log *slog.Logger) *Auction {
	if lease <= 0 {
		lease = DefaultLease
	}
	prefix := auctionKeys + string(c.Source()) + ":"
	return &Auction{fleet: f, crawler: c, lease: lease, log: log.With("source", c.Source()), backoff: firstBackoff,
		leaseKey: prefix + "lease", fenceKey: prefix + "fence", snapshotKey: prefix + "snapshot"}
}

const firstBackoff = 5 * time.Second

// Crawling reports whether this replica holds the crawler's lease.
func (a *Auction) Crawling() bool { return a.token.Load() != 0 }

// Version is the shared snapshot version in service here (0 for none).
func (a *Auction) Version() int64 { return a.version.Load() }

// tick is how often a replica looks at the lease and the shared snapshot:
// often enough that a free lease is taken, and a new version loaded, within
// a second or a third of the lease.
func (a *Auction) tick() time.Duration { return min(time.Second, a.lease/3) }

// Run works until ctx ends, then gives the lease up.
func (a *Auction) Run(ctx context.Context) {
	select {
	case <-a.fleet.Probed(): // not crawling alone only because Redis was not asked yet
	case <-ctx.Done():
		return
	}
	t := time.NewTicker(a.tick())
	defer t.Stop()
	for {
		a.step(ctx)
		select {
		case <-ctx.Done():
			a.release()
			return
		case <-t.C:
		}
	}
}

// step loads a newer shared index, then crawls if this replica holds (or
// takes) the lease and the index is due.
func (a *Auction) step(ctx context.Context) {
	if !a.fleet.Shared() {
		a.token.Store(0)
		if a.due() {
			a.crawl(ctx, ctx, 0)
		}
		return
	}
	shared, ferr := a.follow(ctx)
	if ferr != nil && !errors.Is(ferr, ErrUnavailable) {
		a.log.Error("shared auction snapshot not loaded", "err", ferr)
	}
	tok, err := a.acquire(ctx)
	if err != nil {
		return // Redis failing: its breaker decides when to go per-instance
	}
	if old := a.token.Swap(tok); old != tok {
		if tok != 0 {
			a.log.Info("took the crawler's lease", "instance", a.fleet.instance, "token", tok)
		} else if old != 0 {
			a.log.Warn("lost the crawler's lease", "instance", a.fleet.instance, "token", old)
		}
	}
	if tok == 0 {
		return
	}
	if !a.due() {
		if ferr == nil && shared == 0 && a.crawler.Status().Loaded {
			// Nothing shared yet (a Redis that restarted empty, an index
			// restored from a file): the fleet gets this one at once.
			if err := a.publish(ctx, tok); err != nil {
				a.log.Error("auction index not shared with the fleet", "err", err)
			}
		}
		return
	}
	// The crawl stops as soon as the lease is lost: its result could not
	// be published anyway.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go a.renew(cctx, cancel, tok, done)
	a.crawl(ctx, cctx, tok)
}

// renew keeps the lease while a crawl runs, cancelling it if the lease is
// lost to another replica.
func (a *Auction) renew(ctx context.Context, cancel context.CancelFunc, tok int64, done <-chan struct{}) {
	t := time.NewTicker(a.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		got, err := a.acquire(ctx)
		if err == nil && got != tok {
			a.log.Warn("lost the crawler's lease during a crawl; stopping it", "token", tok)
			a.token.Store(0)
			cancel()
			return
		}
	}
}

// due reports whether the index needs a crawl: none loaded, or older than
// the crawl interval, and no failed crawl's backoff pending.
func (a *Auction) due() bool {
	if time.Now().Before(a.nextTry) {
		return false
	}
	st := a.crawler.Status()
	return !st.Loaded || time.Since(st.BuiltAt) >= a.crawler.CrawlInterval()
}

// crawl runs one crawl under cctx and publishes its index under token (0:
// per-instance, nothing to publish).
func (a *Auction) crawl(ctx, cctx context.Context, token int64) {
	if err := a.crawler.Refresh(cctx); err != nil {
		if ctx.Err() == nil {
			a.log.Warn("auction crawl failed; keeping the previous index", "err", err, "retry_in", a.backoff)
		}
		a.nextTry = time.Now().Add(a.backoff)
		a.backoff = min(a.backoff*2, max(a.crawler.CrawlInterval(), firstBackoff))
		return
	}
	a.backoff, a.nextTry = firstBackoff, time.Time{}
	if token == 0 {
		return
	}
	if err := a.publish(ctx, token); err != nil {
		a.log.Error("auction index not shared with the fleet", "err", err)
	}
}

func (a *Auction) acquire(ctx context.Context) (tok int64, err error) {
	err = a.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) error {
		tok, err = acquire.Run(ctx, rdb, []string{a.leaseKey, a.fenceKey}, a.fleet.instance, a.lease.Milliseconds()).Int64()
		return err
	})
	return tok, err
}

func (a *Auction) release() {
	tok := a.token.Swap(0)
	if tok == 0 {
		return
	}
	// The run's context has ended; giving the lease back gets a moment of
	// its own.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = a.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) error {
		return release.Run(ctx, rdb, []string{a.leaseKey}, a.fleet.instance, tok).Err()
	})
}

// publish stores the index in service as the next version, fenced by token.
func (a *Auction) publish(ctx context.Context, token int64) error {
	raw, err := a.crawler.Export()
	if err != nil || raw == nil {
		return fmt.Errorf("auction snapshot: %v", err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	var v int64
	err = a.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) (err error) {
		v, err = publish.Run(ctx, rdb, []string{a.leaseKey, a.snapshotKey}, a.fleet.instance, token, buf.Bytes()).Int64()
		return err
	})
	if err != nil && redis.HasErrorPrefix(err, "FENCED") {
		a.token.CompareAndSwap(token, 0)
		return ErrFenced
	}
	if err != nil {
		return err
	}
	a.version.Store(v)
	a.log.Info("auction index shared with the fleet", "version", v, "bytes", buf.Len(), "token", token)
	return nil
}

// follow loads the shared snapshot when its version is not the one in
// service here (versions start again at 1 after Redis lost its data; the
// stored one is always the last published), and returns the shared
// version, 0 when nothing is shared.
func (a *Auction) follow(ctx context.Context) (int64, error) {
	var v int64
	err := a.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) error {
		s, err := rdb.HGet(ctx, a.snapshotKey, "version").Result()
		if errors.Is(err, redis.Nil) {
			return nil // nothing published yet
		}
		if err != nil {
			return err
		}
		v, err = strconv.ParseInt(s, 10, 64)
		return err
	})
	if err != nil || v == 0 || v == a.version.Load() {
		return v, err
	}
	var data []byte
	err = a.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) (err error) {
		res, err := rdb.HMGet(ctx, a.snapshotKey, "version", "data").Result()
		if err != nil {
			return err
		}
		s, _ := res[0].(string)
		d, _ := res[1].(string)
		if v, err = strconv.ParseInt(s, 10, 64); err != nil {
			return fmt.Errorf("shared auction snapshot version %q: %w", s, err)
		}
		data = []byte(d)
		return nil
	})
	if err != nil {
		return v, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return v, fmt.Errorf("shared auction snapshot %d: %w", v, err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxSnapshot))
	if err != nil {
		return v, fmt.Errorf("shared auction snapshot %d: %w", v, err)
	}
	if err := a.crawler.Import(raw); err != nil {
		return v, err
	}
	a.version.Store(v)
	a.log.Info("loaded the fleet's auction index", "version", v, "rows", a.crawler.Status().Rows)
	return v, nil
}
