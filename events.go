package hawechaty

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/reducers"
)

// DefaultEventBuffer is how many events wait for a slow reader of
// Pool.Events before the oldest is dropped (WithEventBuffer).
const DefaultEventBuffer = 256

// Event is something that happened to the pool or to one of its bots, for
// applications that do not read the store: one of BotScan, BotLogin,
// BotLogout, BotFailed, BotRecovered, BotReset, PoolDown, PoolUp, and
// EventsDropped when a slow reader lost some. Switch on the type:
//
//	for ev := range pool.Events(ctx) {
//		switch e := ev.(type) {
//		case hawechaty.BotScan:
//			if e.Status == actions.ScanWaiting {
//				show(e.Bot, e.QR.Reveal())
//			}
//		case hawechaty.PoolDown:
//			page("no bot can send since", e.Time)
//		}
//	}
//
// Each event is told from one action the pool's store reduced, after the
// reducer ran: the pool's events are what its state says happened, in
// dispatch order.
type Event interface {
	// Meta tells which action the event comes from.
	Meta() EventMeta
	event()
}

// EventMeta is the stamp of the action an event comes from.
type EventMeta struct {
	Time time.Time // the action's Meta.Time: when the store took it
	Seq  uint64    // the action's Meta.Seq: its place in dispatch order
}

// Meta returns m.
func (m EventMeta) Meta() EventMeta { return m }

func (BotScan) event()       {}
func (BotLogin) event()      {}
func (BotLogout) event()     {}
func (BotFailed) event()     {}
func (BotRecovered) event()  {}
func (BotReset) event()      {}
func (PoolDown) event()      {}
func (PoolUp) event()        {}
func (EventsDropped) event() {}

// BotScan: a bot asks for a QR code to be scanned (Status ScanWaiting,
// QR the code's payload), or tells how the login goes on (ScanScanned,
// ScanConfirmed, ScanTimeout, ScanCanceled; QR may be zero then). The
// bot is out of rotation until it logs in. The QR payload is a secret
// (see actions.QR): it prints redacted; QR.Reveal gives it to the code
// that renders it.
type BotScan struct {
	EventMeta
	Bot    string
	Status actions.ScanStatus
	QR     actions.QR
}

// BotLogin: a bot logged in as Self (its own contact ID).
type BotLogin struct {
	EventMeta
	Bot  string
	Self string
}

// BotLogout: a bot logged out, or its puppet was stopped.
type BotLogout struct {
	EventMeta
	Bot    string
	Reason string
}

// BotFailed: a bot left rotation, and why: silence, failed sends, a
// logout, a QR scan, or an operator's actions.BotFailed. A failed bot is
// reset with backoff; one that logged out or waits for a scan waits.
type BotFailed struct {
	EventMeta
	Bot    string
	Reason string
}

// BotRecovered: a bot that had left rotation is back (it logged in, or
// answered a ding).
type BotRecovered struct {
	EventMeta
	Bot string
}

// BotReset: a reset of a failed bot (its puppet's Stop, then Start)
// ended. Attempt counts from 1 since the bot failed; Err is nil when
// both returned nil in time. The bot is back in rotation only when it
// logs in or answers a ding (BotRecovered).
type BotReset struct {
	EventMeta
	Bot     string
	Attempt int
	Err     error
}

// PoolDown: the last available bot left rotation; no send can go out
// until PoolUp.
type PoolDown struct{ EventMeta }

// PoolUp: a bot is available again after PoolDown.
type PoolUp struct{ EventMeta }

// EventsDropped: this reader was too slow and Count events were dropped
// here, the oldest first (see Pool.Events). EventMeta is the first
// event's after the gap.
type EventsDropped struct {
	EventMeta
	Count uint64
}

// EventOf tells the event an action the store reduced means, in the
// state s it produced; false for an action that is none. It is a pure
// function: Pool.Events delivers what it returns for every action.
// Events of a bot that is not (or no longer) in s are none.
func EventOf(a actions.Action, s reducers.Pool) (Event, bool) {
	m := EventMeta{Time: a.Meta.Time, Seq: a.Meta.Seq}
	if bot := actions.BotOf(a); bot != "" && !s.Bots.Has(bot) {
		return nil, false
	}
	switch p := a.Payload.(type) {
	case actions.ScanPayload:
		if actions.Scan.Is(a) {
			return BotScan{EventMeta: m, Bot: p.Bot, Status: p.Status, QR: p.QR}, true
		}
	case actions.LoginPayload:
		if actions.Login.Is(a) {
			return BotLogin{EventMeta: m, Bot: p.Bot, Self: p.Self}, true
		}
	case actions.ReasonPayload:
		switch {
		case actions.Logout.Is(a):
			return BotLogout{EventMeta: m, Bot: p.Bot, Reason: p.Reason}, true
		case actions.BotFailed.Is(a) && p.Decided:
			// The health epic's word that the bot left rotation; an
			// operator's request is told by the word that follows it.
			return BotFailed{EventMeta: m, Bot: p.Bot, Reason: p.Reason}, true
		}
	case actions.BotPayload:
		if actions.BotRecovered.Is(a) {
			return BotRecovered{EventMeta: m, Bot: p.Bot}, true
		}
	case actions.ResetPayload:
		if actions.ResetDone.Is(a) {
			var err error
			if p.Error != "" {
				err = errors.New(p.Error)
			}
			return BotReset{EventMeta: m, Bot: p.Bot, Attempt: p.Attempt, Err: err}, true
		}
	}
	switch {
	case actions.PoolFailed.Is(a):
		return PoolDown{m}, true
	case actions.PoolRecovered.Is(a):
		return PoolUp{m}, true
	}
	return nil, false
}

// WithEventBuffer sets how many events wait for a slow reader of each
// Events channel before the oldest is dropped (default
// DefaultEventBuffer). It must be at least 1. A channel's buffer grows
// with the events that wait, up to n: math.MaxInt is a reader that loses
// none, at the cost of memory while it falls behind.
func WithEventBuffer(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 {
			c.errs = append(c.errs, errors.New("hawechaty: WithEventBuffer: the size must be at least 1"))
			return
		}
		c.evBuffer = n
	})
}

// Events returns a channel of the pool's events (see Event) from now
// until ctx ends or the pool stops; then the channel is closed. Events
// may be called before Start, and as often as wanted: each channel gets
// every event.
//
// A slow reader never holds the pool up: each channel has a buffer
// (WithEventBuffer) and, when it is full, the oldest event waiting is
// dropped to make room, so a reader that catches up sees the latest
// events (the current QR code rather than an expired one). The reader is
// told: an EventsDropped with the count comes where events were lost,
// and EventsDropped sums them over every channel of the pool.
//
// Cancel ctx when you stop reading: the channel's goroutine ends then,
// or when the pool stops. Events not read when the pool stops are
// dropped with the channel, as Messages are. A nil ctx is taken for one
// that never ends: the channel lasts until the pool stops.
func (p *Pool) Events(ctx context.Context) <-chan Event {
	if ctx == nil {
		ctx = context.Background()
	}
	return p.events.subscribe(ctx)
}

// EventsDropped returns how many events every Events channel of the pool
// dropped, in all, because its reader was slow.
func (p *Pool) EventsDropped() uint64 { return p.events.dropped.Load() }

// eventHub hands the pool's events to the Events channels.
type eventHub struct {
	size    int
	dropped atomic.Uint64
	n       atomic.Int32 // channels open: with none, an action costs a load

	mu     sync.Mutex
	subs   map[*eventSub]struct{}
	closed bool
	done   chan struct{} // closed when the pool stops
}

func newEventHub(size int) *eventHub {
	if size < 1 {
		size = DefaultEventBuffer
	}
	return &eventHub{size: size, subs: map[*eventSub]struct{}{}, done: make(chan struct{})}
}

// handler is the hub's part of the pool's effects epic: it tells each
// action's event to every channel, without waiting for any.
func (h *eventHub) handler() epics.Handler {
	return func(a actions.Action, s reducers.Pool, _ *epics.Effects) {
		if h.n.Load() == 0 {
			return
		}
		ev, ok := EventOf(a, s)
		if !ok {
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for sub := range h.subs {
			if sub.push(ev) {
				h.dropped.Add(1)
			}
		}
	}
}

func (h *eventHub) subscribe(ctx context.Context) <-chan Event {
	out := make(chan Event)
	h.mu.Lock()
	if h.closed || ctx.Err() != nil {
		h.mu.Unlock()
		close(out)
		return out
	}
	sub := &eventSub{max: h.size, wake: make(chan struct{}, 1)}
	h.subs[sub] = struct{}{}
	h.n.Add(1)
	h.mu.Unlock()
	go h.pump(ctx, sub, out)
	return out
}

// pump moves one channel's events from its ring to the reader.
func (h *eventHub) pump(ctx context.Context, sub *eventSub, out chan<- Event) {
	defer close(out)
	defer func() {
		h.mu.Lock()
		delete(h.subs, sub)
		h.n.Add(-1)
		h.mu.Unlock()
	}()
	for {
		ev, ok := sub.pop()
		if !ok {
			select {
			case <-sub.wake:
				continue
			case <-ctx.Done():
				return
			case <-h.done:
				return
			}
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return
		case <-h.done:
			return
		}
	}
}

// close ends every channel; the pool calls it when it stops.
func (h *eventHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// eventSub is one channel's ring of events waiting for its reader.
type eventSub struct {
	wake chan struct{} // has a token when the ring may be non-empty

	mu    sync.Mutex
	ring  []Event
	max   int    // the most events the ring holds (WithEventBuffer)
	head  int    // index of the oldest event
	n     int    // events in the ring
	lost  uint64 // dropped since the reader last heard of drops
	first EventMeta
}

// push adds ev, dropping the oldest event when the ring holds max
// events; it reports whether it dropped one. The ring grows as events
// wait, up to max: a large WithEventBuffer costs memory only for a
// reader that falls behind.
func (s *eventSub) push(ev Event) (dropped bool) {
	s.mu.Lock()
	if s.n == len(s.ring) && s.n < s.max {
		s.grow()
	}
	if s.n == len(s.ring) {
		s.head = (s.head + 1) % len(s.ring)
		s.n--
		s.lost++
		dropped = true
	}
	s.ring[(s.head+s.n)%len(s.ring)] = ev
	s.n++
	if dropped {
		s.first = s.ring[s.head].Meta()
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return dropped
}

// grow doubles the ring (at most to max), the oldest event first.
func (s *eventSub) grow() {
	size := min(max(2*len(s.ring), 8), s.max)
	ring := make([]Event, size)
	for i := range s.n {
		ring[i] = s.ring[(s.head+i)%len(s.ring)]
	}
	s.ring, s.head = ring, 0
}

// pop takes the oldest event, after the word of a drop if there was one.
func (s *eventSub) pop() (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost > 0 {
		ev := EventsDropped{EventMeta: s.first, Count: s.lost}
		s.lost = 0
		return ev, true
	}
	if s.n == 0 {
		return nil, false
	}
	ev := s.ring[s.head]
	s.ring[s.head] = nil
	s.head = (s.head + 1) % len(s.ring)
	s.n--
	return ev, true
}
