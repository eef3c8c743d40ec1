package fleet_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/fleet"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/internal/redistest"
	"github.com/lmn/aggregator/search"
)

// A busy machine may be slow to answer even a loopback Redis: the tests give
// commands a generous deadline, so that only a dead Redis fails them.
const testTimeout = 2 * time.Second

// start connects a fleet to srv and runs its probe until the test ends,
// waiting for shared mode.
func start(t *testing.T, srv *redistest.Server, instance string) *fleet.Fleet {
	t.Helper()
	f, err := fleet.New(fleet.Config{URL: srv.URL(), Timeout: testTimeout, Instance: instance, Log: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; f.Close() })
	eventually(t, "shared mode", f.Shared)
	return f
}

// eventually polls cond for up to a minute: generous, because a busy
// machine is slow, never because the condition is expected to take long.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after a minute", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBadURL(t *testing.T) {
	_, err := fleet.New(fleet.Config{URL: "http://localhost:6379"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redis URL")
}

// A -redis URL that does not parse is refused without its password in the
// error, whatever is wrong with it (url.Parse quotes the whole URL).
func TestBadURLKeepsThePasswordOut(t *testing.T) {
	const pw = "s3cretPW"
	for _, u := range []string{
		"redis://:" + pw + "@localhost:6379:1/0",           // a second port
		"redis://user:" + pw + "%zz@localhost:6379/0",      // a bad escape in the password
		"redis://:" + pw + "@[::1/0",                       // an unclosed IPv6 address
		"redis://:" + pw + " x@localhost:6379/0",           // a space in the authority
		"http://:" + pw + "@localhost:6379/0",              // not a Redis scheme
		"redis://:" + pw + "@localhost:6379/zero",          // not a database number
		"redis://:" + pw + "@localhost:6379/0/1",           // a path too long
		"redis://:" + pw + "@localhost:6379/0?bogus=" + pw, // an unknown option
		"redis://:" + pw + "@local\nhost:6379/0",           // a control character
		":" + pw + "@localhost:6379",                       // no scheme
		"redis://:" + pw + "@/0",                           // a password and no host
	} {
		err := fleet.CheckURL(u)
		if err == nil {
			continue // accepted: nothing is printed
		}
		assert.NotContains(t, err.Error(), pw, "CheckURL(%q)", u)
		_, err = fleet.New(fleet.Config{URL: u})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), pw, "New(%q)", u)
		assert.NotContains(t, fleet.Redact(u), pw, "Redact(%q)", u)
	}
	assert.Equal(t, "redis://user:xxxxx@localhost:6379/0", fleet.Redact("redis://user:"+pw+"@localhost:6379/0"))
}

// Redis dying moves the fleet to per-instance mode, where commands fail at
// once instead of waiting; Redis back moves it to shared mode by itself.
func TestPerInstanceModeAndBack(t *testing.T) {
	srv := redistest.Start(t)
	f := start(t, srv, "a")
	assert.Equal(t, "shared", f.Status().Mode)
	ping := func() error {
		return f.Do(context.Background(), func(ctx context.Context, rdb *redis.Client) error { return rdb.Ping(ctx).Err() })
	}
	require.NoError(t, ping())

	srv.Stop()
	eventually(t, "per-instance mode", func() bool { _ = ping(); return !f.Shared() })
	st := f.Status()
	assert.Equal(t, "per_instance", st.Mode)
	assert.NotEmpty(t, st.LastError)
	assert.Positive(t, st.Errors)
	assert.ErrorIs(t, ping(), fleet.ErrUnavailable, "no command waits on an open breaker")

	back := make(chan struct{}, 1)
	f.OnShared(func() { back <- struct{}{} })
	srv.Restart()
	eventually(t, "shared mode again", f.Shared)
	require.NoError(t, ping())
	select {
	case <-back:
	default:
		t.Fatal("OnShared hooks did not run on the way back")
	}
}

// Two handler stacks (two replicas) sharing one Redis grant a key its burst
// once in total, not once each. The rate is one request an hour, so nothing
// refills during the test however slow the machine: the count is exact.
func TestFleetRateLimit(t *testing.T) {
	srv := redistest.Start(t)
	const key, burst = "lmn_stg_acme0000000000000001", 5
	var fleets []*fleet.Fleet
	replica := func(name string) *httptest.Server {
		keys := httpapi.NewKeys("stg")
		require.NoError(t, keys.AddEntry(httpapi.Entry{Partner: "acme", Key: key, Rate: &httpapi.Rate{PerSecond: 1.0 / 3600, Burst: burst}}))
		f := start(t, srv, name)
		fleets = append(fleets, f)
		h := httpapi.NewServer(httpapi.Deps{Log: slog.New(slog.DiscardHandler), Keys: keys, Search: &search.Service{},
			Limiter: fleet.NewLimiter(f, httpapi.NewLocalLimiter(time.Now))})
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s
	}
	a, b := replica("a"), replica("b")
	eventually(t, "both replicas seen", func() bool { return fleets[0].Size() == 2 && fleets[1].Size() == 2 })
	get := func(s *httptest.Server) *http.Response {
		req, _ := http.NewRequest("GET", s.URL+"/v1/vehicles/not-an-id", nil)
		req.Header.Set("x-api-key", key)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	admitted, limited := 0, 0
	var remaining []string
	for i := range 4 * burst {
		res := get([]*httptest.Server{a, b}[i%2])
		switch res.StatusCode {
		case http.StatusTooManyRequests:
			limited++
			assert.NotEmpty(t, res.Header.Get("Retry-After"))
		case http.StatusNotFound: // admitted, and the id is unknown
			admitted++
			remaining = append(remaining, res.Header.Get("RateLimit-Remaining"))
		default:
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	assert.Equal(t, burst, admitted, "the fleet grants the burst once")
	assert.Equal(t, 3*burst, limited)
	assert.Equal(t, []string{"4", "3", "2", "1", "0"}, remaining, "one budget, counted down across both replicas")

	// Redis gone: each replica falls back to a budget of its own, fresh,
	// holding its half of the key's burst (two replicas were seen), and
	// keeps answering; nothing waits on the dead server.
	srv.Stop()
	total := 0
	for _, s := range []*httptest.Server{a, b} {
		admitted := 0
		for range 2 * burst {
			if get(s).StatusCode == http.StatusNotFound {
				admitted++
			}
		}
		assert.Equal(t, burst/2, admitted, "per-instance: each replica grants its share of the burst")
		total += admitted
	}
	assert.LessOrEqual(t, total, burst, "the fleet never grants more than the key's burst")
}
