// Package redistest runs a real redis-server for tests: on 127.0.0.1, on a
// free port, in a temporary directory, without persistence, stopped at
// the test's cleanup (and killed with the test process, should that die
// first). Restart brings it back on the same port with its data lost, as
// a Redis without persistence comes back after a crash. Proxy is a small
// TCP proxy in front of it that can cut one client off and let it back.
// StartCluster runs a Redis Cluster of such servers (cluster mode on,
// joined by redis-cli). StartReplica runs a replica of a server
// (--replicaof), for WAIT and failovers.
//
// Start and StartCluster fail the test, never skip it, when redis-server
// (or redis-cli) is not installed: the suites that use them are
// integration suites, installed by `make redis-debian` (Debian's
// redis-server and redis-tools).
//
// # Usage
//
//	srv := redistest.Start(t)
//	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
//	…
//	srv.Restart()            // same address, empty keyspace
//	px := redistest.NewProxy(t, srv.Addr)
//	other := redis.NewClient(&redis.Options{Addr: px.Addr})
//	px.Cut()                 // other's connections drop, new ones are refused
//	px.Heal()                // and it can connect again
//
//	rep := redistest.StartReplica(t, srv) // synced with srv
//	rep.Kill()                            // the replica is gone
//
//	rc := redistest.StartCluster(t, 3) // three masters, cluster_state:ok
//	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: rc.Addrs}) // a ClusterClient
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/internal/syncbuf"
)

// Binary is the server the tests run; found on PATH or in /usr/bin.
const Binary = "redis-server"

// readyTimeout bounds the wait for a server to answer PING.
const readyTimeout = 30 * time.Second

// Server is one redis-server process.
type Server struct {
	// Addr is "127.0.0.1:<port>"; it stays the same across Restart.
	Addr string
	// URL is "redis://127.0.0.1:<port>/0", for cluster.New and the
	// HA_WECHATY_REDIS variable.
	URL string

	t       testing.TB
	bin     string
	dir     string
	port    int
	extra   func(dir string) ([]string, error) // more arguments (a cluster node's), given the directory
	primary string                             // a StartReplica's primary: Restart waits for its sync too

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	out    *syncbuf.Buffer
}

// Path returns the redis-server binary, or an error that says how to
// install it.
func Path() (string, error) {
	if p, err := exec.LookPath(Binary); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/" + Binary); err == nil {
		return "/usr/bin/" + Binary, nil
	}
	return "", errors.New("redistest: redis-server is not installed: run `make redis-debian` (Debian's redis-server, through apt-get)")
}

// Start launches a server and waits until it answers. It fails t when
// redis-server is missing or does not come up.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, nil)
}

func start(t testing.TB, extra func(dir string) ([]string, error)) *Server {
	t.Helper()
	bin, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), extra: extra}
	t.Cleanup(s.Stop)
	// A free port can be taken by someone else between our probe and
	// the server's bind: try a few.
	var errs []error
	for range 5 {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		s.port = port
		if err = s.launch(); err == nil {
			s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			s.URL = "redis://" + s.Addr + "/0"
			return s
		}
		errs = append(errs, err)
	}
	t.Fatalf("redistest: %v", errors.Join(errs...))
	return nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: no free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) launch() error {
	args := []string{
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(s.port),
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--protected-mode", "yes",
		"--daemonize", "no",
		"--loglevel", "warning",
		// A replica's sync starts at once, not after the default 5 s
		// wait for more replicas.
		"--repl-diskless-sync-delay", "0",
	}
	if s.extra != nil {
		more, err := s.extra(s.dir)
		if err != nil {
			return err
		}
		args = append(args, more...)
	}
	cmd := exec.Command(s.bin, args...)
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd, s.exited, s.out = cmd, exited, out
	s.mu.Unlock()
	if err := s.waitReady(exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("redis-server on port %d: %w; output: %s", s.port, err, out)
	}
	return nil
}

// waitReady waits for a PONG, bounded by readyTimeout.
func (s *Server) waitReady(exited <-chan struct{}) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	_, err := poll(ctx, exited, func() (bool, string) { return ping(ctx, addr) == nil, "" })
	switch {
	case errors.Is(err, errExited):
		return errors.New("exited before answering")
	case err != nil:
		return errors.New("no answer to PING within " + readyTimeout.String())
	}
	return nil
}

// errExited is poll's error when the process it waits for exited.
var errExited = errors.New("exited")

// poll calls check every 20 ms until it reports true (nil), ctx ends
// (ctx's error) or exited is closed (errExited), and returns what check
// said last.
func poll(ctx context.Context, exited <-chan struct{}, check func() (bool, string)) (string, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, last := check()
		if ok {
			return last, nil
		}
		select {
		case <-exited:
			return last, errExited
		case <-ctx.Done():
			return last, ctx.Err()
		case <-tick.C:
		}
	}
}

// roundTrip dials addr, sends commands (inline, each ended by CRLF) and
// returns the connection, with a one-second deadline, and its reader.
func roundTrip(ctx context.Context, addr, commands string) (net.Conn, *bufio.Reader, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(commands)); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, bufio.NewReader(c), nil
}

// ping sends one inline PING and reads +PONG.
func ping(ctx context.Context, addr string) error {
	c, r, err := roundTrip(ctx, addr, "PING\r\n")
	if err != nil {
		return err
	}
	defer c.Close()
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("answer %q", line)
	}
	return nil
}

// Kill ends the server with SIGKILL and waits for it: its data is gone.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Restart kills the server and starts a new one on the same port with an
// empty keyspace: Redis restarted with its data lost. It fails the test
// if the new server does not come up.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	if err := s.launch(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
	if s.primary != "" {
		if err := s.waitLinkUp(); err != nil {
			s.t.Fatalf("redistest: restart of a replica: %v; output: %s", err, s.Output())
		}
	}
}

// Stop ends the server (at the test's cleanup; calling it earlier is
// fine).
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Output returns what the current server process wrote.
func (s *Server) Output() string {
	s.mu.Lock()
	out := s.out
	s.mu.Unlock()
	return out.String()
}
