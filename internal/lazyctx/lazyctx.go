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
	"slices"
	"sync"
	"time"
)

// Ctx is done when Cancel is called or when one of its parents is done,
// whichever comes first; its error is the first of those. It carries its
// first parent's values and the earlier of its parents' deadlines.
//
// context.Cause of a Ctx is the cause of the parent that ended it, or
// its Err when Cancel ended it: a Ctx keeps no cause of its own.
type Ctx struct {
	parent, also context.Context // also may be nil

	mu     sync.Mutex
	done   chan struct{} // made by the first Done
	err    error
	by     context.Context // the parent that ended c; nil when Cancel did or c runs
	stops  [2]func() bool  // the parents' AfterFunc registrations, once Done was called
	afters []*after        // AfterFunc's functions, not yet run
}

// after is one function registered with AfterFunc.
type after struct {
	f    func()
	done bool // started or stopped
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
	c.done, c.err, c.by, c.stops, c.afters = nil, nil, nil, [2]func() bool{}, nil
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
// package's own key for the cancel state of a context: a Ctx answers it
// with the parent that ended it, if one did, so that context.Cause
// reports that parent's cause, and otherwise with nothing, so that
// context.Cause reports Err (nil while c runs, Canceled after Cancel).
func (c *Ctx) Value(key any) any {
	if probe.Value(key) == probe {
		c.mu.Lock()
		by := c.by
		c.mu.Unlock()
		if by == nil {
			return nil
		}
		return by.Value(key)
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
		if p := c.endedParent(); p != nil {
			c.cancelLocked(p.Err(), p)
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
	if p := c.endedParent(); p != nil {
		c.cancelLocked(p.Err(), p) // closes done
		return c.done
	}
	c.stops[0] = context.AfterFunc(c.parent, func() { c.cancel(c.parent.Err(), c.parent) })
	if c.also != nil {
		c.stops[1] = context.AfterFunc(c.also, func() { c.cancel(c.also.Err(), c.also) })
	}
	return c.done
}

// AfterFunc arranges to call f in its own goroutine once c is done, as
// context.AfterFunc does; stop undoes it, reporting whether it kept f
// from running. The context package calls it for a context derived from
// c, which then needs no goroutine of its own to follow c.
func (c *Ctx) AfterFunc(f func()) (stop func() bool) {
	_ = c.Done() // follow the parents from now on
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &after{f: f}
	if c.err != nil {
		a.done = true
		go f()
	} else {
		c.afters = append(c.afters, a)
	}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if a.done {
			return false
		}
		a.done = true
		c.afters = slices.DeleteFunc(c.afters, func(x *after) bool { return x == a })
		return true
	}
}

// Cancel makes c done with context.Canceled, unless it is done already,
// and releases its registration with its parents.
func (c *Ctx) Cancel() { c.cancel(context.Canceled, nil) }

func (c *Ctx) cancel(err error, by context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelLocked(err, by)
}

// cancelLocked ends c with err; by is the parent that ended it, or nil.
func (c *Ctx) cancelLocked(err error, by context.Context) {
	if c.err != nil {
		return
	}
	c.err, c.by = err, by
	if c.done != nil {
		close(c.done)
	}
	for i, stop := range c.stops {
		if stop != nil {
			stop()
			c.stops[i] = nil
		}
	}
	for _, a := range c.afters {
		a.done = true
		go a.f()
	}
	c.afters = nil
}

// endedParent returns a parent that is done, or nil.
func (c *Ctx) endedParent() context.Context {
	if c.parent.Err() != nil {
		return c.parent
	}
	if c.also != nil && c.also.Err() != nil {
		return c.also
	}
	return nil
}

// String names the context, as the context package's do.
func (c *Ctx) String() string { return "lazyctx.Ctx" }
