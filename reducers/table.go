package reducers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"sync/atomic"
)

// Table is a persistent map from string keys to values of type V, kept in
// order of first insertion. It is a value: every change returns a new Table
// and leaves the old one as it was, sharing everything that did not change.
//
// Changing one entry of a Table of any size usually allocates nothing: the
// change is recorded in the entry's node, stamped with the new version,
// and older versions keep reading around it. Every few changes to a node
// the node is copied (one node of 32 slots per level at most), so the
// allocations per change are a small constant whatever the size; the other
// entries are shared with the previous version. See trie.go.
//
// The versions derived one from the other form a lineage, and only the
// newest version of a lineage changes in place. Changing an older version
// (a branch, as after time travel) first copies the whole table into a new
// lineage: correct, just slower. The key index is shared by a lineage and
// only grows: a key keeps its position for the life of the lineage (a key
// deleted and added again returns to its old position). Deleting many keys
// compacts the table into a new lineage.
//
// A value replaced or deleted in the newest version may stay reachable from
// it until its node is next copied (after a few more changes to the node),
// so large values are released a little later than in a plain map.
//
// The zero Table is empty and ready to use. A Table is safe to read from
// any number of goroutines while another derives new versions from it.
// Tables are comparable: two Tables are == only when one was derived from
// the other without change, which is what makes memoized selectors hit.
type Table[V any] struct {
	lin   *lineage
	ver   uint64        // the version this Table reads at
	keys  *node[string] // slot → key, "" for a hole
	vals  *node[V]      // slot → value; same shape as keys
	shift uint          // of both roots; see trie.go
	n     int           // slots, holes included
	live  int
}

// lineage is what the versions derived one from the other share.
type lineage struct {
	index  index // key → slot; entries are never removed
	latest atomic.Uint64
}

// Len returns the number of keys.
func (t Table[V]) Len() int { return t.live }

// slot returns the position of key in t, or -1.
func (t Table[V]) slot(key string) int {
	if t.lin == nil || key == "" {
		return -1
	}
	i, ok := t.lin.index.load(key)
	if !ok {
		return -1
	}
	if i >= t.n {
		return -1 // added by a later version
	}
	// A slot only ever holds the key the index gives it, so in a version
	// without holes every slot below n holds its key and the check below,
	// a descent of the keys trie, can be skipped.
	if t.live != t.n && get(t.keys, t.shift, i, t.ver) != key {
		return -1 // deleted in this version, or not yet added again
	}
	return i
}

// Get returns the value for key.
func (t Table[V]) Get(key string) (V, bool) {
	if i := t.slot(key); i >= 0 {
		return get(t.vals, t.shift, i, t.ver), true
	}
	var zero V
	return zero, false
}

// Has reports whether key is present.
func (t Table[V]) Has(key string) bool { return t.slot(key) >= 0 }

// Set returns a table with key set to v. A new key goes last in order; a
// key deleted earlier returns to the position it had, unless the table was
// compacted since. The result depends only on t, key and v, not on what
// else was derived from t. The empty string is not a valid key: Set
// returns t unchanged for it.
func (t Table[V]) Set(key string, v V) Table[V] {
	if key == "" {
		return t
	}
	if i := t.slot(key); i >= 0 {
		t.own()
		t.vals = t.vals.set(t.shift, i, v, t.ver)
		return t
	}
	t.own()
	i := t.n
	if j, ok := t.lin.index.load(key); ok {
		i = j // deleted earlier in this lineage: reuse its hole
	} else {
		t.lin.index.store(key, i)
		t.n++
	}
	for t.keys == nil || i >= width<<t.shift {
		if t.keys != nil {
			t.shift += bits
		}
		t.keys, t.vals = raise(t.keys), raise(t.vals)
	}
	t.keys = t.keys.set(t.shift, i, key, t.ver)
	t.vals = t.vals.set(t.shift, i, v, t.ver)
	t.live++
	return t
}

// own makes t the next version of its lineage, which t must be the newest
// of; when it is not (a branch), t is first copied into a new lineage of
// its own.
func (t *Table[V]) own() {
	switch {
	case t.lin == nil:
		t.lin = &lineage{}
	case t.lin.latest.CompareAndSwap(t.ver, t.ver+1):
		t.ver++
		return
	default:
		*t = t.rebuilt(true, "")
	}
	t.lin.latest.Store(1)
	t.ver = 1
}

// rebuilt returns t's contents in fresh nodes of a new lineage, whose
// version 0 it is. With holes, positions are kept; without, the holes and
// the key drop, if present, are dropped (compaction).
func (t Table[V]) rebuilt(holes bool, drop string) Table[V] {
	size := t.live
	if holes {
		size = t.n
	}
	keys, vals := make([]string, 0, size), make([]V, 0, size)
	lin := &lineage{}
	if holes {
		// Every key that had a slot in t keeps it, deleted keys included,
		// so that a deleted key set again returns to its place on a branch
		// as it does on the newest version.
		t.lin.index.each(func(k string, i int) {
			if i < t.n {
				lin.index.store(k, i)
			}
		})
	}
	walk2(t.keys, t.vals, t.shift, t.n, t.ver, func(_ int, k string, v V) bool {
		if !holes && (k == "" || k == drop) {
			return true
		}
		if !holes {
			lin.index.store(k, len(keys))
		}
		keys, vals = append(keys, k), append(vals, v)
		return true
	})
	out := Table[V]{lin: lin, n: len(keys), live: t.live}
	if !holes {
		out.live = len(keys)
	}
	out.keys, out.shift = build(keys)
	out.vals, _ = build(vals)
	return out
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
	t.own()
	t.vals = t.vals.update(t.shift, i, f, t.ver)
	return t
}

// Delete returns a table without key. Deleting an absent key returns t.
func (t Table[V]) Delete(key string) Table[V] {
	i := t.slot(key)
	if i < 0 {
		return t
	}
	if holes := t.n - t.live + 1; holes > 32 && holes > t.live-1 {
		// Too many holes: compact straight away, without key, rather
		// than record the deletion first.
		return t.rebuilt(false, key)
	}
	var zero V
	t.own()
	t.keys = t.keys.set(t.shift, i, "", t.ver)
	t.vals = t.vals.set(t.shift, i, zero, t.ver)
	t.live--
	return t
}

// Slots returns the number of positions, holes included; positions run
// from 0 to Slots()-1 in insertion order.
func (t Table[V]) Slots() int { return t.n }

// At returns the key and value at position i, and false for a hole or an
// out-of-range position. With Slots, it lets a caller walk the table from
// any position, as round robin does.
func (t Table[V]) At(i int) (string, V, bool) {
	var zero V
	if i < 0 || i >= t.n {
		return "", zero, false
	}
	k := get(t.keys, t.shift, i, t.ver)
	if k == "" {
		return "", zero, false
	}
	return k, get(t.vals, t.shift, i, t.ver), true
}

// Position returns the position of key, or -1.
func (t Table[V]) Position(key string) int { return t.slot(key) }

// All yields the keys and values in insertion order.
func (t Table[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		walk2(t.keys, t.vals, t.shift, t.n, t.ver, func(_ int, k string, v V) bool {
			return k == "" || yield(k, v)
		})
	}
}

// Keys returns the keys in insertion order.
func (t Table[V]) Keys() []string {
	out := make([]string, 0, t.live)
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
