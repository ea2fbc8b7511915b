package store

import (
	"context"
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

// source is one epic's view of a hub as an rxgo Observable. The hub
// carries rxgo.Items, boxed once per action however many epics listen.
//
// rxgo subscribes lazily on a goroutine, so a subscription can register a
// moment after the code that caused it. To lose nothing at start, the epic's
// primary mailbox is registered before the store accepts its first action,
// and the first subscription claims it: it sees every value since Start.
// Every later subscription (an inner pipeline, a second branch) is hot: it
// sees values published after it registers, as in RxJS.
type source struct {
	hub     *hub[rxgo.Item]
	done    <-chan struct{} // closed when the store stops
	mu      sync.Mutex
	primary *fifo.Queue[rxgo.Item]
}

func newSource(h *hub[rxgo.Item], done <-chan struct{}) *source {
	s := &source{hub: h, done: done, primary: fifo.New[rxgo.Item]()}
	h.add(s.primary)
	return s
}

func (s *source) claim() *fifo.Queue[rxgo.Item] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.primary; m != nil {
		s.primary = nil
		return m
	}
	m := fifo.New[rxgo.Item]()
	s.hub.add(m)
	return m
}

// release drops the primary mailbox if nobody claimed it, so an epic that
// never observes its input does not accumulate values forever.
func (s *source) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.primary != nil {
		s.hub.remove(s.primary)
		s.primary = nil
	}
}

func (s *source) observable(opts ...rxgo.Option) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{s.produce}, opts...)
}

func (s *source) produce(ctx context.Context, next chan<- rxgo.Item) {
	m := s.claim()
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
