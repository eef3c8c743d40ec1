package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// answersKey prefixes the upstream answers the replicas share, each under
// its source and the SHA-256 of the upstream request.
const answersKey = "lmn:answers:"

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

// Get reads an answer another replica fetched, and its time left.
func (s *SourceAnswers) Get(ctx context.Context, key string) ([]byte, time.Duration, bool) {
	var data []byte
	var ttl time.Duration
	err := s.a.fleet.Do(ctx, func(ctx context.Context, rdb *redis.Client) error {
		k := s.key(key)
		var get *redis.StringCmd
		var pttl *redis.DurationCmd
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			get, pttl = p.Get(ctx, k), p.PTTL(ctx, k)
			return nil
		})
		if err != nil {
			return err
		}
		data, _ = get.Bytes()
		ttl = pttl.Val()
		return nil
	})
	if err != nil {
		if !errors.Is(err, redis.Nil) && !errors.Is(err, ErrUnavailable) {
			s.a.log.Warn("shared upstream answer not read", "err", err)
		}
		return nil, 0, false
	}
	return data, ttl, data != nil
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
