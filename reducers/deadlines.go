package reducers

import (
	"iter"
	"time"
)

// Deadlines is a persistent ordered set of (time, bot) pairs: the next
// deadline among any number of bots is found in O(log n) without a scan,
// and a change copies O(log n) small nodes, sharing the rest with the
// previous version. It is a treap whose priorities are a hash of the key,
// so the same changes give the same shape. The zero value is empty.
// Deadlines are comparable: == holds for a version and one derived from
// it without change. A Deadlines is one pointer wide: every change makes
// a new root, which holds the count.
type Deadlines struct {
	root *dnode
}

type dnode struct {
	t    int64 // UnixNano
	bot  string
	prio uint64
	size int // nodes in the subtree rooted here
	l, r *dnode
}

// sized sets n's size from its children's and returns n; n is a node
// nobody can see yet.
func sized(n *dnode) *dnode {
	n.size = 1
	if n.l != nil {
		n.size += n.l.size
	}
	if n.r != nil {
		n.size += n.r.size
	}
	return n
}

func dless(t1 int64, b1 string, t2 int64, b2 string) bool {
	if t1 != t2 {
		return t1 < t2
	}
	return b1 < b2
}

// Len returns the number of deadlines.
func (d Deadlines) Len() int {
	if d.root == nil {
		return 0
	}
	return d.root.size
}

// Min returns the earliest deadline and its bot.
func (d Deadlines) Min() (time.Time, string, bool) {
	n := d.root
	if n == nil {
		return time.Time{}, "", false
	}
	for n.l != nil {
		n = n.l
	}
	return time.Unix(0, n.t), n.bot, true
}

// Ascend yields the deadlines in time order, earliest first.
func (d Deadlines) Ascend() iter.Seq2[time.Time, string] {
	return func(yield func(time.Time, string) bool) { ascend(d.root, yield) }
}

func ascend(n *dnode, yield func(time.Time, string) bool) bool {
	for n != nil {
		if !ascend(n.l, yield) || !yield(time.Unix(0, n.t), n.bot) {
			return false
		}
		n = n.r
	}
	return true
}

// Move returns d with bot's deadline moved from old to next; a zero time
// means none. Moving from a deadline that is not in d only adds.
func (d Deadlines) Move(bot string, old, next time.Time) Deadlines {
	if old.Equal(next) && !old.IsZero() {
		return d
	}
	if !old.IsZero() {
		d.root, _ = ddel(d.root, old.UnixNano(), bot)
	}
	if !next.IsZero() {
		t := next.UnixNano()
		d.root = dins(d.root, &dnode{t: t, bot: bot, prio: dprio(t, bot), size: 1})
	}
	return d
}

func dprio(t int64, bot string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(bot); i++ {
		h ^= uint64(bot[i])
		h *= 1099511628211
	}
	return mix(h ^ uint64(t))
}

func dins(n, x *dnode) *dnode {
	if n == nil {
		return x
	}
	if x.prio > n.prio {
		x.l, x.r = dsplit(n, x.t, x.bot)
		return sized(x)
	}
	c := *n
	if dless(x.t, x.bot, n.t, n.bot) {
		c.l = dins(n.l, x)
	} else {
		c.r = dins(n.r, x)
	}
	return sized(&c)
}

// dsplit splits n into the keys before (t, bot) and those after it.
func dsplit(n *dnode, t int64, bot string) (*dnode, *dnode) {
	if n == nil {
		return nil, nil
	}
	c := *n
	if dless(n.t, n.bot, t, bot) {
		var r *dnode
		c.r, r = dsplit(n.r, t, bot)
		return sized(&c), r
	}
	var l *dnode
	l, c.l = dsplit(n.l, t, bot)
	return l, sized(&c)
}

func ddel(n *dnode, t int64, bot string) (*dnode, bool) {
	if n == nil {
		return nil, false
	}
	if n.t == t && n.bot == bot {
		return dmerge(n.l, n.r), true
	}
	c := *n
	var found bool
	if dless(t, bot, n.t, n.bot) {
		c.l, found = ddel(n.l, t, bot)
	} else {
		c.r, found = ddel(n.r, t, bot)
	}
	if !found {
		return n, false
	}
	return sized(&c), true
}

// dmerge joins a and b, every key of a being before every key of b.
func dmerge(a, b *dnode) *dnode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		c := *a
		c.r = dmerge(a.r, b)
		return sized(&c)
	default:
		c := *b
		c.l = dmerge(a, b.l)
		return sized(&c)
	}
}
