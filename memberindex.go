package hawechaty

import (
	"sync"
	"sync/atomic"
)

// memberIndex finds a bot's member without a lock: every send attempt
// looks its bot's puppet up (epics.Deps.Puppet), and bots are added and
// removed rarely. It mirrors Pool.bots, which stays the writers' record:
// put, drop, learn and reset are called with Pool.mu held, get and getAt
// from any goroutine at any time.
//
// Names are in a sync.Map, whose reads take no lock (its keys are
// written once and read many times, the case it is made for).
//
// In a pool of thousands of bots, whose sends each go to another bot,
// any table keyed by name costs a cache miss a lookup. But a send attempt
// knows where its bot is in the state's tables
// (reducers.Send.BotPosition), and the round robin walks them in order:
// at keeps the members by those positions, as lookups learned them, so
// that consecutive sends read consecutive entries. An entry is a hint,
// used when its member has the name asked for; drop clears a member's
// entries.
type memberIndex struct {
	names sync.Map // name → *member
	live  int      // members (writers only)
	at    atomic.Pointer[[]atomic.Pointer[member]]
}

// get returns the member named name, or nil.
func (x *memberIndex) get(name string) *member {
	if v, ok := x.names.Load(name); ok {
		return v.(*member)
	}
	return nil
}

// getAt returns the member at position pos of at when it is named
// name, or nil.
func (x *memberIndex) getAt(name string, pos int) *member {
	if at := x.at.Load(); at != nil && uint(pos) < uint(len(*at)) {
		if m := (*at)[pos].Load(); m != nil && m.name == name {
			return m
		}
	}
	return nil
}

// learn puts m at position pos of at, if m is still the member of its
// name. Pool.mu is held. at grows to twice the members, and 64, at most.
func (x *memberIndex) learn(pos int, m *member) {
	if x.get(m.name) != m {
		return // dropped since
	}
	at := x.at.Load()
	n := 0
	if at != nil {
		n = len(*at)
	}
	if pos >= n {
		limit := 2*x.live + 64
		if pos >= limit {
			return // not a position of the state's tables
		}
		g := make([]atomic.Pointer[member], min(max(2*n, pos+1, 64), limit))
		for i := range n {
			g[i].Store((*at)[i].Load())
		}
		at = &g
		x.at.Store(at)
	}
	(*at)[pos].Store(m)
}

// put adds m, whose name the index does not have. Pool.mu is held.
func (x *memberIndex) put(m *member) {
	x.names.Store(m.name, m)
	x.live++
}

// drop forgets the member named name, if any. Pool.mu is held.
func (x *memberIndex) drop(name string) {
	if v, ok := x.names.LoadAndDelete(name); ok {
		x.live--
		x.unlearn(v.(*member))
	}
}

// unlearn clears the entries of at that hold m. Pool.mu is held.
func (x *memberIndex) unlearn(m *member) {
	if at := x.at.Load(); at != nil {
		for i := range *at {
			(*at)[i].CompareAndSwap(m, nil)
		}
	}
}

// reset forgets every member. Pool.mu is held.
func (x *memberIndex) reset() {
	x.names.Clear()
	x.live = 0
	x.at.Store(nil)
}
