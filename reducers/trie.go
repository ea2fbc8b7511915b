package reducers

import "sync/atomic"

// trie is a persistent vector of entries, one lineage of versions at a
// time, built by node copying (Driscoll, Sarnak, Sleator and Tarjan,
// "Making data structures persistent", 1989).
//
// Nodes have 32 slots. Besides its slots, a node has room for a few
// changes ("boxes"), each stamped with the version that made it. A reader
// at version v sees a node's slots with the boxes of versions <= v applied
// and ignores the later ones. A change writes one box into the leaf; only
// when the leaf's boxes are full is the leaf copied (boxes applied), and the
// copy is recorded as a box in its parent, and so on up. So most changes
// allocate nothing, and a change of one entry never copies more than one
// node per level, whatever the length.
//
// Only the newest version of a lineage writes boxes (Table.own claims the
// next version with a compare-and-swap), and a box is published by an
// atomic store of the count after it is written, so readers of any version
// never see a half-written box and never take a lock.
type trie[V any] struct {
	root  *node[V]
	shift uint // the root's index shift: 0 when the root is a leaf
	n     int  // slots in use
}

const (
	bits  = 5
	width = 1 << bits // 32
	mask  = width - 1
	// boxes is how many changes a node takes in place before it is copied.
	// More boxes mean fewer copies but longer scans on every read; see
	// BenchmarkTableUpdate and BenchmarkTableGet.
	boxes = 8
)

// entry is one slot of a Table: a key and its value; the empty key marks
// a hole left by a deletion, or a slot not used yet.
type entry[V any] struct {
	key string
	val V
}

// node is an inner node (kids set) or a leaf (ents set).
type node[V any] struct {
	kids *[width]*node[V]
	ents *[width]entry[V]
	used atomic.Int32 // boxes published
	box  [boxes]change[V]
}

// change is one box: from version ver on, slot idx holds kid (in an inner
// node) or e (in a leaf).
type change[V any] struct {
	ver uint64
	idx int
	kid *node[V]
	e   entry[V]
}

func newLeaf[V any]() *node[V]  { return &node[V]{ents: new([width]entry[V])} }
func newInner[V any]() *node[V] { return &node[V]{kids: new([width]*node[V])} }

// kid returns slot i of an inner node as of version v.
func (n *node[V]) kid(i int, v uint64) *node[V] {
	k := n.kids[i]
	for j := range n.used.Load() {
		c := &n.box[j]
		if c.ver > v {
			break
		}
		if c.idx == i {
			k = c.kid
		}
	}
	return k
}

// ent returns slot i of a leaf as of version v.
func (n *node[V]) ent(i int, v uint64) entry[V] {
	e := &n.ents[i]
	for j := range n.used.Load() {
		c := &n.box[j]
		if c.ver > v {
			break
		}
		if c.idx == i {
			e = &c.e
		}
	}
	return *e
}

// record writes a box and publishes it; it reports false when n is full.
// Only the writer of the newest version calls it.
func (n *node[V]) record(c change[V]) bool {
	u := n.used.Load()
	if u == boxes {
		return false
	}
	n.box[u] = c
	n.used.Store(u + 1)
	return true
}

// copyAt returns a node without boxes holding n's slots as of version v.
func (n *node[V]) copyAt(v uint64) *node[V] {
	c := &node[V]{}
	used := n.used.Load()
	if n.kids != nil {
		kids := *n.kids
		for j := range used {
			if b := &n.box[j]; b.ver <= v {
				kids[b.idx] = b.kid
			}
		}
		c.kids = &kids
		return c
	}
	ents := *n.ents
	for j := range used {
		if b := &n.box[j]; b.ver <= v {
			ents[b.idx] = b.e
		}
	}
	c.ents = &ents
	return c
}

// get returns slot i (< t.n) as of version v.
func (t *trie[V]) get(i int, v uint64) entry[V] {
	n := t.root
	for s := t.shift; s > 0; s -= bits {
		n = n.kid((i>>s)&mask, v)
	}
	return n.ent(i&mask, v)
}

// set returns the trie with slot i (<= t.n) holding e from version nv on;
// nv must be the lineage's newest version, claimed by the caller, and the
// trie is read as of nv-1. Setting slot t.n appends.
func (t trie[V]) set(i int, e entry[V], nv uint64) trie[V] {
	if t.root == nil {
		t.root = newLeaf[V]()
	}
	for i >= width<<t.shift {
		r := newInner[V]()
		r.kids[0] = t.root
		t.root, t.shift = r, t.shift+bits
	}
	t.root = t.root.set(t.shift, i, e, nv)
	if i == t.n {
		t.n++
	}
	return t
}

// set changes slot i below n and returns n, or n's copy when n was full.
func (n *node[V]) set(shift uint, i int, e entry[V], nv uint64) *node[V] {
	idx := (i >> shift) & mask
	if shift == 0 {
		if n.record(change[V]{ver: nv, idx: idx, e: e}) {
			return n
		}
		c := n.copyAt(nv - 1)
		c.ents[idx] = e
		return c
	}
	kid := n.kid(idx, nv-1)
	var nk *node[V]
	if kid == nil {
		// A fresh subtree for an appended slot: nobody can see it yet, so
		// write its slots directly.
		nk = freshPath[V](shift-bits, i, e)
	} else {
		nk = kid.set(shift-bits, i, e, nv)
		if nk == kid {
			return n
		}
	}
	if n.record(change[V]{ver: nv, idx: idx, kid: nk}) {
		return n
	}
	c := n.copyAt(nv - 1)
	c.kids[idx] = nk
	return c
}

// freshPath returns a new subtree whose root has the given shift, holding
// e at slot i and nothing else.
func freshPath[V any](shift uint, i int, e entry[V]) *node[V] {
	if shift == 0 {
		l := newLeaf[V]()
		l.ents[i&mask] = e
		return l
	}
	n := newInner[V]()
	n.kids[(i>>shift)&mask] = freshPath(shift-bits, i, e)
	return n
}

// walk calls yield for each slot from 0 to t.n-1 as of version v, in order,
// resolving each node's boxes once; it stops when yield returns false.
func (t *trie[V]) walk(v uint64, yield func(i int, e entry[V]) bool) {
	if t.root != nil {
		t.root.walk(t.shift, 0, t.n, v, yield)
	}
}

func (n *node[V]) walk(shift uint, base, limit int, v uint64, yield func(int, entry[V]) bool) bool {
	if shift == 0 {
		ents := *n.ents
		for j := range n.used.Load() {
			if b := &n.box[j]; b.ver <= v {
				ents[b.idx] = b.e
			}
		}
		for k := range width {
			if base+k >= limit || !yield(base+k, ents[k]) {
				return false
			}
		}
		return true
	}
	for k := range width {
		start := base + k<<shift
		if start >= limit {
			return false
		}
		if !n.kid(k, v).walk(shift-bits, start, limit, v, yield) {
			return false
		}
	}
	return true
}

// build returns a trie of fresh nodes holding ents, in order.
func build[V any](ents []entry[V]) trie[V] {
	var t trie[V]
	if len(ents) == 0 {
		return t
	}
	level := make([]*node[V], 0, (len(ents)+mask)/width)
	for i := 0; i < len(ents); i += width {
		l := newLeaf[V]()
		copy(l.ents[:], ents[i:min(i+width, len(ents))])
		level = append(level, l)
	}
	for len(level) > 1 {
		up := make([]*node[V], 0, (len(level)+mask)/width)
		for i := 0; i < len(level); i += width {
			n := newInner[V]()
			copy(n.kids[:], level[i:min(i+width, len(level))])
			up = append(up, n)
		}
		level = up
		t.shift += bits
	}
	t.root, t.n = level[0], len(ents)
	return t
}
