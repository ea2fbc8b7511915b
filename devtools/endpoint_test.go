package devtools_test

import (
	"context"
	"encoding/json"
	"net/http"

	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/devtools"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var bump = actions.Define[int]("devtools_unit/BUMP")

func unitStore(t *testing.T) *store.Store[int] {
	t.Helper()
	st, err := store.New(func(s int, a actions.Action) int {
		if n, ok := bump.Match(a); ok {
			return s + n
		}
		return s
	}, 0)
	require.NoError(t, err)
	t.Cleanup(st.Stop)
	return st
}

func endpointServer(t *testing.T, st *store.Store[int], opts ...devtools.Option) (*devtools.Endpoint[int], string) {
	t.Helper()
	e, err := devtools.NewEndpoint(st, opts...)
	require.NoError(t, err)
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		require.NoError(t, e.Close())
		srv.Close()
	})
	return e, "ws" + strings.TrimPrefix(srv.URL, "http")
}

func dial(t *testing.T, url string, header http.Header) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, url, header)
	if resp != nil {
		resp.Body.Close()
	}
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	return ws
}

// readUntilClosed returns the close code the server ended with.
func readUntilClosed(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return ce.Code
			}
			return -1
		}
	}
}

func TestEndpointClosesOnAWrongFirstFrame(t *testing.T) {
	st := unitStore(t)
	e, url := endpointServer(t, st)
	ws := dial(t, url, nil)
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`{"event":"login","data":"master","cid":1}`)))
	assert.Equal(t, 4009, readUntilClosed(t, ws))
	assert.Equal(t, uint64(1), e.Stats().BadFrames)
	require.NoError(t, st.Dispatch(bump.New(1)), "the store goes on")
}

func TestEndpointClosesOnHugeAndGarbageFrames(t *testing.T) {
	st := unitStore(t)
	_, url := endpointServer(t, st, devtools.WithMaxFrame(4096))
	for _, frame := range []string{strings.Repeat("x", 10_000), "not json at all"} {
		ws := dial(t, url, nil)
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`{"event":"#handshake","data":{},"cid":1}`)))
		_, _, err := ws.ReadMessage() // the handshake reply
		require.NoError(t, err)
		// The server may close while a huge frame is still being written.
		if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err == nil {
			assert.NotEqual(t, 0, readUntilClosed(t, ws), "closed")
		}
	}
	// Another monitor still works.
	ws := dial(t, url, nil)
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`{"event":"#handshake","data":{},"cid":1}`)))
	_, reply, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Contains(t, string(reply), `"rid":1`)
}

func TestEndpointChecksTheOrigin(t *testing.T) {
	st := unitStore(t)
	_, url := endpointServer(t, st, devtools.WithAllowedOrigins("https://devtools.example"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.DefaultDialer.DialContext(ctx, url, http.Header{"Origin": {"https://evil.example"}})
	require.Error(t, err)
	if resp != nil {
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		resp.Body.Close()
	}
	dial(t, url, http.Header{"Origin": {"https://devtools.example"}})
	dial(t, url, http.Header{"Origin": {"http://localhost:8000"}})
}

func TestEndpointSlowMonitorDoesNotBlockTheStore(t *testing.T) {
	st := unitStore(t)
	e, url := endpointServer(t, st, devtools.WithQueue(4))
	ws := dial(t, url, nil)
	for i, f := range []string{
		`{"event":"#handshake","data":{},"cid":1}`,
		`{"event":"login","data":{},"cid":2}`,
		`{"event":"#subscribe","data":{"channel":"log"},"cid":3}`,
	} {
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(f)), i)
	}
	// The monitor never reads again; the store dispatches on regardless.
	for range 10_000 {
		require.NoError(t, st.Dispatch(bump.New(1)))
	}
	assert.Equal(t, 10_000, st.State())
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for e.Stats().Dropped == 0 {
		select {
		case <-tick.C:
		case <-deadline:
			break wait
		}
	}
	assert.NotZero(t, e.Stats().Dropped, "what the monitor could not take was dropped and counted")
}

// goMonitor is a minimal monitor in Go: steps 1 to 5 of the protocol.
type goMonitor struct {
	t   *testing.T
	ws  *websocket.Conn
	cid int
	// messages published to the monitor, in order
	msgs []appMsg
}

type appMsg struct {
	Type         string          `json:"type"`
	ID           string          `json:"id"`
	InstanceID   string          `json:"instanceId"`
	Payload      string          `json:"payload"`
	Action       json.RawMessage `json:"action"`
	NextActionID int             `json:"nextActionId"`
	MaxAge       int             `json:"maxAge"`
}

type wirePacket struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	Rid   int             `json:"rid"`
	Error json.RawMessage `json:"error"`
}

// read returns the next packet, collecting publishes on the way; pings
// are answered. It fails the test at the deadline.
func (m *goMonitor) read(deadline time.Time) wirePacket {
	m.t.Helper()
	for {
		_ = m.ws.SetReadDeadline(deadline)
		_, b, err := m.ws.ReadMessage()
		require.NoError(m.t, err)
		if len(b) == 0 {
			require.NoError(m.t, m.ws.WriteMessage(websocket.TextMessage, nil))
			continue
		}
		var p wirePacket
		require.NoError(m.t, json.Unmarshal(b, &p), string(b))
		return p
	}
}

// call sends an event with a cid and returns the reply.
func (m *goMonitor) call(event string, data any) wirePacket {
	m.t.Helper()
	m.cid++
	m.transmitCid(event, data, m.cid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := m.read(deadline)
		if p.Rid == m.cid {
			return p
		}
		m.collect(p)
	}
}

func (m *goMonitor) transmitCid(event string, data any, cid int) {
	m.t.Helper()
	raw, err := json.Marshal(data)
	require.NoError(m.t, err)
	b, _ := json.Marshal(map[string]any{"event": event, "data": json.RawMessage(raw), "cid": cid})
	if cid == 0 {
		b, _ = json.Marshal(map[string]any{"event": event, "data": json.RawMessage(raw)})
	}
	require.NoError(m.t, m.ws.WriteMessage(websocket.TextMessage, b))
}

func (m *goMonitor) collect(p wirePacket) {
	if p.Event != "#publish" {
		return
	}
	var pub struct {
		Channel string `json:"channel"`
		Data    appMsg `json:"data"`
	}
	require.NoError(m.t, json.Unmarshal(p.Data, &pub))
	assert.Equal(m.t, "log", pub.Channel)
	m.msgs = append(m.msgs, pub.Data)
}

// next returns the next app message of type typ.
func (m *goMonitor) next(typ string) appMsg {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for len(m.msgs) > 0 {
			msg := m.msgs[0]
			m.msgs = m.msgs[1:]
			if msg.Type == typ {
				return msg
			}
		}
		m.collect(m.read(deadline))
	}
}

// connectMonitor does the handshake, logs in and subscribes to "log".
func connectMonitor(t *testing.T, url string, credentials any) *goMonitor {
	t.Helper()
	m := &goMonitor{t: t, ws: dial(t, url, nil)}
	hs := m.call("#handshake", map[string]any{"authToken": nil})
	require.Contains(t, string(hs.Data), `"id"`)
	login := m.call("login", credentials)
	require.JSONEq(t, `"log"`, string(login.Data), string(login.Error))
	sub := m.call("#subscribe", map[string]string{"channel": "log"})
	require.Empty(t, sub.Error)
	return m
}

func TestEndpointStreamsToAMonitor(t *testing.T) {
	st := unitStore(t)
	e, url := endpointServer(t, st, devtools.WithTimeTravel(true), devtools.WithMaxAge(10))
	m := connectMonitor(t, url, map[string]any{})
	start := m.next("START")
	assert.Equal(t, "pool-1", start.InstanceID)
	init := m.next("INIT")
	assert.Equal(t, "0", init.Payload)
	assert.Equal(t, 10, init.MaxAge)

	var ids []int
	for i := 1; i <= 3; i++ {
		require.NoError(t, st.Dispatch(bump.New(i)))
		a := m.next("ACTION")
		ids = append(ids, a.NextActionID-1)
		assert.Contains(t, string(a.Action), "devtools_unit/BUMP")
	}
	assert.Equal(t, 6, st.State())

	// A monitor's START gets INIT again.
	m.transmitCid("respond", map[string]any{"type": "START"}, 0)
	assert.Equal(t, "6", m.next("INIT").Payload)

	// Jumps are about this monitor's history, which INIT just reset: 0 is 6.
	require.NoError(t, st.Dispatch(bump.New(10)))
	a := m.next("ACTION")
	m.transmitCid("sc-"+start.ID, map[string]any{"type": "DISPATCH", "instanceId": "pool-1", "action": map[string]any{"type": "JUMP_TO_STATE", "index": 0}}, 0)
	assert.Equal(t, "6", m.next("ACTION").Payload, "the jump, seen as an action")
	assert.Equal(t, 6, st.State())
	m.transmitCid("sc-"+start.ID, map[string]any{"type": "DISPATCH", "action": map[string]any{"type": "JUMP_TO_ACTION", "actionId": a.NextActionID - 1}}, 0)
	assert.Equal(t, "16", m.next("ACTION").Payload)
	assert.Equal(t, 16, st.State())
	// Evicted by the new INIT: refused.
	m.transmitCid("respond", map[string]any{"type": "DISPATCH", "action": map[string]any{"type": "JUMP_TO_ACTION", "actionId": ids[0]}}, 0)

	// Ignored: another app's channel, another instance; an unknown event
	// gets an error answer; the connection stays.
	m.transmitCid("sc-another-app", map[string]any{"type": "START"}, 0)
	m.transmitCid("respond", map[string]any{"type": "DISPATCH", "instanceId": "pool-9", "action": map[string]any{"type": "RESET"}}, 0)
	reply := m.call("#what", 1)
	assert.Contains(t, string(reply.Error), "UnknownEvent")
	require.NoError(t, st.Dispatch(bump.New(1)))
	assert.Equal(t, "17", m.next("ACTION").Payload)
	s := e.Stats()
	assert.Equal(t, uint64(1), s.Refused)
	assert.Equal(t, uint64(2), s.Ignored)
	assert.Equal(t, uint64(1), s.BadFrames)
	assert.Equal(t, uint64(2), s.Jumps)
}

func TestEndpointClosesOnABinaryFrame(t *testing.T) {
	st := unitStore(t)
	e, url := endpointServer(t, st)
	m := connectMonitor(t, url, map[string]any{})
	require.NoError(t, m.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}))
	assert.Equal(t, websocket.CloseUnsupportedData, readUntilClosed(t, m.ws))
	assert.Equal(t, uint64(1), e.Stats().BadFrames)
}

func TestEndpointSecret(t *testing.T) {
	st := unitStore(t)
	e, url := endpointServer(t, st, devtools.WithSecret("s3cret"))

	// Not logged in: no subscription.
	m := &goMonitor{t: t, ws: dial(t, url, nil)}
	m.call("#handshake", map[string]any{})
	assert.Contains(t, string(m.call("#subscribe", map[string]string{"channel": "log"}).Error), "AuthError")
	// A wrong secret: refused and closed.
	assert.Contains(t, string(m.call("login", "guess").Error), "wrong secret")
	assert.NotZero(t, readUntilClosed(t, m.ws))

	// The right one, as the credential or in the URL.
	connectMonitor(t, url, "s3cret").next("INIT")
	connectMonitor(t, url+"?secret=s3cret", map[string]any{}).next("INIT")
	assert.Equal(t, uint64(2), e.Stats().Refused)
}

func TestEndpointSlowMonitorDoesNotHoldBackAnother(t *testing.T) {
	// Big states, so that the slow monitor's socket buffers fill up.
	type big struct {
		N   int    `json:"n"`
		Pad string `json:"pad"`
	}
	st, err := store.New(func(s big, a actions.Action) big {
		if n, ok := bump.Match(a); ok {
			s.N += n
		}
		return s
	}, big{Pad: strings.Repeat("x", 64<<10)})
	require.NoError(t, err)
	defer st.Stop()
	e, err := devtools.NewEndpoint(st, devtools.WithQueue(8))
	require.NoError(t, err)
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer e.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	slow := connectMonitor(t, url, map[string]any{}) // never reads again
	fast := connectMonitor(t, url, map[string]any{})
	fast.next("INIT")

	// Bursts smaller than the queue, each read by the fast monitor before
	// the next: it sees every change, while the slow one's socket buffers
	// fill up and then its queue overflows.
	const size = 4
	b := 0
	for ; b < 20 || e.Stats().Dropped == 0; b++ {
		require.Less(t, b, 2000, "the slow monitor never overflowed")
		for range size {
			require.NoError(t, st.Dispatch(bump.New(1)))
		}
		for i := range size {
			var got big
			require.NoError(t, json.Unmarshal([]byte(fast.next("ACTION").Payload), &got))
			require.Equal(t, b*size+i+1, got.N, "the fast monitor misses nothing")
		}
	}
	assert.Equal(t, b*size, st.State().N)
	assert.NotZero(t, e.Stats().Dropped, "the slow monitor's queue overflowed and was counted")
	_ = slow
}
