package devtools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hawechaty/hawechaty/store"
)

// Client streams a store to a Redux DevTools relay (@redux-devtools/cli),
// as remote-redux-devtools does, and obeys the monitors' commands as its
// options allow. It reconnects with backoff when the relay goes away, and
// sends the current state again on every connection.
//
// The store is never slowed: the client reads a subscription with a
// bounded buffer (WithQueue); what the network cannot take is dropped and
// counted in Stats.Dropped, and the next connection starts from the
// current state.
type Client[S any] struct {
	core     *core[S]
	sub      *store.Subscription[S]
	cancel   context.CancelFunc
	done     chan struct{}
	sessions atomic.Uint64
	up       atomic.Bool
	closeMu  sync.Once
}

// Connect starts streaming st to the relay. It returns at once; the
// connection is made, and remade, in the background (see Stats). Close
// stops it.
func Connect[S any](ctx context.Context, st *store.Store[S], opts ...Option) (*Client[S], error) {
	if st == nil {
		return nil, errors.New("devtools: Connect with a nil store")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &Client[S]{core: newCore(st, cfg), sub: st.Subscribe(cfg.queue), cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

// Close disconnects and waits for the client's goroutines.
func (c *Client[S]) Close() error {
	c.closeMu.Do(func() {
		c.cancel()
		<-c.done
		c.sub.Close()
	})
	return nil
}

// Stats reports what the client did so far.
func (c *Client[S]) Stats() Stats {
	return Stats{
		Connected: c.up.Load(), Sessions: c.sessions.Load(), Sent: c.core.sent.Load(),
		Dropped: c.sub.Dropped(), Refused: c.core.refused.Load(), BadFrames: c.core.bad.Load(),
		Jumps: c.core.jumps.Load(), Dispatched: c.core.dispatched.Load(),
	}
}

func (c *Client[S]) run(ctx context.Context) {
	defer close(c.done)
	log := c.core.cfg.log
	for attempt := 0; ; {
		err := c.session(ctx)
		if ctx.Err() != nil || errors.Is(err, errStoreStopped) {
			return
		}
		attempt++
		if c.up.Swap(false) {
			attempt = 1 // the session got going: start the backoff over
		}
		d := reconnectDelay(attempt, rand.Float64())
		log.Warn("devtools: relay connection lost; reconnecting", "url", c.core.cfg.url, "in", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (c *Client[S]) session(ctx context.Context) error {
	cfg := c.core.cfg
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, resp, err := dialer.DialContext(ctx, cfg.url, http.Header{})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("devtools: dial %s: %w", cfg.url, err)
	}
	ws.SetReadLimit(cfg.maxFrame)
	sc := newSconn(ws, cfg.log, &c.core.bad)
	defer sc.close(nil)
	stopRead := make(chan struct{})
	go func() { sc.readLoop(0); close(stopRead) }()
	defer func() { sc.close(nil); <-stopRead }()

	raw, err := sc.call(ctx, "#handshake", map[string]any{"authToken": nil})
	if err != nil {
		return err
	}
	var hs handshake
	if err := json.Unmarshal(raw, &hs); err != nil || hs.ID == "" {
		return fmt.Errorf("%w: handshake reply %s", ErrBadFrame, raw)
	}
	raw, err = sc.call(ctx, "login", "master")
	if err != nil {
		return err
	}
	var channel string
	if err := json.Unmarshal(raw, &channel); err != nil || channel != "respond" {
		return fmt.Errorf("devtools: login as app answered %s, want \"respond\"", raw)
	}
	for _, ch := range []string{"respond", "sc-" + hs.ID} {
		if _, err := sc.call(ctx, "#subscribe", map[string]string{"channel": ch}); err != nil {
			return err
		}
	}
	send := func(m message) error {
		if err := sc.emit("log", m); err != nil {
			return err
		}
		c.core.sent.Add(1)
		return nil
	}
	sendInit := func() error {
		m, err := c.core.initMessage(hs.ID)
		if err != nil {
			return err
		}
		return send(m)
	}
	if err := send(c.core.startMessage(hs.ID)); err != nil {
		return err
	}
	if err := sendInit(); err != nil {
		return err
	}
	c.sessions.Add(1)
	c.up.Store(true)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sc.done:
			return sc.err
		case ch, ok := <-c.sub.C():
			if !ok {
				return errStoreStopped
			}
			m, err := c.core.actionMessage(hs.ID, ch)
			if err != nil {
				cfg.log.Error("devtools: cannot encode a change", "type", ch.Action.Type, "err", err)
				continue
			}
			if err := send(m); err != nil {
				return err
			}
		case p := <-sc.events:
			if p.Event != "#publish" {
				continue
			}
			var pub publish
			if err := json.Unmarshal(p.Data, &pub); err != nil {
				c.core.bad.Add(1)
				continue
			}
			if pub.Channel != "respond" && pub.Channel != "sc-"+hs.ID {
				continue
			}
			if r := c.core.handleMonitor(pub.Data); r.resendInit {
				if err := sendInit(); err != nil {
					return err
				}
			}
		}
	}
}
