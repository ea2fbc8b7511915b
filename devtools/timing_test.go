package devtools

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Timing in virtual time (testing/synctest) over net.Pipe: no test here
// waits for real time.

func TestClientBacksOffWhileTheRelayIsAway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			mu       sync.Mutex
			attempts []time.Duration
		)
		begin := time.Now()
		refuse := func(context.Context, string, string) (net.Conn, error) {
			mu.Lock()
			attempts = append(attempts, time.Since(begin))
			mu.Unlock()
			return nil, errors.New("connection refused")
		}
		st, err := store.New(treduce, tstate{})
		require.NoError(t, err)
		defer st.Stop()
		c, err := Connect(context.Background(), st, withDial(refuse), withJitter(0.5))
		require.NoError(t, err)
		time.Sleep(20 * time.Second)
		synctest.Wait()
		require.NoError(t, c.Close())

		// 500 ms doubling: attempts at 0, 0.5, 1.5, 3.5, 7.5 and 15.5 s.
		want := []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond, 3500 * time.Millisecond, 7500 * time.Millisecond, 15500 * time.Millisecond}
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, want, attempts)
		assert.False(t, c.Stats().Connected)
		require.NoError(t, st.Dispatch(tAdd.New(1)), "the store never waited for the relay")
	})
}

// serveOnPipe serves h on an in-memory listener until the test ends.
func serveOnPipe(t *testing.T, h http.Handler) *pipeListener {
	l := newPipeListener()
	srv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() { _ = srv.Serve(l); close(done) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return l
}

func TestClientAnswersPingsAndDropsASilentRelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRelay()
		f.pingTimeout = 5000
		l := serveOnPipe(t, f)
		defer f.wg.Wait()
		st, err := store.New(treduce, tstate{})
		require.NoError(t, err)
		defer st.Stop()
		c, err := Connect(context.Background(), st, withDial(l.dial), withJitter(0.5))
		require.NoError(t, err)
		defer c.Close()

		// The relay pings every 2 s for 30 s: the client answers each and stays.
		rc := <-f.conns
		rc.waitLog(t, "INIT")
		begin := time.Now()
		for range 15 {
			time.Sleep(2 * time.Second)
			require.NoError(t, rc.send(""))
			rc.waitFrame(t, "the answer to a ping", func(f string) bool { return f == "" })
		}
		assert.Equal(t, 30*time.Second, time.Since(begin))
		assert.True(t, c.Stats().Connected)

		// Then the relay goes silent: the client hangs up after pingTimeout
		// (5 s, from the handshake) and reconnects 500 ms later.
		last := time.Now()
		<-rc.closed
		assert.Equal(t, 5*time.Second, time.Since(last), "closed after pingTimeout of silence")
		rc2 := <-f.conns
		assert.Equal(t, 5500*time.Millisecond, time.Since(last), "then the first backoff step")
		rc2.waitLog(t, "INIT")
		synctest.Wait()
		assert.Equal(t, uint64(2), c.Stats().Sessions)
	})
}

func TestEndpointPingsAndDropsASilentMonitor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := store.New(treduce, tstate{})
		require.NoError(t, err)
		defer st.Stop()
		e, err := NewEndpoint(st)
		require.NoError(t, err)
		defer e.Close()
		l := serveOnPipe(t, e)

		d := websocket.Dialer{NetDialContext: l.dial}
		ws, resp, err := d.Dial("ws://pipe/socketcluster/", nil)
		require.NoError(t, err)
		resp.Body.Close()
		defer ws.Close()
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`{"event":"#handshake","data":{},"cid":1}`)))
		_, b, err := ws.ReadMessage()
		require.NoError(t, err)
		assert.JSONEq(t, `{"rid":1,"data":{"id":"hawechaty-pool-1-m1","pingTimeout":30000,"isAuthenticated":false}}`, string(b))

		// The endpoint pings every 8 s; the monitor answers for 40 s.
		begin := time.Now()
		for i := 1; i <= 5; i++ {
			_, b, err := ws.ReadMessage()
			require.NoError(t, err)
			assert.Empty(t, b, "a ping")
			assert.Equal(t, time.Duration(i)*8*time.Second, time.Since(begin))
			require.NoError(t, ws.WriteMessage(websocket.TextMessage, nil))
		}
		// Then it only listens: the endpoint hangs up 30 s after its last
		// frame, still pinging until then.
		last := time.Now()
		pings := 0
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				break
			}
			pings++
		}
		assert.Equal(t, 30*time.Second, time.Since(last))
		assert.Equal(t, 3, pings, "pings at +8, +16, +24 s")
		synctest.Wait()
		assert.Equal(t, uint64(1), e.Stats().Sessions)
	})
}
