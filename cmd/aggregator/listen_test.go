package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIdleAdminConnectionsLeaveThePublicAPIAnswering opens far more idle
// connections to the admin listener than its cap (8 here, 64 by default):
// the listener holds 8, the rest wait in the kernel's queue costing the
// process nothing, and the public API, the health address and the metrics
// keep answering.
func TestIdleAdminConnectionsLeaveThePublicAPIAnswering(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	const adminCap, idle = 8, 300
	go func() {
		done <- run(ctx, []string{"serve", "-sim", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0",
			"-metrics-addr", "127.0.0.1:0", "-health-addr", "127.0.0.1:0", "-admin-max-conns", strconv.Itoa(adminCap),
			"-log-format", "json", "-drain-delay", "0s"}, noenv, &stdout, &stderr)
	}()
	addrRe := regexp.MustCompile(`"(metrics_addr|health_addr|admin_addr|addr)":"(127\.0\.0\.1:\d+)"`)
	addrs := map[string]string{}
	require.Eventually(t, func() bool {
		for _, m := range addrRe.FindAllStringSubmatch(stderr.String(), -1) {
			addrs[m[1]] = m[2]
		}
		return len(addrs) == 4
	}, time.Minute, 20*time.Millisecond, "serve logged no addresses: %s", stderr.String())

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range idle {
		c, err := net.Dial("tcp", addrs["admin_addr"])
		require.NoError(t, err, "the kernel queues connections past the cap")
		conns = append(conns, c)
	}

	get := func(url string) (int, string) {
		c := &http.Client{Timeout: time.Minute} // an upper bound only
		resp, err := c.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	openAdmin := regexp.MustCompile(`lmn_listener_connections\{listener="admin"\} (\d+)`)
	var held int
	require.Eventually(t, func() bool {
		_, body := get("http://" + addrs["metrics_addr"] + "/metrics")
		m := openAdmin.FindStringSubmatch(body)
		require.NotNil(t, m, "lmn_listener_connections for the admin listener")
		held, _ = strconv.Atoi(m[1])
		require.LessOrEqual(t, held, adminCap, "the admin listener never holds more than its cap")
		return held == adminCap
	}, time.Minute, 50*time.Millisecond, "the idle connections never reached the cap")

	status, body := get("http://" + addrs["addr"] + "/v1/openapi.json")
	assert.Equal(t, http.StatusOK, status, "the public API answers")
	assert.Contains(t, body, `"openapi"`)
	status, _ = get("http://" + addrs["health_addr"] + "/healthz")
	assert.Equal(t, http.StatusOK, status, "the probes' address answers")
	_, body = get("http://" + addrs["metrics_addr"] + "/metrics")
	assert.Contains(t, body, `lmn_listener_max_connections{listener="admin"} 8`)
	cancel()
	for _, c := range conns {
		c.Close()
	}
	require.NoError(t, <-done)
}

// TestHealthAddressServesOnlyProbes: the health address answers liveness
// and readiness with no token, and nothing of the admin listener.
func TestHealthAddressServesOnlyProbes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-sim", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-health-addr", "127.0.0.1:0",
			"-log-format", "json", "-drain-delay", "0s"}, func(k string) string {
			return map[string]string{"LMN_ADMIN_TOKEN": "a-loopback-admin-token-0123456789"}[k]
		}, &stdout, &stderr)
	}()
	healthRe := regexp.MustCompile(`"health_addr":"(127\.0\.0\.1:\d+)"`)
	var health string
	require.Eventually(t, func() bool {
		m := healthRe.FindStringSubmatch(stderr.String())
		if m != nil {
			health = "http://" + m[1]
		}
		return m != nil
	}, time.Minute, 20*time.Millisecond, "serve logged no health address: %s", stderr.String())
	for path, want := range map[string]int{"/healthz": 200, "/readyz?verbose": -1, "/debug/breakers": 404, "/metrics": 404,
		"/status": 404, "/debug/pprof/": 404, "/sim": 404} {
		resp, err := http.Get(health + path)
		require.NoError(t, err)
		resp.Body.Close()
		if want == -1 {
			assert.Contains(t, []int{200, 503}, resp.StatusCode, path)
			continue
		}
		assert.Equal(t, want, resp.StatusCode, path)
	}
	cancel()
	require.NoError(t, <-done)
}

func TestAdminTokenRules(t *testing.T) {
	tests := []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:9090", "", true},
		{"0.0.0.0:9090", "", false},
		{"0.0.0.0:9090", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false}, // long, but one character
		{"0.0.0.0:9090", "admin-token-0123456789", false},                   // 22 bytes: enough on loopback only
		{"127.0.0.1:9090", "admin-token-0123456789", true},
		{"0.0.0.0:9090", "9f86d081884c7d659a2feaa0c55ad015", true}, // 32 hex digits
		{":9090", "9f86d081884c7d659a2feaa0c55ad01", false},        // 31
	}
	for _, tt := range tests {
		_, err := parseConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"-admin-addr", tt.addr},
			func(k string) string { return map[string]string{"LMN_ADMIN_TOKEN": tt.token}[k] })
		if tt.ok {
			assert.NoError(t, err, "%s %q", tt.addr, tt.token)
		} else {
			assert.Error(t, err, "%s %q", tt.addr, tt.token)
		}
	}
}

// TestLogDurationsInMilliseconds: any duration logged through serve's
// logger is milliseconds under a key ending in _ms.
func TestLogDurationsInMilliseconds(t *testing.T) {
	var b bytes.Buffer
	log, err := newLogger("json", &b)
	require.NoError(t, err)
	log.Info("x", "retry_in", 30*time.Second, slog.Group("g", "took", 1500*time.Microsecond))
	assert.Contains(t, b.String(), `"retry_in_ms":30000,"g":{"took_ms":1.5}`)
}

// TestServerErrorsGoThroughTheLogger: what net/http itself reports (here a
// handler's second WriteHeader) arrives as a JSON line naming the listener.
func TestServerErrorsGoThroughTheLogger(t *testing.T) {
	var b syncBuffer
	log, err := newLogger("json", &b)
	require.NoError(t, err)
	l, err := openListener(listenerSpec{name: "admin", addr: "127.0.0.1:0", maxConns: 4, write: time.Minute, idle: time.Minute,
		handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.WriteHeader(http.StatusTeapot)
		})}, log, nil)
	require.NoError(t, err)
	go l.srv.Serve(l.ln)
	defer l.srv.Close()
	resp, err := http.Get("http://" + l.ln.Addr().String() + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Regexp(t, `\{"time":"[^"]+","level":"ERROR","msg":"http: superfluous response.WriteHeader call[^"]*","listener":"admin"\}`, b.String())
}
