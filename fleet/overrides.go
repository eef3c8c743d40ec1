package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/vehicle"
)

// Operators' breaker overrides apply to the whole fleet: the last action on
// each source is stored in a hash (for replicas that start, or come back,
// later) and announced on a channel (so the others apply it at once). A
// replica also reads the hash every overridesPoll, so a missed announcement
// costs a second at most.
//
// Only overrides are shared. Each replica's automatic breaker state stays
// its own, as with Envoy's outlier detection: a replica's breaker judges
// the upstream through that replica's own network path, pool and deadlines,
// and one replica's bad minute must not take a source out for all.
const (
	overridesKey  = "lmn:breakers:overrides"
	overridesChan = "lmn:breakers:overrides"
	overridesPoll = time.Second
)

// override is one operator action as the fleet shares it.
type override struct {
	ID     string    `json:"id"` // unique: instance and time
	Source string    `json:"source"`
	Action string    `json:"action"` // force_open, force_closed, reset
	Reason string    `json:"reason"` // why, by whom, from where
	By     string    `json:"by"`     // the replica it was given to
	At     time.Time `json:"at"`
}

// Overrides shares operators' actions on breakers across the fleet.
type Overrides struct {
	fleet    *Fleet
	breakers map[string]*breaker.Breaker
	log      *slog.Logger

	mu      sync.Mutex
	applied map[string]string // source → id of the last override applied here
}

// NewOverrides shares the overrides of breakers.
func NewOverrides(f *Fleet, breakers []*breaker.Breaker, log *slog.Logger) *Overrides {
	o := &Overrides{fleet: f, breakers: map[string]*breaker.Breaker{}, log: log, applied: map[string]string{}}
	for _, b := range breakers {
		o.breakers[b.Name()] = b
	}
	return o
}

// Publish tells the fleet about an action an operator took on this
// replica, which has applied it already. An error means the other replicas
// did not get it.
func (o *Overrides) Publish(ctx context.Context, source, action, reason string) error {
	now := time.Now()
	ov := override{ID: o.fleet.instance + "/" + strconv.FormatInt(now.UnixNano(), 10), Source: source,
		Action: action, Reason: reason, By: o.fleet.instance, At: now}
	data, err := json.Marshal(ov)
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.applied[source] = ov.ID
	o.mu.Unlock()
	return o.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) error {
		_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, overridesKey, source, data)
			p.Publish(ctx, overridesChan, data)
			return nil
		})
		if err != nil {
			return fmt.Errorf("breaker override not shared: %w", err)
		}
		return nil
	})
}

// Run applies the fleet's overrides until ctx ends: the stored ones at
// once and every overridesPoll, announced ones as they come.
func (o *Overrides) Run(ctx context.Context) {
	sub := o.fleet.rdb.Subscribe(ctx, overridesChan)
	defer sub.Close()
	msgs := sub.Channel()
	t := time.NewTicker(overridesPoll)
	defer t.Stop()
	for {
		o.sync(ctx)
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			o.apply([]byte(m.Payload))
		case <-t.C:
		}
	}
}

// sync applies the stored overrides this replica has not applied yet.
func (o *Overrides) sync(ctx context.Context) {
	var stored map[string]string
	err := o.fleet.Background(ctx, func(ctx context.Context, rdb *redis.Client) (err error) {
		stored, err = rdb.HGetAll(ctx, overridesKey).Result()
		return err
	})
	if err != nil {
		return // per-instance mode, or Redis failing: the breaker of the fleet counts it
	}
	for _, data := range stored {
		o.apply([]byte(data))
	}
}

// apply applies one shared override unless it was applied here already.
// The history of the breaker says who, why, where and when.
func (o *Overrides) apply(data []byte) {
	var ov override
	if err := json.Unmarshal(data, &ov); err != nil {
		o.log.Error("breaker override in Redis not understood; ignored", "err", err)
		return
	}
	b := o.breakers[ov.Source]
	if b == nil {
		return // a source this version does not have
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.applied[ov.Source] == ov.ID {
		return
	}
	o.applied[ov.Source] = ov.ID
	reason := fmt.Sprintf("%s; given to replica %s at %s", ov.Reason, ov.By, ov.At.In(vehicle.KST).Format(time.RFC3339))
	if err := b.Apply(ov.Action, reason); err != nil {
		o.log.Error("breaker override in Redis not applied", "source", ov.Source, "action", ov.Action, "err", err)
		return
	}
	o.log.Warn("breaker changed by an operator on another replica", "source", ov.Source, "action", ov.Action, "reason", reason)
}
