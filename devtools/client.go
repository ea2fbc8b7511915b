package devtools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	once     sync.Once
}

// Connect starts streaming st to the relay. It returns at once; the
// connection is made, and remade, in the background until Close or until
// ctx ends (see Stats).
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

// Close disconnects and waits for the client's goroutines. It always
// returns nil; it is safe to call twice.
func (c *Client[S]) Close() error {
	c.once.Do(func() {
		c.cancel()
		<-c.done
		c.sub.Close()
	})
	return nil
}

// Stats reports what the client did so far.
func (c *Client[S]) Stats() Stats {
	return c.core.stats(Stats{Connected: c.up.Load(), Sessions: c.sessions.Load(), Dropped: c.sub.Dropped()})
}

func (c *Client[S]) run(ctx context.Context) {
	defer close(c.done)
	cfg := c.core.cfg
	for attempt := 0; ; {
		err := c.session(ctx)
		if ctx.Err() != nil || errors.Is(err, errStoreStopped) {
			return
		}
		attempt++
		if c.up.Swap(false) {
			attempt = 1 // the session got going: start the backoff over
		}
		d := reconnectDelay(attempt, cfg.jitter())
		cfg.log.Warn("devtools: relay connection lost; reconnecting", "url", cfg.url, "in", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// handshakeTimeout bounds the wait for the relay's first answers, as
// SocketCluster does.
const handshakeTimeout = 10 * time.Second

// session is one relay connection: handshake, login as the app, subscribe,
// START and INIT, then ACTIONs and monitor commands until it fails.
func (c *Client[S]) session(ctx context.Context) error {
	cfg := c.core.cfg
	dialer := websocket.Dialer{HandshakeTimeout: handshakeTimeout, NetDialContext: cfg.dial}
	ws, resp, err := dialer.DialContext(ctx, cfg.url, http.Header{})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("devtools: dial %s: %w", cfg.url, err)
	}
	ws.SetReadLimit(cfg.maxFrame)
	sc := newSconn(ws, cfg.log, &c.core.bad)
	sc.readTimeout.Store(int64(handshakeTimeout))
	readDone := make(chan struct{})
	go func() { sc.readLoop(); close(readDone) }()
	defer func() { sc.close(nil); <-readDone }()

	raw, err := sc.call(ctx, "#handshake", map[string]any{"authToken": nil})
	if err != nil {
		return err
	}
	var hs handshake
	if err := json.Unmarshal(raw, &hs); err != nil || hs.ID == "" {
		c.core.bad.Add(1)
		return fmt.Errorf("%w: handshake reply %.200s", ErrBadFrame, raw)
	}
	// The relay pings every few seconds; silence for pingTimeout means it
	// is gone (SocketCluster closes with 4001 on its side).
	sc.readTimeout.Store(int64(pingTimeout(hs.PingTimeout)))
	raw, err = sc.call(ctx, "login", "master")
	if err != nil {
		return err
	}
	var channel string
	if err := json.Unmarshal(raw, &channel); err != nil || channel != "respond" {
		return fmt.Errorf("devtools: login as the app answered %.200s, want \"respond\"", raw)
	}
	own := "sc-" + hs.ID
	for _, ch := range []string{"respond", own} {
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
	// The history the monitors behind this relay hold: they all see the
	// same stream, and a monitor's START re-INITs them all.
	h := newHistory(cfg.maxAge, c.core.st.State())
	sendInit := func() error {
		m, s, err := c.core.initMessage(hs.ID)
		if err != nil {
			return err
		}
		if err := send(m); err != nil {
			return err
		}
		h.reset(s)
		return nil
	}
	if err := send(c.core.startMessage(hs.ID)); err != nil {
		return err
	}
	if err := sendInit(); err != nil {
		return err
	}
	c.sessions.Add(1)
	c.up.Store(true)
	cfg.log.Info("devtools: streaming to the relay", "url", cfg.url, "socket", hs.ID, "instance", cfg.instanceID)
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
			m, id, err := c.core.actionMessage(hs.ID, ch)
			if err != nil {
				cfg.log.Error("devtools: change not sent", "type", ch.Action.Type, "err", err)
				continue
			}
			if err := send(m); err != nil {
				return err
			}
			h.push(id, ch.State)
		case p := <-sc.events:
			if p.Event != "#publish" {
				c.core.bad.Add(1)
				cfg.log.Info("devtools: unknown event from the relay ignored", "event", p.Event)
				continue
			}
			var pub publish
			if err := json.Unmarshal(p.Data, &pub); err != nil {
				c.core.bad.Add(1)
				cfg.log.Warn("devtools: bad #publish from the relay ignored", "err", err)
				continue
			}
			if pub.Channel != "respond" && pub.Channel != own {
				continue
			}
			r := c.core.handleMonitor(pub.Data, h)
			if r.errText != "" {
				// The relay has no way to answer one monitor: every monitor
				// of this app sees the ERROR.
				if err := send(c.core.errorMessage(hs.ID, r.errText)); err != nil {
					return err
				}
			}
			if r.reinit {
				if err := sendInit(); err != nil {
					return err
				}
			}
		}
	}
}

// pingTimeout is how long the client waits for the relay's next frame,
// from the handshake's pingTimeout (ms), bounded to [1 s, 5 min]; 30 s when
// the relay does not say.
func pingTimeout(ms int64) time.Duration {
	if ms <= 0 {
		return 30 * time.Second
	}
	return min(max(time.Duration(ms)*time.Millisecond, time.Second), 5*time.Minute)
}
