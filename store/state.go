package store

import "sync"

// stateCell holds the store's latest state. A commit copies the state in
// under a write lock and allocates nothing; a read copies it out under a
// read lock, which is held only for that copy (never across a reducer, a
// middleware or an epic). The state is boxed in an any only when
// something needs it boxed (the state streams' items, Replaced's
// payload), once per commit at most.
type stateCell[S any] struct {
	mu  sync.RWMutex
	cur S
	// box is cur in an any, or nil until asked for; only the store's
	// writers (under Store.mu) touch it.
	box any
}

// load returns the latest state, from any goroutine.
func (c *stateCell[S]) load() S {
	c.mu.RLock()
	v := c.cur
	c.mu.RUnlock()
	return v
}

// latest returns the latest state; Store.mu is held, so no commit runs.
func (c *stateCell[S]) latest() S { return c.cur }

// latestRef is latest without the copy, for a reader that runs under
// Store.mu and keeps no reference.
func (c *stateCell[S]) latestRef() *S { return &c.cur }

// boxed returns the latest state in an any; Store.mu is held.
func (c *stateCell[S]) boxed() any {
	if c.box == nil {
		c.box = any(c.cur) // for an interface S: its dynamic value
	}
	return c.box
}

// store makes next the latest state; Store.mu is held.
func (c *stateCell[S]) store(next S) {
	c.mu.Lock()
	c.cur = next
	c.mu.Unlock()
	c.box = nil
}
