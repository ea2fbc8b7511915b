package devtools

import (
	"context"
	"crypto/subtle"
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

// Buffer sizes of a monitor's websocket. Monitors send little (commands);
// what the endpoint sends goes through a pooled write buffer.
const (
	monitorReadBuffer  = 1 << 10
	monitorWriteBuffer = 16 << 10
)

// writeBuffers are the write buffers of every endpoint's monitors.
var writeBuffers = &sync.Pool{}

// monitorTimeout closes a monitor that sent nothing, not even an answer to
// a ping, for this long (SocketCluster's pingTimeout).
const monitorTimeout = 30 * time.Second

// Endpoint serves the Redux DevTools protocol from the Go process itself,
// so a monitor (the Redux DevTools app, the browser extension's remote
// mode, socketcluster-client) connects straight to the store with no Node
// relay. Mount it at /socketcluster/ or use ListenAndServe.
//
// A monitor does the SocketCluster handshake, logs in (any credential; it
// gets the channel "log"), subscribes to "log", and then receives START,
// INIT and one ACTION per store change on it; it sends commands as the
// events "respond" or "sc-<app id>".
//
// It checks the Origin of browser connections (127.0.0.1 and localhost
// pages, plus WithAllowedOrigins), limits frame size (WithMaxFrame) and
// the number of monitors (WithMaxConnections), can require a shared
// secret (WithSecret), and gives every monitor a bounded queue
// (WithQueue): a slow monitor loses messages (counted in Stats.Dropped),
// never slows the store or the other monitors.
type Endpoint[S any] struct {
	core     *core[S]
	appID    string
	sub      *store.Subscription[S]
	upgrader websocket.Upgrader

	mu       sync.Mutex
	monitors map[*monitorConn[S]]struct{}
	closed   bool
	wg       sync.WaitGroup
	done     chan struct{}
	seq      atomic.Uint64
	active   atomic.Int64 // connections being upgraded or served
	accepted atomic.Uint64
	dropped  atomic.Uint64
}

// monitorConn is one monitor connection. mu orders its queue and its
// history: what is queued is what its history records.
type monitorConn[S any] struct {
	sc  *sconn
	out *frameQueue

	mu         sync.Mutex
	subscribed bool
	hist       *history[S]
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
		monitors: map[*monitorConn[S]]struct{}{},
		done:     make(chan struct{}),
	}
	e.upgrader = websocket.Upgrader{
		CheckOrigin: e.checkOrigin, HandshakeTimeout: handshakeTimeout,
		// Per connection, only a small read buffer is held; the write
		// buffer is taken from a pool for the time of a write.
		ReadBufferSize: monitorReadBuffer, WriteBufferSize: monitorWriteBuffer, WriteBufferPool: writeBuffers,
	}
	e.wg.Add(1)
	go e.broadcast()
	return e, nil
}

func (e *Endpoint[S]) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser
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
	return e.core.stats(Stats{Sessions: e.accepted.Load(), Dropped: e.sub.Dropped() + e.dropped.Load()})
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
			m, id, err := e.core.actionMessage(e.appID, ch)
			if err != nil {
				e.core.cfg.log.Error("devtools: change not sent", "type", ch.Action.Type, "err", err)
				continue
			}
			b, err := publishFrame(m)
			if err != nil {
				e.core.cfg.log.Error("devtools: change not sent", "type", ch.Action.Type, "err", err)
				continue
			}
			e.mu.Lock()
			for mc := range e.monitors {
				mc.mu.Lock()
				if mc.subscribed && e.enqueue(mc, b) {
					mc.hist.push(id, ch.State)
				}
				mc.mu.Unlock()
			}
			e.mu.Unlock()
		}
	}
}

// publishFrame is an app message as the relay would forward it to a
// monitor: a #publish on the "log" channel. The state inside can be big:
// the frame is put together around it, not encoded again.
func publishFrame(m message) ([]byte, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("devtools: encode: %w", err)
	}
	const head, tail = `{"event":"#publish","data":{"channel":"log","data":`, `}}`
	b := make([]byte, 0, len(head)+len(data)+len(tail))
	b = append(b, head...)
	b = append(b, data...)
	return append(b, tail...), nil
}

// enqueue queues b for mc, or drops and counts it when mc is behind.
func (e *Endpoint[S]) enqueue(mc *monitorConn[S], b []byte) bool {
	if mc.out.push(b) {
		return true
	}
	e.dropped.Add(1)
	return false
}

// sendInit queues INIT for mc and starts its history over.
func (e *Endpoint[S]) sendInit(mc *monitorConn[S]) {
	m, s, err := e.core.initMessage(e.appID)
	if err == nil {
		var b []byte
		if b, err = publishFrame(m); err == nil {
			mc.mu.Lock()
			if e.enqueue(mc, b) {
				mc.hist.reset(s)
			}
			mc.mu.Unlock()
			return
		}
	}
	e.core.cfg.log.Error("devtools: INIT not sent", "err", err)
}

// ServeHTTP upgrades a monitor's connection and serves it, on a goroutine
// of its own, until it ends: the request's goroutine and its buffers are
// released as soon as the connection is upgraded. Above the connection
// limit (WithMaxConnections) it answers 503 Service Unavailable and does
// not upgrade.
func (e *Endpoint[S]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := e.core.cfg
	if n := e.active.Add(1); n > int64(cfg.maxConns) {
		e.active.Add(-1)
		e.core.refused.Add(1)
		cfg.log.Debug("devtools: monitor connection refused: too many", "limit", cfg.maxConns, "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", "10")
		http.Error(w, fmt.Sprintf("devtools: too many monitor connections (limit %d, see WithMaxConnections)", cfg.maxConns), http.StatusServiceUnavailable)
		return
	}
	release := func() { e.active.Add(-1) }
	ws, err := e.upgrader.Upgrade(w, r, nil)
	if err != nil {
		release()
		e.core.refused.Add(1)
		cfg.log.Warn("devtools: monitor connection refused", "origin", r.Header.Get("Origin"), "err", err)
		return // the upgrader has answered
	}
	ws.SetReadLimit(cfg.maxFrame)
	mc := &monitorConn[S]{
		sc:   newSconn(ws, cfg.log, &e.core.bad),
		out:  newFrameQueue(cfg.queue),
		hist: newHistory(cfg.maxAge, e.core.st.State()),
	}
	mc.sc.server = true
	authed := cfg.secret == "" || e.secretOK(r.URL.Query().Get("secret"))
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		release()
		_ = ws.Close()
		return
	}
	e.monitors[mc] = struct{}{}
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer func() {
			e.mu.Lock()
			delete(e.monitors, mc)
			e.mu.Unlock()
			release()
			e.wg.Done()
		}()
		e.serve(mc, authed)
	}()
}

func (e *Endpoint[S]) secretOK(s string) bool {
	return subtle.ConstantTimeCompare([]byte(s), []byte(e.core.cfg.secret)) == 1
}

func (e *Endpoint[S]) serve(mc *monitorConn[S], authed bool) {
	cfg := e.core.cfg
	sc := mc.sc
	// The first frame must be a handshake with a numeric cid.
	_ = sc.ws.SetReadDeadline(time.Now().Add(handshakeTimeout))
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
	hs, _ := json.Marshal(map[string]any{"id": id, "pingTimeout": monitorTimeout.Milliseconds(), "isAuthenticated": false})
	if err := sc.send(packet{Rid: ps[0].Cid, Data: hs}); err != nil {
		sc.close(err)
		return
	}
	e.accepted.Add(1)
	cfg.log.Info("devtools: monitor connected", "socket", id)

	sc.readTimeout.Store(int64(monitorTimeout))
	readDone := make(chan struct{})
	go func() { sc.readLoop(); close(readDone) }()
	defer func() { sc.close(nil); <-readDone }()
	ping := time.NewTicker(cfg.pingEvery)
	defer ping.Stop()
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
		case <-mc.out.ready:
			b, ok := mc.out.pop()
			if !ok {
				continue
			}
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
func (e *Endpoint[S]) handle(mc *monitorConn[S], p packet, authed *bool) bool {
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
			if !e.secretOK(cred) {
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
			e.core.refused.Add(1)
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
		if d.Channel != "log" {
			return true // "report" and others: nothing is ever published there
		}
		mc.mu.Lock()
		first := !mc.subscribed
		mc.subscribed = true
		mc.mu.Unlock()
		if first {
			if b, err := publishFrame(e.core.startMessage(e.appID)); err == nil {
				e.enqueue(mc, b)
			}
			e.sendInit(mc)
		}
		return true
	case "#unsubscribe":
		mc.mu.Lock()
		mc.subscribed = false
		mc.mu.Unlock()
		return ok(nil)
	case "respond", "sc-" + e.appID:
		if !*authed {
			e.core.refused.Add(1)
			cfg.log.Warn("devtools: command from a monitor that has not logged in refused")
			return true
		}
		r := e.core.handleMonitor(p.Data, mc.hist)
		if r.errText != "" {
			if b, err := publishFrame(e.core.errorMessage(e.appID, r.errText)); err == nil {
				e.enqueue(mc, b)
			}
		}
		if r.reinit {
			e.sendInit(mc)
		}
		return true
	case "#disconnect":
		return false
	}
	if len(p.Event) > 3 && p.Event[:3] == "sc-" {
		e.core.ignored.Add(1)
		cfg.log.Info("devtools: command for another app ignored", "event", p.Event)
		return true
	}
	e.core.bad.Add(1)
	cfg.log.Info("devtools: unknown event from a monitor ignored", "event", p.Event)
	return fail("UnknownEvent", "unknown event "+strconv.Quote(p.Event))
}

// ListenAndServe serves the endpoint at /socketcluster/ on addr until ctx
// ends, then closes the endpoint.
//
// It listens on loopback unless addr names a host: "" is 127.0.0.1:8000
// and a port alone (":8001") is 127.0.0.1:8001, so that a port-only
// address never exposes the store to the network. To listen on every
// interface, say so ("0.0.0.0:8001", "[::]:8001") and protect the endpoint
// with WithSecret: anyone who reaches it reads every state, message texts
// included.
func (e *Endpoint[S]) ListenAndServe(ctx context.Context, addr string) error {
	addr, err := listenAddress(addr)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("devtools: listen: %w", err)
	}
	return e.Serve(ctx, l)
}

// listenAddress is addr with 127.0.0.1 for an empty host, and
// 127.0.0.1:8000 for an empty addr.
func listenAddress(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:8000", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("devtools: listen address %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Serve serves the endpoint at /socketcluster/ on l until ctx ends, then
// closes the endpoint.
func (e *Endpoint[S]) Serve(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/socketcluster/", e)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: handshakeTimeout}
	stop := context.AfterFunc(ctx, func() {
		_ = e.Close()
		_ = srv.Close()
	})
	defer stop()
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("devtools: serve: %w", err)
}

// Close disconnects every monitor and stops the endpoint's goroutines. It
// always returns nil; it is safe to call twice.
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
