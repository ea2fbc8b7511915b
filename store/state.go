package store

import (
	"reflect"
	"sync/atomic"
)

// stateCell holds the store's latest state, boxed once per commit: the
// box is what State reads and also the value the state streams carry, so
// a commit allocates one copy of the state, not one for each.
type stateCell[S any] struct {
	box   atomic.Value      // the state in an any, when S is not an interface type
	ptr   atomic.Pointer[S] // the state, when S is an interface type
	iface bool              // an any of an interface S has the dynamic type of its content, which may change
}

func (c *stateCell[S]) init(initial S) {
	c.iface = reflect.TypeFor[S]().Kind() == reflect.Interface
	c.store(initial)
}

// load returns the latest state.
func (c *stateCell[S]) load() S {
	if c.iface {
		return *c.ptr.Load()
	}
	return c.box.Load().(S)
}

// boxed returns the latest state in an any.
func (c *stateCell[S]) boxed() any {
	if c.iface {
		return any(*c.ptr.Load())
	}
	return c.box.Load()
}

// store makes next the latest state and returns it boxed.
func (c *stateCell[S]) store(next S) any {
	if c.iface {
		return c.storeIface(next)
	}
	b := any(next)
	c.box.Store(b)
	return b
}

// storeIface is store for an interface S, apart so that next does not
// escape to the heap in store.
func (c *stateCell[S]) storeIface(next S) any {
	c.ptr.Store(&next)
	return any(next)
}
