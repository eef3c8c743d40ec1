// Package fleet is the state the replicas of the service share through one
// Redis: partners' rate budgets, operators' breaker overrides, the crawler's
// lease and the auction it publishes, and the Danawa rows seen in searches.
//
// Redis is a help, never a dependency: every command has a deadline of a few
// milliseconds, Redis sits behind a circuit breaker of its own, and while it
// is unreachable each feature falls back to what one instance does alone
// (per-instance mode). A probe finds it again and the fleet goes back to
// shared mode by itself.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Config says where Redis is and how long to wait for it.
type Config struct {
	URL string
	// Timeout bounds one command on a request's path (rate limits, Danawa
	// rows); background work (the auction snapshot) gets longer.
	Timeout time.Duration
	// Instance names this replica in breaker histories and the lease; ""
	// for host:pid.
	Instance string
	Log      *slog.Logger
}

// DefaultTimeout is a command's deadline on a request's path: Redis on the
// same network answers in well under a millisecond, so 20 ms is already a
// Redis in trouble, and a request must not wait longer than that for it.
const DefaultTimeout = 20 * time.Millisecond

// Breaker of the Redis connection: it opens after tripAfter commands in a
// row failed (timeouts, refused connections) and from then on every command
// fails at once, without waiting, until a probe every probeEvery succeeds.
const (
	tripAfter  = 3
	probeEvery = 500 * time.Millisecond
	// backgroundTimeout bounds background commands: a snapshot of a few
	// megabytes, the lease, the overrides.
	backgroundTimeout = 2 * time.Second
)

// ErrUnavailable is returned, at once, while the breaker is open.
var ErrUnavailable = errors.New("redis unavailable: per-instance mode")

// Fleet is the connection to the shared Redis and its health.
type Fleet struct {
	rdb      *redis.Client
	timeout  time.Duration
	instance string
	log      *slog.Logger

	shared   atomic.Bool   // false: per-instance mode
	probed   chan struct{} // closed once the first probe has answered or failed
	once     sync.Once
	failures atomic.Int32 // commands failed in a row
	errors   atomic.Uint64

	mu        sync.Mutex
	changedAt time.Time
	lastErr   string
	onShared  []func() // run when the fleet goes back to shared mode
}

// CheckURL reports whether u is a Redis URL New accepts.
func CheckURL(u string) error {
	if _, err := redis.ParseURL(u); err != nil {
		return fmt.Errorf("redis URL: %w", err)
	}
	return nil
}

// New connects lazily: it never waits for Redis, which may be down when the
// service starts. The fleet starts in per-instance mode; Run's first probe
// moves it to shared mode.
func New(c Config) (*Fleet, error) {
	opt, err := redis.ParseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	// Deadlines come from each command's context; the socket timeouts only
	// bound what a context does not.
	opt.ContextTimeoutEnabled = true
	opt.DialTimeout = max(c.Timeout, 250*time.Millisecond)
	opt.ReadTimeout, opt.WriteTimeout = backgroundTimeout, backgroundTimeout
	opt.PoolTimeout = c.Timeout
	opt.MaxRetries = -1 // a retry doubles the wait; the breaker handles failure
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if c.Instance == "" {
		host, _ := os.Hostname()
		c.Instance = host + ":" + strconv.Itoa(os.Getpid())
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	// The client's own log (redials of a dead server, several a second)
	// goes to ours at debug level: the breaker already says, once, that
	// Redis is unreachable. The client has one log for the process: the
	// first fleet's.
	setClientLog.Do(func() { redis.SetLogger(clientLog{c.Log}) })
	rdb := redis.NewClient(opt)
	rdb.AddHook(traceHook{})
	return &Fleet{rdb: rdb, timeout: c.Timeout, instance: c.Instance, log: c.Log, changedAt: time.Now(),
		probed: make(chan struct{})}, nil
}

// Instance is this replica's name.
func (f *Fleet) Instance() string { return f.instance }

// Shared reports whether the fleet is in shared mode (Redis reachable).
func (f *Fleet) Shared() bool { return f.shared.Load() }

// Errors counts failed commands since start.
func (f *Fleet) Errors() uint64 { return f.errors.Load() }

// ReadyCheck is the fleet's entry in /readyz?verbose. It is always ok: an
// instance without Redis serves alone.
func (f *Fleet) ReadyCheck() map[string]any {
	st := f.Status()
	c := map[string]any{"name": "redis", "ok": true, "mode": st.Mode, "since": st.Since.UTC().Format(time.RFC3339), "instance": f.instance}
	if st.LastError != "" {
		c["last_error"] = st.LastError
	}
	return c
}

// Close closes the connections.
func (f *Fleet) Close() error { return f.rdb.Close() }

// Status is the fleet's health as /readyz?verbose and the metrics show it.
type Status struct {
	Mode      string    // "shared" or "per_instance"
	Since     time.Time // when the mode last changed
	LastError string
	Errors    uint64 // failed commands since start
}

// Status reports the mode and the last error.
func (f *Fleet) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := Status{Mode: "per_instance", Since: f.changedAt, LastError: f.lastErr, Errors: f.errors.Load()}
	if f.Shared() {
		st.Mode = "shared"
	}
	return st
}

// OnShared registers fn to run (on Run's goroutine) each time the fleet goes
// back to shared mode: what was missed meanwhile is read again then.
func (f *Fleet) OnShared(fn func()) {
	f.mu.Lock()
	f.onShared = append(f.onShared, fn)
	f.mu.Unlock()
}

// Do runs fn with the client under a request's deadline (Config.Timeout). It
// fails at once with ErrUnavailable in per-instance mode.
func (f *Fleet) Do(ctx context.Context, fn func(context.Context, *redis.Client) error) error {
	return f.do(ctx, f.timeout, fn)
}

// Background is Do with the longer deadline of background work.
func (f *Fleet) Background(ctx context.Context, fn func(context.Context, *redis.Client) error) error {
	return f.do(ctx, backgroundTimeout, fn)
}

func (f *Fleet) do(ctx context.Context, d time.Duration, fn func(context.Context, *redis.Client) error) error {
	if !f.Shared() {
		return ErrUnavailable
	}
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := fn(cctx, f.rdb)
	f.observe(ctx, err)
	return err
}

// observe feeds the breaker. An answer from Redis, even an error reply (a
// missing key, a script's refusal), is a healthy Redis; a caller that gave
// up first says nothing about it.
func (f *Fleet) observe(ctx context.Context, err error) {
	var reply redis.Error
	if err == nil || errors.As(err, &reply) || ctx.Err() != nil {
		f.failures.Store(0)
		return
	}
	f.errors.Add(1)
	f.mu.Lock()
	f.lastErr = err.Error()
	f.mu.Unlock()
	if f.failures.Add(1) >= tripAfter {
		f.setShared(false, err)
	}
}

func (f *Fleet) setShared(shared bool, cause error) {
	if f.shared.Swap(shared) == shared {
		return
	}
	f.mu.Lock()
	f.changedAt = time.Now()
	hooks := f.onShared
	f.mu.Unlock()
	if !shared {
		f.log.Error("redis unreachable; shared features fall back to per-instance mode", "err", cause)
		return
	}
	f.failures.Store(0)
	f.log.Info("redis reachable; back to shared mode", "instance", f.instance)
	for _, fn := range hooks {
		fn()
	}
}

// Run probes Redis until ctx ends: at once, then every probeEvery. A probe
// that answers ends per-instance mode; failed probes count like failed
// commands, so a Redis that dies while nothing else calls it is noticed too.
func (f *Fleet) Run(ctx context.Context) {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		f.probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Probed is closed once the first probe has found Redis or failed to:
// whatever must not start in per-instance mode by mistake (the crawler)
// waits for it.
func (f *Fleet) Probed() <-chan struct{} { return f.probed }

func (f *Fleet) probe(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, max(f.timeout, 250*time.Millisecond))
	defer cancel()
	defer f.once.Do(func() { close(f.probed) })
	err := f.rdb.Ping(pctx).Err()
	if ctx.Err() != nil {
		return
	}
	if err == nil {
		f.setShared(true, nil)
		f.failures.Store(0)
		return
	}
	f.observe(ctx, err)
}

var setClientLog sync.Once

// clientLog passes the Redis client's messages to the service's log.
type clientLog struct{ log *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
