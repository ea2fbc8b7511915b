package reducers

import (
	"hash/maphash"
	"sync/atomic"
)

// index maps the keys of a lineage to their slots. It only grows: a key,
// once stored, keeps its slot. One goroutine at a time stores (the holder
// of the lineage's newest version, so stores are ordered by Table.own's
// compare-and-swap), and any number read concurrently without a lock.
//
// It replaces a sync.Map, whose keys are interfaces: hashing a string
// through an interface and comparing interfaces cost about 20 ns of a
// 150 ns Table.Update. Here a lookup is one typed hash and a short probe,
// and a Table operation hashes its key once (hash, then loadHash and
// storeHash).
type index struct {
	seed  maphash.Seed // set by newLineage, before the index is shared
	tab   atomic.Pointer[indexTable]
	n     atomic.Int64 // keys stored
	spare []indexEntry // entries allocated ahead; the storer's only
}

// indexTable is an open-addressing hash table, linear probing, at most
// half full. Entries are published one by one with atomic stores, and a
// grown table replaces the old one with another.
type indexTable struct {
	mask  uint64
	slots []atomic.Pointer[indexEntry]
}

type indexEntry struct {
	key  string
	hash uint64
	slot int
}

// hash returns key's hash in x.
func (x *index) hash(key string) uint64 { return maphash.String(x.seed, key) }

// load returns the slot of key.
func (x *index) load(key string) (int, bool) {
	if x.tab.Load() == nil {
		return 0, false
	}
	return x.loadHash(key, x.hash(key))
}

// loadHash returns the slot of key, whose hash is h.
func (x *index) loadHash(key string, h uint64) (int, bool) {
	t := x.tab.Load()
	if t == nil {
		return 0, false
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			return 0, false
		}
		if e.hash == h && e.key == key {
			return e.slot, true
		}
	}
}

// store adds key, which must not be in x yet, at slot.
func (x *index) store(key string, slot int) { x.storeHash(key, x.hash(key), slot) }

// storeHash adds key, whose hash is h and which must not be in x yet, at
// slot. Entries are allocated a few at a time: an entry, once published,
// is never written again.
func (x *index) storeHash(key string, h uint64, slot int) {
	n := x.n.Load() + 1
	t := x.tab.Load()
	if t == nil || uint64(2*n) > uint64(len(t.slots)) {
		t = x.grow(t)
	}
	if len(x.spare) == 0 {
		x.spare = make([]indexEntry, min(max(n, 4), 64))
	}
	e := &x.spare[0]
	x.spare = x.spare[1:]
	*e = indexEntry{key: key, hash: h, slot: slot}
	t.put(e)
	x.n.Store(n)
}

func (t *indexTable) put(e *indexEntry) {
	i := e.hash & t.mask
	for t.slots[i].Load() != nil {
		i = (i + 1) & t.mask
	}
	t.slots[i].Store(e)
}

// each calls f for every key stored so far. It is safe while another
// goroutine stores: f may or may not see keys stored meanwhile.
func (x *index) each(f func(key string, slot int)) {
	t := x.tab.Load()
	if t == nil {
		return
	}
	for i := range t.slots {
		if e := t.slots[i].Load(); e != nil {
			f(e.key, e.slot)
		}
	}
}

// grow publishes a table twice the size (16 slots at first) holding
// every entry of t.
func (x *index) grow(t *indexTable) *indexTable {
	size := 16
	if t != nil {
		size = 2 * len(t.slots)
	}
	g := &indexTable{mask: uint64(size - 1), slots: make([]atomic.Pointer[indexEntry], size)}
	if t != nil {
		for i := range t.slots {
			if e := t.slots[i].Load(); e != nil {
				g.put(e)
			}
		}
	}
	x.tab.Store(g)
	return g
}
