package store

import "sync"

// mailbox is an unbounded FIFO with one writer side (the dispatcher, under
// the store lock) and one reader goroutine. Push never blocks, which is what
// keeps epics from deadlocking the store: an epic that is busy dispatching
// its own output never stops the dispatcher from queueing the next action.
type mailbox[T any] struct {
	mu     sync.Mutex
	items  []T
	spare  []T
	signal chan struct{} // capacity 1: "items is not empty"
}

func newMailbox[T any]() *mailbox[T] {
	return &mailbox[T]{signal: make(chan struct{}, 1)}
}

func (m *mailbox[T]) push(v T) {
	m.mu.Lock()
	m.items = append(m.items, v)
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

// take returns everything queued, or nil when the queue is empty. The
// returned slice is owned by the caller until the next call to take.
func (m *mailbox[T]) take() []T {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.items) == 0 {
		return nil
	}
	out := m.items
	clear(m.spare)
	m.items = m.spare[:0]
	m.spare = out
	return out
}
