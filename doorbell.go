package hawechaty

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hawechaty/hawechaty/reducers"
)

// doorbell hands each waiting Say the end of its send, and wakes it then
// (and after a Replace, which may have lost the send). Waiting allocates
// nothing: the waiters are the doorbell's own, reused from Say to Say.
// (Not a process-wide sync.Pool's: a channel made in one synctest bubble
// must not be used in another.)
//
// A Say's send ID is "say-" and its number (Pool.sendSeq): the Say waits
// in the slot its number picks, which the commit hook finds again from
// the ID, with no map and no lock but the slot's, which only that Say
// and the hook take. A Say whose slot is taken (by a Say bellSlots sends
// older that still waits) waits in the map, as a send whose ID is not a
// Say's is looked for there. A waiter is reached only under its slot's
// lock, or the map's: once out of it, none is rung.
type doorbell struct {
	slots [bellSlots]bellSlot

	mu      sync.Mutex
	waiters map[string]*waiter
	spare   []*waiter    // waiters not in use, empty
	mapped  atomic.Int64 // len(waiters): the hook skips the map when 0
}

// bellSlots is the number of slots: Says that wait at once, beyond that,
// may wait in the map.
const bellSlots = 256

// bellSlot is one slot: id is its Say's send ID, "" while free. (64
// bytes: the slots of Says under way on other cores are not in one
// cache line.)
type bellSlot struct {
	mu sync.Mutex
	id string
	w  waiter
	_  [24]byte
}

// waiter is one Say's: end is its send's record as the send ended, set
// by the commit hook, which then rings ch.
type waiter struct {
	end atomic.Pointer[reducers.End]
	ch  chan struct{}
}

// add returns the waiter of the Say of send id, whose number is seq.
func (d *doorbell) add(id string, seq uint64) *waiter {
	s := &d.slots[seq%bellSlots]
	s.mu.Lock()
	if s.id == "" {
		s.id = id
		if s.w.ch == nil {
			s.w.ch = make(chan struct{}, 1)
		}
		s.mu.Unlock()
		return &s.w
	}
	s.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	var w *waiter
	if n := len(d.spare); n > 0 {
		w = d.spare[n-1]
		d.spare = d.spare[:n-1]
	} else {
		w = &waiter{ch: make(chan struct{}, 1)}
	}
	d.waiters[id] = w
	d.mapped.Add(1)
	return w
}

// remove forgets the waiter w that add returned for id and seq, and keeps
// it for another Say.
func (d *doorbell) remove(id string, seq uint64, w *waiter) {
	if s := &d.slots[seq%bellSlots]; w == &s.w {
		s.mu.Lock()
		s.id = ""
		w.reset()
		s.mu.Unlock()
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.waiters, id)
	d.mapped.Add(-1)
	w.reset()
	if len(d.spare) < maxSpareBells {
		d.spare = append(d.spare, w)
	}
}

func (w *waiter) reset() {
	w.end.Store(nil)
	select {
	case <-w.ch:
	default:
	}
}

// maxSpareBells bounds the waiters the map keeps: as many as Says that
// waited there at once, up to this.
const maxSpareBells = 1024

// ring hands the Say of send id its send's end and wakes it.
func (d *doorbell) ring(id string, end *reducers.End) {
	if seq, ok := sayNumber(id); ok {
		s := &d.slots[seq%bellSlots]
		s.mu.Lock()
		if s.id == id {
			s.w.ring(end)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
	if d.mapped.Load() == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if w := d.waiters[id]; w != nil {
		w.ring(end)
	}
}

func (w *waiter) ring(end *reducers.End) {
	if end != nil {
		w.end.Store(end)
	}
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// sayNumber returns the number of a Say's send ID ("say-" and Pool.sendSeq).
func sayNumber(id string) (uint64, bool) {
	digits, ok := strings.CutPrefix(id, "say-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

func (d *doorbell) ringAll() {
	for i := range d.slots {
		s := &d.slots[i]
		s.mu.Lock()
		if s.id != "" {
			s.w.ring(nil)
		}
		s.mu.Unlock()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range d.waiters {
		w.ring(nil)
	}
}

// count returns how many Says wait and how many spare waiters the map
// keeps.
func (d *doorbell) count() (waiting, spare int) {
	for i := range d.slots {
		s := &d.slots[i]
		s.mu.Lock()
		if s.id != "" {
			waiting++
		}
		s.mu.Unlock()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return waiting + len(d.waiters), len(d.spare)
}
