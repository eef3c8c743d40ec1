package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/internal/redistest"
)

// Keys of the fleet test: one limited to a burst of 10 and then one request
// an hour, so the fleet's count is exact however slow the machine; one
// limited to 10/s, to measure the fleet's rate; one unlimited for the rest.
const (
	fleetExactKey = "lmn_stg_exact000000000000000001"
	fleetRateKey  = "lmn_stg_rate0000000000000000002"
	fleetOpenKey  = "lmn_stg_open0000000000000000003"
)

// TestFleet runs what production runs: the service binary three times
// behind no balancer, one simulator process, one real Redis, and checks
// what the fleet promises. Every wait polls for a condition with a generous
// bound; nothing asserts on how long something took.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary: not in -short")
	}
	srv := redistest.Start(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "aggregator")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	keys := filepath.Join(dir, "keys.json")
	require.NoError(t, os.WriteFile(keys, []byte(`{"keys": [
		{"partner": "exact", "key": "`+fleetExactKey+`", "rate": {"per_second": 0.0002777, "burst": 10}},
		{"partner": "rate", "key": "`+fleetRateKey+`", "rate": {"per_second": 10, "burst": 10}},
		{"partner": "open", "key": "`+fleetOpenKey+`", "rate": {"per_second": 100000, "burst": 100000}}]}`), 0o600))

	encar, danawa, glovis, kcar, control := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	start(t, filepath.Join(dir, "sim.log"), bin, "sim", "-encar-addr", encar, "-danawa-addr", danawa,
		"-glovis-addr", glovis, "-kcar-addr", kcar, "-control-addr", control)
	ctl := "http://" + control
	poll(t, "the simulator up", func() bool { return status(ctl+"/sim", "") == http.StatusOK })

	serveReplica := func(name string) *fleetReplica {
		r := &fleetReplica{api: "http://" + freeAddr(t), admin: "http://" + freeAddr(t)}
		r.cmd = start(t, filepath.Join(dir, name+".log"), bin, "serve",
			"-addr", strings.TrimPrefix(r.api, "http://"), "-admin-addr", strings.TrimPrefix(r.admin, "http://"),
			"-encar-url", "http://"+encar, "-danawa-url", "http://"+danawa, "-glovis-url", "http://"+glovis, "-kcar-url", "http://"+kcar,
			"-api-keys-file", keys, "-cursor-secrets", "fleet-test-cursor-secret-0123456789",
			"-redis", srv.URL(), "-redis-timeout", "2s", "-crawl-lease", "5s", "-log-format", "text",
			"-glovis-sites", "1100", "-drain-delay", "0s")
		return r
	}
	rs := []*fleetReplica{serveReplica("a"), serveReplica("b"), serveReplica("c")}
	for _, r := range rs {
		poll(t, "every replica ready", func() bool { return status(r.admin+"/readyz", "") == http.StatusOK })
	}

	// One crawler: exactly one replica holds the lease, and Glovis stops
	// being read once every replica serves the index.
	crawling := 0
	for _, r := range rs {
		if c := r.fleetCheck(t); c["crawling"] == true {
			crawling++
		}
	}
	assert.Equal(t, 1, crawling, "one replica crawls")
	pages := glovisHits(t, ctl)
	time.Sleep(2 * time.Second) // not an assertion on time: a second crawler would read pages meanwhile
	assert.Equal(t, pages, glovisHits(t, ctl), "no other replica crawls Glovis")
	t.Logf("Glovis pages read for the whole fleet: %d", pages)

	// The fleet's rate: a burst of 10 at one request an hour is granted 10
	// times in total across the three replicas, not 30.
	admitted := 0
	for i := range 30 {
		if status(rs[i%3].api+"/v1/vehicles/not-an-id", fleetExactKey) == http.StatusNotFound {
			admitted++
		}
	}
	assert.Equal(t, 10, admitted, "the fleet grants the burst once")
	// And 10/s across the fleet: measured, and bounded above by what the
	// budget can grant in the time taken (a slow machine only sends less).
	began := time.Now()
	admitted = 0
	for i := 0; time.Since(began) < 3*time.Second; i++ {
		if status(rs[i%3].api+"/v1/vehicles/not-an-id", fleetRateKey) == http.StatusNotFound {
			admitted++
		}
	}
	took := time.Since(began).Seconds()
	t.Logf("key limited to 10/s (burst 10): %d admitted in %.2fs across 3 replicas: %.1f/s beyond the burst", admitted, took, float64(admitted-10)/took)
	assert.LessOrEqual(t, float64(admitted), 10+10*took+1, "never more than the fleet's budget")
	assert.GreaterOrEqual(t, admitted, 10)

	// A Danawa row seen in a search on a answers a detail on c, which never
	// searched.
	var page struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, rs[0].api+"/v1/vehicles?source=danawa&make=Kia&limit=5", fleetOpenKey, &page))
	require.NotEmpty(t, page.Data)
	id := page.Data[0].ID
	require.True(t, strings.HasPrefix(id, "danawa_"), id)
	poll(t, "the Danawa detail on a replica that never searched",
		func() bool { return status(rs[2].api+"/v1/vehicles/"+id, fleetOpenKey) == http.StatusOK })

	// An override on a reaches b and c.
	body := `{"action": "force_open", "reason": "fleet test"}`
	req, _ := http.NewRequest("POST", rs[0].admin+"/debug/breakers/encar", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	forced := time.Now()
	for _, r := range rs[1:] {
		poll(t, "encar left out on every replica", func() bool {
			h := headers(t, r.api+"/v1/vehicles?make=Kia&limit=5", fleetOpenKey)
			return strings.Contains(h.Get("X-LMN-Partial-Dealer-Unavailable"), "encar")
		})
	}
	t.Logf("force-open on one replica seen by the other two within %s", time.Since(forced).Round(time.Millisecond))

	// The fleet view: one row per replica per source, encar forced open on
	// each; a replica that does not answer is a row saying so.
	var view bytes.Buffer
	admins := rs[0].admin + "," + rs[1].admin + "," + rs[2].admin + ",http://127.0.0.1:1"
	err = run(t.Context(), []string{"breakers", "-admin", admins}, noenv, &view, &view)
	require.ErrorContains(t, err, "1 of 4 replicas could not be read: http://127.0.0.1:1", "the unreachable replica fails the command")
	for _, r := range rs {
		assert.Regexp(t, strings.TrimPrefix(r.admin, "http://")+` +encar +forced_open`, view.String())
		assert.Regexp(t, strings.TrimPrefix(r.admin, "http://")+` +danawa +closed`, view.String())
	}
	assert.Regexp(t, `127\.0\.0\.1:1 +- +unreachable`, view.String())

	// A replica started while Glovis is down, with the crawler elsewhere,
	// serves the shared index and is ready.
	setGlovis(t, ctl, "down")
	d := serveReplica("d")
	poll(t, "the replica started with Glovis down ready", func() bool { return status(d.admin+"/readyz", "") == http.StatusOK })
	require.Equal(t, http.StatusOK, getJSON(t, d.api+"/v1/vehicles?source=glovis&limit=5", fleetOpenKey, &page))
	assert.NotEmpty(t, page.Data, "auction rows from the shared index")
	setGlovis(t, ctl, "healthy")
	rs = append(rs, d)

	// The crawler killed (no goodbye): another replica takes the lease once
	// it expires, within one lease period of its last renewal.
	var crawler *fleetReplica
	for _, r := range rs {
		if r.fleetCheck(t)["crawling"] == true {
			crawler = r
		}
	}
	require.NotNil(t, crawler)
	require.NoError(t, crawler.cmd.Process.Kill())
	killed := time.Now()
	poll(t, "another replica crawling", func() bool {
		for _, r := range rs {
			if r != crawler && r.fleetCheck(t)["crawling"] == true {
				return true
			}
		}
		return false
	})
	t.Logf("lease (5s) moved %s after the crawler was killed", time.Since(killed).Round(time.Millisecond))
	var alive []*fleetReplica
	for _, r := range rs {
		if r != crawler {
			alive = append(alive, r)
		}
	}
	rs = alive

	// Redis killed: every replica keeps serving, per instance.
	srv.Stop()
	for _, r := range rs {
		poll(t, "per-instance mode", func() bool { return r.fleetCheck(t)["mode"] == "per_instance" })
		assert.Equal(t, http.StatusOK, status(r.api+"/v1/vehicles?source=glovis&limit=5", fleetOpenKey), "serving without Redis")
	}
	// Redis back: shared mode again, by itself.
	srv.Restart()
	for _, r := range rs {
		poll(t, "shared mode again", func() bool { return r.fleetCheck(t)["mode"] == "shared" })
	}
}

type fleetReplica struct {
	api, admin string
	cmd        *exec.Cmd
}

// fleetCheck is the replica's redis check in /readyz?verbose.
func (r *fleetReplica) fleetCheck(t *testing.T) map[string]any {
	t.Helper()
	var ready struct {
		Checks []map[string]any `json:"checks"`
	}
	getJSON(t, r.admin+"/readyz?verbose", "", &ready)
	for _, c := range ready.Checks {
		if c["name"] == "redis" {
			return c
		}
	}
	return map[string]any{}
}

// start runs the binary with args until the test ends, its output in logPath
// (printed if the test fails).
func start(t *testing.T, logPath, bin string, args ...string) *exec.Cmd {
	t.Helper()
	f, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		f.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("%s %s:\n%s", filepath.Base(bin), args[0], tail(out, 4000))
		}
	})
	return cmd
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

var addrs sync.Map // addresses handed out, so two listeners never get one

// freeAddr is a loopback address nothing listened on a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		a := ln.Addr().String()
		ln.Close()
		if _, dup := addrs.LoadOrStore(a, true); !dup {
			return a
		}
	}
}

// poll waits up to two minutes for cond: a busy machine is slow to start
// four processes and crawl.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after two minutes", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var fleetClient = &http.Client{Timeout: 30 * time.Second}

func do(url, key string) (*http.Response, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	return fleetClient.Do(req)
}

// status is url's status code, 0 when it cannot be reached.
func status(url, key string) int {
	res, err := do(url, key)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func headers(t *testing.T, url, key string) http.Header {
	t.Helper()
	res, err := do(url, key)
	if err != nil {
		return http.Header{}
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.Header
}

func getJSON(t *testing.T, url, key string, v any) int {
	t.Helper()
	res, err := do(url, key)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	if res.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(body, v), "%s", body)
	}
	return res.StatusCode
}

func glovisHits(t *testing.T, ctl string) int64 {
	t.Helper()
	var st map[string]struct {
		Requests int64 `json:"requests"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, ctl+"/sim", "", &st))
	return st["glovis"].Requests
}

func setGlovis(t *testing.T, ctl, mode string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", ctl+"/sim/glovis", bytes.NewReader([]byte(fmt.Sprintf(`{"mode": %q}`, mode))))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}
