package fleet

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// One replica at a time crawls an auction source (a members-only site with
// one session: N crawlers would read every page N times). It holds a lease
// in Redis, renewed every third of its period; each new index it builds is
// published to Redis, versioned and compressed, and the other replicas load
// each new version within a poll.
//
// Fencing only grows. The lease carries a token and publishing checks, in
// one script, that the lease still holds the publisher's token, so a
// crawler that lost its lease (paused, cut off) can never overwrite the
// index of the one that took over. Tokens and versions never go back, even
// when Redis restarts empty: every replica tells Redis the highest token
// and version it has seen (kept on disk next to the snapshot, so a restart
// of the replica does not forget them either), a new token is also at
// least the Redis server's clock in milliseconds, and a replica never
// loads a version lower than one it has served.
const (
	// DefaultLease is the lease's period: a crawler that dies hands over
	// within it.
	DefaultLease = 15 * time.Second
	// maxSnapshot bounds a snapshot read back from Redis, decompressed.
	maxSnapshot = 256 << 20
)

// Crawler is what the fleet needs of an auction source's crawler.
type Crawler interface {
	// Refresh crawls once and puts the new index in service; on error the
	// previous index stays.
	Refresh(ctx context.Context) error
	// Export is the index in service in a form Import reads, with what a
	// crawl needs to go on from it; nil before the first load.
	Export() ([]byte, error)
	// Import puts an index another replica exported in service.
	Import(raw []byte) error
	// IndexBuiltAt is when the index in service was built; zero for none.
	IndexBuiltAt() time.Time
	// CrawlInterval is the time between successful crawls.
	CrawlInterval() time.Duration
}

// AuctionConfig is one auction source's share of the fleet.
type AuctionConfig struct {
	// Source names the auction source; its Redis keys are named after it
	// (Glovis keeps the keys it had before there were several, so old and
	// new replicas share one lease during a rolling upgrade).
	Source  string
	Crawler Crawler
	// Lease is the lease's period; ≤ 0 for DefaultLease.
	Lease time.Duration
	// Fence is the file the highest token and version seen are kept in
	// (the snapshot's path + ".fence"); "" keeps them in memory only.
	Fence string
	Log   *slog.Logger
}

// auctionKeys are one source's keys in Redis.
type auctionKeys struct {
	lease    string // "instance token", expiring
	fence    string // the last token handed out
	snapshot string // version, token, by, data (gzip JSON)
	floor    string // the highest token and version any replica has seen
}

func keysOf(source string) auctionKeys {
	prefix := "lmn:auction:" + source + ":"
	if source == "glovis" {
		prefix = "lmn:auction:"
	}
	return auctionKeys{lease: prefix + "lease", fence: prefix + "fence", snapshot: prefix + "snapshot", floor: prefix + "floor"}
}

// acquire raises the floor to what the caller has seen, then takes the
// lease if it is free, or renews it if this instance holds it, and returns
// the token; 0 when another instance holds it. A new token is greater than
// the last handed out, than any seen (the floor) and than the server's
// clock in milliseconds, so it grows even across a Redis that lost its
// data. Numbers are formatted with %d: Lua would write large ones as
// floats.
var acquire = redis.NewScript(`
local function raise(field, v)
  local cur = tonumber(redis.call('HGET', KEYS[3], field) or '0')
  if v > cur then redis.call('HSET', KEYS[3], field, string.format('%d', v)) end
end
raise('token', tonumber(ARGV[3]))
raise('version', tonumber(ARGV[4]))
local cur = redis.call('GET', KEYS[1])
if cur then
  local inst, tok = string.match(cur, '^(.*) (%d+)$')
  if inst == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(tok)
  end
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tok = math.max(tonumber(redis.call('GET', KEYS[2]) or '0') + 1,
  tonumber(redis.call('HGET', KEYS[3], 'token') or '0') + 1, now)
local s = string.format('%d', tok)
redis.call('SET', KEYS[2], s)
redis.call('HSET', KEYS[3], 'token', s)
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. s, 'PX', ARGV[2])
return tok
`)

// publish stores a snapshot if, and only if, the lease still holds the
// publisher's token, and returns the snapshot's new version: greater than
// the stored one and than the floor.
var publish = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then
  return redis.error_reply('FENCED lease lost')
end
local v = math.max(tonumber(redis.call('HGET', KEYS[2], 'version') or '0'),
  tonumber(redis.call('HGET', KEYS[3], 'version') or '0'), tonumber(ARGV[4])) + 1
local s = string.format('%d', v)
redis.call('HSET', KEYS[2], 'version', s, 'token', ARGV[2], 'by', ARGV[1], 'data', ARGV[3])
redis.call('HSET', KEYS[3], 'version', s)
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

// Auction runs an auction source's crawler on one replica of the fleet at a
// time and shares its index with the others. In per-instance mode (Redis
// unusable) each replica crawls when its own index is due, but the
// replicas do not all crawl at once: each waits, beyond the crawl interval,
// its place in the fleet's order (known from the heartbeats) or, without
// one, a random part of the interval.
type Auction struct {
	fleet   *Fleet
	source  string
	keys    auctionKeys
	crawler Crawler
	lease   time.Duration
	fence   string
	log     *slog.Logger
	now     func() time.Time
	jitter  func(max time.Duration) time.Duration

	token   atomic.Int64 // the lease's token while held, else 0
	version atomic.Int64 // the shared snapshot version in service here

	mu       sync.Mutex // the floors, and the fence file they are written to
	maxToken int64      // the highest token seen here (held or published)
	maxVer   int64      // the highest version seen here (served or published)

	nextTry   time.Time     // not before: backoff after a failed crawl
	backoff   time.Duration // after the next failure
	lastCrawl time.Time     // start of the last crawl, successful or not
	refused   int64         // the lower shared version last refused (logged once)
	offset    time.Duration // per-instance: wait beyond the interval; -1 to draw
}

// NewAuction shares c.Crawler's work across the fleet.
func NewAuction(f *Fleet, c AuctionConfig) *Auction {
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	a := &Auction{fleet: f, source: c.Source, keys: keysOf(c.Source), crawler: c.Crawler, lease: c.Lease, fence: c.Fence,
		log: c.Log.With("auction", c.Source), now: time.Now, backoff: firstBackoff, offset: -1,
		jitter: func(d time.Duration) time.Duration { return rand.N(d) }}
	a.maxToken, a.maxVer = a.readFence()
	return a
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
// takes) the lease and the index is due. In per-instance mode it crawls
// when its index is due and its turn in the fleet has come.
func (a *Auction) step(ctx context.Context) {
	if !a.fleet.Shared() {
		a.token.Store(0)
		if a.due(a.perInstanceOffset()) && a.crawl(ctx, ctx, 0) {
			// From now on this replica's own index sets its pace: the
			// offset is already in it.
			a.offset = 0
		}
		return
	}
	a.offset = -1 // drawn again the next time Redis is lost
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
	if !a.due(0) {
		_, maxVer := a.floors()
		if ferr == nil && (shared < maxVer || shared == 0 && !a.crawler.IndexBuiltAt().IsZero()) {
			// Nothing shared, or older than what was served here (a Redis
			// that restarted empty, an index restored from a file): the
			// fleet gets this one at once, under a greater version.
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

// perInstanceOffset is how long past the interval this replica waits
// before crawling alone: its rank's share of the interval when the fleet's
// order is known (replicas crawl one after the other, never at once), a
// random part of the first half of it otherwise. It is drawn once per
// spell without Redis.
func (a *Auction) perInstanceOffset() time.Duration {
	if a.offset >= 0 {
		return a.offset
	}
	interval := a.crawler.CrawlInterval()
	if n := a.fleet.Size(); n > 1 && a.fleet.members.Load() > 1 {
		a.offset = time.Duration(a.fleet.Rank()%n) * interval / time.Duration(n)
	} else {
		a.offset = a.jitter(max(interval/2, 1))
	}
	return a.offset
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
// the crawl interval plus offset; no failed crawl's backoff pending; and no
// crawl started here within the interval (at most one crawl per interval
// per replica, failed ones retried after their backoff).
func (a *Auction) due(offset time.Duration) bool {
	now := a.now()
	if now.Before(a.nextTry) {
		return false
	}
	interval := a.crawler.CrawlInterval()
	if a.nextTry.IsZero() && !a.lastCrawl.IsZero() && now.Sub(a.lastCrawl) < interval {
		return false
	}
	built := a.crawler.IndexBuiltAt()
	return built.IsZero() || now.Sub(built) >= interval+offset
}

// crawl runs one crawl under cctx and publishes its index under token (0:
// per-instance, nothing to publish), and reports whether it succeeded. A
// failure is retried after a backoff that doubles up to the interval, each
// with up to half of it again at random, so replicas that failed together
// do not retry together.
func (a *Auction) crawl(ctx, cctx context.Context, token int64) bool {
	a.lastCrawl = a.now()
	if err := a.crawler.Refresh(cctx); err != nil {
		if ctx.Err() == nil {
			a.log.Warn("auction crawl failed; keeping the previous index", "err", err, "retry_in", a.backoff)
		}
		a.nextTry = a.now().Add(a.backoff + a.jitter(max(a.backoff/2, 1)))
		a.backoff = min(a.backoff*2, max(a.crawler.CrawlInterval(), firstBackoff))
		return false
	}
	a.backoff, a.nextTry = firstBackoff, time.Time{}
	if token != 0 {
		if err := a.publish(ctx, token); err != nil {
			a.log.Error("auction index not shared with the fleet", "err", err)
		}
	}
	return true
}

func (a *Auction) acquire(ctx context.Context) (tok int64, err error) {
	maxTok, maxVer := a.floors()
	err = a.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) error {
		tok, err = acquire.Run(ctx, rdb, []string{a.keys.lease, a.keys.fence, a.keys.floor}, a.fleet.instance,
			a.lease.Milliseconds(), maxTok, maxVer).Int64()
		return err
	})
	if err == nil && tok != 0 {
		a.seen(tok, 0)
	}
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
		return release.Run(ctx, rdb, []string{a.keys.lease}, a.fleet.instance, tok).Err()
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
	_, maxVer := a.floors()
	var v int64
	err = a.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) (err error) {
		v, err = publish.Run(ctx, rdb, []string{a.keys.lease, a.keys.snapshot, a.keys.floor}, a.fleet.instance, token, buf.Bytes(), maxVer).Int64()
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
	a.seen(token, v)
	a.log.Info("auction index shared with the fleet", "version", v, "bytes", buf.Len(), "token", token)
	return nil
}

// follow loads the shared snapshot when its version is greater than the
// one in service here, and returns the shared version, 0 when nothing is
// shared. A lower version (a Redis that lost its data and got an older
// index from somewhere) is refused: versions only grow.
func (a *Auction) follow(ctx context.Context) (int64, error) {
	var v int64
	err := a.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) error {
		s, err := rdb.HGet(ctx, a.keys.snapshot, "version").Result()
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
	if _, maxVer := a.floors(); v < maxVer {
		if a.refused != v {
			a.refused = v
			a.log.Warn("shared auction snapshot older than one served here; not loaded", "version", v, "served", maxVer)
		}
		return v, nil
	}
	var data []byte
	var token int64
	err = a.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) (err error) {
		res, err := rdb.HMGet(ctx, a.keys.snapshot, "version", "token", "data").Result()
		if err != nil {
			return err
		}
		s, _ := res[0].(string)
		tok, _ := res[1].(string)
		d, _ := res[2].(string)
		if v, err = strconv.ParseInt(s, 10, 64); err != nil {
			return fmt.Errorf("shared auction snapshot version %q: %w", s, err)
		}
		token, _ = strconv.ParseInt(tok, 10, 64)
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
	a.seen(token, v)
	a.log.Info("loaded the fleet's auction index", "version", v, "token", token)
	return v, nil
}

// floors are the highest token and version seen here.
func (a *Auction) floors() (token, version int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.maxToken, a.maxVer
}

// seen raises the floors and keeps them on disk.
func (a *Auction) seen(token, version int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if token <= a.maxToken && version <= a.maxVer {
		return
	}
	a.maxToken, a.maxVer = max(a.maxToken, token), max(a.maxVer, version)
	if a.fence == "" {
		return
	}
	if err := writeFence(a.fence, fence{Token: a.maxToken, Version: a.maxVer}); err != nil {
		a.log.Warn("fencing floors not kept on disk; a restart of this replica forgets them", "err", err)
	}
}

// fence is the fence file's content.
type fence struct {
	Token   int64 `json:"token"`
	Version int64 `json:"version"`
}

func (a *Auction) readFence() (token, version int64) {
	if a.fence == "" {
		return 0, 0
	}
	data, err := os.ReadFile(a.fence)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0
	}
	var f fence
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	if err != nil {
		a.log.Warn("fencing floors not read; starting from what Redis holds", "file", a.fence, "err", err)
		return 0, 0
	}
	return f.Token, f.Version
}

// writeFence writes f to path atomically: a crash leaves the old floors or
// the new, never half of either.
func writeFence(path string, f fence) error {
	data, _ := json.Marshal(f)
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
