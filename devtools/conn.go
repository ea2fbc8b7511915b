package devtools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const writeTimeout = 10 * time.Second

// sconn is one SocketCluster websocket: serialized writes, replies matched
// to calls by cid, events handed to the owner.
type sconn struct {
	ws  *websocket.Conn
	log *slog.Logger
	bad *atomic.Uint64

	wmu     sync.Mutex
	cid     atomic.Int64
	mu      sync.Mutex
	pending map[int64]chan packet

	events chan packet
	// server: pings from the peer are its answers to ours; do not answer.
	server bool
	// readTimeout closes the connection when nothing arrives for that long
	// (nanoseconds; 0: no limit). The peer's pings keep it open.
	readTimeout atomic.Int64
	done        chan struct{}
	once        sync.Once
	err         error
}

// eventBuffer is how many packets the reader hands over before it waits
// for its owner: a few, since every connection pays for them.
const eventBuffer = 8

func newSconn(ws *websocket.Conn, log *slog.Logger, bad *atomic.Uint64) *sconn {
	return &sconn{ws: ws, log: log, bad: bad, pending: map[int64]chan packet{}, events: make(chan packet, eventBuffer), done: make(chan struct{})}
}

func (s *sconn) close(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
		_ = s.ws.Close()
	})
}

func (s *sconn) writeText(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := s.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return fmt.Errorf("devtools: write: %w", err)
	}
	return nil
}

func (s *sconn) send(p packet) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("devtools: encode: %w", err)
	}
	return s.writeText(b)
}

// emit sends an event without waiting for an answer (a SocketCluster
// transmit): what the relay forwards to monitors. The frame is put
// together around the encoded data, which can be a big state.
func (s *sconn) emit(event string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("devtools: encode %s: %w", event, err)
	}
	ev, _ := json.Marshal(event)
	b := make([]byte, 0, len(ev)+len(raw)+20)
	b = append(b, `{"event":`...)
	b = append(b, ev...)
	b = append(b, `,"data":`...)
	b = append(b, raw...)
	return s.writeText(append(b, '}'))
}

// call sends an event with a cid and waits for the reply.
func (s *sconn) call(ctx context.Context, event string, data any) (json.RawMessage, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("devtools: encode %s: %w", event, err)
	}
	cid := s.cid.Add(1)
	ch := make(chan packet, 1)
	s.mu.Lock()
	s.pending[cid] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, cid)
		s.mu.Unlock()
	}()
	if err := s.send(packet{Event: event, Data: raw, Cid: cid}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case p := <-ch:
		if len(p.Error) > 0 && string(p.Error) != "null" {
			return nil, fmt.Errorf("devtools: %s refused: %s", event, p.Error)
		}
		return p.Data, nil
	case <-s.done:
		return nil, fmt.Errorf("devtools: connection closed during %s: %w", event, s.err)
	case <-ctx.Done():
		return nil, fmt.Errorf("devtools: no answer to %s: %w", event, ctx.Err())
	}
}

// readLoop reads until the connection fails, answering pings and routing
// replies and events. A bad frame closes the connection.
func (s *sconn) readLoop() {
	for {
		if d := time.Duration(s.readTimeout.Load()); d > 0 {
			_ = s.ws.SetReadDeadline(time.Now().Add(d))
		}
		kind, b, err := s.ws.ReadMessage()
		if err != nil {
			s.close(err)
			return
		}
		if kind != websocket.TextMessage {
			s.bad.Add(1)
			s.log.Warn("devtools: closing on a binary frame")
			_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseUnsupportedData, "binary frame"), time.Now().Add(time.Second))
			s.close(fmt.Errorf("%w: binary frame", ErrBadFrame))
			return
		}
		fk, ps, err := decodeFrame(b)
		if err != nil {
			s.bad.Add(1)
			s.log.Warn("devtools: closing on a bad frame", "err", err)
			_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseUnsupportedData, "bad frame"), time.Now().Add(time.Second))
			s.close(err)
			return
		}
		switch {
		case s.server:
		case fk == framePingV2:
			err = s.writeText(nil)
		case fk == framePingV1:
			err = s.writeText([]byte("#2"))
		}
		if err != nil {
			s.close(err)
			return
		}
		for _, p := range ps {
			if p.Rid != 0 {
				s.mu.Lock()
				ch := s.pending[p.Rid]
				s.mu.Unlock()
				if ch != nil {
					select {
					case ch <- p:
					default: // a second reply to one call: ignore
					}
				}
				continue
			}
			select {
			case s.events <- p:
			case <-s.done:
				return
			}
		}
	}
}

// reconnectDelay is the wait before reconnect attempt n (1-based) for a
// uniform random r in [0, 1): 500 ms doubling to 30 s, ±20 %.
func reconnectDelay(n int, r float64) time.Duration {
	d := 500 * time.Millisecond * time.Duration(math.Pow(2, float64(min(max(n, 1), 16)-1)))
	d = min(d, 30*time.Second)
	return time.Duration(float64(d) * (1 + 0.2*(2*r-1)))
}

var errStoreStopped = errors.New("devtools: the store stopped")
