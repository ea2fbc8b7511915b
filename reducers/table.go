package reducers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"iter"
	"sync/atomic"
)

// Table is a persistent map from string keys to values of type V, kept in
// order of first insertion. It is a value: every change returns a new Table
// and leaves the old one as it was, sharing everything that did not change.
//
// Changing one entry of a Table of any size usually allocates nothing: the
// change is recorded in the entry's node, stamped with the new version,
// and older versions keep reading around it (a key added at the end is
// written in place: no older version reads that far). Every few changes
// to a node the node is copied (one node of 32 slots per level at most),
// and every few changes a batch of version heads is allocated, so the
// allocations per change are a small constant whatever the size; the other
// entries are shared with the previous version. See trie.go.
//
// The versions derived one from the other form a lineage, and only the
// newest version of a lineage changes in place. Changing an older version
// (a branch, as after time travel) first copies the whole table into a new
// lineage: correct, just slower. The key index is shared by a lineage and
// only grows: a key keeps its position for the life of the lineage (a key
// deleted and added again returns to its old position). Deleting many keys
// compacts the table into a new lineage (or a small table).
//
// A value replaced in the newest version may stay reachable from it until
// its node is next copied (after a few more changes to the node), and a
// deleted value until its key is set again or the table is compacted (a
// deletion clears the key's slot only, not its value's: holes are at most
// 32 or as many as the keys), so large values are released a little later
// than in a plain map.
//
// A table of at most 4 slots is small (see small.go): one block, copied
// on every change, read by a scan. A send in flight is in such a table
// most of the time, and comes and goes for one small allocation.
//
// The zero Table is empty and ready to use. A Table is safe to read from
// any number of goroutines while another derives new versions from it.
// Tables are comparable: two Tables are == only when one was derived from
// the other without change, which is what makes memoized selectors hit.
//
// A Table is one pointer wide, to the immutable head of its version (nil
// for the empty table), so that a state holding many Tables stays small
// to copy and to box. Every change makes a new head; heads are allocated
// a few at a time (see lineage.head), so a change still allocates less
// than once on average.
type Table[V any] struct {
	h *tableHead[V]
}

// tableHead is one version of a Table. It is never changed once a Table
// holds it.
type tableHead[V any] struct {
	lin   *lineage[V]
	ver   uint64        // the version this head reads at
	keys  *node[string] // slot → key, "" for a hole
	vals  *node[V]      // slot → value; same shape as keys
	n     int           // slots, holes included
	shift uint32        // of both roots; see trie.go
	live  int32         // keys; 32 bits, so that a head is 48 bytes, not 56
}

// lineage is what the versions derived one from the other share.
type lineage[V any] struct {
	index  index // key → slot; entries are never removed
	latest atomic.Uint64
	heads  []tableHead[V] // heads allocated ahead; the newest version's writer's only
	batch  atomic.Int32   // len of the last heads allocated; read by the copies of any version (rebuilt)
}

// newLineage returns a lineage without versions, whose index hashes with
// a seed of its own.
func newLineage[V any]() *lineage[V] {
	l := &lineage[V]{}
	l.index.seed = maphash.MakeSeed()
	return l
}

// maxHeads is how many heads a lineage allocates at once, at most.
// Heads allocated together stay in memory while any of them is held,
// and with them the roots of their versions: a few old nodes at most.
const maxHeads = 64

// head returns a head for the lineage's next version. Only the writer of
// the newest version calls it (after its compare-and-swap in next), so
// the heads allocated ahead need no lock; a head, once returned, is only
// ever written by that writer, before it publishes the head.
func (l *lineage[V]) head() *tableHead[V] {
	if len(l.heads) == 0 {
		b := min(2*l.batch.Load()+2, maxHeads)
		l.batch.Store(b)
		l.heads = make([]tableHead[V], b)
	}
	h := &l.heads[0]
	l.heads = l.heads[1:]
	return h
}

// Len returns the number of keys.
func (t Table[V]) Len() int {
	if t.h == nil {
		return 0
	}
	return int(t.h.live)
}

// find returns the position of key in h, or -1. When hashed, hv is key's
// hash in h's lineage, for the change that may follow the lookup.
func (h *tableHead[V]) find(key string) (i int, hv uint64, hashed bool) {
	if h == nil || key == "" {
		return -1, 0, false
	}
	if h.small() {
		return h.smallFind(key), 0, false
	}
	hv = h.lin.index.hash(key)
	i, ok := h.lin.index.loadHash(key, hv)
	if !ok || i >= h.n {
		return -1, hv, true // i >= n: added by a later version
	}
	// A slot only ever holds the key the index gives it, so in a version
	// without holes every slot below n holds its key and the check below,
	// a descent of the keys trie, can be skipped.
	if int(h.live) != h.n && get(h.keys, uint(h.shift), i, h.ver) != key {
		return -1, hv, true // deleted in this version, or not yet added again
	}
	return i, hv, true
}

// valAt returns the value at position i, which must hold a key.
func (h *tableHead[V]) valAt(i int) V {
	if h.small() {
		return h.entries()[i].val
	}
	return get(h.vals, uint(h.shift), i, h.ver)
}

// slot returns the position of key in t, or -1.
func (t Table[V]) slot(key string) int {
	i, _, _ := t.h.find(key)
	return i
}

// Get returns the value for key.
func (t Table[V]) Get(key string) (V, bool) {
	if i := t.slot(key); i >= 0 {
		return t.h.valAt(i), true
	}
	var zero V
	return zero, false
}

// Has reports whether key is present.
func (t Table[V]) Has(key string) bool { return t.slot(key) >= 0 }

// lookup returns the value for key and its position, or -1, for a change
// at that position (setAt, deleteAt) that follows without a second search.
func (t Table[V]) lookup(key string) (V, int) {
	if i := t.slot(key); i >= 0 {
		return t.h.valAt(i), i
	}
	var zero V
	return zero, -1
}

// setAt returns a table with the value at position i, a key's position
// in t (lookup), set to v: Set without the search.
func (t Table[V]) setAt(i int, v V) Table[V] {
	if t.h.small() {
		return t.smallWith(i, entry[V]{key: t.h.entries()[i].key, val: v}, int(t.h.live))
	}
	h := t.next()
	h.vals = h.vals.set(uint(h.shift), i, v, h.ver, false)
	return Table[V]{h}
}

// Set returns a table with key set to v. A new key goes last in order; a
// key deleted earlier returns to the position it had, unless the table was
// compacted since. The result depends only on t, key and v, not on what
// else was derived from t. The empty string is not a valid key: Set
// returns t unchanged for it.
func (t Table[V]) Set(key string, v V) Table[V] {
	if key == "" {
		return t
	}
	if t.h == nil || t.h.small() {
		if s, ok := t.smallSet(key, v); ok {
			return s
		}
	}
	i, hv, hashed := t.h.find(key)
	h := t.next()
	if i >= 0 {
		h.vals = h.vals.set(uint(h.shift), i, v, h.ver, false)
		return Table[V]{h}
	}
	if !hashed || h.lin != t.h.lin {
		hv = h.lin.index.hash(key)
	}
	i = h.n
	fresh := false // a slot no version of the lineage had
	if j, ok := h.lin.index.loadHash(key, hv); ok {
		i = j // deleted earlier in this lineage: reuse its hole
	} else {
		h.lin.index.storeHash(key, hv, i)
		h.n++
		fresh = true
	}
	for h.keys == nil || i >= width<<h.shift {
		if h.keys != nil {
			h.shift += bits
		}
		h.keys, h.vals = raise(h.keys), raise(h.vals)
	}
	h.keys = h.keys.set(uint(h.shift), i, key, h.ver, fresh)
	h.vals = h.vals.set(uint(h.shift), i, v, h.ver, fresh)
	h.live++
	return Table[V]{h}
}

// next returns a new head holding t's contents as the next version of its
// lineage, which t must be the newest of; when it is not (a branch), or
// is small (a key is set into it when full), t is first copied into a
// new lineage of its own. The caller changes the head
// before it returns it in a Table.
func (t Table[V]) next() *tableHead[V] {
	if t.h != nil && !t.h.small() && t.h.lin.latest.CompareAndSwap(t.h.ver, t.h.ver+1) {
		h := t.h.lin.head()
		*h = *t.h
		h.ver++
		return h
	}
	var nh tableHead[V]
	switch {
	case t.h == nil:
		nh.lin = newLineage[V]()
	case t.h.small():
		nh = t.h.grown()
	default:
		nh = t.h.rebuilt()
	}
	nh.lin.latest.Store(1)
	nh.ver = 1
	h := nh.lin.head()
	*h = nh
	return h
}

// rebuilt returns h's contents in fresh nodes of a new lineage, whose
// version 0 it is, every position kept: a branch's copy. Every key that
// had a slot in h keeps it, deleted keys included, so that a deleted key
// set again returns to its place on a branch as it does on the newest
// version.
func (h *tableHead[V]) rebuilt() tableHead[V] {
	keys, vals := make([]string, 0, h.n), make([]V, 0, h.n)
	lin := newLineage[V]()
	// Sized as the old lineage had grown (see compacted).
	lin.index.reserve(h.n)
	lin.batch.Store(h.lin.batch.Load())
	h.lin.index.each(func(k string, i int) {
		if i < h.n {
			lin.index.store(k, i)
		}
	})
	walk2(h.keys, h.vals, uint(h.shift), h.n, h.ver, func(_ int, k string, v V) bool {
		if k == "" {
			var zero V
			v = zero // a deleted key's value, left in its slot (deleteAt)
		}
		keys, vals = append(keys, k), append(vals, v)
		return true
	})
	return built(lin, keys, vals, h.live)
}

// built returns version 0 of lin: its slots keys and vals (holes as
// empty keys), live of them keys, in fresh tries.
func built[V any](lin *lineage[V], keys []string, vals []V, live int32) tableHead[V] {
	h := tableHead[V]{lin: lin, n: len(keys), live: live}
	var shift uint
	h.keys, shift = build(keys)
	h.shift = uint32(shift)
	h.vals, _ = build(vals)
	return h
}

// compact returns big head h's keys and values but drop, without holes:
// see compacted.
func (h *tableHead[V]) compact(drop string) Table[V] {
	keys, vals := make([]string, 0, h.live), make([]V, 0, h.live)
	walk2(h.keys, h.vals, uint(h.shift), h.n, h.ver, func(_ int, k string, v V) bool {
		if k != "" && k != drop {
			keys, vals = append(keys, k), append(vals, v)
		}
		return true
	})
	return compacted(keys, vals, h.lin.batch.Load(), h.n)
}

// Update returns a table with key's value replaced by f(old). If key is
// absent, t is returned unchanged and f is not called. f is called once,
// while the new version is being made: it may read t but not change it.
// Should f panic, t stays as it was, and its next change copies it whole.
func (t Table[V]) Update(key string, f func(V) V) Table[V] {
	i := t.slot(key)
	if i < 0 {
		return t
	}
	if t.h.small() {
		return t.smallWith(i, entry[V]{key: key, val: f(t.h.entries()[i].val)}, int(t.h.live))
	}
	h := t.next()
	h.vals = h.vals.update(uint(h.shift), i, f, h.ver)
	return Table[V]{h}
}

// Delete returns a table without key. Deleting an absent key returns t.
func (t Table[V]) Delete(key string) Table[V] { return t.deleteAt(key, t.slot(key)) }

// deleteAt returns a table without key, whose position in t is i (-1 for
// an absent key): Delete without the search.
func (t Table[V]) deleteAt(key string, i int) Table[V] {
	if i < 0 {
		return t
	}
	if t.h.small() {
		return t.smallDelete(i)
	}
	if holes, rest := t.h.n-int(t.h.live)+1, int(t.h.live)-1; holes > rest && (holes > 32 || rest <= smallMax/2) {
		// Too many holes (or few enough keys left for a small table, with
		// room to grow, so that a table whose keys hover around
		// smallMax is not made small and big again and again): compact
		// straight away, without key, rather than record the deletion
		// first.
		return t.h.compact(key)
	}
	// Only the key is cleared: every reader finds a hole by its key (find,
	// At, walks), so the value's slot is left as it was, which spares a
	// change of the values trie per deletion (a send's end is one).
	h := t.next()
	h.keys = h.keys.set(uint(h.shift), i, "", h.ver, false)
	h.live--
	return Table[V]{h}
}

// Slots returns the number of positions, holes included; positions run
// from 0 to Slots()-1 in insertion order.
func (t Table[V]) Slots() int {
	if t.h == nil {
		return 0
	}
	return t.h.n
}

// At returns the key and value at position i, and false for a hole or an
// out-of-range position. With Slots, it lets a caller walk the table from
// any position, as round robin does.
func (t Table[V]) At(i int) (string, V, bool) {
	var zero V
	h := t.h
	if h == nil || i < 0 || i >= h.n {
		return "", zero, false
	}
	if h.small() {
		if e := h.entries()[i]; !e.gone {
			return e.key, e.val, true
		}
		return "", zero, false
	}
	k := get(h.keys, uint(h.shift), i, h.ver)
	if k == "" {
		return "", zero, false
	}
	return k, get(h.vals, uint(h.shift), i, h.ver), true
}

// Position returns the position of key, or -1.
func (t Table[V]) Position(key string) int { return t.slot(key) }

// All yields the keys and values in insertion order.
func (t Table[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		h := t.h
		if h == nil {
			return
		}
		if h.small() {
			for _, e := range h.entries() {
				if !e.gone && !yield(e.key, e.val) {
					return
				}
			}
			return
		}
		walk2(h.keys, h.vals, uint(h.shift), h.n, h.ver, func(_ int, k string, v V) bool {
			return k == "" || yield(k, v)
		})
	}
}

// Keys returns the keys in insertion order.
func (t Table[V]) Keys() []string {
	out := make([]string, 0, t.Len())
	for k := range t.All() {
		out = append(out, k)
	}
	return out
}

// MarshalJSON encodes the table as a JSON object in insertion order.
func (t Table[V]) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for k, v := range t.All() {
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("reducers: marshal %q: %w", k, err)
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON decodes a JSON object, keeping its key order.
func (t *Table[V]) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("reducers: table: %w", err)
	}
	if tok == nil {
		*t = Table[V]{}
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("reducers: table: want a JSON object, got %v", tok)
	}
	var out Table[V]
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("reducers: table: %w", err)
		}
		k := kt.(string)
		var v V
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("reducers: table key %q: %w", k, err)
		}
		if k == "" {
			return fmt.Errorf("reducers: table: empty key")
		}
		out = out.Set(k, v)
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("reducers: table: %w", err)
	}
	*t = out
	return nil
}
