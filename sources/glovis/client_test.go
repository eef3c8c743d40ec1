package glovis

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources"
)

// TestSessionNeverLeavesTheSite: a redirect to another port is refused
// before the session cookie can be sent there.
func TestSessionNeverLeavesTheSite(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Cookie") != "" {
			leaked.Add(1)
		}
	}))
	defer other.Close()
	var sawSession atomic.Bool
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("JSESSIONID")
		sawSession.Store(err == nil && c.Value == "member-session")
		http.Redirect(w, r, other.URL+"/login.do", http.StatusFound)
	}))
	defer site.Close()
	c := NewClient(site.URL, "member-session", sources.NewClient(sources.ClientConfig{Timeout: 5 * time.Second}))
	_, err := c.Rounds(context.Background(), "20")
	require.ErrorIs(t, err, sources.ErrBlocked)
	assert.True(t, sawSession.Load(), "the site itself gets the session")
	assert.Equal(t, int32(0), leaked.Load(), "the other port never saw the cookie")
}
