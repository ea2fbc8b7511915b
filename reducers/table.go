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
// Changing one entry of a Table of any size copies three nodes of at most
// 32 pointers plus one pointer per 1024 entries, with a fixed number of
// allocations; the other entries are shared with the previous version.
//
// The key index is shared by a lineage of versions and only grows: a key
// keeps its position for the life of the lineage (a key deleted and added
// again returns to its old position). Changing a version that is not the
// newest of its lineage (a branch) first copies the index, so branching is
// correct, just slower. Deleting many keys compacts the table into a new
// lineage.
//
// The zero Table is empty and ready to use. A Table is safe to read from
// any number of goroutines while another derives new versions from it.
// Tables are comparable: two Tables are == only when one was derived from
// the other without change, which is what makes memoized selectors hit.
type Table[V any] struct {
	lin  *lineage
	ver  uint64
	keys *trie[string] // slot → key, "" for a hole
	vals *trie[V]      // slot → value
	live int
}

// lineage is the index shared by the versions derived one from the other.
type lineage struct {
	index  sync.Map // string → int (slot); entries are never removed
	latest atomic.Uint64
}

// Len returns the number of keys.
func (t Table[V]) Len() int { return t.live }

// slot returns the position of key in t, or -1.
func (t Table[V]) slot(key string) int {
	if t.lin == nil || key == "" {
		return -1
	}
	v, ok := t.lin.index.Load(key)
	if !ok {
		return -1
	}
	i := v.(int)
	if i >= t.keys.n || t.keys.get(i) != key {
		return -1 // added by a later version, or deleted in this one
	}
	return i
}

// Get returns the value for key.
func (t Table[V]) Get(key string) (V, bool) {
	if i := t.slot(key); i >= 0 {
		return t.vals.get(i), true
	}
	var zero V
	return zero, false
}

// Has reports whether key is present.
func (t Table[V]) Has(key string) bool { return t.slot(key) >= 0 }

// Set returns a table with key set to v. A new key goes last in order.
// The empty string is not a valid key: Set returns t unchanged for it.
func (t Table[V]) Set(key string, v V) Table[V] {
	if key == "" {
		return t
	}
	if i := t.slot(key); i >= 0 {
		t.vals = t.vals.set(i, v)
		return t
	}
	t = t.own()
	if x, ok := t.lin.index.Load(key); ok {
		// Deleted earlier in this lineage: its slot is a hole, reuse it.
		i := x.(int)
		t.keys = t.keys.set(i, key)
		t.vals = t.vals.set(i, v)
	} else {
		t.lin.index.Store(key, t.keys.n)
		t.keys = t.keys.push(key)
		t.vals = t.vals.push(v)
	}
	t.live++
	return t
}

// own returns t as the newest version of a lineage that may grow its
// index: t's own lineage when t is its newest version, else a copy.
func (t Table[V]) own() Table[V] {
	if t.lin == nil {
		t.lin = &lineage{}
		t.keys = &trie[string]{}
		t.vals = &trie[V]{}
		t.ver = 1
		t.lin.latest.Store(1)
		return t
	}
	if t.lin.latest.CompareAndSwap(t.ver, t.ver+1) {
		t.ver++
		return t
	}
	lin := &lineage{}
	for i := range t.keys.n {
		if k := t.keys.get(i); k != "" {
			lin.index.Store(k, i)
		}
	}
	lin.latest.Store(1)
	t.lin, t.ver = lin, 1
	return t
}

// Update returns a table with key's value replaced by f(old). If key is
// absent, t is returned unchanged and f is not called.
func (t Table[V]) Update(key string, f func(V) V) Table[V] {
	i := t.slot(key)
	if i < 0 {
		return t
	}
	t.vals = t.vals.set(i, f(t.vals.get(i)))
	return t
}

// Delete returns a table without key. Deleting an absent key returns t.
func (t Table[V]) Delete(key string) Table[V] {
	i := t.slot(key)
	if i < 0 {
		return t
	}
	var zero V
	t.keys = t.keys.set(i, "")
	t.vals = t.vals.set(i, zero)
	t.live--
	if holes := t.keys.n - t.live; holes > 32 && holes > t.live {
		return t.compact()
	}
	return t
}

// compact rebuilds the table without holes, keeping the order.
func (t Table[V]) compact() Table[V] {
	var out Table[V]
	for k, v := range t.All() {
		out = out.Set(k, v)
	}
	return out
}

// Slots returns the number of positions, holes included; positions run
// from 0 to Slots()-1 in insertion order.
func (t Table[V]) Slots() int {
	if t.keys == nil {
		return 0
	}
	return t.keys.n
}

// At returns the key and value at position i, and false for a hole or an
// out-of-range position. With Slots, it lets a caller walk the table from
// any position, as round robin does.
func (t Table[V]) At(i int) (string, V, bool) {
	var zero V
	if t.keys == nil || i < 0 || i >= t.keys.n {
		return "", zero, false
	}
	k := t.keys.get(i)
	if k == "" {
		return "", zero, false
	}
	return k, t.vals.get(i), true
}

// Position returns the position of key, or -1.
func (t Table[V]) Position(key string) int { return t.slot(key) }

// All yields the keys and values in insertion order.
func (t Table[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for i := range t.Slots() {
			if k, v, ok := t.At(i); ok && !yield(k, v) {
				return
			}
		}
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
