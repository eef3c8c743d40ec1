package httpapi

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const gateToken = "gate-token-0123456789abcdef0123456789abcdef"

// TestAdminTokenGuessesAreThrottledLoggedCounted: an address that keeps
// guessing is refused unread after a few tries, every wrong guess is
// logged and counted, and a right token from that address waits too.
func TestAdminTokenGuessesAreThrottledLoggedCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		var refused, throttled int
		admin := NewAdmin(AdminDeps{Log: slog.New(slog.NewJSONHandler(&logs, nil)), Token: gateToken,
			AuthFailed: func(th bool) {
				if th {
					throttled++
				} else {
					refused++
				}
			}})
		try := func(from, token string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil)
			req.RemoteAddr = from
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			admin.ServeHTTP(rec, req)
			return rec
		}
		const guesser, other = "192.0.2.7:40000", "192.0.2.8:40000"
		for i := range 5 {
			assert.Equal(t, http.StatusUnauthorized, try(guesser, "guess-"+strings.Repeat("x", i)).Code, "guess %d", i)
		}
		rec := try(guesser, "guess-again")
		assert.Equal(t, http.StatusTooManyRequests, rec.Code, "the sixth guess in a row is refused unread")
		assert.Equal(t, "2", rec.Header().Get("Retry-After"))
		assert.Equal(t, http.StatusTooManyRequests, try(guesser, gateToken).Code, "even the right token, or the answer would tell")
		assert.Equal(t, http.StatusOK, try(other, gateToken).Code, "another address is not held back")

		time.Sleep(2 * time.Second)
		assert.Equal(t, http.StatusOK, try(guesser, gateToken).Code, "one more try every 2 s")

		assert.Equal(t, 5, refused)
		assert.Equal(t, 2, throttled)
		assert.Equal(t, 5, strings.Count(logs.String(), `"msg":"admin token refused","remote_addr":"192.0.2.7:40000"`), logs.String())
		assert.NotContains(t, logs.String(), "guess-", "a guess may be a mistyped token: never logged")
	})
}

// TestStatusSessionsExpire: the page's cookie is a random session that
// ends, not a value derived from the token that works for ever.
func TestStatusSessionsExpire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		admin := NewAdmin(AdminDeps{Log: slog.New(slog.DiscardHandler), Token: gateToken})
		login := func() *http.Cookie {
			req := httptest.NewRequest(http.MethodPost, "/status/login", strings.NewReader(url.Values{"token": {gateToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			rec := httptest.NewRecorder()
			admin.ServeHTTP(rec, req)
			require.Equal(t, http.StatusSeeOther, rec.Code)
			cs := rec.Result().Cookies()
			require.Len(t, cs, 1)
			return cs[0]
		}
		page := func(c *http.Cookie) int {
			req := httptest.NewRequest(http.MethodGet, "/status", nil)
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			rec := httptest.NewRecorder()
			admin.ServeHTTP(rec, req)
			return rec.Code
		}
		a, b := login(), login()
		assert.NotEqual(t, a.Value, b.Value, "each login gets its own session")
		assert.Equal(t, 8*60*60, a.MaxAge, "the browser drops it after a shift")
		assert.Equal(t, http.StatusOK, page(a))

		time.Sleep(8*time.Hour - time.Second)
		assert.Equal(t, http.StatusOK, page(a))
		time.Sleep(time.Second)
		assert.Equal(t, http.StatusUnauthorized, page(a), "the server ends it too, whatever the browser keeps")
		assert.Equal(t, http.StatusUnauthorized, page(&http.Cookie{Name: statusCookie, Value: strings.Repeat("0", 64)}), "a made-up session")
	})
}
