package fleet

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lmn/aggregator/upcache"
)

// answersKey prefixes the upstream answers the replicas share, each under
// its source and the SHA-256 of the upstream request.
const answersKey = "lmn:answers:"

// fetchingSuffix marks the key a replica holds while it fetches an answer
// for the fleet; its value is that replica's random token.
const fetchingSuffix = ":fetching"

// awaitEvery is how often a replica waiting on another's fetch looks for
// the answer: small next to an upstream call (hundreds of ms), and one
// Redis round trip per waiting replica and key, as the cache coalesces the
// waits within a replica.
const awaitEvery = 10 * time.Millisecond

// releaseClaim shares the answer the claim was for (if any; "" is a failed
// fetch) and frees the claim if it is still this replica's: a claim that
// expired during a long fetch may be another replica's by now.
var releaseClaim = redis.NewScript(`
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// Answers is the fleet's level of the upstream answer cache (see upcache):
// a replica's miss reads Redis within the request's Redis deadline, and an
// answer fetched is written after the request, from a bounded queue.
type Answers struct {
	fleet   *Fleet
	log     *slog.Logger
	pending chan answer
	dropped atomic.Uint64
}

type answer struct {
	key  string
	data []byte
	ttl  time.Duration
}

// NewAnswers shares upstream answers through the fleet.
func NewAnswers(f *Fleet, log *slog.Logger) *Answers {
	return &Answers{fleet: f, log: log, pending: make(chan answer, pendingBatches)}
}

// For is the shared level of one source's cache.
func (a *Answers) For(source string) *SourceAnswers {
	return &SourceAnswers{a: a, prefix: answersKey + source + ":"}
}

// SourceAnswers implements upcache.Shared for one source.
type SourceAnswers struct {
	a      *Answers
	prefix string
}

func (s *SourceAnswers) key(k string) string {
	sum := sha256.Sum256([]byte(k))
	return s.prefix + hex.EncodeToString(sum[:])
}

// claimOrGet returns key's answer and its time left when there is one,
// else sets the fetch claim if it is free: {1, answer, pttl}, {2} claimed,
// {3} claimed by another replica.
var claimOrGet = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return {1, v, redis.call('PTTL', KEYS[1])} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {3}`)

// Claim reads the answer another replica shared or, in the same script,
// takes key's fetch for the fleet for at most hold (SET NX PX with a
// random token). It finds nothing and claims nothing when Redis is
// unavailable: then each replica fetches alone.
func (s *SourceAnswers) Claim(ctx context.Context, key string, hold time.Duration) upcache.Claimed {
	k := s.key(key)
	token := rand.Text()
	var res []any
	err := s.a.fleet.Do(ctx, func(ctx context.Context, rdb *redis.Client) (err error) {
		res, err = claimOrGet.Run(ctx, rdb, []string{k, k + fetchingSuffix}, token, hold.Milliseconds()).Slice()
		return err
	})
	if err != nil || len(res) == 0 {
		if err != nil && !errors.Is(err, ErrUnavailable) {
			s.a.log.Warn("upstream fetch not claimed for the fleet", "err", err)
		}
		return upcache.Claimed{}
	}
	switch res[0] {
	case int64(1):
		data, _ := res[1].(string)
		ttl, _ := res[2].(int64)
		return upcache.Claimed{Data: []byte(data), TTL: time.Duration(ttl) * time.Millisecond}
	case int64(3):
		return upcache.Claimed{Taken: true}
	}
	return upcache.Claimed{Release: func(data []byte, ttl time.Duration) {
		// Written now, not from the queue: other replicas are waiting.
		err := s.a.fleet.Do(ctx, func(ctx context.Context, rdb *redis.Client) error {
			return releaseClaim.Run(ctx, rdb, []string{k + fetchingSuffix, k}, token, data, max(ttl.Milliseconds(), 1)).Err()
		})
		if err != nil && !errors.Is(err, ErrUnavailable) {
			s.a.log.Warn("upstream answer not shared with the replicas waiting", "err", err)
		}
	}}
}

// Await waits for the answer of the replica that claimed key: it looks
// every awaitEvery, each look within the request's Redis deadline, and
// gives up when the claim is gone without an answer (the fetch failed; a
// failure is never shared), after hold, when ctx ends, or when Redis does
// not answer.
func (s *SourceAnswers) Await(ctx context.Context, key string, hold time.Duration) ([]byte, time.Duration, bool) {
	k := s.key(key)
	ctx, cancel := context.WithTimeout(ctx, hold)
	defer cancel()
	t := time.NewTicker(awaitEvery)
	defer t.Stop()
	for {
		var get *redis.StringCmd
		var pttl *redis.DurationCmd
		var claimed *redis.IntCmd
		err := s.a.fleet.Do(ctx, func(ctx context.Context, rdb *redis.Client) error {
			// One transaction: an answer written and its claim freed
			// between two separate reads would look like a failure.
			_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				get, pttl, claimed = p.Get(ctx, k), p.PTTL(ctx, k), p.Exists(ctx, k+fetchingSuffix)
				return nil
			})
			if errors.Is(err, redis.Nil) {
				err = nil
			}
			return err
		})
		if err != nil {
			if !errors.Is(err, ErrUnavailable) && ctx.Err() == nil {
				s.a.log.Warn("shared upstream answer not awaited", "err", err)
			}
			return nil, 0, false
		}
		if data, _ := get.Bytes(); data != nil {
			return data, pttl.Val(), true
		}
		if claimed.Val() == 0 {
			return nil, 0, false
		}
		select {
		case <-ctx.Done():
			return nil, 0, false
		case <-t.C:
		}
	}
}

// Set queues an answer for the other replicas; it never waits.
func (s *SourceAnswers) Set(key string, data []byte, ttl time.Duration) {
	if !s.a.fleet.Shared() {
		return
	}
	select {
	case s.a.pending <- answer{key: s.key(key), data: data, ttl: ttl}:
	default:
		s.a.dropped.Add(1)
	}
}

// Dropped counts answers not shared because the queue was full.
func (a *Answers) Dropped() uint64 { return a.dropped.Load() }

// Run writes queued answers to Redis until ctx ends.
func (a *Answers) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ans := <-a.pending:
			err := a.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) error {
				return rdb.Set(ctx, ans.key, ans.data, ans.ttl).Err()
			})
			if err != nil && !errors.Is(err, ErrUnavailable) && ctx.Err() == nil {
				a.log.Warn("upstream answer not shared", "err", err)
			}
		}
	}
}
