package fleet_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/fleet"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/internal/redistest"
)

// replica is one instance's breakers and admin listener in a fleet.
type replica struct {
	encar, danawa *breaker.Breaker
	admin         *httptest.Server
}

func newReplica(t *testing.T, srv *redistest.Server, name string) *replica {
	t.Helper()
	f := start(t, srv, name)
	r := &replica{encar: breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{}),
		danawa: breaker.New("danawa", breaker.DefaultConfig, breaker.Hooks{})}
	log := slog.New(slog.DiscardHandler)
	ov := fleet.NewOverrides(f, []*breaker.Breaker{r.encar, r.danawa}, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ov.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	r.admin = httptest.NewServer(httpapi.NewAdmin(httpapi.AdminDeps{Log: log, Breakers: []*breaker.Breaker{r.encar, r.danawa},
		Override: ov.Publish}))
	t.Cleanup(r.admin.Close)
	return r
}

func (r *replica) act(t *testing.T, source, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", r.admin.URL+"/debug/breakers/"+source, strings.NewReader(body))
	req.Header.Set("X-Operator", "kim")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}

// lastReason is the newest entry of a breaker's history.
func lastReason(b *breaker.Breaker) string {
	h := b.Snapshot(true).History
	if len(h) == 0 {
		return ""
	}
	return h[0].Reason
}

// An operator's action on one replica reaches every replica, with who, why
// and where in each one's history; a replica that starts later finds it
// stored; automatic state stays each replica's own.
func TestOverridesReachTheFleet(t *testing.T) {
	srv := redistest.Start(t)
	a, b, c := newReplica(t, srv, "a"), newReplica(t, srv, "b"), newReplica(t, srv, "c")

	a.act(t, "encar", `{"action": "force_open", "reason": "encar answers garbage"}`)
	assert.Equal(t, "forced_open", a.encar.State(), "applied at once where it was given")
	for _, r := range []*replica{b, c} {
		eventually(t, "forced open on every replica", func() bool { return r.encar.State() == "forced_open" })
		why := lastReason(r.encar)
		assert.Contains(t, why, "encar answers garbage")
		assert.Contains(t, why, "by kim")
		assert.Contains(t, why, "given to replica a")
		assert.Regexp(t, `at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$`, why, "Korean time, as the rest of the admin side")
		assert.Equal(t, "closed", r.danawa.State(), "only the source acted on")
	}
	assert.NotContains(t, lastReason(a.encar), "given to replica", "the replica it was given to applied it once, itself")

	late := newReplica(t, srv, "late")
	eventually(t, "the stored override applied by a replica started later",
		func() bool { return late.encar.State() == "forced_open" })

	b.act(t, "danawa", `{"action": "force_closed", "reason": "probing by hand"}`)
	c.act(t, "encar", `{"action": "reset"}`)
	for _, r := range []*replica{a, b, c, late} {
		eventually(t, "reset everywhere", func() bool { return r.encar.State() == "closed" && r.danawa.State() == "forced_closed" })
	}
	h := a.encar.Snapshot(true).History
	require.GreaterOrEqual(t, len(h), 2)
	assert.Contains(t, h[0].Reason, "given to replica c")
	assert.Equal(t, "forced_open", h[0].From)
}
