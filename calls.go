package hawechaty

import (
	"context"
	"fmt"
	"sync"

	"github.com/hawechaty/hawechaty/puppet"
)

// calls counts the calls under way into one puppet, made by the pool's
// epics, Add and Start, so that Remove and Stop can wait for them before
// they stop and close the puppet: a puppet is never closed under a Say,
// nor started again after it was closed.
type calls struct {
	mu      sync.Mutex
	n       int
	closing bool
	idle    chan struct{} // closed once closing with no call under way
}

func newCalls() *calls { return &calls{idle: make(chan struct{})} }

// enter admits a call, or refuses it once the puppet is being closed.
func (c *calls) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.n++
	return true
}

func (c *calls) exit() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 && c.closing {
		close(c.idle)
	}
}

// drain refuses new calls and waits, bounded by ctx, for those under way.
func (c *calls) drain(ctx context.Context) error {
	c.mu.Lock()
	if !c.closing {
		c.closing = true
		if c.n == 0 {
			close(c.idle)
		}
	}
	c.mu.Unlock()
	select {
	case <-c.idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for calls under way: %w", ctx.Err())
	}
}

// tracked is a puppet whose calls are counted by c. Name, Events and Close
// pass straight through.
type tracked struct {
	puppet.Puppet
	c *calls
}

// track returns p with its calls counted by c, keeping Dinger.
func track(p puppet.Puppet, c *calls) puppet.Puppet {
	t := tracked{Puppet: p, c: c}
	if d, ok := p.(puppet.Dinger); ok {
		return trackedDinger{tracked: t, d: d}
	}
	return t
}

func (t tracked) refused(method string) error {
	return fmt.Errorf("hawechaty: %s on %s: the puppet is being closed: %w", method, t.Name(), puppet.ErrNotSent)
}

func (t tracked) Start(ctx context.Context) error {
	if !t.c.enter() {
		return t.refused("Start")
	}
	defer t.c.exit()
	return t.Puppet.Start(ctx)
}

func (t tracked) Stop(ctx context.Context) error {
	if !t.c.enter() {
		return t.refused("Stop")
	}
	defer t.c.exit()
	return t.Puppet.Stop(ctx)
}

func (t tracked) Say(ctx context.Context, to, text string) error {
	if !t.c.enter() {
		return t.refused("Say")
	}
	defer t.c.exit()
	return t.Puppet.Say(ctx, to, text)
}

func (t tracked) Rooms(ctx context.Context) ([]puppet.Room, error) {
	if !t.c.enter() {
		return nil, t.refused("Rooms")
	}
	defer t.c.exit()
	return t.Puppet.Rooms(ctx)
}

func (t tracked) Contacts(ctx context.Context) ([]puppet.Contact, error) {
	if !t.c.enter() {
		return nil, t.refused("Contacts")
	}
	defer t.c.exit()
	return t.Puppet.Contacts(ctx)
}

type trackedDinger struct {
	tracked
	d puppet.Dinger
}

func (t trackedDinger) Ding(ctx context.Context, data string) error {
	if !t.c.enter() {
		return t.refused("Ding")
	}
	defer t.c.exit()
	return t.d.Ding(ctx, data)
}
