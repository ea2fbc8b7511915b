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
	seed maphash.Seed // set by newLineage, before the index is shared
	tab  atomic.Pointer[indexTable]
	n    atomic.Int64 // keys stored
}

// indexTable is an open-addressing hash table, linear probing, at most
// three quarters full (a probe reads 1.5 entries on average then, two or
// three when the key is absent: entries are small, most probes stay in
// one cache line). Its entries are held in the table itself, so that a probe
// reads one cache line rather than a pointer and then the entry it points
// to: in a table of 10,000 bots, where every lookup misses the cache,
// that was half the cost of a lookup. An entry is published by the
// atomic store of its tag and slot, after its key is written, and never
// written again; a grown table replaces the old one with another. Slots
// are below 2^32, as a Table's positions are.
type indexTable struct {
	mask  uint64
	slots []indexEntry
}

type indexEntry struct {
	word atomic.Uint64 // tag<<32 | slot; 0 for an empty entry
	key  string
}

// tagOf is the tag of a key whose hash is h: its high half, never 0, so
// that a published entry's word is never 0. Probes start at tag>>1&mask.
func tagOf(h uint64) uint32 { return uint32(h>>32) | 1 }

// probeStart is where the probe for tag starts in a table of mask+1 entries.
func probeStart(tag uint32, mask uint64) uint64 { return uint64(tag>>1) & mask }

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
	tag := tagOf(h)
	for i := probeStart(tag, t.mask); ; i = (i + 1) & t.mask {
		e := &t.slots[i]
		w := e.word.Load()
		if w == 0 {
			return 0, false
		}
		if uint32(w>>32) == tag && e.key == key {
			return int(uint32(w)), true
		}
	}
}

// store adds key, which must not be in x yet, at slot.
func (x *index) store(key string, slot int) { x.storeHash(key, x.hash(key), slot) }

// storeHash adds key, whose hash is h and which must not be in x yet, at
// slot.
func (x *index) storeHash(key string, h uint64, slot int) {
	n := x.n.Load() + 1
	t := x.tab.Load()
	if t == nil || uint64(4*n) > uint64(3*len(t.slots)) {
		t = x.grow(t, int(n))
	}
	t.put(tagOf(h), key, slot)
	x.n.Store(n)
}

// put writes an entry into the first empty slot of its probe sequence,
// and publishes it by storing its word last.
func (t *indexTable) put(tag uint32, key string, slot int) {
	i := probeStart(tag, t.mask)
	for t.slots[i].word.Load() != 0 {
		i = (i + 1) & t.mask
	}
	e := &t.slots[i]
	e.key = key
	e.word.Store(uint64(tag)<<32 | uint64(uint32(slot)))
}

// each calls f for every key stored so far. It is safe while another
// goroutine stores: f may or may not see keys stored meanwhile.
func (x *index) each(f func(key string, slot int)) {
	t := x.tab.Load()
	if t == nil {
		return
	}
	for i := range t.slots {
		if e := &t.slots[i]; e.word.Load() != 0 {
			f(e.key, int(uint32(e.word.Load())))
		}
	}
}

// reserve sizes an empty x for n keys, so that storing them does not grow
// it step by step. It is called before x is shared.
func (x *index) reserve(n int) {
	if x.tab.Load() == nil && n > 0 {
		x.grow(nil, n)
	}
}

// grow publishes a table at least twice the size of t (16 slots at
// least), room for n keys at most three quarters full, holding every
// entry of t.
func (x *index) grow(t *indexTable, n int) *indexTable {
	size := 16
	if t != nil {
		size = 2 * len(t.slots)
	}
	for 3*size < 4*n {
		size *= 2
	}
	g := &indexTable{mask: uint64(size - 1), slots: make([]indexEntry, size)}
	if t != nil {
		for i := range t.slots {
			if e := &t.slots[i]; e.word.Load() != 0 {
				w := e.word.Load()
				g.put(uint32(w>>32), e.key, int(uint32(w)))
			}
		}
	}
	x.tab.Store(g)
	return g
}
