//go:build integration

package devtools_test

import (
	"context"
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
	"syscall"
	"testing"
	"time"
)

// nodeDir is the Node project with the real tools (see mk/devtools.mk).
func nodeDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HAWECHATY_DEVTOOLS_NODE")
	if dir == "" {
		dir = filepath.Join("..", "integration", "devtools")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "node_modules", "@redux-devtools", "cli")); err != nil {
		t.Fatalf("the real Redux DevTools is not installed in %s (run `make integration-devtools`): %v", abs, err)
	}
	return abs
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// process is a child process stopped (SIGTERM, then SIGKILL) by the test,
// even when the test fails.
type process struct {
	cmd   *exec.Cmd
	done  chan struct{}
	out   *lineBuffer
	stdin io.WriteCloser
}

func start(t *testing.T, dir string, name string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out := newLineBuffer()
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), out: out, stdin: stdin}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	return p
}

func (p *process) stop() {
	_ = p.stdin.Close()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// relay is a running @redux-devtools/cli.
type relay struct {
	*process
	port int
	dir  string
}

// startRelay starts the real relay on a free port and waits until its web
// server answers. The relay listens on all interfaces whatever --hostname
// says (upstream behaviour); the tests only ever talk to 127.0.0.1.
func startRelay(t *testing.T) *relay {
	t.Helper()
	return startRelayOn(t, freePort(t))
}

func startRelayOn(t *testing.T, port int) *relay {
	t.Helper()
	dir := nodeDir(t)
	p := start(t, dir, "node", "node_modules/@redux-devtools/cli/bin/redux-devtools.js", fmt.Sprintf("--port=%d", port), "--hostname=127.0.0.1")
	r := &relay{process: p, port: port, dir: dir}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(60 * time.Second)
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return r
			}
		}
		select {
		case <-p.done:
			t.Fatalf("the relay exited:\n%s", p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relay did not answer %s within 60 s:\n%s", url, p.out.String())
		}
		<-poll.C
	}
}

func (r *relay) wsURL() string { return fmt.Sprintf("ws://127.0.0.1:%d/socketcluster/", r.port) }

// monitor is the real socketcluster-client, driven through monitor.mjs.
type monitor struct {
	*process
	next int // index of the next output line to read
}

func startMonitor(t *testing.T, wsURL string, credentials string) *monitor {
	t.Helper()
	args := []string{"monitor.mjs", wsURL}
	if credentials != "" {
		args = append(args, credentials)
	}
	m := &monitor{process: start(t, nodeDir(t), "node", args...)}
	// Messages may come before "ready": waitMessage reads from the start.
	ready := 0
	m.out.waitLine(t, &ready, "monitor ready", func(l string) bool { return strings.Contains(l, `"ready":true`) })
	return m
}

// monitorLine is one line monitor.mjs prints.
type monitorLine struct {
	Ready   bool            `json:"ready"`
	Channel string          `json:"channel"`
	Message json.RawMessage `json:"message"`
	Error   string          `json:"error"`
}

// appMessage is the part of an app message the tests read.
type appMessage struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	InstanceID string `json:"instanceId"`
	Payload    string `json:"payload"`
	Action     string `json:"action"`
}

// waitMessage returns the next app message of the given type.
func (m *monitor) waitMessage(t *testing.T, typ string, match func(appMessage) bool) appMessage {
	t.Helper()
	var got appMessage
	m.out.waitLine(t, &m.next, typ+" message", func(l string) bool {
		var ml monitorLine
		if json.Unmarshal([]byte(l), &ml) != nil || len(ml.Message) == 0 {
			return false
		}
		var am appMessage
		if json.Unmarshal(ml.Message, &am) != nil || am.Type != typ {
			return false
		}
		if match != nil && !match(am) {
			return false
		}
		got = am
		return true
	})
	return got
}

// transmit makes the monitor send an event (as the Redux DevTools app does
// to talk to an app).
func (m *monitor) transmit(t *testing.T, event string, data any) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"event": event, "data": data})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("monitor stdin: %v", err)
	}
}

// lineBuffer collects a process's output lines for waitLine.
type lineBuffer struct {
	mu    sync.Mutex
	buf   strings.Builder
	lines []string
	part  string
	cond  chan struct{}
}

func newLineBuffer() *lineBuffer { return &lineBuffer{cond: make(chan struct{})} }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	s := b.part + string(p)
	parts := strings.Split(s, "\n")
	b.part = parts[len(parts)-1]
	b.lines = append(b.lines, parts[:len(parts)-1]...)
	close(b.cond)
	b.cond = make(chan struct{})
	return len(p), nil
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLine returns the first line from index *from on that match accepts,
// and moves *from past it. It fails the test at the deadline.
func (b *lineBuffer) waitLine(t *testing.T, from *int, what string, match func(string) bool) string {
	t.Helper()
	l, ok := b.waitLineFor(from, match, 30*time.Second)
	if !ok {
		t.Fatalf("no %s within 30 s; output:\n%s", what, b.String())
	}
	return l
}

// eventually waits for cond, polling, with a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// waitLineNoFail is waitLine for use off the test goroutine: it returns ""
// at the deadline instead of failing.
func (b *lineBuffer) waitLineNoFail(from *int, match func(string) bool, timeout time.Duration) string {
	l, _ := b.waitLineFor(from, match, timeout)
	return l
}

// waitLineFor returns the first line from index *from on that match
// accepts, moving *from past it, or false at the deadline.
func (b *lineBuffer) waitLineFor(from *int, match func(string) bool, timeout time.Duration) (string, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		for ; *from < len(b.lines); *from++ {
			if l := b.lines[*from]; match(l) {
				*from++
				b.mu.Unlock()
				return l, true
			}
		}
		cond := b.cond
		b.mu.Unlock()
		select {
		case <-cond:
		case <-deadline.C:
			return "", false
		}
	}
}
