package cluster

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
)

// candidate is a puppet this node can drive: it lives as long as the
// cluster, and is lent to the pool (as a *fenced) while the node holds the
// bot's lease. One goroutine reads its events for its whole life and
// passes them to the current loan, dropping those that come while
// nobody drives it (the logout of a Stop after a loss, say).
type candidate struct {
	bot    string
	raw    puppet.Puppet
	attach chan *fenced  // to the forwarder
	done   chan struct{} // closed to end the forwarder
	exited chan struct{} // closed when the forwarder has returned
}

func newCandidate(bot string, p puppet.Puppet) *candidate {
	return &candidate{bot: bot, raw: p, attach: make(chan *fenced), done: make(chan struct{}), exited: make(chan struct{})}
}

// forward runs until the puppet's events end (Close) or done.
func (c *candidate) forward(wg *sync.WaitGroup) {
	defer wg.Done()
	defer close(c.exited)
	var cur *fenced
	detach := func() {
		if cur != nil {
			close(cur.events)
			cur = nil
		}
	}
	defer detach()
	for {
		var gone <-chan struct{}
		if cur != nil {
			gone = cur.gone
		}
		select {
		case f := <-c.attach:
			detach()
			cur = f
		case <-gone:
			detach()
		case <-c.done:
			return
		case ev, ok := <-c.raw.Events():
			if !ok {
				return
			}
			if cur == nil {
				continue
			}
			select {
			case cur.events <- ev:
			case <-cur.gone:
				detach()
			case <-c.done:
				return
			}
		}
	}
}

// lend hands f to the forwarder; false when the puppet's events have
// ended.
func (c *candidate) lend(f *fenced) bool {
	select {
	case c.attach <- f:
		return true
	case <-c.exited:
		return false
	}
}

// fenced is one loan of a candidate to the pool, for one lease. Every call
// into the puppet is refused as not sent once the holder's end (the
// lease's Until, by this process's monotonic clock) has passed or the loan
// was fenced, and runs under a context that ends then: the node drives the
// bot only while it holds the lease. Stop always goes through (it gives
// the bot up). Close ends the loan, not the puppet.
type fenced struct {
	raw    puppet.Puppet
	bot    string
	until  atomic.Pointer[time.Time]
	life   context.Context // cancelled by fence
	fence  context.CancelFunc
	gate   func(context.Context) (func(), error) // login slots; nil: none
	events chan puppet.Event
	gone   chan struct{}
	close  sync.Once
}

func newFenced(c *candidate, until time.Time, gate func(context.Context) (func(), error)) *fenced {
	life, fence := context.WithCancel(context.Background())
	f := &fenced{raw: c.raw, bot: c.bot, life: life, fence: fence, gate: gate,
		events: make(chan puppet.Event), gone: make(chan struct{})}
	f.until.Store(&until)
	return f
}

// extend moves the end of the loan (a renewal).
func (f *fenced) extend(until time.Time) { f.until.Store(&until) }

// driving reports whether calls are still let through.
func (f *fenced) driving() bool {
	return f.life.Err() == nil && time.Now().Before(*f.until.Load())
}

// run makes one call under a context that ends with the loan.
func (f *fenced) run(ctx context.Context, method string, call func(context.Context) error) error {
	if !f.driving() {
		return fmt.Errorf("cluster: %s on %q: this node's lease has ended: %w", method, f.bot, puppet.ErrNotSent)
	}
	ctx, cancel := context.WithDeadline(ctx, *f.until.Load())
	defer cancel()
	stop := context.AfterFunc(f.life, cancel)
	defer stop()
	return call(ctx)
}

func (f *fenced) Name() string                { return f.bot }
func (f *fenced) Events() <-chan puppet.Event { return f.events }

func (f *fenced) Start(ctx context.Context) error {
	return f.run(ctx, "Start", func(ctx context.Context) error {
		if f.gate != nil {
			release, err := f.gate(ctx)
			if err != nil {
				return fmt.Errorf("cluster: start %q: waiting for a login slot: %w", f.bot, err)
			}
			defer release()
		}
		return f.raw.Start(ctx)
	})
}

func (f *fenced) Stop(ctx context.Context) error { return f.raw.Stop(ctx) }

func (f *fenced) Say(ctx context.Context, to, text string) error {
	return f.run(ctx, "Say", func(ctx context.Context) error { return f.raw.Say(ctx, to, text) })
}

func (f *fenced) Rooms(ctx context.Context) (rooms []puppet.Room, err error) {
	err = f.run(ctx, "Rooms", func(ctx context.Context) (err error) { rooms, err = f.raw.Rooms(ctx); return err })
	return rooms, err
}

func (f *fenced) Contacts(ctx context.Context) (cs []puppet.Contact, err error) {
	err = f.run(ctx, "Contacts", func(ctx context.Context) (err error) { cs, err = f.raw.Contacts(ctx); return err })
	return cs, err
}

// Ding forwards to the puppet's Dinger, if it has one.
func (f *fenced) Ding(ctx context.Context, data string) error {
	d, ok := f.raw.(puppet.Dinger)
	if !ok {
		return fmt.Errorf("cluster: %q cannot ding: %w", f.bot, puppet.ErrPermanent)
	}
	return f.run(ctx, "Ding", func(ctx context.Context) error { return d.Ding(ctx, data) })
}

// Close ends the loan: calls are refused and the events stop.
func (f *fenced) Close() error {
	f.close.Do(func() {
		f.fence()
		close(f.gone)
	})
	return nil
}
