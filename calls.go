package hawechaty

import (
	"context"
	"fmt"
	"sync"

	"github.com/hawechaty/hawechaty/internal/lazyctx"
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
	// cut ends the contexts of the calls under way when drain gives up
	// waiting; each call's context has it as a second parent (lazyctx),
	// which costs nothing unless the puppet asks for Done.
	cut       context.Context
	cutCancel context.CancelFunc
}

// init readies c, which counts no call yet.
func (c *calls) init() {
	c.idle = make(chan struct{})
	c.cut, c.cutCancel = context.WithCancel(context.Background())
}

// enter admits a call with a context of its own, derived from ctx and
// cut short by drain, or refuses it once the puppet is being closed.
func (c *calls) enter(ctx context.Context) (*lazyctx.Ctx, bool) {
	if !c.enterNow() {
		return nil, false
	}
	return lazyctx.New(ctx, c.cut), true
}

// enterNow admits a call that needs no context (it answers at once), or
// refuses it once the puppet is being closed.
func (c *calls) enterNow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.n++
	return true
}

func (c *calls) exit(ctx *lazyctx.Ctx) {
	ctx.Cancel()
	c.exitNow()
}

func (c *calls) exitNow() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 && c.closing {
		close(c.idle)
		c.cutCancel() // no call left: release cut
	}
}

// drain refuses new calls and waits for those under way until ctx ends;
// then it cancels their contexts, so that a puppet that honours them
// returns before it is stopped and closed.
func (c *calls) drain(ctx context.Context) error {
	c.mu.Lock()
	if !c.closing {
		c.closing = true
		if c.n == 0 {
			close(c.idle)
			c.cutCancel()
		}
	}
	c.mu.Unlock()
	select {
	case <-c.idle: // when both are ready, idle wins
		return nil
	default:
	}
	select {
	case <-c.idle:
		return nil
	case <-ctx.Done():
	}
	c.cutCancel()
	return fmt.Errorf("calls under way were cut short: %w", ctx.Err())
}

// tracked is a puppet whose calls are counted by c. Name, Events and Close
// pass straight through.
type tracked struct {
	puppet.Puppet
	c *calls
}

func (t tracked) refused(method string) error {
	return fmt.Errorf("hawechaty: %s on %s: the puppet is being closed: %w", method, t.Name(), puppet.ErrNotSent)
}

// run makes one counted call, under a context of its own, or refuses it.
func (t tracked) run(ctx context.Context, method string, f func(context.Context) error) error {
	cctx, ok := t.c.enter(ctx)
	if !ok {
		return t.refused(method)
	}
	defer t.c.exit(cctx)
	return f(cctx)
}

func (t tracked) Start(ctx context.Context) error { return t.run(ctx, "Start", t.Puppet.Start) }

func (t tracked) Stop(ctx context.Context) error { return t.run(ctx, "Stop", t.Puppet.Stop) }

func (t tracked) Say(ctx context.Context, to, text string) error {
	return t.run(ctx, "Say", func(ctx context.Context) error { return t.Puppet.Say(ctx, to, text) })
}

// TrySay is the tracked puppet's TrySay (puppet.TrySayer), counted as a
// call, or done false when it has none. self is ignored: a tracked
// puppet is the pool's own, never wrapped.
func (t tracked) TrySay(_ puppet.Puppet, to, text string) (bool, error) {
	if _, ok := t.Puppet.(puppet.TrySayer); !ok {
		return false, nil
	}
	if !t.c.enterNow() {
		return true, t.refused("Say")
	}
	defer t.c.exitNow()
	return puppet.TrySay(t.Puppet, to, text)
}

func (t tracked) Rooms(ctx context.Context) (rooms []puppet.Room, err error) {
	err = t.run(ctx, "Rooms", func(ctx context.Context) (err error) {
		rooms, err = t.Puppet.Rooms(ctx)
		return err
	})
	return rooms, err
}

func (t tracked) Contacts(ctx context.Context) (contacts []puppet.Contact, err error) {
	err = t.run(ctx, "Contacts", func(ctx context.Context) (err error) {
		contacts, err = t.Puppet.Contacts(ctx)
		return err
	})
	return contacts, err
}

type trackedDinger struct {
	tracked
	d puppet.Dinger
}

func (t trackedDinger) Ding(ctx context.Context, data string) error {
	return t.run(ctx, "Ding", func(ctx context.Context) error { return t.d.Ding(ctx, data) })
}
