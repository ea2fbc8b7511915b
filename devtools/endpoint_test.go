package devtools_test

import (
	"context"
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
