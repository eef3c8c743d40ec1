package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
)

func statusAdmin(t *testing.T, token string) (*httptest.Server, []*breaker.Breaker) {
	t.Helper()
	bs := []*breaker.Breaker{breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{}),
		breaker.New("danawa", breaker.DefaultConfig, breaker.Hooks{})}
	srv := httptest.NewServer(NewAdmin(AdminDeps{Log: slog.New(slog.DiscardHandler), Breakers: bs, Token: token,
		Timeline: NewTimeline(bs, 10*time.Second, time.Hour)}))
	t.Cleanup(srv.Close)
	return srv, bs
}

// noRedirect lets a test see the 303 a form answers with.
var noRedirect = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func post(t *testing.T, c *http.Client, u string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestStatusFormsOnlyFromThePage(t *testing.T) {
	srv, bs := statusAdmin(t, "")
	form := url.Values{"action": {"force_open"}, "reason": {"test"}}
	resp, _ := post(t, noRedirect, srv.URL+"/status/breakers/encar", form, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "no Origin, no Sec-Fetch-Site")
	resp, _ = post(t, noRedirect, srv.URL+"/status/breakers/encar", form, map[string]string{"Sec-Fetch-Site": "cross-site"})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = post(t, noRedirect, srv.URL+"/status/breakers/encar", form, map[string]string{"Origin": "http://evil.example"})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "closed", bs[0].State())

	resp, _ = post(t, noRedirect, srv.URL+"/status/breakers/encar", form, map[string]string{"Origin": srv.URL})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "forced_open", bs[0].State())

	resp, body := post(t, noRedirect, srv.URL+"/status/breakers/danawa", url.Values{"action": {"force_open"}},
		map[string]string{"Sec-Fetch-Site": "same-origin"})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, body, "reason is required")
	assert.Equal(t, "closed", bs[1].State())
}

func TestStatusNeedsTheToken(t *testing.T) {
	const token = "admin-token-0123456789"
	srv, bs := statusAdmin(t, token)
	resp, err := noRedirect.Get(srv.URL + "/status")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, string(body), `action="/status/login"`, "the login form")
	assert.NotContains(t, string(body), "encar", "nothing about the sources before the token")

	same := map[string]string{"Sec-Fetch-Site": "same-origin"}
	resp, _ = post(t, noRedirect, srv.URL+"/status/breakers/encar", url.Values{"action": {"force_open"}, "reason": {"x"}}, same)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "closed", bs[0].State())

	resp, _ = post(t, noRedirect, srv.URL+"/status/login", url.Values{"token": {"wrong"}}, same)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Empty(t, resp.Cookies())

	resp, _ = post(t, noRedirect, srv.URL+"/status/login", url.Values{"token": {token}}, same)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Len(t, resp.Cookies(), 1)
	c := resp.Cookies()[0]
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.NotContains(t, c.Value, token, "the cookie is not the token")

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/status", nil)
	req.AddCookie(c)
	resp, err = noRedirect.Do(req)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `id="source-encar"`)

	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/status", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = noRedirect.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a bearer header works for scripts")
}

func TestTimelineIsBounded(t *testing.T) {
	b := breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{})
	tl := NewTimeline([]*breaker.Breaker{b}, 10*time.Second, time.Minute) // 6 samples
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		tl.Record(start.Add(time.Duration(i) * 10 * time.Second))
	}
	s := tl.Samples("encar")
	require.Len(t, s, 6)
	assert.Equal(t, start.Add(40*time.Second), s[0].At, "oldest kept first")
	assert.Equal(t, start.Add(90*time.Second), s[5].At)
	assert.Nil(t, tl.Samples("nobody"))
}

func TestChartDrawsStateAndRate(t *testing.T) {
	now := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	samples := []Sample{
		{At: now.Add(-2 * time.Hour), State: "closed"}, // older than the chart: left out
		{At: now.Add(-30 * time.Minute), State: "closed", FailureRate: 0},
		{At: now.Add(-30*time.Minute + 10*time.Second), State: "closed", FailureRate: 0.5},
		{At: now.Add(-30*time.Minute + 20*time.Second), State: "open", FailureRate: 1},
	}
	c := drawChart(samples, 10*time.Second, now)
	assert.Equal(t, 3, c.Samples)
	// Half way along 600 units; a sample is 10 s of 3600, 1.67 units wide.
	require.Len(t, c.Bands, 2, "adjacent samples of one state are one band")
	assert.InDelta(t, 300, c.Bands[0].X, 0.01)
	assert.InDelta(t, 2*600.0/360, c.Bands[0].W, 0.01)
	assert.Equal(t, "open", c.Bands[1].State)
	assert.Equal(t, "300.0,48.0 301.7,24.0 303.3,0.0", c.Line, "0% at the band (y=48), 100% at the top")
}

// TestStatusPageIsSelfContained: the page loads nothing from elsewhere,
// refreshes itself without JavaScript, and writes Korean time.
func TestStatusPageIsSelfContained(t *testing.T) {
	srv, bs := statusAdmin(t, "")
	bs[1].Force(breaker.ForcedOpen, "maintenance window")
	resp, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, srv.URL+"/status", resp.Request.URL.String(), "/ leads to the page")
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Regexp(t, `<noscript><meta http-equiv="refresh" content="\d+"></noscript>`, page)
	assert.NotRegexp(t, `(src|href|action)="(https?:)?//`, page, "nothing from another host")
	// html/template writes + as &#43;, which a browser shows as +.
	assert.Regexp(t, `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d&#43;09:00`, page)
	assert.NotContains(t, page, "Z<")
	assert.Regexp(t, `(?s)id="source-danawa".*?data-state="forced_open">forced_open</span> <span class="muted">\(operator\)</span>`, page)
	assert.Contains(t, page, "operator: forced_open: maintenance window")
	assert.Contains(t, page, `id="build">version unknown · revision unknown · `+runtime.Version()+`</div>`, "which build runs")
}

func TestTimelineRejectedInTheLastMinute(t *testing.T) {
	b := breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{})
	tl := NewTimeline([]*breaker.Breaker{b}, 10*time.Second, time.Hour)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.Force(breaker.ForcedOpen, "test")
	for i := range 12 { // two minutes, three rejected calls between samples
		tl.Record(start.Add(time.Duration(i) * 10 * time.Second))
		for range 3 {
			_ = b.Do(func() error { return nil })
		}
	}
	now := start.Add(115 * time.Second)
	// The first sample in the minute before now is at 60 s, with 18 rejected
	// before it; 36 have been rejected in all.
	n, ok := tl.RejectedSince("encar", now.Add(-time.Minute), b.Snapshot(false).Rejected)
	require.True(t, ok)
	assert.Equal(t, uint64(36-18), n)
	_, ok = tl.RejectedSince("encar", now.Add(time.Hour), 36)
	assert.False(t, ok, "no sample that recent")
}

// TestStatusShowsSlowCallsAndPhases: on-call sees a source's slow-call
// rate and how its last slow call went upstream, not just its failures.
func TestStatusShowsSlowCallsAndPhases(t *testing.T) {
	srv, bs := statusAdmin(t, "")
	for range 3 {
		require.NoError(t, bs[1].Do(func() error { return nil }))
	}
	require.NoError(t, bs[1].Do(func() error { return breaker.ErrSlow }))
	bs[1].NoteCall("/usedcar/: connect 1ms, first byte in 40ms, body 12.0 KB in 12s (1.0 KB/s)")
	resp, err := http.Get(srv.URL + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	row := regexp.MustCompile(`(?s)<tr id="source-danawa">.*?</tr>`).Find(page)
	require.NotNil(t, row)
	assert.Contains(t, string(row), "<td>25%</td>", "1 slow call of 4")
	assert.Contains(t, string(row), "<td>4 (0, 1)</td>")
	assert.Contains(t, string(row), "first byte in 40ms, body 12.0 KB in 12s (1.0 KB/s)")
}
