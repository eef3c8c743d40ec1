package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/fleet"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/metrics"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/tracing"
	"github.com/lmn/aggregator/vehicle"
)

// minSecretLen is the shortest cursor secret accepted: cursors are signed
// with HMAC-SHA256, and a short secret can be guessed offline.
const minSecretLen = 16

// maxInFlightPerCore bounds the requests one instance works on at once, per
// core it may use. A dealer request costs several milliseconds of CPU, so 32
// requests per core in flight already wait a few hundred milliseconds for a
// core: more would let queueing inside the service eat the upstreams'
// deadlines and open their breakers.
const maxInFlightPerCore = 32

// DemoKey is the staging key -sim accepts.
const DemoKey = "lmn_stg_demo000000000000000000000000"

type config struct {
	addr, adminAddr          string
	sources                  map[vehicle.Source]*sourceFlags
	deadline                 time.Duration
	crawlInterval            time.Duration
	fxRate                   float64
	cursorSecrets            string
	keysFile, keys, env      string
	snapshot                 string
	logFormat                string
	sim                      bool
	shutdownGrace            time.Duration
	maxInFlight              int
	upstreamCacheTTL         time.Duration
	ratePerSecond            float64
	rateBurst                int
	trustedProxies           string
	redisURL                 string
	redisTimeout, crawlLease time.Duration
	fleetSize                int
	redisRequired            bool
	metricsAddr, adminToken  string
	drainDelay               time.Duration
	healthAddr               string
	maxConns, adminMaxConns  int
	slowCallRate             float64
	breakerOpenFor           time.Duration
}

// sourceFlags are one source's settings as its flags set them.
type sourceFlags struct {
	url      string
	timeout  time.Duration
	slowCall time.Duration // dealers: 0 for half the timeout
	bulkhead int           // dealers: 0 for half of -max-in-flight
	own      map[string]*string
}

// settings are the source's settings for the service.
func (f *sourceFlags) settings() registry.Settings {
	s := registry.Settings{URL: f.url, Timeout: f.timeout, SlowCall: f.slowCall, Bulkhead: f.bulkhead, Own: map[string]string{}}
	for name, v := range f.own {
		s.Own[name] = *v
	}
	return s
}

// sourceEnv is the environment variable of a source's flag: LMN_GLOVIS_SITES.
func sourceEnv(source vehicle.Source, name string) string {
	return "LMN_" + strings.ToUpper(strings.ReplaceAll(string(source)+"_"+name, "-", "_"))
}

// positive is a flag value that must be a positive number.
type positive float64

func (p *positive) String() string { return strconv.FormatFloat(float64(*p), 'f', -1, 64) }

func (p *positive) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return fmt.Errorf("want a positive number, got %q", s)
	}
	*p = positive(f)
	return nil
}

// flags defines every setting of serve. env maps each flag to the
// environment variable that sets it too.
func flags(fs *flag.FlagSet) (c *config, env map[string]string) {
	c = &config{fxRate: 1350, ratePerSecond: 10, sources: map[vehicle.Source]*sourceFlags{}}
	env = map[string]string{}
	str := func(p *string, name, envName, def, help string) {
		env[name] = envName
		fs.StringVar(p, name, def, help+" ($"+envName+")")
	}
	dur := func(p *time.Duration, name, envName string, def time.Duration, help string) {
		env[name] = envName
		fs.DurationVar(p, name, def, help+" ($"+envName+")")
	}
	str(&c.addr, "addr", "LMN_ADDR", ":8080", "public API address")
	str(&c.adminAddr, "admin-addr", "LMN_ADMIN_ADDR", "127.0.0.1:9090", "admin address (health, metrics, breakers); keep it off the public network")
	// Every source's URL, timeout and own settings, from its description.
	for _, d := range registry.All() {
		f := &sourceFlags{own: map[string]*string{}}
		c.sources[d.Name] = f
		name := string(d.Name)
		str(&f.url, name+"-url", sourceEnv(d.Name, "url"), d.Defaults.URL, d.Title+" base URL")
		what := "deadline of " + d.Title + "'s share of a request"
		if d.Kind == registry.Auction {
			what = "deadline of one " + d.Title + " page fetch"
		}
		dur(&f.timeout, name+"-timeout", sourceEnv(d.Name, "timeout"), d.Defaults.Timeout, what)
		if d.Kind == registry.Dealer {
			dur(&f.slowCall, name+"-slow-call", sourceEnv(d.Name, "slow-call"), d.Defaults.SlowCall,
				"a "+d.Title+" call slower than this counts toward opening its breaker even when it succeeds (0: half of -"+name+"-timeout)")
			env[name+"-bulkhead"] = sourceEnv(d.Name, "bulkhead")
			fs.IntVar(&f.bulkhead, name+"-bulkhead", d.Defaults.Bulkhead, d.Title+" calls in flight at most; beyond it "+d.Title+
				" fails at once for the request, reason timeout (0: half of -max-in-flight) ($"+sourceEnv(d.Name, "bulkhead")+")")
		}
		for _, st := range d.Settings {
			f.own[st.Name] = new(string)
			str(f.own[st.Name], name+"-"+st.Name, sourceEnv(d.Name, st.Name), st.Default, d.Title+": "+st.Help)
		}
	}
	dur(&c.deadline, "deadline", "LMN_REQUEST_DEADLINE", 3*time.Second, "deadline of a whole API request")
	dur(&c.crawlInterval, "crawl-interval", "LMN_CRAWL_INTERVAL", 10*time.Minute, "time between auction crawls")
	env["fx-rate"] = "LMN_FX_RATE"
	fs.Var((*positive)(&c.fxRate), "fx-rate", "won per US dollar used for prices ($LMN_FX_RATE)")
	str(&c.cursorSecrets, "cursor-secrets", "LMN_CURSOR_SECRETS", "", "comma-separated cursor signing secrets, newest first; required unless -sim")
	str(&c.keysFile, "api-keys-file", "LMN_API_KEYS_FILE", "", "keys file: JSON {\"keys\": [{\"partner\", \"key\" or \"sha256\", \"allow\", \"rate\"}]}, or one key per line; reread on SIGHUP")
	str(&c.keys, "api-keys", "LMN_API_KEYS", "", "comma-separated accepted API keys (prefer -api-keys-file)")
	env["rate-per-second"] = "LMN_RATE_PER_SECOND"
	fs.Var((*positive)(&c.ratePerSecond), "rate-per-second", "requests per second of a key whose entry names no rate ($LMN_RATE_PER_SECOND)")
	env["rate-burst"] = "LMN_RATE_BURST"
	fs.IntVar(&c.rateBurst, "rate-burst", 20, "burst of a key whose entry names no rate ($LMN_RATE_BURST)")
	str(&c.metricsAddr, "metrics-addr", "LMN_METRICS_ADDR", "", "serve /metrics alone on this address instead of on the admin listener")
	str(&c.healthAddr, "health-addr", "LMN_HEALTH_ADDR", "", "serve /healthz and /readyz alone, with no token, on this address (for an orchestrator's probes); empty: none")
	env["max-conns"] = "LMN_MAX_CONNS"
	fs.IntVar(&c.maxConns, "max-conns", defaultMaxConns, "connections the public listener holds open at once; more wait in the accept queue ($LMN_MAX_CONNS)")
	env["admin-max-conns"] = "LMN_ADMIN_MAX_CONNS"
	fs.IntVar(&c.adminMaxConns, "admin-max-conns", defaultAdminMaxConns, "connections each of the admin, health and metrics listeners holds open at once ($LMN_ADMIN_MAX_CONNS)")
	str(&c.adminToken, "admin-token", "LMN_ADMIN_TOKEN", "", "bearer token the admin listener's controls, pprof and /sim require; required when -admin-addr is not loopback (prefer the environment variable)")
	dur(&c.drainDelay, "drain-delay", "LMN_DRAIN_DELAY", 5*time.Second, "on shutdown, how long /readyz fails while requests are still served, so load balancers stop sending first")
	str(&c.trustedProxies, "trusted-proxies", "LMN_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR ranges of proxies whose X-Forwarded-For is believed")
	str(&c.env, "env", "LMN_ENV", "stg", "key environment this deployment accepts: stg or live")
	str(&c.snapshot, "snapshot", "LMN_SNAPSHOT", "", "file the auction indexes are saved to and restored from, one per auction source with its name before the extension (auction.json: auction-<source>.json)")
	str(&c.logFormat, "log-format", "LMN_LOG_FORMAT", "json", "log format: json or text (text with -sim)")
	dur(&c.shutdownGrace, "shutdown-grace", "LMN_SHUTDOWN_GRACE", 10*time.Second, "how long in-flight requests get to finish on shutdown")
	dur(&c.upstreamCacheTTL, "upstream-cache-ttl", "LMN_UPSTREAM_CACHE_TTL", 30*time.Second, "how long parsed Encar and Danawa search answers are kept and shared between requests (0 keeps none, at most 60s)")
	env["max-in-flight"] = "LMN_MAX_IN_FLIGHT"
	fs.IntVar(&c.maxInFlight, "max-in-flight", maxInFlightPerCore*runtime.GOMAXPROCS(0), "requests this instance works on at once; beyond it 503 overloaded ($LMN_MAX_IN_FLIGHT)")
	str(&c.redisURL, "redis", "LMN_REDIS_URL", "", "redis:// URL of the Redis shared by the replicas (rate limits, breaker overrides, the crawler's lease and auction, Danawa rows); empty: this instance alone")
	dur(&c.redisTimeout, "redis-timeout", "LMN_REDIS_TIMEOUT", fleet.DefaultTimeout, "deadline of one Redis command on a request's path")
	env["fleet-size"] = "LMN_FLEET_SIZE"
	fs.IntVar(&c.fleetSize, "fleet-size", 0, "with -redis: replicas in the fleet; without Redis each grants a key 1/N of its rate, N the larger of this and the replicas last seen in Redis ($LMN_FLEET_SIZE)")
	env["redis-required"] = "LMN_REDIS_REQUIRED"
	fs.BoolVar(&c.redisRequired, "redis-required", false, "with -redis: not ready while Redis cannot be used, instead of serving in per-instance mode ($LMN_REDIS_REQUIRED)")
	dur(&c.crawlLease, "crawl-lease", "LMN_CRAWL_LEASE", fleet.DefaultLease, "with -redis: period of the crawler's lease; a dead crawler hands over within it")
	fs.BoolVar(&c.sim, "sim", false, "start the simulated upstreams on loopback and point the sources at them")
	env["slow-call-rate"] = "LMN_SLOW_CALL_RATE"
	c.slowCallRate = breaker.DefaultConfig.SlowRate
	fs.Var((*positive)(&c.slowCallRate), "slow-call-rate", "share of a breaker's window of slow calls that opens it ($LMN_SLOW_CALL_RATE)")
	dur(&c.breakerOpenFor, "breaker-open-for", "LMN_BREAKER_OPEN_FOR", breaker.DefaultConfig.OpenFor, "how long an open breaker rejects calls before it lets a probe through")
	return c, env
}

// parseConfig applies the environment, then the command line, and checks
// the result: a bad value anywhere is an error naming where it came from.
func parseConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (*config, error) {
	c, env := flags(fs)
	for name, envName := range env {
		if v := getenv(envName); v != "" {
			if err := fs.Set(name, v); err != nil {
				return nil, fmt.Errorf("serve: $%s: %w", envName, err)
			}
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	positive := map[string]time.Duration{"deadline": c.deadline, "crawl-interval": c.crawlInterval, "shutdown-grace": c.shutdownGrace,
		"redis-timeout": c.redisTimeout, "crawl-lease": c.crawlLease}
	for _, d := range registry.All() {
		positive[string(d.Name)+"-timeout"] = c.sources[d.Name].timeout
		for _, st := range d.Settings {
			if st.Check == nil {
				continue
			}
			if err := st.Check(*c.sources[d.Name].own[st.Name]); err != nil {
				return nil, fmt.Errorf("serve: -%s-%s: %w", d.Name, st.Name, err)
			}
		}
	}
	for name, d := range positive {
		if d <= 0 {
			return nil, fmt.Errorf("serve: -%s must be positive, got %s", name, d)
		}
	}
	if c.redisURL != "" {
		if err := fleet.CheckURL(c.redisURL); err != nil {
			return nil, fmt.Errorf("serve: -redis: %w", err)
		}
	}
	if c.fleetSize < 0 {
		return nil, fmt.Errorf("serve: -fleet-size must be 0 or more, got %d", c.fleetSize)
	}
	if c.upstreamCacheTTL < 0 || c.upstreamCacheTTL > time.Minute {
		return nil, fmt.Errorf("serve: -upstream-cache-ttl must be 0 to 60s, got %s", c.upstreamCacheTTL)
	}
	for name, f := range c.sources {
		if f.bulkhead < 0 {
			return nil, fmt.Errorf("serve: -%s-bulkhead must be 0 (the default) or more, got %d", name, f.bulkhead)
		}
	}
	if c.maxInFlight < 1 {
		return nil, fmt.Errorf("serve: -max-in-flight must be at least 1, got %d", c.maxInFlight)
	}
	if c.drainDelay < 0 || c.drainDelay >= c.shutdownGrace {
		return nil, fmt.Errorf("serve: -drain-delay must be at least 0 and less than -shutdown-grace (%s), got %s", c.shutdownGrace, c.drainDelay)
	}
	if err := checkAdminToken(c.adminToken, c.adminAddr); err != nil {
		return nil, err
	}
	if c.maxConns < 1 || c.adminMaxConns < 1 {
		return nil, fmt.Errorf("serve: -max-conns and -admin-max-conns must be at least 1, got %d and %d", c.maxConns, c.adminMaxConns)
	}
	if c.rateBurst < 1 {
		return nil, fmt.Errorf("serve: -rate-burst must be at least 1, got %d", c.rateBurst)
	}
	if _, err := httpapi.ParsePrefixes(c.trustedProxies); err != nil {
		return nil, fmt.Errorf("serve: -trusted-proxies: %w", err)
	}
	if c.env != "stg" && c.env != "live" {
		return nil, fmt.Errorf("serve: -env must be stg or live, got %q", c.env)
	}
	if c.sim && !isSet(fs, "upstream-cache-ttl") && getenv("LMN_UPSTREAM_CACHE_TTL") == "" {
		// The demo switches the simulated upstreams' faults: they must show
		// at once, not after the answers kept have expired.
		c.upstreamCacheTTL = 0
	}
	if c.sim && !isSet(fs, "log-format") && getenv("LMN_LOG_FORMAT") == "" {
		c.logFormat = "text"
	}
	return c, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c, err := parseConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	log, err := newLogger(c.logFormat, stderr)
	if err != nil {
		return err
	}

	var simulator *sim.Sim
	if c.sim {
		simulator = sim.New()
		servers, err := registry.StartSim(simulator)
		if err != nil {
			return err
		}
		defer servers.Close()
		for name, u := range servers.URLs {
			c.sources[vehicle.Source(name)].url = u
		}
		if c.cursorSecrets == "" {
			c.cursorSecrets = "sim-only-cursor-secret-not-for-production"
		}
	}
	keys, err := loadKeys(c)
	if err != nil {
		return err
	}
	trusted, _ := httpapi.ParsePrefixes(c.trustedProxies) // checked by parseConfig
	secrets := strings.Split(c.cursorSecrets, ",")
	for i, sec := range secrets {
		if sec != "" && len(sec) < minSecretLen {
			return fmt.Errorf("serve: -cursor-secrets: secret %d has %d bytes; use at least %d random bytes", i+1, len(sec), minSecretLen)
		}
	}
	codec, err := cursor.NewCodec(secrets...)
	if err != nil {
		return errors.New("serve: -cursor-secrets (or $LMN_CURSOR_SECRETS) is required")
	}

	tp, stopTracing, err := tracing.FromEnv(ctx, getenv)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer flushTraces(log, stopTracing)
	if tracing.Enabled(getenv) {
		log.Info("tracing: spans go over OTLP/HTTP", "endpoint", firstSet(getenv, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"))
	}

	m := metrics.New()
	overload := httpapi.NewOverload(c.maxInFlight)
	m.WatchOverload(overload)
	bc := breaker.DefaultConfig
	bc.SlowRate, bc.OpenFor = c.slowCallRate, c.breakerOpenFor
	settings := map[vehicle.Source]registry.Settings{}
	for name, f := range c.sources {
		settings[name] = f.settings()
		if d, _ := registry.Lookup(name); d.Kind == registry.Dealer && f.bulkhead == 0 {
			// A hung dealer holds at most half the requests in flight; the
			// other half are answered by the other sources.
			st := settings[name]
			st.Bulkhead = max(c.maxInFlight/2, 1)
			settings[name] = st
		}
	}
	cfg := service.Config{
		Sources:       settings,
		CrawlInterval: c.crawlInterval, Snapshot: c.snapshot, Breaker: bc, Metrics: m,
		UpstreamCacheTTL: c.upstreamCacheTTL,
		API: httpapi.Deps{Cursors: codec, Keys: keys, FXRate: c.fxRate, Deadline: c.deadline, Overload: overload,
			TrustedProxies: trusted},
		Tracing: tp,
	}
	if simulator != nil {
		cfg.Admin.Sim, cfg.Admin.SimModes = simulator.Control(), sim.Modes()
	}
	if c.redisURL != "" {
		f, err := fleet.New(fleet.Config{URL: c.redisURL, Timeout: c.redisTimeout, Size: c.fleetSize, Required: c.redisRequired, Log: log})
		if err != nil {
			return fmt.Errorf("serve: -redis: %w", err)
		}
		defer f.Close()
		go f.Run(ctx)
		cfg.Fleet, cfg.CrawlLease = f, c.crawlLease
	}
	var draining atomic.Bool
	cfg.Admin.Token, cfg.Admin.MetricsApart, cfg.Admin.Draining = c.adminToken, c.metricsAddr != "", draining.Load
	app, err := service.New(cfg, log)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if err := app.Restore(); err != nil {
		log.Error("auction snapshot not restored; waiting for the first crawl", "err", err)
	}
	go app.Run(ctx)
	go app.Timeline.Run(ctx)

	// Listening for SIGHUP before serving: a reload sent as soon as the
	// service answers must not kill it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	open, err := openListeners(listenerSpecs(c, app, m), log, m)
	if err != nil {
		return err
	}
	errc := make(chan error, len(open))
	var servers []*http.Server
	addrs := map[string]string{}
	for _, l := range open {
		servers = append(servers, l.srv)
		addrs[l.spec.name] = l.ln.Addr().String()
		go func() { errc <- l.srv.Serve(l.ln) }()
	}
	if a, ok := addrs["metrics"]; ok {
		log.Info("serving metrics", "metrics_addr", a)
	}
	if a, ok := addrs["health"]; ok {
		log.Info("serving health", "health_addr", a)
	}
	log.Info("serving", "addr", addrs["public"], "admin_addr", addrs["admin"], "sim", c.sim)
	if c.sim {
		printDemo(stdout, addrs["public"], addrs["admin"])
	}

wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-hup:
			reloadKeys(log, m, keys, c)
		}
	}
	log.Info("shutting down: /readyz fails now, then in-flight requests finish", "drain_delay", c.drainDelay, "grace", c.shutdownGrace)
	return drain(draining.Store, c.drainDelay, c.shutdownGrace, servers)
}

// Connection caps. The public cap stays well under the descriptors a
// process gets (Go raises the soft limit to the hard one, often 1,048,576,
// at least the 20,000 of a typical container) with room for upstream
// connections; the admin, health and metrics listeners serve a handful of
// people and scrapers.
const (
	defaultMaxConns      = 10_000
	defaultAdminMaxConns = 64
)

// listenerSpecs lists the listeners of c: the public API, the admin
// listener, and the health and metrics addresses when set.
func listenerSpecs(c *config, app *service.Service, m *metrics.Metrics) []listenerSpec {
	specs := []listenerSpec{
		{name: "public", addr: c.addr, handler: app.API, maxConns: c.maxConns, write: c.deadline + 5*time.Second, idle: 2 * time.Minute},
		// pprof's profile and trace run 30 s by default: the write timeout
		// leaves them room.
		{name: "admin", addr: c.adminAddr, handler: app.Admin, maxConns: c.adminMaxConns, write: time.Minute + 5*time.Second, idle: time.Minute},
	}
	if c.metricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		specs = append(specs, listenerSpec{name: "metrics", addr: c.metricsAddr, handler: mux, maxConns: c.adminMaxConns,
			write: 30 * time.Second, idle: time.Minute})
	}
	if c.healthAddr != "" {
		specs = append(specs, listenerSpec{name: "health", addr: c.healthAddr, handler: app.Health, maxConns: c.adminMaxConns,
			write: 5 * time.Second, idle: time.Minute})
	}
	return specs
}

// minAdminTokenLen is the shortest admin token accepted off loopback: the
// token is all that stands between the network and the breaker controls
// and pprof. minAdminTokenDistinct rejects the "aaaa…" kind of token.
const (
	minAdminTokenLen      = 32
	minAdminTokenDistinct = 8
)

// checkAdminToken applies the token rules: required off loopback, and
// there at least 32 bytes of several different characters; on loopback at
// least 16 bytes when set.
func checkAdminToken(token, addr string) error {
	if token == "" && !loopback(addr) {
		return fmt.Errorf("serve: -admin-addr %q is not a loopback address: set -admin-token (or $LMN_ADMIN_TOKEN) so its controls are not open to the network", addr)
	}
	if token == "" {
		return nil
	}
	want := minSecretLen
	if !loopback(addr) {
		want = minAdminTokenLen
	}
	distinct := map[rune]bool{}
	for _, r := range token {
		distinct[r] = true
	}
	if len(token) < want || len(distinct) < minAdminTokenDistinct {
		return fmt.Errorf("serve: -admin-token has %d bytes of %d different characters; with -admin-addr %q use at least %d random bytes (e.g. openssl rand -hex 32)",
			len(token), len(distinct), addr, want)
	}
	return nil
}

// drain takes the instance out of rotation before it stops: /readyz fails
// at once, requests are still served for delay (load balancers notice and
// stop sending), then the listeners close and in-flight requests get the
// rest of grace to finish.
func drain(setDraining func(bool), delay, grace time.Duration, servers []*http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	setDraining(true)
	time.Sleep(delay)
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { errs[i] = s.Shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// loopback reports whether addr (host:port) listens on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadKeys reads the keys of -api-keys and -api-keys-file into a new set;
// with -sim the demo key is added unless they list it themselves.
func loadKeys(c *config) (*httpapi.Keys, error) {
	keys := httpapi.NewKeys(c.env)
	if err := keys.SetDefaultRate(httpapi.Rate{PerSecond: c.ratePerSecond, Burst: c.rateBurst}); err != nil {
		return nil, fmt.Errorf("serve: -rate-per-second, -rate-burst: %w", err)
	}
	for _, k := range strings.Split(c.keys, ",") {
		if strings.TrimSpace(k) == "" {
			continue
		}
		if err := keys.Add(k); err != nil {
			return nil, fmt.Errorf("serve: -api-keys: %w", err)
		}
	}
	if c.keysFile != "" {
		f, err := os.Open(c.keysFile)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		defer f.Close()
		if err := keys.AddFrom(f); err != nil {
			return nil, fmt.Errorf("serve: %s: %w", c.keysFile, err)
		}
	}
	if c.sim && !keys.Valid(DemoKey) {
		// High enough for aggregator load to drive the demo at its top rate;
		// list the demo key in a keys file to try a rate limit.
		demo := httpapi.Entry{Partner: "demo", Key: DemoKey, Rate: &httpapi.Rate{PerSecond: 10000, Burst: 10000}}
		if err := keys.AddEntry(demo); err != nil {
			return nil, err
		}
	}
	if keys.Len() == 0 {
		return nil, errors.New("serve: no API keys: set -api-keys-file or $LMN_API_KEYS (or use -sim)")
	}
	return keys, nil
}

// reloadKeys rereads the keys (on SIGHUP) and swaps them in whole; keys no
// longer listed stop working with the next request. A bad file keeps the
// keys in service: refusing every partner is worse than a stale key.
func reloadKeys(log *slog.Logger, m *metrics.Metrics, live *httpapi.Keys, c *config) {
	next, err := loadKeys(c)
	m.KeysReload(err != nil)
	if err != nil {
		log.Error("API keys not reloaded; the previous keys stay in service", "err", err)
		return
	}
	live.Replace(next)
	log.Info("API keys reloaded", "keys", next.Len(), "partners", len(next.Partners()))
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{ReplaceAttr: durationsInMillis}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("serve: -log-format must be json or text, got %q", format)
}

// flushTraces sends the spans still batched before the process ends.
func flushTraces(log *slog.Logger, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		log.Warn("traces not all sent at shutdown", "err", err)
	}
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// durationsInMillis writes every duration logged anywhere in the service as
// milliseconds under a key that says so ("retry_in" 30s → "retry_in_ms"
// 30000), never as the JSON handler's integer nanoseconds.
func durationsInMillis(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key+"_ms", httpapi.Millis(a.Value.Duration()))
	}
	return a
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func printDemo(w io.Writer, addr, admin string) {
	host := func(a string) string {
		if strings.HasPrefix(a, "[::]") || strings.HasPrefix(a, "0.0.0.0") || strings.HasPrefix(a, ":") {
			_, port, _ := net.SplitHostPort(a)
			return "localhost:" + port
		}
		return a
	}
	fmt.Fprintf(w, `
Simulated upstreams are up. Try:

  curl -s -H 'x-api-key: %s' 'http://%s/v1/vehicles?make=Kia&model=Sorento&sort=price_asc&limit=10'

Take Encar down, and see the partial header:

  curl -s -X PUT -d '{"mode":"down"}' http://%s/sim/encar
  curl -si -H 'x-api-key: %s' 'http://%s/v1/vehicles?make=Kia&limit=5' | grep -i x-lmn

Breakers: curl -s http://%s/debug/breakers
`, DemoKey, host(addr), host(admin), DemoKey, host(addr), host(admin))
}
