package reducers

import "unsafe"

// A Table of at most smallMax slots is kept small: its version is one
// allocation, the head and its entries together, copied whole on every
// change, with no lineage, key index or tries. A lookup is a scan of a
// few entries, and a change allocates one small block (a table whose
// keys come and go, as the sends in flight do, allocates nothing when
// its last key goes: the empty Table is nil). A small table keeps the
// Table's positions: a deleted key leaves a hole, where it returns if it
// is set again, until the table is compacted, which a small table is as
// soon as it has more holes than keys. A key set into a full small table
// makes it a big one (a full one with holes is compacted first); a big
// one compacted to smallMax keys or fewer becomes small again. Holes at
// the end of a small table go at once: that moves no key.
const smallMax = 4

// entry is one slot of a small table; gone marks a hole, which keeps the
// deleted key so that the key returns to its place when set again.
type entry[V any] struct {
	key  string
	val  V
	gone bool
}

// small reports whether h is a small table's head.
func (h *tableHead[V]) small() bool { return h.lin == nil }

// entries returns a small head's slots, which follow the head in its
// block (every block below puts them at the same offset).
func (h *tableHead[V]) entries() []entry[V] {
	first := unsafe.Add(unsafe.Pointer(h), unsafe.Offsetof(small1[V]{}.e))
	return unsafe.Slice((*entry[V])(first), h.n)
}

// The blocks a small version is allocated in, by capacity: the head, then
// the slots.
type (
	small1[V any] struct {
		h tableHead[V]
		e [1]entry[V]
	}
	small2[V any] struct {
		h tableHead[V]
		e [2]entry[V]
	}
	small4[V any] struct {
		h tableHead[V]
		e [smallMax]entry[V]
	}
)

// newSmall returns a Table holding es (1 to smallMax slots, holes
// included, live of them keys) in one new block.
func newSmall[V any](es []entry[V], live int) Table[V] {
	var h *tableHead[V]
	var e []entry[V]
	switch n := len(es); {
	case n <= 1:
		m := new(small1[V])
		h, e = &m.h, m.e[:]
	case n <= 2:
		m := new(small2[V])
		h, e = &m.h, m.e[:]
	default:
		m := new(small4[V])
		h, e = &m.h, m.e[:]
	}
	copy(e, es)
	h.n, h.live = len(es), int32(live)
	return Table[V]{h}
}

// smallWith returns a copy of small table t with slot i set to x, the
// slot appended when i is past the end.
func (t Table[V]) smallWith(i int, x entry[V], live int) Table[V] {
	var buf [smallMax]entry[V]
	es := buf[:0]
	if t.h != nil {
		es = append(es, t.h.entries()...)
	}
	if i == len(es) {
		es = append(es, x)
	} else {
		es[i] = x
	}
	return newSmall(es, live)
}

// smallFind returns the position of key in small head h, or -1.
func (h *tableHead[V]) smallFind(key string) int {
	for i, e := range h.entries() {
		if e.key == key && !e.gone {
			return i
		}
	}
	return -1
}

// smallSet is Set on a small table (or the empty one). It reports false
// when the key is new and the table is full: the caller makes it big.
func (t Table[V]) smallSet(key string, v V) (Table[V], bool) {
	if t.h == nil {
		return newSmall([]entry[V]{{key: key, val: v}}, 1), true
	}
	live := int(t.h.live)
	for i, e := range t.h.entries() {
		if e.key == key {
			if e.gone {
				live++
			}
			return t.smallWith(i, entry[V]{key: key, val: v}, live), true
		}
	}
	if t.h.n < smallMax {
		return t.smallWith(t.h.n, entry[V]{key: key, val: v}, live+1), true
	}
	if live < smallMax {
		// Full of holes: compacted, with the key last, it stays small.
		var buf [smallMax]entry[V]
		es := append(t.h.keysOnly(-1, buf[:0]), entry[V]{key: key, val: v})
		return newSmall(es, live+1), true
	}
	return t, false
}

// keysOnly appends to es h's slots that hold a key, but slot skip.
func (h *tableHead[V]) keysOnly(skip int, es []entry[V]) []entry[V] {
	for j, e := range h.entries() {
		if j != skip && !e.gone {
			es = append(es, e)
		}
	}
	return es
}

// smallDelete is deleteAt on a small table: the key's slot becomes a
// hole; holes at the end go (no key moves), and when more holes than
// keys are left, the table is compacted (to the empty Table when no key
// is left).
func (t Table[V]) smallDelete(i int) Table[V] {
	h := t.h
	live := int(h.live) - 1
	es := h.entries()
	if holes := h.n - live; holes > live {
		if live == 0 {
			return Table[V]{}
		}
		var buf [smallMax]entry[V]
		return newSmall(h.keysOnly(i, buf[:0]), live)
	}
	if i == len(es)-1 {
		end := i
		for end > 0 && es[end-1].gone {
			end--
		}
		return newSmall(es[:end], live)
	}
	return t.smallWith(i, entry[V]{key: es[i].key, gone: true}, live)
}

// compacted returns a table of keys and vals (keys without holes, in
// order): a small table when they fit, else version 0 of a new big
// lineage, whose index is sized for reserve keys and whose batches of
// heads start at batch (as the table compacted had grown: a table whose
// keys come and go is compacted every few dozen changes, and growing
// these from nothing each time cost more than the changes themselves).
func compacted[V any](keys []string, vals []V, batch int32, reserve int) Table[V] {
	if len(keys) == 0 {
		return Table[V]{}
	}
	if len(keys) <= smallMax {
		var buf [smallMax]entry[V]
		es := buf[:len(keys)]
		for i, k := range keys {
			es[i] = entry[V]{key: k, val: vals[i]}
		}
		return newSmall(es, len(keys))
	}
	lin := newLineage[V]()
	lin.index.reserve(max(reserve, len(keys)))
	lin.batch.Store(batch)
	for i, k := range keys {
		lin.index.store(k, i)
	}
	h := lin.head()
	*h = built(lin, keys, vals, int32(len(keys)))
	return Table[V]{h}
}

// grown returns a small head's slots as version 0 of a new big lineage;
// its holes stay holes, their keys indexed at their places.
func (h *tableHead[V]) grown() tableHead[V] {
	es := h.entries()
	keys, vals := make([]string, len(es)), make([]V, len(es))
	lin := newLineage[V]()
	lin.index.reserve(len(es) + 1)
	for i, e := range es {
		lin.index.store(e.key, i)
		if !e.gone {
			keys[i], vals[i] = e.key, e.val
		}
	}
	return built(lin, keys, vals, h.live)
}
