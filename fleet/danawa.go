package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lmn/aggregator/sources/danawa"
	"github.com/lmn/aggregator/vehicle"
)

// Danawa has no detail page: a danawa_ id is answered from a row seen in a
// search. Rows are kept in this replica's memory and, in a fleet, in Redis
// for danawaRowTTL, so a detail request answers on any replica whatever
// replica ran the search.
const (
	danawaRowKey = "lmn:danawa:row:"
	danawaRowTTL = time.Hour
	// pendingBatches bounds the searches' rows waiting to be written: past
	// it, rows are kept here only (and counted), never a wait for a search.
	pendingBatches = 256
)

// writtenMax bounds the rows remembered as written; past it the memory
// starts again (each row then costs one more write).
const writtenMax = 1 << 17

// Rows remembers Danawa rows here and in Redis.
type Rows struct {
	fleet   *Fleet
	local   danawa.Remembered
	log     *slog.Logger
	pending chan []vehicle.Vehicle // copies: the rows searches add are shared
	dropped atomic.Uint64          // batches not written to Redis: the queue was full

	// written is the row last queued for Redis under each id. A popular
	// search adds the same rows with every request, from one parsed
	// answer kept for its cache period: the same pointer is the same
	// row, written once, not once per request (which cost the fleet more
	// CPU than the requests themselves).
	mu      sync.Mutex
	written map[string]*vehicle.Vehicle
}

// NewRows shares local's rows through the fleet.
func NewRows(f *Fleet, local danawa.Remembered, log *slog.Logger) *Rows {
	return &Rows{fleet: f, local: local, log: log, pending: make(chan []vehicle.Vehicle, pendingBatches),
		written: map[string]*vehicle.Vehicle{}}
}

// Add remembers rows here at once and queues them for Redis: a search never
// waits on Redis.
func (r *Rows) Add(rows []*vehicle.Vehicle) {
	r.local.Add(rows)
	if len(rows) == 0 || !r.fleet.Shared() {
		return
	}
	var batch []vehicle.Vehicle
	r.mu.Lock()
	if len(r.written)+len(rows) > writtenMax {
		clear(r.written)
	}
	for _, v := range rows {
		if r.written[v.ID] != v {
			r.written[v.ID] = v
			batch = append(batch, *v)
		}
	}
	r.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	select {
	case r.pending <- batch:
	default:
		r.dropped.Add(1)
	}
}

// Dropped counts batches of rows kept on this replica only because the
// queue to Redis was full.
func (r *Rows) Dropped() uint64 { return r.dropped.Load() }

// Get answers from this replica's memory, else from Redis within the
// request's Redis deadline. A row found in Redis is remembered here too.
func (r *Rows) Get(id string) (vehicle.Vehicle, bool) {
	if v, ok := r.local.Get(id); ok {
		return v, true
	}
	var data []byte
	err := r.fleet.Do(context.Background(), func(ctx context.Context, rdb *redis.Client) (err error) {
		data, err = rdb.Get(ctx, danawaRowKey+id).Bytes()
		return err
	})
	if err != nil {
		if !errors.Is(err, redis.Nil) && !errors.Is(err, ErrUnavailable) {
			r.log.Warn("danawa row not read from redis", "id", id, "err", err)
		}
		return vehicle.Vehicle{}, false
	}
	var v vehicle.Vehicle
	if err := json.Unmarshal(data, &v); err != nil || v.ID != id {
		r.log.Error("danawa row in redis not understood; ignored", "id", id, "err", err)
		return vehicle.Vehicle{}, false
	}
	r.local.Add([]*vehicle.Vehicle{&v})
	return v, true
}

// Run writes queued rows to Redis until ctx ends.
func (r *Rows) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case rows := <-r.pending:
			r.write(ctx, rows)
		}
	}
}

func (r *Rows) write(ctx context.Context, rows []vehicle.Vehicle) {
	err := r.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) error {
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, v := range rows {
				data, err := json.Marshal(v)
				if err != nil {
					return err
				}
				p.Set(ctx, danawaRowKey+v.ID, data, danawaRowTTL)
			}
			return nil
		})
		return err
	})
	if err != nil && !errors.Is(err, ErrUnavailable) && ctx.Err() == nil {
		r.log.Warn("danawa rows not written to redis; other replicas cannot answer their details", "rows", len(rows), "err", err)
	}
}
