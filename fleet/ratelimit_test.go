package fleet

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/internal/redistest"
	"github.com/lmn/aggregator/ratelimit"
)

// evalCalls is how many scripts Redis has run.
func evalCalls(t *testing.T, srv *redistest.Server) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(srv.CLI(t, "INFO", "commandstats"), "\n") {
		if strings.HasPrefix(line, "cmdstat_evalsha:") || strings.HasPrefix(line, "cmdstat_eval:") {
			_, rest, _ := strings.Cut(line, "calls=")
			calls, _, _ := strings.Cut(rest, ",")
			c, err := strconv.Atoi(calls)
			require.NoError(t, err)
			n += c
		}
	}
	return n
}

// A key whose rate allows many requests a replica takes them from the
// fleet's budget in slices, not one round trip per request; the fleet still
// grants no more than the budget allows. The replicas' clocks stand still,
// so no slice expires whatever the machine's speed: the count is exact.
func TestHighRateKeyCountedInSlices(t *testing.T) {
	srv := redistest.Start(t)
	var lims []*Limiter
	frozen := time.Now()
	for _, name := range []string{"a", "b", "c"} {
		f := shared(t, srv, name)
		l := NewLimiter(f, httpapi.NewLocalLimiter(time.Now))
		l.now = func() time.Time { return frozen }
		lims = append(lims, l)
	}
	for _, f := range lims {
		waitFor(t, "three replicas seen", func() bool { return f.fleet.Size() == 3 })
	}
	// 30/s and a burst of 300: a replica's slice is 30 × 1 s / 3 = 10.
	r := ratelimit.Rate{PerSecond: 30, Burst: 300}
	before := evalCalls(t, srv)
	began := time.Now()
	granted := 0
	for i := range 600 {
		q, err := lims[i%3].Take(context.Background(), "busy", r, 1)
		require.NoError(t, err)
		if q.Allowed {
			granted++
		}
	}
	took := time.Since(began).Seconds()
	calls := evalCalls(t, srv) - before
	t.Logf("600 requests, %d granted in %.2fs, %d round trips to Redis", granted, took, calls)
	assert.LessOrEqual(t, float64(granted), 300+30*took+1, "never more than the fleet's budget")
	assert.GreaterOrEqual(t, granted, 300, "the burst is granted")
	// A slice of 10 per round trip while the budget lasts; once it is
	// spent, one per request. Ten more for the heartbeats, the budget's
	// refill meanwhile and each replica's last, partial slice.
	assert.LessOrEqual(t, calls, granted/10+(600-granted)+10, "a round trip per slice while the budget lasts")

	// A key with a small rate is counted request by request, exactly.
	before = evalCalls(t, srv)
	small := ratelimit.Rate{PerSecond: 10, Burst: 300}
	for i := range 30 {
		_, err := lims[i%3].Take(context.Background(), "small", small, 1)
		require.NoError(t, err)
	}
	assert.GreaterOrEqual(t, evalCalls(t, srv)-before, 30, "a round trip per request (and the replicas' heartbeats)")
}
