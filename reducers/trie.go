package reducers

import "sync/atomic"

// The Table's slots are kept in tries: persistent vectors of T, one
// lineage of versions at a time, built by node copying (Driscoll, Sarnak,
// Sleator and Tarjan, "Making data structures persistent", 1989). A trie
// is its root node; its shift (the root's, 0 when the root is a leaf) and
// length are kept by the Table, whose two tries, keys and values, have
// the same shape.
//
// Nodes have 32 slots. Besides its slots, a node has room for a few
// changes ("boxes"), each stamped with the version that made it. A reader
// at version v sees a node's slots with the boxes of versions <= v applied
// and ignores the later ones. A change writes one box into the leaf; only
// when the leaf's boxes are full is the leaf copied (boxes applied), and the
// copy is recorded as a box in its parent, and so on up. So most changes
// allocate nothing, and a change of one slot never copies more than one
// node per level, whatever the length.
//
// Only the newest version of a lineage writes boxes (Table.own claims the
// next version with a compare-and-swap), and a box is published by an
// atomic store of the count after it is written, so readers of any version
// never see a half-written box and never take a lock.

const (
	bits  = 5
	width = 1 << bits // 32
	mask  = width - 1
	// boxes is how many changes a node takes in place before it is copied.
	// More boxes mean fewer copies but longer scans on every read; 4, 8, 16
	// and 32 were measured with BenchmarkDispatchW1 and BenchmarkTableGet.
	boxes = 8
)

// node is an inner node (kids set) or a leaf (vals set).
type node[T any] struct {
	kids *[width]*node[T]
	vals *[width]T
	used atomic.Int32 // boxes published
	box  [boxes]change[T]
}

// change is one box: from version ver on, slot idx holds kid (in an inner
// node) or val (in a leaf).
type change[T any] struct {
	ver uint64
	idx int
	kid *node[T]
	val T
}

// leafMem and innerMem hold a node and its slots in one allocation.
type leafMem[T any] struct {
	n node[T]
	s [width]T
}

type innerMem[T any] struct {
	n node[T]
	s [width]*node[T]
}

func newLeaf[T any]() *node[T] {
	m := new(leafMem[T])
	m.n.vals = &m.s
	return &m.n
}

func newInner[T any]() *node[T] {
	m := new(innerMem[T])
	m.n.kids = &m.s
	return &m.n
}

// kid returns slot i of an inner node as of version v.
func (n *node[T]) kid(i int, v uint64) *node[T] {
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

// val returns slot i of a leaf as of version v.
func (n *node[T]) val(i int, v uint64) T {
	x := &n.vals[i]
	for j := range n.used.Load() {
		c := &n.box[j]
		if c.ver > v {
			break
		}
		if c.idx == i {
			x = &c.val
		}
	}
	return *x
}

// record writes a box and publishes it; it reports false when n is full.
// Only the writer of the newest version calls it.
func (n *node[T]) record(c change[T]) bool {
	u := n.used.Load()
	if u == boxes {
		return false
	}
	n.box[u] = c
	n.used.Store(u + 1)
	return true
}

// copyAt returns a node without boxes holding n's slots as of version v.
func (n *node[T]) copyAt(v uint64) *node[T] {
	used := n.used.Load()
	if n.kids != nil {
		c := newInner[T]()
		*c.kids = *n.kids
		for j := range used {
			if b := &n.box[j]; b.ver <= v {
				c.kids[b.idx] = b.kid
			}
		}
		return c
	}
	c := newLeaf[T]()
	n.resolve(v, c.vals)
	return c
}

// resolve writes a leaf's slots as of version v into out.
func (n *node[T]) resolve(v uint64, out *[width]T) {
	*out = *n.vals
	for j := range n.used.Load() {
		if b := &n.box[j]; b.ver <= v {
			out[b.idx] = b.val
		}
	}
}

// resolveTo writes a leaf's first m slots as of version v into out: a
// reader must not read the slots past its version's length, which the
// writer of a newer version may be filling (see set).
func (n *node[T]) resolveTo(v uint64, m int, out *[width]T) {
	copy(out[:m], n.vals[:m])
	for j := range n.used.Load() {
		if b := &n.box[j]; b.ver <= v && b.idx < m {
			out[b.idx] = b.val
		}
	}
}

// get returns slot i, which must exist, of the trie rooted at n as of
// version v.
func get[T any](n *node[T], shift uint, i int, v uint64) T {
	for s := shift; s > 0; s -= bits {
		n = n.kid((i>>s)&mask, v)
	}
	return n.val(i&mask, v)
}

// raise returns a root one level up with n as its first slot; an empty
// trie (nil) becomes a leaf.
func raise[T any](n *node[T]) *node[T] {
	if n == nil {
		return newLeaf[T]()
	}
	r := newInner[T]()
	r.kids[0] = n
	return r
}

// set changes slot i (< width<<shift) of the trie rooted at n from
// version nv on, and returns n, or n's copy when n was full. nv must be
// the lineage's newest version, claimed by the caller; the trie is read as
// of nv-1. A slot past the end is appended.
//
// A fresh slot is one no version of the lineage ever had (i is at or past
// the length of version nv-1, the newest before nv): no reader of any
// version reads it, nor descends into a subtree that holds only fresh
// slots, so such a slot is written in place, without a box. Readers read
// slots below their version's length only (see walkNodes).
func (n *node[T]) set(shift uint, i int, x T, nv uint64, fresh bool) *node[T] {
	idx := (i >> shift) & mask
	if shift == 0 {
		if fresh {
			n.vals[idx] = x
			return n
		}
		if n.record(change[T]{ver: nv, idx: idx, val: x}) {
			return n
		}
		c := n.copyAt(nv - 1)
		c.vals[idx] = x
		return c
	}
	kid := n.kid(idx, nv-1)
	var nk *node[T]
	if kid == nil {
		// A fresh subtree for an appended slot: nobody can see it yet, so
		// its slots are written directly.
		nk = freshPath(shift-bits, i, x)
		if fresh {
			n.kids[idx] = nk
			return n
		}
	} else {
		nk = kid.set(shift-bits, i, x, nv, fresh)
		if nk == kid {
			return n
		}
	}
	if n.record(change[T]{ver: nv, idx: idx, kid: nk}) {
		return n
	}
	c := n.copyAt(nv - 1)
	c.kids[idx] = nk
	return c
}

// update is set with the new value computed from the old one, f(old), in
// the same descent. Slot i must exist.
func (n *node[T]) update(shift uint, i int, f func(T) T, nv uint64) *node[T] {
	idx := (i >> shift) & mask
	if shift == 0 {
		x := f(n.val(idx, nv-1))
		if n.record(change[T]{ver: nv, idx: idx, val: x}) {
			return n
		}
		c := n.copyAt(nv - 1)
		c.vals[idx] = x
		return c
	}
	kid := n.kid(idx, nv-1)
	nk := kid.update(shift-bits, i, f, nv)
	if nk == kid {
		return n
	}
	if n.record(change[T]{ver: nv, idx: idx, kid: nk}) {
		return n
	}
	c := n.copyAt(nv - 1)
	c.kids[idx] = nk
	return c
}

// freshPath returns a new subtree whose root has the given shift, holding
// x at slot i and nothing else.
func freshPath[T any](shift uint, i int, x T) *node[T] {
	if shift == 0 {
		l := newLeaf[T]()
		l.vals[i&mask] = x
		return l
	}
	n := newInner[T]()
	n.kids[(i>>shift)&mask] = freshPath(shift-bits, i, x)
	return n
}

// walk2 calls yield for slots 0 to limit-1 of two tries of the same shape
// (a Table's keys and values) as of version v, in order, resolving each
// leaf once; it stops when yield returns false.
func walk2[K, V any](a *node[K], b *node[V], shift uint, limit int, v uint64, yield func(i int, k K, x V) bool) {
	if a != nil {
		walkNodes(a, b, shift, 0, limit, v, yield)
	}
}

func walkNodes[K, V any](a *node[K], b *node[V], shift uint, base, limit int, v uint64, yield func(int, K, V) bool) bool {
	if shift == 0 {
		var ks [width]K
		var vs [width]V
		m := min(width, limit-base)
		a.resolveTo(v, m, &ks)
		b.resolveTo(v, m, &vs)
		for j := range m {
			if !yield(base+j, ks[j], vs[j]) {
				return false
			}
		}
		return true
	}
	for j := range width {
		start := base + j<<shift
		if start >= limit {
			return false
		}
		if !walkNodes(a.kid(j, v), b.kid(j, v), shift-bits, start, limit, v, yield) {
			return false
		}
	}
	return true
}

// build returns the root and shift of a trie of fresh nodes holding xs,
// in order.
func build[T any](xs []T) (*node[T], uint) {
	if len(xs) == 0 {
		return nil, 0
	}
	level := make([]*node[T], 0, (len(xs)+mask)/width)
	for i := 0; i < len(xs); i += width {
		l := newLeaf[T]()
		copy(l.vals[:], xs[i:min(i+width, len(xs))])
		level = append(level, l)
	}
	var shift uint
	for len(level) > 1 {
		up := make([]*node[T], 0, (len(level)+mask)/width)
		for i := 0; i < len(level); i += width {
			n := newInner[T]()
			copy(n.kids[:], level[i:min(i+width, len(level))])
			up = append(up, n)
		}
		level = up
		shift += bits
	}
	return level[0], shift
}
