// Package lazyctx is a cancelable context that costs one small object
// until somebody asks for its Done channel.
//
// context.WithCancel registers every child with its parent (a map entry
// under the parent's lock, and a map of its own once it has children) so
// that the parent can cancel it. A send attempt's context is made and
// cancelled once per message, and most puppets that answer at once never
// look at it: Ctx defers that registration to the first call of Done,
// and checks its parents' errors on Err instead.
package lazyctx

import (
	"context"
	"sync"
	"time"
)

// Ctx is done when Cancel is called or when one of its parents is done,
// whichever comes first; its error is the first of those. It carries its
// first parent's values and the earlier of its parents' deadlines.
//
// context.Cause of a Ctx is its Err: a Ctx keeps no cause of its own.
type Ctx struct {
	parent, also context.Context // also may be nil

	mu    sync.Mutex
	done  chan struct{} // made by the first Done
	err   error
	stops [2]func() bool // the parents' AfterFunc registrations, once Done was called
}

// New returns a context that is done when Cancel is called or when parent
// or also (which may be nil) is done.
func New(parent, also context.Context) *Ctx {
	return &Ctx{parent: parent, also: also}
}

// Init makes c a fresh Ctx with these parents, for a Ctx that is part of a
// larger object. c must not be in use.
func (c *Ctx) Init(parent, also context.Context) {
	c.parent, c.also = parent, also
	c.done, c.err, c.stops = nil, nil, [2]func() bool{}
}

// Deadline returns the earlier of the parents' deadlines.
func (c *Ctx) Deadline() (time.Time, bool) {
	d, ok := c.parent.Deadline()
	if c.also != nil {
		if d2, ok2 := c.also.Deadline(); ok2 && (!ok || d2.Before(d)) {
			d, ok = d2, true
		}
	}
	return d, ok
}

// Value returns the first parent's value for key, except the context
// package's own key for the cancel state of a context: a Ctx has none, so
// that context.Cause reports its Err rather than a parent's cause.
func (c *Ctx) Value(key any) any {
	if probe.Value(key) == probe {
		return nil
	}
	return c.parent.Value(key)
}

// probe is a context of the context package's own kind: it answers its
// private cancel key with itself, which tells Value that key.
var probe, _ = context.WithCancel(context.Background())

// Err returns nil until c is done, then why.
func (c *Ctx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		if err := c.parentErr(); err != nil {
			c.cancelLocked(err)
		}
	}
	return c.err
}

// Done returns a channel closed when c is done. The first call registers
// c with its parents.
func (c *Ctx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err != nil {
		close(c.done) // cancelled before anybody asked
		return c.done
	}
	if err := c.parentErr(); err != nil {
		c.cancelLocked(err) // closes done
		return c.done
	}
	c.stops[0] = context.AfterFunc(c.parent, func() { c.cancel(c.parent.Err()) })
	if c.also != nil {
		c.stops[1] = context.AfterFunc(c.also, func() { c.cancel(c.also.Err()) })
	}
	return c.done
}

// Cancel makes c done with context.Canceled, unless it is done already,
// and releases its registration with its parents.
func (c *Ctx) Cancel() { c.cancel(context.Canceled) }

func (c *Ctx) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelLocked(err)
}

func (c *Ctx) cancelLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	for i, stop := range c.stops {
		if stop != nil {
			stop()
			c.stops[i] = nil
		}
	}
}

func (c *Ctx) parentErr() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if c.also != nil {
		return c.also.Err()
	}
	return nil
}

// String names the context, as the context package's do.
func (c *Ctx) String() string { return "lazyctx.Ctx" }
