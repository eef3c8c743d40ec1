package sources

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// call makes one request through a Client with a Call in its context and
// returns the phases recorded.
func call(t *testing.T, url string, timeout time.Duration) (Phases, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ctx, rec := WithCall(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := NewClient(ClientConfig{Timeout: time.Minute}).Do(req)
	if err == nil {
		resp.Release()
	}
	rs, dropped := rec.Requests()
	require.Len(t, rs, 1)
	assert.Zero(t, dropped)
	return rs[0], err
}

// TestPhasesOfATricklingBody: the body's time is the upstream's and is
// measured to its last byte, not stopped at the first.
func TestPhasesOfATricklingBody(t *testing.T) {
	// The last half leaves the server after a pause, and its time is
	// taken before it is written: the body cannot be done before it, however
	// late a busy machine runs the client (a bound on the body's duration
	// would not hold there).
	var lastHalf atomic.Int64 // unix nanos
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(strings.Repeat("a", 1000)))
		w.(http.Flusher).Flush()
		time.Sleep(300 * time.Millisecond)
		lastHalf.Store(time.Now().UnixNano())
		_, _ = w.Write([]byte(strings.Repeat("b", 1000)))
	}))
	defer srv.Close()
	p, err := call(t, srv.URL+"/list?secret=filters", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "/list", p.Path, "never the query")
	assert.Equal(t, 200, p.Status)
	assert.Equal(t, int64(2000), p.BodyBytes)
	assert.Equal(t, "success", p.Outcome)
	assert.Empty(t, p.Stopped())
	for name, at := range map[string]time.Time{"connect": p.ConnectDone, "wrote": p.Wrote, "first byte": p.FirstByte, "body": p.BodyDone} {
		assert.False(t, at.IsZero(), "%s not recorded", name)
	}
	assert.GreaterOrEqual(t, p.BodyDone.UnixNano(), lastHalf.Load(), "the body's time ends with its last byte, not its first")
	assert.Contains(t, p.Summary(), "body 2.0 KB in")
}

// TestPhasesShowWhereACallStopped: a call cut off by its deadline says the
// phase it was in: headers then silence stop in the body, a server that
// never answers a TLS handshake stops in it.
func TestPhasesShowWhereACallStopped(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("abc"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer silent.Close()
	p, err := call(t, silent.URL, 300*time.Millisecond)
	require.Error(t, err)
	assert.Equal(t, "timeout", p.Outcome)
	assert.Equal(t, "body", p.Stopped())
	assert.Equal(t, int64(3), p.BodyBytes)
	assert.Contains(t, p.Summary(), "cut off at body")

	// Accepts TCP, never says a word: a TLS handshake never completes.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	p, err = call(t, "https://"+ln.Addr().String()+"/", 300*time.Millisecond)
	require.Error(t, err)
	assert.Equal(t, "timeout", p.Outcome)
	assert.Equal(t, "tls", p.Stopped())
	assert.False(t, p.ConnectDone.IsZero())
	assert.Contains(t, p.Summary(), "TLS handshake for")
}
