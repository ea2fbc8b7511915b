package store

import "sync/atomic"

// stateCell holds the store's latest state. Reads take no lock and never
// wait for a writer; a commit allocates nothing in the steady state.
//
// The state lives in a few slots, reused. The current slot is published
// through an atomic pointer and never written while current. A reader
// marks the slot it reads (readers), checks that it is still the current
// one, copies the state out and unmarks it; a writer, under Store.mu,
// writes the next state into a slot that is neither current nor marked,
// then publishes it. A reader that loses the race to a publish tries
// again on the new slot; a writer that finds every slot marked writes a
// fresh one, which is garbage once its readers are done. So a read is
// never torn, never waits, and returns a state at least as new as the
// last commit that happened before it.
//
// The state is boxed in an any only when something needs it boxed (the
// state streams' items, Replaced's payload), once per commit at most.
type stateCell[S any] struct {
	cur   atomic.Pointer[stateSlot[S]]
	slots [stateSlots]*stateSlot[S] // the writer's: Store.mu is held
	// box is the current state in an any, or nil until asked for; only
	// the store's writers (under Store.mu) touch it.
	box any
}

// stateSlots is how many slots a cell reuses: the current one, the one
// being written, and room for readers still copying older ones. Each
// slot keeps the state it last held alive until it is written again.
const stateSlots = 4

type stateSlot[S any] struct {
	readers atomic.Int32
	v       S
}

// load returns the latest state, from any goroutine, without a lock.
func (c *stateCell[S]) load() S {
	for {
		sl := c.cur.Load()
		sl.readers.Add(1)
		if c.cur.Load() == sl {
			v := sl.v
			sl.readers.Add(-1)
			return v
		}
		sl.readers.Add(-1) // published over meanwhile, and may be rewritten: read the new one
	}
}

// latest returns the latest state; Store.mu is held, so no commit runs.
func (c *stateCell[S]) latest() S { return c.cur.Load().v }

// latestRef is latest without the copy, for a reader that runs under
// Store.mu and keeps no reference past the next commit.
func (c *stateCell[S]) latestRef() *S { return &c.cur.Load().v }

// boxed returns the latest state in an any; Store.mu is held.
func (c *stateCell[S]) boxed() any {
	if c.box == nil {
		c.box = any(c.cur.Load().v) // for an interface S: its dynamic value
	}
	return c.box
}

// store makes next the latest state; Store.mu is held.
func (c *stateCell[S]) store(next S) {
	cur := c.cur.Load()
	var sl *stateSlot[S]
	for i, s := range c.slots {
		if s == nil {
			s = new(stateSlot[S])
			c.slots[i] = s
		}
		if s != cur && s.readers.Load() == 0 {
			sl = s
			break
		}
	}
	if sl == nil {
		sl = new(stateSlot[S]) // every slot is being read
	}
	sl.v = next
	c.cur.Store(sl)
	c.box = nil
}
