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

// hub fans values out to queues, one per subscription of an observable.
// The queues are unbounded, which is what keeps epics from deadlocking the
// store: an epic busy dispatching its own output never stops the
// dispatcher from queueing the next action.
type hub[T any] struct {
	mu   sync.Mutex                       // serializes add and remove
	subs atomic.Pointer[[]*fifo.Queue[T]] // copy on write: publish reads without the lock
}

func newHub[T any]() *hub[T] { return &hub[T]{} }

func (h *hub[T]) add(m *fifo.Queue[T]) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var next []*fifo.Queue[T]
	if old := h.subs.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, m)
	h.subs.Store(&next)
}

func (h *hub[T]) remove(m *fifo.Queue[T]) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.subs.Load()
	if old == nil {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*old), func(q *fifo.Queue[T]) bool { return q == m })
	h.subs.Store(&next)
}

// publish pushes v to every queue. A queue removed while publish runs may
// get v anyway; nobody reads it any more.
func (h *hub[T]) publish(v T) {
	if subs := h.subs.Load(); subs != nil {
		for _, m := range *subs {
			m.Push(v)
		}
	}
}

func (h *hub[T]) active() bool {
	subs := h.subs.Load()
	return subs != nil && len(*subs) > 0
}

// mailbox is an epic's primary mailbox on a hub: registered when the
// store reduces actions.Init, so that it holds every value from then on,
// and handed to the first subscription that claims it, whenever rxgo gets
// round to making it. It is dropped, and stops growing, when
//
//   - a subscription claims it (the subscription then owns the queue);
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
	hub     *hub[rxgo.Item]
	mu      sync.Mutex
	q       *fifo.Queue[rxgo.Item] // nil once claimed or dropped
	holders int                    // sources that may still claim q
}

func newMailbox(h *hub[rxgo.Item]) *mailbox {
	return &mailbox{hub: h, q: fifo.New[rxgo.Item]()}
}

// register puts the queue on its hub, with first already in it when first
// is not nil. The store lock is held, so the queue sees every value
// published after it.
func (m *mailbox) register(first *rxgo.Item) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.q == nil {
		return
	}
	if first != nil {
		m.q.Push(*first)
	}
	m.hub.add(m.q)
}

// hold lets src claim the mailbox until src is garbage. It reports false
// when the mailbox is gone already.
func (m *mailbox) hold(src *source) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.q == nil {
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

// claim takes the queue, or returns nil when it was claimed or dropped.
func (m *mailbox) claim() *fifo.Queue[rxgo.Item] {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.q
	m.q = nil
	return q
}

// drop removes the queue from its hub if nobody claimed it.
func (m *mailbox) drop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.q != nil {
		m.hub.remove(m.q)
		m.q = nil
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
// registered (fresh makes its queue), as in RxJS.
type source struct {
	hub   *hub[rxgo.Item]
	done  <-chan struct{} // closed when the store stops
	box   *mailbox        // nil: always hot
	fresh func() *fifo.Queue[rxgo.Item]
}

func (s *source) observable(opts ...rxgo.Option) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{s.produce}, opts...)
}

func (s *source) subscribe() *fifo.Queue[rxgo.Item] {
	if s.box != nil {
		if q := s.box.claim(); q != nil {
			return q
		}
	}
	return s.fresh()
}

func (s *source) produce(ctx context.Context, next chan<- rxgo.Item) {
	m := s.subscribe()
	defer s.hub.remove(m)
	for {
		for batch := m.Take(); batch != nil; batch = m.Take() {
			for _, it := range batch {
				select {
				case next <- it: // room: no need to lock the other channels
					continue
				default:
				}
				select {
				case next <- it:
				case <-ctx.Done():
					return
				case <-s.done:
					return
				}
			}
		}
		select {
		case <-m.Signal():
		case <-ctx.Done():
			return
		case <-s.done:
			return
		}
	}
}

// epicBuffer is the capacity of the channel between an epic's input queue
// and its first operator: it lets the feeding goroutine hand over a batch
// without a context switch per action.
const epicBuffer = 256
