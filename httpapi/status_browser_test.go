package httpapi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
)

// chromium finds a Chromium to drive; .ci/run installs Debian's when it is
// missing.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on PATH: .ci/run installs it (apt-get install -y chromium); the status page's browser test needs one")
	return ""
}

// TestStatusPageInBrowser drives the status page in a real Chromium: it
// switches Danawa to blocked with the simulator's buttons, waits for the
// page (refreshing itself) to show Danawa's breaker open, forces Encar open
// through the form with a reason, and reads that in the history. The
// screenshot is left in the test's temporary directory (or in
// $LMN_SCREENSHOT_DIR, to keep it).
func TestStatusPageInBrowser(t *testing.T) {
	browser := chromium(t)
	st := newStack(t, breaker.DefaultConfig, func(c *service.Config) { c.Admin.SimModes = sim.Modes() })
	st.svc.Timeline.Record(time.Now())

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1200),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// Generous: a busy machine starts Chromium slowly. Nothing below waits
	// on a deadline for correctness; this only ends a hung browser.
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	page := st.admin.URL + "/"
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(`#sources`),
		chromedp.WaitVisible(`#source-danawa [data-state="closed"]`),
		chromedp.Click(`#sim-danawa button[value="blocked"]`),
		chromedp.WaitVisible(`#sim-danawa [data-mode="blocked"]`),
	), "switching Danawa to blocked from the page")

	// Five requests that need Danawa: all blocked, so its breaker opens.
	for range 5 {
		st.get(t, "/v1/vehicles?source=danawa&make=Kia", demoKey)
	}
	st.svc.Timeline.Record(time.Now())
	require.NoError(t, chromedp.Do(ctx,
		// No reload here: the page refreshes itself.
		chromedp.WaitVisible(`#source-danawa [data-state="open"]`),
	), "the page shows Danawa's breaker open")

	const reason = "captcha wall since 03:10, ticket OPS-123"
	require.NoError(t, chromedp.Do(ctx,
		// A fresh load: the page holds its reload once the reason field has
		// focus, and a new load leaves the whole refresh period to get there.
		chromedp.Navigate(page),
		chromedp.SendKeys(`form[action="/status/breakers/encar"] input[name="reason"]`, reason),
		chromedp.Click(`form[action="/status/breakers/encar"] button[value="force_open"]`),
		chromedp.WaitVisible(`#source-encar [data-state="forced_open"]`),
	), "forcing Encar open with the form")
	history, err := chromedp.Run(ctx, chromedp.Text(`#history`))
	require.NoError(t, err)
	assert.Equal(t, "forced_open", st.svc.Breakers[0].State(), "the form reached the breaker")
	assert.Contains(t, history, "encar")
	assert.Contains(t, history, "closed → forced_open")
	assert.Contains(t, history, "operator: forced_open: "+reason+" (by status page from 127.0.0.1:")
	assert.Contains(t, history, "tripped: 5 of 5 calls failed")

	st.svc.Timeline.Record(time.Now())
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(`#history`)))
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	dir := os.Getenv("LMN_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	file := filepath.Join(dir, "status-page.png")
	require.NoError(t, os.WriteFile(file, shot, 0o644))
	t.Logf("screenshot: %s", file)
}
