package sources

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, c *Client, url string) (*Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	return c.Do(req)
}

func TestRedirectToAnotherPortRefused(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	var up *httptest.Server
	up = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/login", http.StatusFound)
		case "/here":
			http.Redirect(w, r, up.URL+"/there", http.StatusFound)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer up.Close()
	c := NewClient(ClientConfig{Timeout: 5 * time.Second})

	_, err := get(t, c, up.URL+"/away?make=Kia")
	require.ErrorIs(t, err, ErrBlocked)
	assert.Equal(t, int32(0), elsewhere.Load(), "the other port was never called")
	assert.NotContains(t, err.Error(), "make=Kia", "no query in errors")

	resp, err := get(t, c, up.URL+"/here")
	require.NoError(t, err, "a redirect on the same host and port is followed")
	assert.Equal(t, "ok", string(resp.Body))
}

func TestErrorsNameThePathOnly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := NewClient(ClientConfig{Timeout: 5 * time.Second})
	_, err = get(t, c, "http://"+addr+"/search?keyword=partner-secret")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/search")
	assert.NotContains(t, err.Error(), "partner-secret")
	assert.NotContains(t, err.Error(), "?")
	assert.Equal(t, "connection", Outcome(err), "the failure kind survives")
}

func TestBodyRead(t *testing.T) {
	src := bytes.Repeat([]byte("0123456789"), 20_001)
	// Each length is served from its own offset, so that a body read into a
	// buffer a longer one was released from shows any stale byte.
	body := func(n int) []byte { return src[n%7 : n%7+n] }
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		_, _ = w.Write(body(n))
	}))
	defer up.Close()
	budget := NewBodyBudget(150_000)
	c := NewClient(ClientConfig{Timeout: 5 * time.Second, MaxBody: 100_000, Budget: budget})
	for _, n := range []int{100_000, 99_999, 32<<10 + 1, 32 << 10, 1, 0, 65_000, 70_000} {
		for _, chunked := range []string{"", "1"} {
			resp, err := get(t, c, up.URL+"/?n="+strconv.Itoa(n)+"&chunked="+chunked)
			require.NoError(t, err, "n=%d chunked=%q", n, chunked)
			assert.Equal(t, body(n), resp.Body, "n=%d chunked=%q", n, chunked)
			if chunked == "" && n > 0 {
				assert.Equal(t, bodyCap(n), cap(*resp.buf), "n=%d: a body of the announced length is read into its own class, not one byte more", n)
			}
			resp.Release()
			assert.Nil(t, resp.Body, "a released body is gone")
			resp.Release() // twice is harmless
		}
	}
	for _, chunked := range []string{"", "1"} {
		_, err := get(t, c, up.URL+"/?n=100001&chunked="+chunked)
		assert.ErrorIs(t, err, ErrOversize, "over MaxBody, chunked=%q", chunked)
	}
	require.True(t, budget.sem.TryAcquire(150_000), "every read gave its budget back")
	budget.sem.Release(150_000)

	// With the budget taken by other calls, a read fails at once. Buffers
	// count at their capacity: 32 KiB, then 64 KiB for a chunked body that
	// outgrows the first.
	require.True(t, budget.sem.TryAcquire(150_000-40_000))
	_, err := get(t, c, up.URL+"/?n=50000&chunked=1")
	require.ErrorIs(t, err, ErrOversize)
	assert.Contains(t, err.Error(), "budget")
	assert.True(t, strings.HasPrefix(Outcome(err), "oversize"))
	resp, err := get(t, c, up.URL+"/?n=5000")
	require.NoError(t, err, "a body whose buffer fits what is left is read")
	assert.Len(t, resp.Body, 5000)
	budget.sem.Release(150_000 - 40_000)
	resp, err = get(t, c, up.URL+"/?n=50000&chunked=1")
	require.NoError(t, err)
	assert.Len(t, resp.Body, 50_000)
	assert.Equal(t, len(resp.Body), cap(resp.Body), "an append to Body cannot reach the pooled buffer")
	assert.False(t, errors.Is(err, ErrOversize))
	require.True(t, budget.sem.TryAcquire(150_000), "every read gave its budget back")
	budget.sem.Release(150_000)
}

func TestBodyClasses(t *testing.T) {
	for _, c := range []struct{ n, cap int }{
		{0, 32 << 10}, {1, 32 << 10}, {32 << 10, 32 << 10}, {32<<10 + 1, 64 << 10},
		{100_001, 128 << 10}, {4 << 20, 4 << 20},
		{4<<20 + 1, 4<<20 + 1}, // beyond the largest class: exactly as asked, and not kept
	} {
		p := getBody(c.n)
		assert.Equal(t, c.cap, cap(*p), "n=%d", c.n)
		assert.Empty(t, *p, "n=%d", c.n)
		*p = append(*p, "stale"...)
		putBody(p)
	}
	// A buffer whose capacity is no class size is not kept.
	odd := make([]byte, 0, 40_000)
	putBody(&odd)
	for range 8 {
		assert.NotEqual(t, 40_000, cap(*getBody(33_000)))
	}
}

// BenchmarkClientDo reads a 60 KB body, the size of a Danawa list page, and
// either hands it back (as the clients do once it is parsed) or drops it.
func BenchmarkClientDo(b *testing.B) {
	body := bytes.Repeat([]byte("<tr><td>row</td></tr>\n"), 60_000/22)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	defer up.Close()
	c := NewClient(ClientConfig{Timeout: 5 * time.Second, Budget: NewBodyBudget(64 << 20)})
	for _, release := range []bool{true, false} {
		b.Run(map[bool]string{true: "released", false: "dropped"}[release], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, up.URL, nil)
				resp, err := c.Do(req)
				if err != nil || len(resp.Body) != len(body) {
					b.Fatal(err)
				}
				if release {
					resp.Release()
				}
			}
		})
	}
}

// TestCloseIdleConnectionsReachesThePool: the client's transport is
// wrapped (for tracing); closing idle connections must still close the
// pooled ones, which the server sees as its connection going away.
func TestCloseIdleConnectionsReachesThePool(t *testing.T) {
	var closed atomic.Int32
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	c := NewClient(ClientConfig{Timeout: 5 * time.Second})
	_, err := get(t, c, up.URL+"/")
	require.NoError(t, err)
	require.Equal(t, int32(0), closed.Load(), "the connection is pooled, not closed")

	c.CloseIdleConnections()
	require.Eventually(t, func() bool { return closed.Load() == 1 }, 10*time.Second, 5*time.Millisecond,
		"the pooled connection was closed")
}
