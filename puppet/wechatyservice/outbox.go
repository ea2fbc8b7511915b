package wechatyservice

import (
	"sync"

	"github.com/hawechaty/hawechaty/puppet"
)

// outbox delivers events to Events through an unbounded queue, so that the
// stream reader never blocks on a slow consumer and no event is lost.
type outbox struct {
	mu     sync.Mutex
	items  []puppet.Event
	closed bool

	signal chan struct{} // capacity 1: items were added
	ch     chan puppet.Event
	done   chan struct{}
	pumped sync.WaitGroup
}

func newOutbox() *outbox {
	o := &outbox{signal: make(chan struct{}, 1), ch: make(chan puppet.Event), done: make(chan struct{})}
	o.pumped.Add(1)
	go o.pump()
	return o
}

// push queues ev; after close it drops it.
func (o *outbox) push(ev puppet.Event) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.items = append(o.items, ev)
	o.mu.Unlock()
	select {
	case o.signal <- struct{}{}:
	default:
	}
}

func (o *outbox) take() []puppet.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	items := o.items
	o.items = nil
	return items
}

func (o *outbox) pump() {
	defer o.pumped.Done()
	defer close(o.ch)
	for {
		for _, ev := range o.take() {
			select {
			case o.ch <- ev:
			case <-o.done:
				return
			}
		}
		select {
		case <-o.signal:
		case <-o.done:
			return
		}
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
	o.items = nil
	o.mu.Unlock()
	close(o.done)
	o.pumped.Wait()
}
