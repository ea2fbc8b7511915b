package reducers

import "sync/atomic"

// slab hands out records of type T (a Bot, a Send) a chunk at a time:
// one allocation for slabRecs records rather than one each. A Say makes
// three records (its Send twice, its bot's once); allocated one by one,
// they were three of the eight allocations of its reduction.
//
// A record, once handed out, belongs to its taker, who fills it before
// it publishes it in a state; the slab never reads or writes it again. A
// chunk stays in memory while any of its records is held, so records that
// live long and are replaced rarely keep their neighbours' memory: chunks
// are small, and a record that turns out not to be needed is given back
// (put) when nothing was taken after it.
//
// Any number of goroutines (reducers of different stores, or branches of
// one) may take records at once: a record is claimed by an atomic add.
type slab[T any] struct {
	cur atomic.Pointer[chunk[T]]
}

// slabRecs is the number of records in a chunk.
const slabRecs = 8

type chunk[T any] struct {
	used atomic.Int32 // records claimed, possibly past slabRecs
	recs [slabRecs]T
}

// get returns a zero record.
func (s *slab[T]) get() *T {
	for {
		c := s.cur.Load()
		if c != nil {
			if i := c.used.Add(1) - 1; i < slabRecs {
				return &c.recs[i]
			}
		}
		n := new(chunk[T])
		n.used.Store(1)
		if s.cur.CompareAndSwap(c, n) {
			return &n.recs[0]
		}
	}
}

// put gives back r, the record get returned last, which was never
// published: it is zeroed and handed out again when no other record was
// taken since; otherwise it is left unused.
func (s *slab[T]) put(r *T) {
	var zero T
	*r = zero
	c := s.cur.Load()
	if c == nil {
		return
	}
	if i := c.used.Load(); i >= 1 && i <= slabRecs && &c.recs[i-1] == r {
		c.used.CompareAndSwap(i, i-1)
	}
}

var (
	bots  slab[Bot]
	sends slab[Send]
)
