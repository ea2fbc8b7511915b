package wechatyservice

import (
	"sync"

	"github.com/hawechaty/hawechaty/internal/fifo"
	"github.com/hawechaty/hawechaty/puppet"
)

// outbox delivers events to Events through an unbounded queue, so that the
// stream reader never blocks on a slow consumer and no event is lost.
type outbox struct {
	mu     sync.Mutex
	closed bool

	q      *fifo.Queue[puppet.Event]
	ch     chan puppet.Event
	done   chan struct{}
	pumped sync.WaitGroup
}

func newOutbox() *outbox {
	o := &outbox{q: fifo.New[puppet.Event](), ch: make(chan puppet.Event), done: make(chan struct{})}
	o.pumped.Add(1)
	go func() {
		defer o.pumped.Done()
		defer close(o.ch)
		fifo.Pump(o.q, o.ch, o.done)
	}()
	return o
}

// push queues ev; after close it drops it.
func (o *outbox) push(ev puppet.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.q.Push(ev)
	}
}

// close drops what is queued, closes the channel and waits for the pump.
func (o *outbox) close() {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.closed = true
	o.q.Drop()
	o.mu.Unlock()
	close(o.done)
	o.pumped.Wait()
}
