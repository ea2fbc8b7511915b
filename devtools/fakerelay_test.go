package devtools

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/require"
)

// The test store: a counter with a token that must never leave the
// process, and an epic that answers every ADD with a SEEN.
type tstate struct {
	Count int    `json:"count"`
	Seen  int    `json:"seen"`
	Token string `json:"token"`
}

var (
	tAdd  = actions.Define[int]("devtools_internal/ADD")
	tSeen = actions.Define[int]("devtools_internal/SEEN")
)

func treduce(s tstate, a actions.Action) tstate {
	if n, ok := tAdd.Match(a); ok {
		s.Count += n
	}
	if tSeen.Is(a) {
		s.Seen++
	}
	return s
}

func echoEpic(ctx context.Context, in rxgo.Observable, _ store.StateStream[tstate]) rxgo.Observable {
	return in.Filter(func(v any) bool { return tAdd.Is(v.(actions.Action)) }, rxgo.WithContext(ctx)).
		Map(func(_ context.Context, v any) (any, error) {
			n, _ := tAdd.Match(v.(actions.Action))
			return tSeen.New(n), nil
		}, rxgo.WithContext(ctx))
}

// newTStore returns a started store with the echo epic, stopped at cleanup.
func newTStore(t *testing.T) *store.Store[tstate] {
	t.Helper()
	st, err := store.New(treduce, tstate{Token: "tok-secret-123"}, store.WithEpic("echo", echoEpic))
	require.NoError(t, err)
	require.NoError(t, st.Start(context.Background()))
	t.Cleanup(st.Stop)
	return st
}

// fakeRelay is a scripted SocketCluster v2 relay: it answers the
// handshake, login and subscriptions, and hands every connection to the
// test, which sees what the client sends and sends what a relay would.
type fakeRelay struct {
	pingTimeout int64 // ms, advertised in the handshake
	discard     bool  // benchmarks: keep no frames
	conns       chan *relayConn
	wg          sync.WaitGroup
}

type relayConn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	id     string
	frames chan string  // every text frame from the client, in order
	logs   chan message // the data of every "log" event
	closed chan struct{}
}

func newFakeRelay() *fakeRelay {
	return &fakeRelay{pingTimeout: 30000, conns: make(chan *relayConn, 16)}
}

var relaySeq struct {
	sync.Mutex
	n int
}

func (f *fakeRelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	relaySeq.Lock()
	relaySeq.n++
	id := fmt.Sprintf("fake-%d", relaySeq.n)
	relaySeq.Unlock()
	rc := &relayConn{ws: ws, id: id, frames: make(chan string, 4096), logs: make(chan message, 4096), closed: make(chan struct{})}
	f.wg.Add(1)
	defer f.wg.Done()
	defer close(rc.closed)
	defer ws.Close()
	f.conns <- rc
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if !f.discard {
			rc.frames <- string(b)
		}
		var p packet
		if json.Unmarshal(b, &p) != nil {
			continue
		}
		switch p.Event {
		case "#handshake":
			rc.reply(p.Cid, map[string]any{"id": id, "pingTimeout": f.pingTimeout, "isAuthenticated": false})
		case "login":
			var cred string
			_ = json.Unmarshal(p.Data, &cred)
			if cred == "master" {
				rc.reply(p.Cid, "respond")
			} else {
				rc.reply(p.Cid, "log")
			}
		case "#subscribe":
			rc.reply(p.Cid, nil)
		case "log":
			var m message
			if !f.discard && json.Unmarshal(p.Data, &m) == nil {
				rc.logs <- m
			}
		}
	}
}

func (rc *relayConn) send(frame string) error {
	rc.wmu.Lock()
	defer rc.wmu.Unlock()
	return rc.ws.WriteMessage(websocket.TextMessage, []byte(frame))
}

func (rc *relayConn) reply(cid int64, data any) {
	if cid == 0 {
		return
	}
	raw, _ := json.Marshal(data)
	b, _ := json.Marshal(packet{Rid: cid, Data: raw})
	_ = rc.send(string(b))
}

// publish sends a monitor message on a channel, as the relay forwards it.
func (rc *relayConn) publish(t *testing.T, channel string, m any) {
	t.Helper()
	data, err := json.Marshal(m)
	require.NoError(t, err)
	pub, _ := json.Marshal(publish{Channel: channel, Data: data})
	b, _ := json.Marshal(packet{Event: "#publish", Data: pub})
	require.NoError(t, rc.send(string(b)))
}

// command is a monitor's DISPATCH to this app, as the Redux DevTools app
// sends it on sc-<id>; state is what the monitor would attach (redacted).
func (rc *relayConn) command(t *testing.T, action map[string]any) {
	t.Helper()
	rc.publish(t, "sc-"+rc.id, map[string]any{"type": "DISPATCH", "action": action, "instanceId": "pool-1", "state": `{"count":0,"token":"[REDACTED]"}`})
}

// waitLog returns the next "log" message of type typ (skipping others).
func (rc *relayConn) waitLog(t *testing.T, typ string) message {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case m := <-rc.logs:
			if m.Type == typ {
				return m
			}
		case <-deadline.C:
			t.Fatalf("no %s message within 10 s", typ)
		}
	}
}

// waitAction returns the next ACTION whose lifted action has type typ.
func (rc *relayConn) waitAction(t *testing.T, typ string) (message, tstate) {
	t.Helper()
	for {
		m := rc.waitLog(t, "ACTION")
		if liftedType(t, m) == typ {
			var s tstate
			require.NoError(t, json.Unmarshal([]byte(*m.Payload), &s))
			return m, s
		}
	}
}

func liftedType(t *testing.T, m message) string {
	t.Helper()
	var str string
	require.NoError(t, json.Unmarshal(m.Action, &str))
	var lifted struct {
		Type   string `json:"type"`
		Action struct {
			Type string `json:"type"`
		} `json:"action"`
	}
	require.NoError(t, json.Unmarshal([]byte(str), &lifted))
	require.Equal(t, "PERFORM_ACTION", lifted.Type)
	return lifted.Action.Type
}

// waitFrame returns the next raw frame accepted by match.
func (rc *relayConn) waitFrame(t *testing.T, what string, match func(string) bool) string {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case f := <-rc.frames:
			if match(f) {
				return f
			}
		case <-deadline.C:
			t.Fatalf("no %s within 10 s", what)
		}
	}
}

func (f *fakeRelay) next(t *testing.T) *relayConn {
	t.Helper()
	select {
	case rc := <-f.conns:
		return rc
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not connect within 10 s")
		return nil
	}
}

// startFakeRelay serves a fake relay on 127.0.0.1 and returns its ws URL.
func startFakeRelay(t testing.TB) (*fakeRelay, string) {
	t.Helper()
	f := newFakeRelay()
	srv := httptest.NewServer(f)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		f.wg.Wait()
	})
	return f, "ws" + strings.TrimPrefix(srv.URL, "http") + "/socketcluster/"
}

// eventually waits for cond with a deadline, polling.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		<-tick.C
	}
}

// pipeListener is an in-memory listener (net.Pipe), for tests in
// synctest bubbles where time is virtual.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error { l.once.Do(func() { close(l.done) }); return nil }

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial is a client's NetDialContext onto the listener.
func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	c, s := net.Pipe()
	select {
	case l.conns <- s:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// withDial makes a client dial through d instead of the network.
func withDial(d func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return optionFunc(func(c *config) { c.dial = d })
}

// withJitter fixes the reconnect jitter.
func withJitter(r float64) Option {
	return optionFunc(func(c *config) { c.jitter = func() float64 { return r } })
}
