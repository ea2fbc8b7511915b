package hawechaty

import (
	"hash/maphash"
	"sync/atomic"
)

// memberIndex finds a bot's member without a lock: every send attempt
// looks its bot's puppet up (epics.Deps.Puppet), and bots are added and
// removed rarely. It mirrors Pool.bots, which stays the writers' record:
// put and drop are called with Pool.mu held, one at a time, get from any
// goroutine at any time.
//
// It is an open-addressing table whose entries are a hash and a member
// pointer, 16 bytes: the member holds its name, and a lookup reads the
// entry, then the member it needs anyway. An entry, once written, keeps
// its hash; dropping a member clears its pointer, and the table is
// rebuilt, without the dropped ones, when its entries are half used.
//
// In a pool of thousands of bots, whose sends each go to another bot,
// any table keyed by name costs a cache miss a lookup (a map as well).
// But a send attempt knows where its bot is in the state's tables
// (reducers.Send.BotPosition), and the round robin walks them in order:
// at keeps the members by those positions, as lookups learned them, so
// that consecutive sends read consecutive entries. An entry is a hint,
// used when its member has the name asked for; at is changed under
// Pool.mu only, and drop clears a member's entries there.
type memberIndex struct {
	tab  atomic.Pointer[memberTable]
	seed maphash.Seed
	at   atomic.Pointer[[]atomic.Pointer[member]]
}

type memberTable struct {
	mask    uint64
	entries []memberEntry
	used    int // entries with a hash, dropped ones included (writers only)
	live    int // entries with a member (writers only)
}

type memberEntry struct {
	hash atomic.Uint64 // the name's hash, with its low bit set; 0 for an empty entry
	m    atomic.Pointer[member]
}

func (x *memberIndex) hash(name string) uint64 { return maphash.String(x.seed, name) | 1 }

// get returns the member named name, or nil.
func (x *memberIndex) get(name string) *member {
	t := x.tab.Load()
	if t == nil {
		return nil
	}
	h := x.hash(name)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := &t.entries[i]
		switch e.hash.Load() {
		case 0:
			return nil
		case h:
			if m := e.m.Load(); m != nil && m.name == name {
				return m
			}
		}
	}
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
		live := 0
		if t := x.tab.Load(); t != nil {
			live = t.live
		}
		limit := 2*live + 64
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
	t := x.tab.Load()
	if t == nil || 2*(t.used+1) > len(t.entries) {
		t = x.rebuild(t)
	}
	t.insert(x.hash(m.name), m)
}

// drop forgets the member named name, if any. Pool.mu is held.
func (x *memberIndex) drop(name string) {
	t := x.tab.Load()
	if t == nil {
		return
	}
	h := x.hash(name)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := &t.entries[i]
		switch e.hash.Load() {
		case 0:
			return
		case h:
			if m := e.m.Load(); m != nil && m.name == name {
				e.m.Store(nil)
				t.live--
				x.unlearn(m)
				return
			}
		}
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
	x.tab.Store(nil)
	x.at.Store(nil)
}

// rebuild publishes a table of the members of t (nil: none) with room
// for as many again, at least 16 entries and at most half used.
func (x *memberIndex) rebuild(t *memberTable) *memberTable {
	live := 0
	if t != nil {
		live = t.live
	}
	size := 16
	for size < 4*(live+1) {
		size *= 2
	}
	g := &memberTable{mask: uint64(size - 1), entries: make([]memberEntry, size)}
	if t != nil {
		for i := range t.entries {
			if m := t.entries[i].m.Load(); m != nil {
				g.insert(t.entries[i].hash.Load(), m)
			}
		}
	}
	x.tab.Store(g)
	return g
}

// insert writes m into the first empty entry of h's probe sequence: the
// member first, then the hash that makes the entry seen.
func (t *memberTable) insert(h uint64, m *member) {
	i := h & t.mask
	for t.entries[i].hash.Load() != 0 {
		i = (i + 1) & t.mask
	}
	e := &t.entries[i]
	e.m.Store(m)
	e.hash.Store(h)
	t.used++
	t.live++
}
