// Package servicetest runs the real Wechaty puppet-service server for
// tests: wechaty-puppet-service's PuppetServer over a scripted
// wechaty-puppet-mock world, from the Node project in
// integration/puppetservice (installed by `make puppetservice-node`, which
// runs npm ci from the committed lock file).
//
// The world has the bot (Config.Self), contacts "alice" and "bob", the
// heartbeat official account gh_051c89260e5d that answers "dong" to
// "ding", the contact "carol" who is not the bot's friend (Befriend), and
// the room "room-ha@chatroom" with the bot, alice, bob and Config.Peers.
// Every start of the service's puppet scans (a QR code waiting) and logs
// in; Scan emits more scan events.
// Servers listen on 127.0.0.1 only, and keep the files clients upload in a
// temporary directory of the test.
//
// Servers speak plaintext unless Config.TLS is set (with certificates from
// NewCerts, or the server's default one); Env tells clients which. PuppetMock
// delivers files the bot sends as messages; link and contact card sends it
// takes without doing anything, so the server reports what the service
// handed it.
//
// Start fails the test, never skips it, when node or the npm packages are
// missing. The server is stopped at the test's cleanup, also when the test
// fails; if the test process dies, the server sees its stdin close and
// exits.
//
// # Usage
//
//	srv := servicetest.Start(t, servicetest.Config{Self: "bot-a", Peers: []string{"bot-b"}})
//	p, _ := wechatyservice.New(srv.Endpoint, puppet.NewSecret(srv.Token))
//	… p.Say(ctx, srv.Room, "hi") …
//	srv.WaitDelivered(t, ctx, srv.Room, "hi", 1)
//	srv.PostMedia(srv.Contact, srv.Room, media, "") // and DeliveredMedia
//	srv.Hang()    // sends never answer from now on
//	srv.Kill()    // the process dies: streams break, calls fail
//	srv.Restart() // a new process on the same endpoint
package servicetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// EnvNodeDir names the Node project directory; by default it is
// integration/puppetservice under the module root.
const EnvNodeDir = "HAWECHATY_PUPPETSERVICE_NODE"

// IDs of the scripted world.
const (
	Contact   = "alice"            // a contact of the bot
	Contact2  = "bob"              // another contact
	Heartbeat = "gh_051c89260e5d"  // answers "dong" to "ding"
	Room      = "room-ha@chatroom" // the bot, alice, bob and the peers
	Stranger  = "carol"            // listed by the service, not a friend until Befriend
)

// Config describes one server.
type Config struct {
	// Token the server accepts; a random one when empty.
	Token string
	// Self is the bot's contact ID (default "bot").
	Self string
	// Peers are other bots' contact IDs: contacts of this bot and members
	// of Room, so that several servers form one world.
	Peers []string
	// Dir is the Node project; default EnvNodeDir, else
	// integration/puppetservice under the module root.
	Dir string
	// ReadyTimeout bounds the wait for the server to listen (default 90 s:
	// Node starts slowly on a busy machine).
	ReadyTimeout time.Duration
	// TLS, when set, makes the server speak TLS, with TLS.Cert and TLS.Key
	// (see NewCerts), or with wechaty-puppet-service's default certificate
	// (CN "insecure", signed by the Wechaty root CA) when they are empty.
	// Without it the server speaks plaintext, and clients must say so
	// (wechatyservice.WithNoTLS; Env does it).
	TLS *Certs
}

// Delivery is a message the bot sent, as the world received it.
type Delivery struct {
	ID   string `json:"id"`
	From string `json:"from"`
	To   string `json:"to"`
	Text string `json:"text"`

	// Media the bot sent (see media.go): Kind is "" for text.
	Kind    string          `json:"kind,omitempty"`
	File    *deliveredFile  `json:"file,omitempty"`
	URL     *puppet.URLLink `json:"url,omitempty"`
	Contact string          `json:"contact,omitempty"`
}

// Server is one running (or killed) server process.
type Server struct {
	// Endpoint is "127.0.0.1:<port>"; it stays the same across Restart.
	Endpoint string
	// Token is the token the server accepts.
	Token string
	// Self is the bot's contact ID; Contact, Heartbeat and Room the IDs of
	// the world (the package constants).
	Self, Contact, Heartbeat, Room string
	// TLS tells whether the server speaks TLS (Config.TLS was set).
	TLS bool

	t    testing.TB
	cfg  Config
	port int
	tmp  string // the process's TMPDIR: the server stores uploads there

	mu        sync.Mutex
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	exited    chan struct{} // closed when the current process has exited and its output is read
	stderr    *lockedBuffer
	delivered []Delivery
	hung      int           // "hung" acknowledgements seen
	changed   chan struct{} // closed and replaced on every new delivery or acknowledgement
}

// Start launches a server and waits until it listens. It fails t if node
// or the packages are missing or the server does not come up.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Token == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		cfg.Token = "insecure_" + hex.EncodeToString(b)
	}
	if cfg.Self == "" {
		cfg.Self = "bot"
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 90 * time.Second
	}
	if cfg.Dir == "" {
		dir, err := NodeDir()
		if err != nil {
			t.Fatalf("servicetest: %v", err)
		}
		cfg.Dir = dir
	}
	if err := CheckNode(cfg.Dir); err != nil {
		t.Fatalf("servicetest: %v", err)
	}
	s := &Server{
		Token: cfg.Token, Self: cfg.Self, Contact: Contact, Heartbeat: Heartbeat, Room: Room,
		TLS: cfg.TLS != nil, t: t, cfg: cfg, changed: make(chan struct{}),
		tmp: t.TempDir(), // before the cleanup that stops the server, so removed after it
	}
	t.Cleanup(s.stop)
	if err := s.launch(0); err != nil {
		t.Fatalf("servicetest: %v", err)
	}
	return s
}

// NodeDir returns the Node project directory: EnvNodeDir if set, else
// integration/puppetservice under the module root (found from the working
// directory upwards).
func NodeDir() (string, error) {
	if d := os.Getenv(EnvNodeDir); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "integration", "puppetservice"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; set " + EnvNodeDir)
		}
		dir = parent
	}
}

// CheckNode reports what is missing to run the server from dir.
func CheckNode(dir string) error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("node is not installed (need Node.js ≥ 18): %w", err)
	}
	for _, f := range []string{"server.mjs", "node_modules/wechaty-puppet-service/package.json", "node_modules/wechaty-puppet-mock/package.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("%s is missing: run `make puppetservice-node` (npm ci in %s)", f, dir)
		}
	}
	return nil
}

// readyLine is the server's first line.
type readyLine struct {
	Event string `json:"event"`
	Port  int    `json:"port"`
}

// launch starts a process on port (0: any free port) and waits for its
// ready line.
func (s *Server) launch(port int) error {
	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = s.cfg.Dir
	// The server reads Wechaty's variables itself: only the test's go in.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "WECHATY_") })
	if c := s.cfg.TLS; c != nil {
		env = append(env, "TLS=on")
		if len(c.Cert) > 0 {
			env = append(env, "WECHATY_PUPPET_SERVICE_TLS_SERVER_CERT="+string(c.Cert), "WECHATY_PUPPET_SERVICE_TLS_SERVER_KEY="+string(c.Key))
		}
	}
	cmd.Env = append(env,
		"TOKEN="+s.cfg.Token,
		"PORT="+strconv.Itoa(port),
		"SELF="+s.cfg.Self,
		"PEERS="+strings.Join(s.cfg.Peers, ","),
		"WECHATY_LOG=warn",
		"TMPDIR="+s.tmp,
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	exited := make(chan struct{})
	ready := make(chan readyLine, 1)
	go func() {
		s.read(stdout, ready)
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.stdin, s.exited, s.stderr = cmd, stdin, exited, stderr
	s.mu.Unlock()

	timer := time.NewTimer(s.cfg.ReadyTimeout)
	defer timer.Stop()
	select {
	case r := <-ready:
		if s.Endpoint == "" { // set once: Restart keeps the port
			s.port = r.Port
			s.Endpoint = "127.0.0.1:" + strconv.Itoa(r.Port)
		}
		return nil
	case <-exited:
		return fmt.Errorf("the server exited before it was ready (%v): %s", cmd.ProcessState, stderr.tail())
	case <-timer.C:
		s.kill()
		return fmt.Errorf("the server was not ready after %v: %s", s.cfg.ReadyTimeout, stderr.tail())
	}
}

// read consumes the server's stdout until it closes.
func (s *Server) read(stdout io.Reader, ready chan<- readyLine) {
	sc := bufio.NewScanner(stdout)
	// A file sent base64 (up to 3 MiB) comes back base64 in one line;
	// uploaded files come as their size and hash.
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		var line struct {
			Event string `json:"event"`
			Port  int    `json:"port"`
			Delivery
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch line.Event {
		case "ready":
			select {
			case ready <- readyLine{line.Event, line.Port}:
			default:
			}
		case "hung":
			s.mu.Lock()
			s.hung++
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
		case "delivered":
			s.mu.Lock()
			s.delivered = append(s.delivered, line.Delivery)
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
}

// Kill kills the server process at once (SIGKILL), as a crash would, and
// waits until it is gone. Deliveries seen so far are kept.
func (s *Server) Kill() { s.kill() }

func (s *Server) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// Restart starts a new server process on the same endpoint after Kill. It
// fails the test if the server does not come up.
func (s *Server) Restart() {
	s.t.Helper()
	s.kill()
	if err := s.launch(s.port); err != nil {
		s.t.Fatalf("servicetest: restart on port %d: %v", s.port, err)
	}
}

// stop ends the server at cleanup: SIGTERM, then SIGKILL after 10 s.
func (s *Server) stop() {
	s.mu.Lock()
	cmd, exited, stdin := s.cmd, s.exited, s.stdin
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = stdin.Close()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-exited:
	case <-timer.C:
		s.kill()
	}
}

// Hang makes the world stop answering sends: from then on every
// MessageSendText the server receives waits forever (other calls still
// work), as a hung account would. It returns once the server has
// acknowledged, so the next send is sure to hang.
func (s *Server) Hang() error {
	s.mu.Lock()
	before := s.hung
	s.mu.Unlock()
	if err := s.command(map[string]any{"cmd": "hang"}); err != nil {
		return err
	}
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		done, changed := s.hung > before, s.changed
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return fmt.Errorf("servicetest: %s did not acknowledge hang within 30 s", s.Endpoint)
		}
	}
}

// Post makes contact from write text to the bot (room "") or into room;
// id is the message ID (the server picks one when empty). Several servers
// given the same id model one message seen by several bots.
func (s *Server) Post(from, room, text, id string) error {
	return s.command(map[string]any{"cmd": "post", "from": from, "room": room, "text": text, "id": id})
}

// Befriend makes contact the bot's friend, as a confirmed friend request
// does: its contact payload says friend, and the service emits a
// friendship event of type Confirm.
func (s *Server) Befriend(contact string) error {
	return s.command(map[string]any{"cmd": "befriend", "contact": contact})
}

// Scan makes the service's puppet emit a scan event with Wechaty's status
// number (0 unknown, 1 cancel, 2 waiting, 3 scanned, 4 confirmed, 5
// timeout) and qrcode (may be empty).
func (s *Server) Scan(status int, qrcode string) error {
	return s.command(map[string]any{"cmd": "scan", "status": status, "qrcode": qrcode})
}

// command writes one control line to the server's stdin.
func (s *Server) command(cmd map[string]any) error {
	line, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.stdin.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("servicetest: %s to %s: %w", cmd["cmd"], s.Endpoint, err)
	}
	return nil
}

// Deliveries returns the messages the bot has sent so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.delivered...)
}

// Delivered counts the deliveries of text to to (a contact or room ID).
func (s *Server) Delivered(to, text string) int {
	n := 0
	for _, d := range s.Deliveries() {
		if d.To == to && d.Text == text {
			n++
		}
	}
	return n
}

// WaitDelivered waits until text was delivered to to at least n times, and
// fails t at ctx's end.
func (s *Server) WaitDelivered(t testing.TB, ctx context.Context, to, text string, n int) {
	t.Helper()
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if got := s.Delivered(to, text); got >= n {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("servicetest: %q to %q delivered %d times, want %d", text, to, s.Delivered(to, text), n)
		}
	}
}

// Stderr returns the end of the current process's stderr, for failure
// messages.
func (s *Server) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stderr == nil {
		return ""
	}
	return s.stderr.tail()
}

// lockedBuffer collects a process's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // keep memory bounded; the tail is what matters
		l.b.Next(l.b.Len() / 2)
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return s
}
