package reducers

import "sync/atomic"

// slab hands out records of type T a chunk at a time: one allocation for
// slabRecs records rather than one each. A Say makes its Send record twice
// (routed, then ended); allocated one by one, they were two of the eight
// allocations of its reduction.
//
// A record, once handed out, belongs to its taker, who fills it before it
// publishes it in a state; the slab never reads or writes it again, so
// records stay as immutable as any other. A chunk stays in memory while
// any of its records is held: slabs are for short-lived records, as sends
// are (from their request to their collection). A Bot record can live as
// long as the pool, and a bot that is never replaced would keep its
// chunk's dead neighbours: Bot records are allocated one by one.
//
// Any number of goroutines (reducers of different stores, or branches of
// one) may take records at once: a record is claimed by an atomic add.
type slab[T any] struct {
	cur atomic.Pointer[chunk[T]]
}

// slabRecs is the number of records in a chunk.
const slabRecs = 16

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

// sends is the slab of Send records.
var sends slab[Send]

// newSend returns a new Send record holding v. A media send's record is
// allocated alone: it holds the file, which a text send waiting in the
// same chunk would keep in memory long after the media send ended.
func newSend(v Send) *Send {
	if v.Media != nil {
		sd := new(Send) // not &v: v would escape, and every call allocate
		*sd = v
		return sd
	}
	sd := sends.get()
	*sd = v
	return sd
}
