package reducers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"sync"
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
// The zero Table is empty and ready to use. A Table is safe to read from
// any number of goroutines while another derives new versions from it.
// Tables are comparable: two Tables are == only when one was derived from
// the other without change, which is what makes memoized selectors hit.
type Table[V any] struct {
	lin  *lineage
	ver  uint64 // the version this Table reads at
	tr   trie[V]
	live int
}

// lineage is what the versions derived one from the other share.
type lineage struct {
	index  sync.Map // string → int (slot); entries are never removed
	latest atomic.Uint64
}

// Len returns the number of keys.
func (t Table[V]) Len() int { return t.live }

// find returns the position and entry of key in t, or -1.
func (t Table[V]) find(key string) (int, entry[V]) {
	if t.lin == nil || key == "" {
		return -1, entry[V]{}
	}
	x, ok := t.lin.index.Load(key)
	if !ok {
		return -1, entry[V]{}
	}
	i := x.(int)
	if i >= t.tr.n {
		return -1, entry[V]{} // added by a later version
	}
	e := t.tr.get(i, t.ver)
	if e.key != key {
		return -1, entry[V]{} // deleted in this version
	}
	return i, e
}

// Get returns the value for key.
func (t Table[V]) Get(key string) (V, bool) {
	i, e := t.find(key)
	return e.val, i >= 0
}

// Has reports whether key is present.
func (t Table[V]) Has(key string) bool {
	i, _ := t.find(key)
	return i >= 0
}

// Set returns a table with key set to v. A new key goes last in order.
// The empty string is not a valid key: Set returns t unchanged for it.
func (t Table[V]) Set(key string, v V) Table[V] {
	if key == "" {
		return t
	}
	if i, _ := t.find(key); i >= 0 {
		return t.write(i, entry[V]{key, v})
	}
	t = t.own()
	i := t.tr.n
	if x, ok := t.lin.index.Load(key); ok {
		i = x.(int) // deleted earlier in this lineage: reuse its hole
	} else {
		t.lin.index.Store(key, i)
	}
	t.tr = t.tr.set(i, entry[V]{key, v}, t.ver)
	t.live++
	return t
}

// write returns t with slot i holding e, as a new version.
func (t Table[V]) write(i int, e entry[V]) Table[V] {
	t = t.own()
	t.tr = t.tr.set(i, e, t.ver)
	return t
}

// own returns t as the next version of its lineage, which t must be the
// newest of; when it is not (a branch), t is first copied into a new
// lineage of its own.
func (t Table[V]) own() Table[V] {
	if t.lin == nil {
		t.lin = &lineage{}
	} else if !t.lin.latest.CompareAndSwap(t.ver, t.ver+1) {
		t = t.copied()
	} else {
		t.ver++
		return t
	}
	t.lin.latest.Store(1)
	t.ver = 1
	return t
}

// copied returns t's contents, holes and positions kept, in fresh nodes of
// a new lineage whose version 0 t is.
func (t Table[V]) copied() Table[V] {
	ents := make([]entry[V], 0, t.tr.n)
	lin := &lineage{}
	t.tr.walk(t.ver, func(i int, e entry[V]) bool {
		if e.key != "" {
			lin.index.Store(e.key, i)
		}
		ents = append(ents, e)
		return true
	})
	return Table[V]{lin: lin, tr: build(ents), live: t.live}
}

// Update returns a table with key's value replaced by f(old). If key is
// absent, t is returned unchanged and f is not called.
func (t Table[V]) Update(key string, f func(V) V) Table[V] {
	i, e := t.find(key)
	if i < 0 {
		return t
	}
	e.val = f(e.val)
	return t.write(i, e)
}

// Delete returns a table without key. Deleting an absent key returns t.
func (t Table[V]) Delete(key string) Table[V] {
	i, _ := t.find(key)
	if i < 0 {
		return t
	}
	t = t.write(i, entry[V]{})
	t.live--
	if holes := t.tr.n - t.live; holes > 32 && holes > t.live {
		return t.compact()
	}
	return t
}

// compact rebuilds the table without holes, keeping the order, in a new
// lineage.
func (t Table[V]) compact() Table[V] {
	ents := make([]entry[V], 0, t.live)
	lin := &lineage{}
	t.tr.walk(t.ver, func(_ int, e entry[V]) bool {
		if e.key != "" {
			lin.index.Store(e.key, len(ents))
			ents = append(ents, e)
		}
		return true
	})
	return Table[V]{lin: lin, tr: build(ents), live: len(ents)}
}

// Slots returns the number of positions, holes included; positions run
// from 0 to Slots()-1 in insertion order.
func (t Table[V]) Slots() int { return t.tr.n }

// At returns the key and value at position i, and false for a hole or an
// out-of-range position. With Slots, it lets a caller walk the table from
// any position, as round robin does.
func (t Table[V]) At(i int) (string, V, bool) {
	if i < 0 || i >= t.tr.n {
		var zero V
		return "", zero, false
	}
	e := t.tr.get(i, t.ver)
	return e.key, e.val, e.key != ""
}

// Position returns the position of key, or -1.
func (t Table[V]) Position(key string) int {
	i, _ := t.find(key)
	return i
}

// All yields the keys and values in insertion order.
func (t Table[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		t.tr.walk(t.ver, func(_ int, e entry[V]) bool {
			return e.key == "" || yield(e.key, e.val)
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
