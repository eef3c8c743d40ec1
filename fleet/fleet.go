// Package fleet is the state the replicas of the service share through one
// Redis: partners' rate budgets, operators' breaker overrides, the crawler's
// lease and the auction it publishes, and the Danawa rows seen in searches.
//
// Redis is a help, never a dependency: every command has a deadline of a few
// milliseconds, Redis sits behind a circuit breaker of its own, and while it
// cannot be used (unreachable, refusing our password, out of memory, read
// only, too slow) each feature falls back to what one instance does alone
// (per-instance mode), keeping to the fleet's limits where it can (a key's
// rate is shared out by the fleet's size). Every change of mode is logged,
// with the kind of failure, and counted. A probe finds Redis again and the
// fleet goes back to shared mode by itself.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
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
	// Instance names this replica in breaker histories, the lease and the
	// heartbeats; "" for host:pid.
	Instance string
	// Size is the number of replicas as the operator knows it (-fleet-size):
	// without Redis each replica grants a key its share of the rate, the
	// rate divided by the larger of Size and the replicas whose heartbeats
	// were last seen. 0: the heartbeats alone.
	Size int
	// Required makes an instance without a usable Redis unready instead of
	// serving in per-instance mode (-redis-required).
	Required bool
	Log      *slog.Logger
}

// DefaultTimeout is a command's deadline on a request's path. Redis on the
// same network answers in well under a millisecond when both sides are idle,
// but on a busy two-core box the client's goroutine waits for a core: the
// fleet measurement (README, "Running more than one instance") saw p99
// round trips of tens of milliseconds in a cold-start burst. A deadline
// below that tail makes a healthy Redis look dead and each replica call the
// upstream itself; 100 ms covers it and still bounds what a request waits.
const DefaultTimeout = 100 * time.Millisecond

// Breaker of the Redis connection: it opens after tripAfter commands in a
// row found Redis unreachable, or timed out over at least timeoutStreak,
// or at once on an answer that says Redis cannot be used (a refused
// password, out of memory, read only, loading); from then on every
// command fails at once, without waiting, until a probe every probeEvery
// succeeds. A busy two-core box stalls every process now and then for a
// few hundred milliseconds (the fleet measurement saw a 391 ms round trip
// once in 8,800); the commands in flight then all time out at once, which
// is not Redis failing: a Redis that does not answer for a second is.
const (
	tripAfter     = 3
	timeoutStreak = time.Second
	probeEvery    = 500 * time.Millisecond
	// backgroundTimeout bounds background commands: a snapshot of a few
	// megabytes, the lease, the overrides.
	backgroundTimeout = 2 * time.Second
	// membersKey holds the replicas' heartbeats (a sorted set of instance
	// names scored by the Redis server's clock); a replica is a member for
	// heartbeatWindow after its last probe.
	membersKey      = "lmn:fleet:members"
	heartbeatWindow = 5 * time.Second
)

// Kinds of Redis failure, as logged and counted.
const (
	KindUnreachable = "unreachable" // refused, reset, closed connections, name not resolved
	KindTimeout     = "timeout"     // no answer within the deadline (a paused or overloaded Redis)
	KindAuth        = "auth"        // NOAUTH, WRONGPASS, NOPERM: our credentials are refused
	KindOOM         = "oom"         // at maxmemory: writes refused
	KindReadonly    = "readonly"    // a replica, or a primary demoted under us
	KindUnavailable = "unavailable" // loading, busy script, primary down, persistence failing
	KindReply       = "reply_error" // an answer the shared rate budget cannot use (counted and logged; that key alone goes per replica)
)

// Kinds lists every kind, in the order metrics and views show them.
var Kinds = []string{KindUnreachable, KindTimeout, KindAuth, KindOOM, KindReadonly, KindUnavailable, KindReply}

// ErrUnavailable is returned, at once, while the breaker is open.
var ErrUnavailable = errors.New("redis unavailable: per-instance mode")

// Fleet is the connection to the shared Redis and its health.
type Fleet struct {
	rdb      *redis.Client
	timeout  time.Duration
	instance string
	size     int
	required bool
	log      *slog.Logger

	shared   atomic.Bool   // false: per-instance mode
	probed   chan struct{} // closed once the first probe has answered or failed
	once     sync.Once
	failures atomic.Int32 // commands failed in a row
	streak   atomic.Int64 // when the first of them failed, in Unix nanoseconds
	byKind   [numKinds]atomic.Uint64
	members  atomic.Int32 // replicas heartbeating when Redis was last seen
	rank     atomic.Int32 // this replica's place among them, by name

	mu        sync.Mutex
	started   bool // the first probe has set a mode
	kind      string
	changedAt time.Time
	lastErr   string
	lastReply string   // the last error reply to a rate budget, logged once
	onShared  []func() // run when the fleet goes back to shared mode
}

const numKinds = 7

var kindIndex = map[string]int{KindUnreachable: 0, KindTimeout: 1, KindAuth: 2, KindOOM: 3, KindReadonly: 4, KindUnavailable: 5, KindReply: 6}

// CheckURL reports whether u is a Redis URL New accepts. The error never
// holds the URL's credentials, whatever its form.
func CheckURL(u string) error {
	_, err := parseURL(u)
	return err
}

func parseURL(u string) (*redis.Options, error) {
	opt, err := redis.ParseURL(u)
	if err == nil {
		return opt, nil
	}
	// url.Parse quotes the whole URL, password included, and a bad escape
	// quotes part of it: neither goes further than here.
	reason := "malformed URL"
	if ue := (*url.Error)(nil); !errors.As(err, &ue) {
		reason = scrub(err.Error(), u)
	}
	return nil, fmt.Errorf("redis URL %s: %s", Redact(u), reason)
}

// Redact is u with its password (and, when u is too malformed to tell,
// everything that could be one) replaced, for logs and errors.
func Redact(u string) string {
	if p, err := url.Parse(u); err == nil {
		if _, has := p.User.Password(); has || p.RawQuery != "" {
			p.RawQuery = ""
			return p.Redacted()
		}
		return p.String()
	}
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		scheme, rest = "", u
	} else {
		scheme += "://"
	}
	rest, _, _ = strings.Cut(rest, "?")
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "xxxxx@" + rest[at+1:]
	} else if strings.Contains(rest, ":") && !strings.Contains(scheme, "//") {
		return "(malformed)"
	}
	return scheme + rest
}

// scrub removes from msg whatever of u could be a credential: the text
// before the last @ of its authority.
func scrub(msg, u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		rest = u
	}
	if at := strings.LastIndex(rest, "@"); at > 0 {
		msg = strings.ReplaceAll(msg, rest[:at], "xxxxx")
	}
	return msg
}

// New connects lazily: it never waits for Redis, which may be down when the
// service starts. The fleet starts in per-instance mode; Run's first probe
// moves it to shared mode, or logs, as an error, why it cannot.
func New(c Config) (*Fleet, error) {
	opt, err := parseURL(c.URL)
	if err != nil {
		return nil, err
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
	return &Fleet{rdb: rdb, timeout: c.Timeout, instance: c.Instance, size: max(c.Size, 0),
		required: c.Required, log: c.Log, changedAt: time.Now(), probed: make(chan struct{})}, nil
}

// Instance is this replica's name.
func (f *Fleet) Instance() string { return f.instance }

// Shared reports whether the fleet is in shared mode (Redis usable).
func (f *Fleet) Shared() bool { return f.shared.Load() }

// Errors counts failed commands since start, all kinds together.
func (f *Fleet) Errors() uint64 {
	var n uint64
	for i := range f.byKind {
		n += f.byKind[i].Load()
	}
	return n
}

// ErrorsOf counts failed commands of one kind since start.
func (f *Fleet) ErrorsOf(kind string) uint64 {
	i, ok := kindIndex[kind]
	if !ok {
		return 0
	}
	return f.byKind[i].Load()
}

// Size is the number of replicas this one assumes there are: the larger of
// the configured size and the replicas heartbeating when Redis was last
// seen; at least 1.
func (f *Fleet) Size() int { return max(f.size, int(f.members.Load()), 1) }

// Rank is this replica's place (0-based, by name) among the replicas
// heartbeating when Redis was last seen; 0 when none were seen.
func (f *Fleet) Rank() int { return int(f.rank.Load()) }

// ReadyCheck is the fleet's entry in /readyz?verbose. It is ok in
// per-instance mode, unless Redis is required.
func (f *Fleet) ReadyCheck() map[string]any {
	st := f.Status()
	c := map[string]any{"name": "redis", "ok": st.Mode == "shared" || !f.required, "mode": st.Mode,
		"since": st.Since.UTC().Format(time.RFC3339), "instance": f.instance, "required": f.required,
		"fleet_size": st.Size, "members_seen": st.Members, "errors": st.ByKind}
	if st.Kind != "" {
		c["failure"] = st.Kind
	}
	if st.LastError != "" {
		c["last_error"] = st.LastError
	}
	return c
}

// Close closes the connections.
func (f *Fleet) Close() error { return f.rdb.Close() }

// Status is the fleet's health as /readyz?verbose, the status page and the
// metrics show it.
type Status struct {
	Mode      string    // "shared" or "per_instance"
	Kind      string    // in per-instance mode, the kind of failure that caused it
	Since     time.Time // when the mode last changed
	LastError string
	Errors    uint64            // failed commands since start
	ByKind    map[string]uint64 // the same by kind
	Size      int               // replicas assumed (Size)
	Members   int               // replicas heartbeating when Redis was last seen
	Required  bool
}

// Status reports the mode and the last error.
func (f *Fleet) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := Status{Mode: "per_instance", Kind: f.kind, Since: f.changedAt, LastError: f.lastErr, Errors: f.Errors(),
		ByKind: map[string]uint64{}, Size: f.Size(), Members: int(f.members.Load()), Required: f.required}
	for _, k := range Kinds {
		st.ByKind[k] = f.ErrorsOf(k)
	}
	if f.Shared() {
		st.Mode, st.Kind = "shared", ""
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
	return f.do(ctx, f.timeout, false, fn)
}

// Strict is Do for a caller to which every error reply means Redis failed
// it (the rate budget's script): it counts and trips like a dead Redis.
func (f *Fleet) Strict(ctx context.Context, fn func(context.Context, *redis.Client) error) error {
	return f.do(ctx, f.timeout, true, fn)
}

// Background is Do with the longer deadline of background work.
func (f *Fleet) Background(ctx context.Context, fn func(context.Context, *redis.Client) error) error {
	return f.do(ctx, backgroundTimeout, false, fn)
}

func (f *Fleet) do(ctx context.Context, d time.Duration, strict bool, fn func(context.Context, *redis.Client) error) error {
	if !f.Shared() {
		return ErrUnavailable
	}
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := fn(cctx, f.rdb)
	f.observe(ctx, err, strict)
	return err
}

// classify names the kind of a failed command; ok false is a healthy Redis
// (no error, or an error reply about the command itself: a missing key, a
// script's own refusal).
func classify(err error, strict bool) (kind string, failed bool) {
	if err == nil || errors.Is(err, redis.Nil) {
		return "", false
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		// Scripts' errors carry the code of the command that failed in
		// them ("OOM command not allowed ... script: ...").
		msg := strings.TrimPrefix(reply.Error(), "ERR Error running script ")
		switch code, _, _ := strings.Cut(msg, " "); code {
		case "NOAUTH", "WRONGPASS", "NOPERM":
			return KindAuth, true
		case "OOM":
			return KindOOM, true
		case "READONLY":
			return KindReadonly, true
		case "LOADING", "BUSY", "MASTERDOWN", "MISCONF", "TRYAGAIN", "CLUSTERDOWN":
			return KindUnavailable, true
		}
		if strict {
			return KindReply, true
		}
		return "", false
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redis.ErrPoolTimeout) || (errors.As(err, &ne) && ne.Timeout()) {
		return KindTimeout, true
	}
	return KindUnreachable, true
}

// observe feeds the breaker. A caller that gave up first says nothing about
// Redis.
func (f *Fleet) observe(ctx context.Context, err error, strict bool) {
	kind, failed := classify(err, strict)
	if !failed || ctx.Err() != nil {
		f.failures.Store(0)
		return
	}
	f.byKind[kindIndex[kind]].Add(1)
	f.mu.Lock()
	f.lastErr = err.Error()
	newReply := kind == KindReply && f.lastReply != f.lastErr
	if newReply {
		f.lastReply = f.lastErr
	}
	f.mu.Unlock()
	if kind == KindReply {
		// One key's budget answered with an error (a key holding
		// something else): that key is shared out per replica, the rest
		// of the fleet's state is fine and the probe would find Redis
		// usable again at once. Logged once per message.
		if newReply {
			f.log.Error("redis answered a rate budget with an error; that key is shared out per replica", "kind", kind, "err", err, "instance", f.instance)
		}
		return
	}
	now := time.Now().UnixNano()
	n := f.failures.Add(1)
	if n == 1 {
		f.streak.Store(now)
	}
	switch {
	case kind == KindTimeout && (n < tripAfter || now-f.streak.Load() < int64(timeoutStreak)):
	case kind == KindUnreachable && n < tripAfter:
	default:
		// A refused password, a full or read-only Redis answers every
		// command the same way: waiting would only grant more wrongly.
		f.setMode(false, kind, err)
	}
}

// setMode records a mode (and, in per-instance mode, the failure's kind),
// logging it once per change: the first probe's result, a switch, or a
// different kind of failure while per-instance.
func (f *Fleet) setMode(shared bool, kind string, cause error) {
	f.mu.Lock()
	first := !f.started
	f.started = true
	was := f.shared.Load()
	if !first && was == shared && f.kind == kind {
		f.mu.Unlock()
		return
	}
	f.shared.Store(shared)
	f.kind = kind
	if was != shared || first {
		f.changedAt = time.Now()
	}
	hooks := f.onShared
	f.mu.Unlock()
	if !shared {
		msg := "redis cannot be used; shared features fall back to per-instance mode"
		switch {
		case first:
			msg = "redis cannot be used at start; serving in per-instance mode"
			if f.required {
				msg = "redis cannot be used at start; not ready until it can (-redis-required)"
			}
		case !was:
			msg = "redis fails differently; still in per-instance mode"
		}
		f.log.Error(msg, "kind", kind, "err", cause, "instance", f.instance, "fleet_size", f.Size())
		return
	}
	f.failures.Store(0)
	f.log.Info("redis usable; shared mode", "instance", f.instance)
	if first {
		return
	}
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

// heartbeat is the probe: a write (so a Redis that refuses writes, full or
// read only, is not taken for a usable one) recording this replica as a
// member, which returns the members heartbeating within the window. The
// server's clock scores them, so the replicas' clocks need not agree.
var heartbeat = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)

func (f *Fleet) probe(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, max(f.timeout, 250*time.Millisecond))
	defer cancel()
	defer f.once.Do(func() { close(f.probed) })
	members, err := heartbeat.Run(pctx, f.rdb, []string{membersKey}, f.instance, heartbeatWindow.Milliseconds()).StringSlice()
	if ctx.Err() != nil {
		return
	}
	if err == nil {
		slices.Sort(members)
		f.members.Store(int32(len(members)))
		f.rank.Store(int32(max(slices.Index(members, f.instance), 0)))
		f.setMode(true, "", nil)
		f.failures.Store(0)
		return
	}
	kind, _ := classify(err, true)
	if kind == KindReply {
		// The heartbeat itself refused (scripts disabled, a proxy that
		// does not speak them): Redis cannot be used as the fleet uses it.
		kind = KindUnavailable
	}
	if !f.hasStarted() || kind != KindTimeout && kind != KindUnreachable {
		// The first probe decides the starting mode, whatever the kind;
		// later, an answer that refuses decides at once.
		f.byKind[kindIndex[kind]].Add(1)
		f.mu.Lock()
		f.lastErr = err.Error()
		f.mu.Unlock()
		f.setMode(false, kind, err)
		return
	}
	f.observe(ctx, err, true)
}

func (f *Fleet) hasStarted() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started
}

var setClientLog sync.Once

// clientLog passes the Redis client's messages to the service's log.
type clientLog struct{ log *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
