package reducers

// trie is a persistent vector of T with a fixed shape: a root slice of
// mid nodes, each holding 32 leaves of 32 values. Setting one element
// copies the root slice (one pointer per 1024 elements), one mid node and
// one leaf: three allocations whatever the length, and everything else is
// shared with the previous version.
type trie[T any] struct {
	root []*mid[T]
	n    int
}

const (
	bits  = 5
	width = 1 << bits // 32
	mask  = width - 1
)

type leaf[T any] [width]T

type mid[T any] [width]*leaf[T]

func (t *trie[T]) get(i int) T {
	m := t.root[i>>(2*bits)]
	return m[(i>>bits)&mask][i&mask]
}

// set returns a trie with element i replaced; i must be < t.n.
func (t *trie[T]) set(i int, v T) *trie[T] {
	ri, mi, li := i>>(2*bits), (i>>bits)&mask, i&mask
	root := make([]*mid[T], len(t.root))
	copy(root, t.root)
	m := new(mid[T])
	*m = *t.root[ri]
	l := new(leaf[T])
	*l = *m[mi]
	l[li] = v
	m[mi] = l
	root[ri] = m
	return &trie[T]{root: root, n: t.n}
}

// push returns a trie with v appended.
func (t *trie[T]) push(v T) *trie[T] {
	c := *t
	t = &c
	i := t.n
	ri, mi := i>>(2*bits), (i>>bits)&mask
	if ri == len(t.root) {
		root := make([]*mid[T], len(t.root)+1)
		copy(root, t.root)
		root[ri] = new(mid[T])
		t.root = root
	} else {
		root := make([]*mid[T], len(t.root))
		copy(root, t.root)
		t.root = root
	}
	if t.root[ri][mi] == nil {
		m := new(mid[T])
		*m = *t.root[ri]
		m[mi] = new(leaf[T])
		t.root[ri] = m
	}
	t.n++
	return t.set(i, v)
}
