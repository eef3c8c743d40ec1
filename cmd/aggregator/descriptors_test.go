package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// helperEnv makes the test binary run serve instead of the tests, with the
// descriptor limit it names: a process of its own, so that the limit and
// the descriptors the test's own connections take are not shared.
const helperEnv = "LMN_TEST_SERVE_WITH_NOFILE"

func TestMain(m *testing.M) {
	if n := os.Getenv(helperEnv); n != "" {
		os.Exit(serveWithNofile(n))
	}
	os.Exit(m.Run())
}

func serveWithNofile(n string) int {
	limit, err := strconv.ParseUint(n, 10, 64)
	if err == nil {
		err = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: limit, Max: limit})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "setrlimit:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], func(string) string { return "" }, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "aggregator:", err)
		return 1
	}
	return 0
}

// TestIdleAdminConnectionsCannotExhaustDescriptors is the fault itself, at
// a smaller scale: serve runs with 256 file descriptors, and 1,000 idle
// connections are opened to its admin listener. Capped at 16, the admin
// listener takes 16 descriptors and the public API goes on answering; left
// uncapped (as before), it would take every descriptor and the public
// listener could accept nothing ("accept4: too many open files").
func TestIdleAdminConnectionsCannotExhaustDescriptors(t *testing.T) {
	const adminCap = 16
	var stdout, stderr syncBuffer
	cmd := exec.Command(os.Args[0], "serve", "-sim", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0",
		"-admin-max-conns", strconv.Itoa(adminCap), "-log-format", "json", "-drain-delay", "0s")
	cmd.Env = append(os.Environ(), helperEnv+"=256")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	addrRe := regexp.MustCompile(`"(metrics_addr|admin_addr|addr)":"(127\.0\.0\.1:\d+)"`)
	addrs := map[string]string{}
	require.Eventually(t, func() bool {
		for _, m := range addrRe.FindAllStringSubmatch(stderr.String(), -1) {
			addrs[m[1]] = m[2]
		}
		return len(addrs) == 3
	}, time.Minute, 20*time.Millisecond, "serve logged no addresses: %s", stderr.String())

	// A fresh connection per request: keeping one alive would hide a
	// listener that can no longer accept.
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	openapi := func() error {
		resp, err := client.Get("http://" + addrs["addr"] + "/v1/openapi.json")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	require.NoError(t, openapi(), "the public API answers before")

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 1000 {
		c, err := net.Dial("tcp", addrs["admin_addr"])
		require.NoError(t, err)
		conns = append(conns, c)
	}
	// The admin listener has taken all it will take.
	held := regexp.MustCompile(`lmn_listener_connections\{listener="admin"\} (\d+)`)
	require.Eventually(t, func() bool {
		resp, err := client.Get("http://" + addrs["metrics_addr"] + "/metrics")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := held.FindSubmatch(body)
		return m != nil && string(m[1]) == strconv.Itoa(adminCap)
	}, time.Minute, 50*time.Millisecond, "the admin listener never held its %d connections: %s", adminCap, stderr.String())
	assert.NoError(t, openapi(), "the public API answers while the admin listener is full")
	assert.NotContains(t, stderr.String(), "too many open files")
}
