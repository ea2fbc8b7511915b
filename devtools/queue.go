package devtools

import "sync"

// frameQueue is a monitor's queue of frames to write: bounded by count,
// and holding memory only for what is queued, so that an idle monitor
// costs a few words however large the bound (a channel of that capacity
// costs its whole buffer up front).
type frameQueue struct {
	mu    sync.Mutex
	items [][]byte
	head  int // next item to pop
	max   int
	ready chan struct{} // capacity 1: "the queue may not be empty"
}

// idleCap is the capacity an emptied queue keeps; a larger backing array
// goes back to the collector.
const idleCap = 16

func newFrameQueue(max int) *frameQueue {
	return &frameQueue{max: max, ready: make(chan struct{}, 1)}
}

// push queues b, or reports false when max frames wait already.
func (q *frameQueue) push(b []byte) bool {
	q.mu.Lock()
	if len(q.items)-q.head >= q.max {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, b)
	q.mu.Unlock()
	q.signal()
	return true
}

func (q *frameQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop takes the oldest frame. When more wait, ready is signalled again,
// so that the consumer writes one frame per wake-up and can see its other
// events in between.
func (q *frameQueue) pop() ([]byte, bool) {
	q.mu.Lock()
	if q.head == len(q.items) {
		q.mu.Unlock()
		return nil, false
	}
	b := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	more := q.head < len(q.items)
	if !more {
		if cap(q.items) > idleCap {
			q.items = nil
		} else {
			q.items = q.items[:0]
		}
		q.head = 0
	}
	q.mu.Unlock()
	if more {
		q.signal()
	}
	return b, true
}

// len is the number of frames waiting.
func (q *frameQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}
