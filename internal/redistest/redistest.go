// Package redistest starts a real redis-server for tests: on a free loopback
// port, in a temporary directory, stopped when the test ends. Tests of the
// shared state run against the real thing, not a mock, because what they
// check (scripts, expiry, pub/sub, a server that dies) is Redis's behaviour.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a running redis-server.
type Server struct {
	t    testing.TB
	Addr string // host:port on loopback
	dir  string
	cmd  *exec.Cmd
	args []string // extra redis-server arguments (Options)
	pass string
}

// Options are the server's settings beyond the defaults.
type Options struct {
	// Password is required of clients (requirepass); "" for none.
	Password string
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Start starts redis-server on a free loopback port; the test is skipped,
// saying why, only when no redis-server can be found (CI installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found on PATH (apt-get install redis-server; .ci/run does)")
	}
	s := &Server{t: t, dir: t.TempDir(), pass: o.Password}
	if o.Password != "" {
		s.args = append(s.args, "--requirepass", o.Password)
	}
	s.Addr = freeAddr(t)
	s.start(bin)
	t.Cleanup(s.Stop)
	return s
}

// freeAddr finds a loopback port nothing listens on. Another process could
// take it before redis-server binds it; start then fails loudly, it never
// talks to a stranger's server.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *Server) start(bin string) {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
		"--logfile", filepath.Join(s.dir, "redis.log"))
	s.cmd.Args = append(s.cmd.Args, s.args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redis-server: %v", err)
	}
	// Ready once it answers PING; a busy machine may take a while to start it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ping(s.Addr, s.pass) == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.Stop()
			s.t.Fatalf("redis-server on %s did not answer within 30s; its log:\n%s", s.Addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (as a crash would: no save, no goodbye) and waits
// for it to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same address, empty, as a Redis
// without persistence comes back.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		s.t.Fatal(err)
	}
	s.start(bin)
}

// CLI runs one command with redis-cli and returns its answer, trimmed:
// faults are set the way an operator (or a failing Redis) sets them, with
// CONFIG SET, CLIENT PAUSE, REPLICAOF.
func (s *Server) CLI(t testing.TB, args ...string) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", port}, args...)...)
	if s.pass != "" {
		cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+s.pass)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("redis-cli %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// TTL is the time to live of key, read with redis-cli.
func (s *Server) TTL(t testing.TB, key string) time.Duration {
	t.Helper()
	out := s.CLI(t, "PTTL", key)
	ms, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("redis-cli PTTL %s: %q", key, out)
	}
	return time.Duration(ms) * time.Millisecond
}

// ping speaks just enough RESP to see the server answer, authenticating
// first when it has a password.
func ping(addr, pass string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	r := bufio.NewReader(c)
	if pass != "" {
		if _, err := fmt.Fprintf(c, "*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(pass), pass); err != nil {
			return err
		}
		if line, err := r.ReadString('\n'); err != nil || line != "+OK\r\n" {
			return fmt.Errorf("AUTH answered %q: %v", line, err)
		}
	}
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %s", strconv.Quote(line))
	}
	return nil
}
