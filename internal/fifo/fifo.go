// Package fifo is the unbounded queue that lets a producer hand items to
// one consumer without ever blocking: the store feeding its epics, puppets
// feeding their event channels, the pool feeding its inbox.
package fifo

import "sync"

// Queue is an unbounded FIFO with one consumer. Push never blocks; the
// consumer waits on Signal and drains with Take. The zero Queue is not
// usable: use New.
//
// Items are kept in a list of fixed-size blocks, so a backlog of any length
// grows by one block at a time and is never copied; a consumed block is
// kept as a spare for the next.
type Queue[T any] struct {
	mu     sync.Mutex
	head   *block[T] // oldest block; nil when empty
	r      int       // next unread position in head
	tail   *block[T] // block being written
	w      int       // next write position in tail
	n      int       // items queued
	spare  *block[T]
	signal chan struct{} // capacity 1: "items is not empty"
}

// blockSize is the number of items in a block: large enough that a busy
// consumer takes many items per lock, small enough that an idle queue
// holds little.
const blockSize = 256

type block[T any] struct {
	items [blockSize]T
	next  *block[T]
}

// New returns an empty queue.
func New[T any]() *Queue[T] { return &Queue[T]{signal: make(chan struct{}, 1)} }

// Push appends v and wakes the consumer. Only a push into an empty queue
// signals: the consumer drains with Take until nil before it waits, so it
// cannot miss an item pushed behind others.
func (q *Queue[T]) Push(v T) {
	q.mu.Lock()
	switch {
	case q.tail == nil:
		q.head = q.newBlock()
		q.tail, q.r, q.w = q.head, 0, 0
	case q.w == blockSize:
		b := q.newBlock()
		q.tail.next, q.tail, q.w = b, b, 0
	}
	q.tail.items[q.w] = v
	q.w++
	q.n++
	wake := q.n == 1
	q.mu.Unlock()
	if wake {
		select {
		case q.signal <- struct{}{}:
		default:
		}
	}
}

func (q *Queue[T]) newBlock() *block[T] {
	if b := q.spare; b != nil {
		q.spare = nil
		return b
	}
	return new(block[T])
}

// recycle keeps b, which nobody reads any more, as the spare block.
func (q *Queue[T]) recycle(b *block[T]) {
	clear(b.items[:])
	b.next = nil
	q.spare = b
}

// Take returns the oldest queued items, up to one block of them, or nil
// when empty; call it until it returns nil. The slice is owned by the
// caller until its next call to Take, which may reuse its memory.
func (q *Queue[T]) Take() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == nil {
		return nil
	}
	if q.r == blockSize {
		old := q.head
		q.head, q.r = old.next, 0
		q.recycle(old)
		if q.head == nil {
			q.tail, q.w = nil, 0
			return nil
		}
	}
	end := blockSize
	if q.head == q.tail {
		end = q.w
	}
	if q.r == end {
		// Empty, and the caller is done with what it took: start the
		// block over.
		clear(q.head.items[:end])
		q.r, q.w = 0, 0
		return nil
	}
	out := q.head.items[q.r:end:end]
	q.r = end
	q.n -= len(out)
	return out
}

// Drop discards everything queued. It may be called from any goroutine;
// the consumer's current slice is left as it is.
func (q *Queue[T]) Drop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == nil {
		return
	}
	for b := q.head.next; b != nil; b = b.next {
		clear(b.items[:])
	}
	end := blockSize
	if q.head == q.tail {
		end = q.w
	}
	clear(q.head.items[q.r:end])
	q.head.next, q.tail, q.w = nil, q.head, q.r
	q.n = 0
}

// Len returns the number of items queued (not yet taken).
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// Signal receives a value after a Push into an empty queue; one value may
// stand for many pushes, so drain with Take until nil after each.
func (q *Queue[T]) Signal() <-chan struct{} { return q.signal }

// Pump sends every queued item to out, in order, until done is closed.
// It is the consumer loop of a queue that feeds a channel.
func Pump[T any](q *Queue[T], out chan<- T, done <-chan struct{}) {
	for {
		for batch := q.Take(); batch != nil; batch = q.Take() {
			for _, v := range batch {
				if !Send(out, v, done) {
					return
				}
			}
		}
		select {
		case <-q.signal:
		case <-done:
			return
		}
	}
}

// Send sends v on out unless done is closed first, and reports whether it
// sent. When out has room it sends without a full select, which would lock
// every channel in it: a third of the cost of a hand-over.
func Send[T any](out chan<- T, v T, done <-chan struct{}) bool {
	select {
	case out <- v:
		return true
	default:
	}
	select {
	case out <- v:
		return true
	case <-done:
		return false
	}
}
