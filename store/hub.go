package store

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hawechaty/hawechaty/internal/fifo"
	"github.com/reactivex/rxgo/v2"
)

// hub fans values out to inlets, one per subscription of an observable.
// The inlets are unbounded, which is what keeps epics from deadlocking
// the store: an epic busy dispatching its own output never stops the
// dispatcher from queueing the next action.
type hub[T any] struct {
	mu   sync.Mutex           // serializes add and remove
	subs atomic.Pointer[[]*T] // copy on write: publish reads without the lock
}

func newHub[T any]() *hub[T] { return &hub[T]{} }

func (h *hub[T]) add(m *T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var next []*T
	if old := h.subs.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, m)
	h.subs.Store(&next)
}

func (h *hub[T]) remove(m *T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.subs.Load()
	if old == nil {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*old), func(q *T) bool { return q == m })
	h.subs.Store(&next)
}

// all returns the inlets on the hub.
func (h *hub[T]) all() []*T {
	if subs := h.subs.Load(); subs != nil {
		return *subs
	}
	return nil
}

func (h *hub[T]) active() bool { return len(h.all()) > 0 }

// itemHub is the hub of an observable of the store: actions or states.
type itemHub = hub[inlet]

// publish hands v to every inlet. The store's lock is held: values reach
// each inlet in the order they are published. An inlet removed while
// publish runs may get v anyway; nobody reads it any more.
func publish(h *itemHub, v rxgo.Item) {
	for _, in := range h.all() {
		in.push(v)
	}
}

// inlet is one subscription's input: the values published to it, in
// order, on their way to the channel of the goroutine that reads them
// (the first operator of an epic's pipeline).
//
// While the subscriber keeps up, the store puts a value straight into its
// channel, on the dispatching goroutine: no goroutine stands between the
// store and the epic. When the channel is full, or values wait already,
// the value is queued (unbounded, so the store never waits for an epic),
// and the subscription's own goroutine feeds the queue into the channel
// in order, blocking as long as the subscriber needs. Until a subscriber
// is attached (a mailbox not yet claimed) every value is queued.
type inlet struct {
	mu      sync.Mutex       // orders a direct send with attach and detach
	ch      chan<- rxgo.Item // the subscriber's channel; nil when none is attached
	q       *fifo.Queue[rxgo.Item]
	pending atomic.Int64 // values queued in q or being fed from it into ch
}

func newInlet() *inlet { return &inlet{q: fifo.New[rxgo.Item]()} }

// push hands v over: into the channel when nothing waits before it and
// there is room, else into the queue. It never blocks.
func (in *inlet) push(v rxgo.Item) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ch != nil && in.pending.Load() == 0 {
		select {
		case in.ch <- v:
			return
		default:
		}
	}
	in.pending.Add(1)
	in.q.Push(v)
}

// attach makes ch the inlet's channel.
func (in *inlet) attach(ch chan<- rxgo.Item) {
	in.mu.Lock()
	in.ch = ch
	in.mu.Unlock()
}

// detach forgets the channel, which its owner closes next: push must
// never send on it again.
func (in *inlet) detach() {
	in.mu.Lock()
	in.ch = nil
	in.mu.Unlock()
}

// backlog is the number of values handed to the inlet that its
// subscriber has not taken yet: queued, being fed, or in the channel.
func (in *inlet) backlog() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := int(in.pending.Load())
	if in.ch != nil {
		n += len(in.ch)
	}
	return n
}

// hand puts a queued value into next if there is room, counting it out
// of pending under the lock, so that backlog counts it once.
func (in *inlet) hand(next chan<- rxgo.Item, it rxgo.Item) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	select {
	case next <- it:
		in.pending.Add(-1)
		return true
	default:
		return false
	}
}

// feed attaches next and moves what is queued into it, in order, until
// ctx ends or done is closed. It runs on the subscription's goroutine,
// which rxgo made for the producer and which owns next.
func (in *inlet) feed(ctx context.Context, done <-chan struct{}, next chan<- rxgo.Item) {
	in.attach(next)
	defer in.detach()
	for {
		for batch := in.q.Take(); batch != nil; batch = in.q.Take() {
			for _, it := range batch {
				if in.hand(next, it) {
					continue
				}
				select {
				case next <- it:
					// Once pending is 0, push may send straight into next
					// again: every value before the next one is in it.
					in.pending.Add(-1)
				case <-ctx.Done():
					return
				case <-done:
					return
				}
			}
		}
		select {
		case <-in.q.Signal():
		case <-ctx.Done():
			return
		case <-done:
			return
		}
	}
}

// mailbox is an epic's primary mailbox on a hub: registered when the
// store reduces actions.Init, so that it holds every value from then on,
// and handed to the first subscription that claims it, whenever rxgo gets
// round to making it. It is dropped, and stops growing, when
//
//   - a subscription claims it (the subscription then owns the inlet);
//   - the epic ends: its output completed or failed, or the store stopped;
//   - no subscription can claim it any more: every Observable that could
//     (the epic's input, or a state stream Observed while the epic was
//     built) is garbage. runtime.AddCleanup tells; a backlog held for an
//     epic that ignores its input is therefore freed by the next garbage
//     collection, which its own growth brings about.
//
// A mailbox does not reference the sources that may claim it, so that
// they can become garbage.
type mailbox struct {
	hub     *itemHub
	mu      sync.Mutex
	in      *inlet // nil once claimed or dropped
	holders int    // sources that may still claim in
}

func newMailbox(h *itemHub) *mailbox {
	return &mailbox{hub: h, in: newInlet()}
}

// register puts the inlet on its hub, with first already in it when first
// is not nil. The store lock is held, so the inlet sees every value
// published after it.
func (m *mailbox) register(first *rxgo.Item) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.in == nil {
		return
	}
	if first != nil {
		m.in.push(*first)
	}
	m.hub.add(m.in)
}

// hold lets src claim the mailbox until src is garbage. It reports false
// when the mailbox is gone already.
func (m *mailbox) hold(src *source) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.in == nil {
		return false
	}
	m.holders++
	runtime.AddCleanup(src, (*mailbox).unhold, m)
	return true
}

// unhold runs when a source that could claim the mailbox became garbage.
func (m *mailbox) unhold() {
	m.mu.Lock()
	m.holders--
	last := m.holders == 0
	m.mu.Unlock()
	if last {
		m.drop()
	}
}

// settle drops the mailbox when no source holds it: nobody can claim it.
func (m *mailbox) settle() {
	m.mu.Lock()
	free := m.holders == 0
	m.mu.Unlock()
	if free {
		m.drop()
	}
}

// claim takes the inlet, or returns nil when it was claimed or dropped.
func (m *mailbox) claim() *inlet {
	m.mu.Lock()
	defer m.mu.Unlock()
	in := m.in
	m.in = nil
	return in
}

// drop removes the inlet from its hub if nobody claimed it.
func (m *mailbox) drop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.in != nil {
		m.hub.remove(m.in)
		m.in.q.Drop()
		m.in = nil
	}
}

// source is one Observable of a hub, as an epic sees it: the input of
// actions, or a state stream. The hub carries rxgo.Items, boxed once per
// value however many epics listen.
//
// rxgo subscribes lazily on goroutines, so a subscription can register
// long after the code that caused it. The first subscription that finds
// the epic's mailbox claims it and sees every value since Start; every
// other subscription is hot: it sees the values published after it
// registered (fresh makes its inlet), as in RxJS.
type source struct {
	hub   *itemHub
	done  <-chan struct{} // closed when the store stops
	box   *mailbox        // nil: always hot
	fresh func() *inlet
}

func (s *source) observable(opts ...rxgo.Option) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{s.produce}, opts...)
}

func (s *source) subscribe() *inlet {
	if s.box != nil {
		if in := s.box.claim(); in != nil {
			return in
		}
	}
	return s.fresh()
}

func (s *source) produce(ctx context.Context, next chan<- rxgo.Item) {
	in := s.subscribe()
	defer s.hub.remove(in)
	in.feed(ctx, s.done, next)
}

// epicBuffer is the capacity of the channel between an epic's inlet and
// its first operator: the store puts actions straight into it while
// there is room.
const epicBuffer = 256
