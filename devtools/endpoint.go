package devtools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hawechaty/hawechaty/store"
)

// Endpoint serves the Redux DevTools protocol from the Go process itself,
// so a monitor (the Redux DevTools app, the browser extension's remote
// mode, socketcluster-client) connects straight to the pool with no Node
// relay. Mount it at /socketcluster/ or use ListenAndServe.
//
// It checks the Origin of browser connections (127.0.0.1 and localhost
// pages, plus WithAllowedOrigins), limits frame size (WithMaxFrame), can
// require a shared secret (WithSecret), and gives every monitor a bounded
// queue: a slow monitor loses messages (counted), never slows the store.
type Endpoint[S any] struct {
	core     *core[S]
	appID    string
	sub      *store.Subscription[S]
	upgrader websocket.Upgrader

	mu       sync.Mutex
	monitors map[*monitorConn]struct{}
	closed   bool
	wg       sync.WaitGroup
	done     chan struct{}
	seq      atomic.Uint64
	accepted atomic.Uint64
	dropped  atomic.Uint64
}

type monitorConn struct {
	sc         *sconn
	out        chan []byte
	subscribed atomic.Bool
}

// NewEndpoint returns an endpoint for st. It starts one goroutine that
// reads the store; Close stops it and every connection.
func NewEndpoint[S any](st *store.Store[S], opts ...Option) (*Endpoint[S], error) {
	if st == nil {
		return nil, errors.New("devtools: NewEndpoint with a nil store")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	e := &Endpoint[S]{
		core:     newCore(st, cfg),
		appID:    "hawechaty-" + cfg.instanceID,
		sub:      st.Subscribe(cfg.queue),
		monitors: map[*monitorConn]struct{}{},
		done:     make(chan struct{}),
	}
	e.upgrader = websocket.Upgrader{CheckOrigin: e.checkOrigin, HandshakeTimeout: 10 * time.Second}
	e.wg.Add(1)
	go e.broadcast()
	return e, nil
}

func (e *Endpoint[S]) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if slices.Contains(e.core.cfg.origins, origin) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	return false
}

// Stats reports what the endpoint did so far.
func (e *Endpoint[S]) Stats() Stats {
	return Stats{
		Sessions: e.accepted.Load(), Sent: e.core.sent.Load(), Dropped: e.sub.Dropped() + e.dropped.Load(),
		Refused: e.core.refused.Load(), BadFrames: e.core.bad.Load(), Jumps: e.core.jumps.Load(), Dispatched: e.core.dispatched.Load(),
	}
}

// broadcast turns store changes into ACTION messages for every monitor.
func (e *Endpoint[S]) broadcast() {
	defer e.wg.Done()
	for {
		select {
		case <-e.done:
			return
		case ch, ok := <-e.sub.C():
			if !ok {
				return
			}
			m, err := e.core.actionMessage(e.appID, ch)
			if err != nil {
				e.core.cfg.log.Error("devtools: cannot encode a change", "type", ch.Action.Type, "err", err)
				continue
			}
			e.publishAll(m)
		}
	}
}

func publishFrame(m message) ([]byte, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	pub, err := json.Marshal(publish{Channel: "log", Data: data})
	if err != nil {
		return nil, err
	}
	return json.Marshal(packet{Event: "#publish", Data: pub})
}

func (e *Endpoint[S]) publishAll(m message) {
	b, err := publishFrame(m)
	if err != nil {
		e.core.cfg.log.Error("devtools: encode", "err", err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for mc := range e.monitors {
		if mc.subscribed.Load() {
			e.enqueue(mc, b)
		}
	}
}

func (e *Endpoint[S]) enqueue(mc *monitorConn, b []byte) {
	select {
	case mc.out <- b:
	default:
		e.dropped.Add(1)
	}
}

func (e *Endpoint[S]) sendTo(mc *monitorConn, m message) {
	b, err := publishFrame(m)
	if err != nil {
		e.core.cfg.log.Error("devtools: encode", "err", err)
		return
	}
	e.enqueue(mc, b)
}

// ServeHTTP upgrades a monitor's connection and serves it until it ends.
func (e *Endpoint[S]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := e.core.cfg
	ws, err := e.upgrader.Upgrade(w, r, nil)
	if err != nil {
		cfg.log.Warn("devtools: upgrade refused", "origin", r.Header.Get("Origin"), "err", err)
		return // the upgrader has answered
	}
	ws.SetReadLimit(cfg.maxFrame)
	mc := &monitorConn{sc: newSconn(ws, cfg.log, &e.core.bad), out: make(chan []byte, cfg.queue)}
	mc.sc.server = true
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		_ = ws.Close()
		return
	}
	e.monitors[mc] = struct{}{}
	e.wg.Add(1)
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.monitors, mc)
		e.mu.Unlock()
		e.wg.Done()
	}()
	e.serve(mc, r.URL.Query().Get("secret"))
}

func (e *Endpoint[S]) serve(mc *monitorConn, querySecret string) {
	cfg := e.core.cfg
	sc := mc.sc
	// The first frame must be a handshake with a numeric cid.
	_ = sc.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, first, err := sc.ws.ReadMessage()
	if err != nil {
		sc.close(err)
		return
	}
	_, ps, err := decodeFrame(first)
	if err != nil || len(ps) != 1 || ps[0].Event != "#handshake" || ps[0].Cid == 0 {
		e.core.bad.Add(1)
		cfg.log.Warn("devtools: first frame is not a handshake; closing", "err", err)
		_ = sc.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4009, "wrong first frame"), time.Now().Add(time.Second))
		sc.close(fmt.Errorf("%w: wrong first frame", ErrBadFrame))
		return
	}
	id := fmt.Sprintf("%s-m%d", e.appID, e.seq.Add(1))
	hs, _ := json.Marshal(map[string]any{"id": id, "pingTimeout": 30000, "isAuthenticated": false})
	if err := sc.send(packet{Rid: ps[0].Cid, Data: hs}); err != nil {
		sc.close(err)
		return
	}
	e.accepted.Add(1)

	readDone := make(chan struct{})
	go func() { sc.readLoop(30 * time.Second); close(readDone) }()
	ping := time.NewTicker(cfg.pingEvery)
	defer ping.Stop()
	authed := cfg.secret == "" || querySecret == cfg.secret
	defer func() { sc.close(nil); <-readDone }()
	for {
		select {
		case <-e.done:
			return
		case <-sc.done:
			return
		case <-ping.C:
			if err := sc.writeText(nil); err != nil {
				return
			}
		case b := <-mc.out:
			if err := sc.writeText(b); err != nil {
				return
			}
			e.core.sent.Add(1)
		case p := <-sc.events:
			if !e.handle(mc, p, &authed) {
				return
			}
		}
	}
}

// handle answers one packet from a monitor; false closes the connection.
func (e *Endpoint[S]) handle(mc *monitorConn, p packet, authed *bool) bool {
	cfg := e.core.cfg
	sc := mc.sc
	ok := func(data any) bool {
		if p.Cid == 0 {
			return true
		}
		raw, _ := json.Marshal(data)
		return sc.send(packet{Rid: p.Cid, Data: raw}) == nil
	}
	fail := func(name, msg string) bool {
		if p.Cid == 0 {
			return true
		}
		raw, _ := json.Marshal(map[string]string{"name": name, "message": msg})
		return sc.send(packet{Rid: p.Cid, Error: raw}) == nil
	}
	switch p.Event {
	case "login":
		if !*authed {
			var cred string
			_ = json.Unmarshal(p.Data, &cred)
			if cred != cfg.secret {
				cfg.log.Warn("devtools: monitor login refused: wrong secret")
				e.core.refused.Add(1)
				fail("LoginError", "wrong secret")
				return false
			}
			*authed = true
		}
		return ok("log")
	case "#subscribe":
		if !*authed {
			return fail("AuthError", "log in first")
		}
		var d struct {
			Channel string `json:"channel"`
		}
		if err := json.Unmarshal(p.Data, &d); err != nil {
			e.core.bad.Add(1)
			return fail("BadRequest", "subscribe needs a channel")
		}
		if !ok(nil) {
			return false
		}
		if d.Channel == "log" && !mc.subscribed.Swap(true) {
			e.sendTo(mc, e.core.startMessage(e.appID))
			if m, err := e.core.initMessage(e.appID); err == nil {
				e.sendTo(mc, m)
			}
		}
		return true
	case "#unsubscribe":
		mc.subscribed.Store(false)
		return ok(nil)
	case "respond", "sc-" + e.appID:
		if !*authed {
			e.core.refused.Add(1)
			return true
		}
		if r := e.core.handleMonitor(p.Data); r.resendInit {
			if m, err := e.core.initMessage(e.appID); err == nil {
				e.publishAll(m)
			}
		}
		return true
	case "#disconnect":
		return false
	}
	e.core.bad.Add(1)
	cfg.log.Info("devtools: unknown event from a monitor", "event", p.Event)
	return fail("UnknownEvent", "unknown event "+strconv.Quote(p.Event))
}

// ListenAndServe serves the endpoint at /socketcluster/ on addr until ctx
// ends. An empty addr means 127.0.0.1:8000; pass another host explicitly
// to listen elsewhere.
func (e *Endpoint[S]) ListenAndServe(ctx context.Context, addr string) error {
	if addr == "" {
		addr = "127.0.0.1:8000"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("devtools: listen: %w", err)
	}
	return e.Serve(ctx, l)
}

// Serve serves the endpoint on l until ctx ends.
func (e *Endpoint[S]) Serve(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/socketcluster/", e)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		_ = e.Close()
		_ = srv.Close()
	})
	defer stop()
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close disconnects every monitor and stops the endpoint's goroutines.
func (e *Endpoint[S]) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.done)
	for mc := range e.monitors {
		mc.sc.close(nil)
	}
	e.mu.Unlock()
	e.wg.Wait()
	e.sub.Close()
	return nil
}
