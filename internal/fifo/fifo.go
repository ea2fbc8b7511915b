// Package fifo is the unbounded queue that lets a producer hand items to
// one consumer without ever blocking: the store feeding its epics, puppets
// feeding their event channels, the pool feeding its inbox.
package fifo

import "sync"

// Queue is an unbounded FIFO with one consumer. Push never blocks; the
// consumer waits on Signal and drains with Take. The zero Queue is not
// usable: use New.
type Queue[T any] struct {
	mu     sync.Mutex
	items  []T
	spare  []T
	signal chan struct{} // capacity 1: "items is not empty"
}

// New returns an empty queue.
func New[T any]() *Queue[T] { return &Queue[T]{signal: make(chan struct{}, 1)} }

// Push appends v and wakes the consumer.
func (q *Queue[T]) Push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// Take returns everything queued, or nil when empty. The slice is owned
// by the caller until its next call to Take, which reuses its memory.
func (q *Queue[T]) Take() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil
	}
	out := q.items
	clear(q.spare)
	q.items = q.spare[:0]
	q.spare = out
	return out
}

// Drop discards everything queued.
func (q *Queue[T]) Drop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.items)
	q.items = q.items[:0]
}

// Signal receives a value after a Push; one value may stand for many
// pushes, so drain with Take after each.
func (q *Queue[T]) Signal() <-chan struct{} { return q.signal }

// Pump sends every queued item to out, in order, until done is closed.
// It is the consumer loop of a queue that feeds a channel.
func Pump[T any](q *Queue[T], out chan<- T, done <-chan struct{}) {
	for {
		for _, v := range q.Take() {
			select {
			case out <- v:
			case <-done:
				return
			}
		}
		select {
		case <-q.signal:
		case <-done:
			return
		}
	}
}
