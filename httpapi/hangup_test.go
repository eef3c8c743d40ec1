package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// statusRecorder is the metrics observer of the test: it keeps each status.
type statusRecorder struct {
	mu       sync.Mutex
	statuses []int
	partner  []int
}

func (s *statusRecorder) Request(_ string, status int, _ time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses = append(s.statuses, status)
}
func (s *statusRecorder) PartnerRequest(_ string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partner = append(s.partner, status)
}
func (s *statusRecorder) Partial([]vehicle.Source) {}
func (s *statusRecorder) DealersUnavailable()      {}

func (s *statusRecorder) seen() ([]int, []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.statuses...), append([]int(nil), s.partner...)
}

// TestHangUpIs499: a client that goes away while its search waits on an
// upstream is recorded as 499, not as a server error.
func TestHangUpIs499(t *testing.T) {
	rec := &statusRecorder{}
	st := newStack(t, neverTrips, func(c *service.Config) { c.API.Metrics = rec })
	require.NoError(t, st.sim.SetFault("encar", sim.Fault{Mode: sim.Hang}))
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, st.api.URL+"/v1/vehicles?source=encar&make=Kia", nil)
	require.NoError(t, err)
	req.Header.Set("x-api-key", demoKey)
	done := make(chan error, 1)
	go func() {
		resp, err := st.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Hang up once the request is waiting on Encar.
	require.Eventually(t, func() bool { return st.sim.Hits("encar") > 0 }, 10*time.Second, 5*time.Millisecond)
	cancel()
	require.Error(t, <-done)
	require.Eventually(t, func() bool { s, _ := rec.seen(); return len(s) == 1 }, 10*time.Second, 5*time.Millisecond)
	statuses, partner := rec.seen()
	assert.Equal(t, []int{499}, statuses)
	assert.Equal(t, []int{499}, partner)
}
