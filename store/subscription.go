package store

import (
	"sync"
	"sync/atomic"
)

// DefaultBuffer is the channel capacity of a subscription when Subscribe
// is given a size of zero or less.
const DefaultBuffer = 1024

// MaxBuffer is the largest channel capacity of a subscription: Subscribe
// makes a larger request this size.
const MaxBuffer = 1 << 20

// Subscription receives every change of a store, in dispatch order.
//
// Slow subscribers: the store never waits for a subscriber. When the
// channel is full, the change is dropped and counted (Dropped), and the
// subscriber sees a gap in Action.Meta.Seq. Size the buffer for the bursts
// you expect, or read State for the latest value.
type Subscription[S any] struct {
	ch      chan Change[S]
	dropped atomic.Uint64
	store   *Store[S]
	once    sync.Once
}

// Subscribe returns a subscription with a channel of the given capacity
// (DefaultBuffer for zero or less, at most MaxBuffer).
// The channel is closed by Close or when the store stops.
func (s *Store[S]) Subscribe(buffer int) *Subscription[S] {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	buffer = min(buffer, MaxBuffer)
	sub := &Subscription[S]{ch: make(chan Change[S], buffer), store: s}
	if !s.inHook() { // a hook's goroutine holds the lock
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	if s.stopped.Load() {
		sub.closeLocked()
		return sub
	}
	subs := make([]*Subscription[S], len(s.subs), len(s.subs)+1)
	copy(subs, s.subs)
	s.subs = append(subs, sub)
	return sub
}

// C returns the channel of changes.
func (sub *Subscription[S]) C() <-chan Change[S] { return sub.ch }

// Dropped returns how many changes were dropped because the channel was full.
func (sub *Subscription[S]) Dropped() uint64 { return sub.dropped.Load() }

// Close unsubscribes and closes the channel. It is safe to call twice.
func (sub *Subscription[S]) Close() {
	s := sub.store
	if !s.inHook() { // a hook's goroutine holds the lock
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	for i, x := range s.subs {
		if x == sub {
			subs := make([]*Subscription[S], 0, len(s.subs)-1)
			subs = append(subs, s.subs[:i]...)
			s.subs = append(subs, s.subs[i+1:]...)
			break
		}
	}
	sub.closeLocked()
}

// offer is called with the store lock held.
func (sub *Subscription[S]) offer(c Change[S]) {
	select {
	case sub.ch <- c:
	default:
		sub.dropped.Add(1)
	}
}

func (sub *Subscription[S]) closeLocked() { sub.once.Do(func() { close(sub.ch) }) }
