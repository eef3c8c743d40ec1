package sim

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources"
)

// TestNetworkModes: each network-level mode, read through the service's
// own HTTP client, shows the shape a real network gives it: where the call
// stopped and what it was labelled. A deadline ends the silent ones; the
// test asserts only after it has passed.
func TestNetworkModes(t *testing.T) {
	s := New()
	servers, err := s.Start()
	require.NoError(t, err)
	defer servers.Close()
	client := sources.NewClient(sources.ClientConfig{Timeout: time.Minute})
	get := func(t *testing.T) (sources.Phases, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
		defer cancel()
		ctx, rec := sources.WithCall(ctx)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, servers.DanawaURL+"/usedcar/?Work=list&Page=1", nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		if err == nil {
			resp.Release()
		}
		rs, _ := rec.Requests()
		require.Len(t, rs, 1)
		return rs[0], err
	}
	for _, c := range []struct {
		fault            Fault
		outcome, stopped string
		someBody         bool
	}{
		{Fault{Mode: Healthy}, "success", "", true},
		{Fault{Mode: Trickle, BytesPerS: 2000}, "timeout", "body", true},
		{Fault{Mode: Stall}, "timeout", "body", true},
		{Fault{Mode: Reset}, "connection", "body", true},
		{Fault{Mode: BlackHole}, "timeout", "first_byte", false},
	} {
		t.Run(c.fault.Mode, func(t *testing.T) {
			require.NoError(t, s.SetFault("danawa", c.fault))
			defer s.Reset()
			p, err := get(t)
			assert.Equal(t, c.outcome, p.Outcome, "%v; %s", err, p.Summary())
			assert.Equal(t, c.stopped, p.Stopped(), p.Summary())
			assert.Equal(t, c.someBody, p.BodyBytes > 0, p.Summary())
			if c.fault.Mode == Trickle {
				assert.Less(t, p.BodyBytes, int64(2000), "at 2000 B/s, under 0.7 s")
			}
		})
	}
	// A black hole also swallows new connections: none is ever answered.
	require.NoError(t, s.SetFault("danawa", Fault{Mode: BlackHole}))
	client = sources.NewClient(sources.ClientConfig{Timeout: time.Minute}) // no pooled connection
	p, err := get(t)
	require.Error(t, err)
	assert.Equal(t, "timeout", p.Outcome)
	assert.False(t, p.ConnectDone.IsZero(), "the kernel accepted the connection")
	assert.Zero(t, p.Status)
}
