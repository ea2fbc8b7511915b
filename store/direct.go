package store

import (
	"fmt"
	"runtime/debug"
	"slices"
	"sync/atomic"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/reactivex/rxgo/v2"
)

// DirectInput is an epic output whose epic takes its actions from the
// store directly instead of through its input Observable: the store calls
// take with every action, from actions.Init on, in dispatch order, one at
// a time, on the goroutine that dispatched it, after the middleware chain
// returned. This is how redux-observable hands actions to epics
// (synchronously, queued behind the dispatch under way, RxJS's
// queueScheduler), and it costs no goroutine switch per action.
//
// The store calls Input once, after Direct when the output is also a
// DirectOutput, and before it observes the output. The epic must then not
// subscribe to its input Observable. take must be quick and must not
// block: it may dispatch (its actions are queued behind the one it takes)
// and start goroutines, and it must not wait for anything another
// goroutine's dispatch or the store's lock would hold up. A panic in take
// fails the epic, as an error item on its output does, and take is not
// called again.
//
// Dispatch takes one action at a time off the queue until it is empty, or
// until it has taken a batch's worth for others; then the store's own
// goroutine takes the rest. So an action dispatched by middleware or by
// take itself is taken after the action under way, never in the middle of
// it, and a dispatcher is never held up for long on others' behalf.
type DirectInput interface {
	rxgo.Observable
	Input() (take func(actions.Action))
}

// directEpic is an epic that takes its actions directly: its queue of
// actions not yet taken, guarded by the store's lock.
type directEpic struct {
	name   string
	take   func(actions.Action)
	fail   func(error) // reports a panic in take, as the epic's failure
	q      []actions.Action
	head   int  // next action to take in q
	failed bool // take panicked: the epic is over
}

func (d *directEpic) pending() int { return len(d.q) - d.head }

// push queues a; the store's lock is held.
func (d *directEpic) push(a actions.Action) {
	if d.failed {
		return
	}
	if d.head > 0 && d.head == len(d.q) {
		clear(d.q) // drop the taken actions' references
		d.q, d.head = d.q[:0], 0
	}
	d.q = append(d.q, a)
}

// pop takes the next action; the store's lock is held.
func (d *directEpic) pop() actions.Action {
	a := d.q[d.head]
	d.q[d.head] = actions.Action{}
	d.head++
	return a
}

// drainBatch is how many actions a dispatcher takes off the direct queue
// before it leaves the rest to the store's goroutine.
const drainBatch = 64

// directs is the store's part for direct epics.
type directs struct {
	epics    []*directEpic // guarded by Store.mu
	queued   atomic.Int64  // actions queued for any direct epic
	draining atomic.Bool   // a goroutine is taking actions off the queues
	kick     chan struct{} // wakes the store's drainer goroutine; capacity 1
}

// pushLocked queues a for every direct epic; the store's lock is held.
func (ds *directs) pushLocked(a actions.Action) {
	for _, d := range ds.epics {
		if !d.failed {
			d.push(a)
			ds.queued.Add(1)
		}
	}
}

// nextLocked returns the direct epic whose next action was reduced first,
// and that action; nil when nothing is queued. The store's lock is held.
func (ds *directs) nextLocked() (*directEpic, actions.Action) {
	var best *directEpic
	for _, d := range ds.epics {
		if d.pending() > 0 && (best == nil || d.q[d.head].Meta.Seq < best.q[best.head].Meta.Seq) {
			best = d
		}
	}
	if best == nil {
		return nil, actions.Action{}
	}
	ds.queued.Add(-1)
	return best, best.pop()
}

// drain hands the queued actions to their direct epics, unless another
// goroutine is doing so already: that one takes what this one queued. It
// stops after limit actions (0: no limit) and wakes the store's drainer
// goroutine for the rest.
func (s *Store[S]) drain(limit int) {
	ds := &s.directs
	for ds.queued.Load() > 0 {
		if !ds.draining.CompareAndSwap(false, true) {
			return // the goroutine draining sees our action: it checks queued after it lets go
		}
		if !s.drainHeld(limit) {
			s.kickDrainer() // a batch's worth: the store's goroutine takes the rest
			return
		}
		// An action queued between our last look and letting go found
		// draining set and left it to us: look again.
	}
}

// drainHeld takes the queued actions while this goroutine holds the
// draining flag, which it lets go however it returns. It reports false
// when it stopped at limit with actions left.
func (s *Store[S]) drainHeld(limit int) bool {
	ds := &s.directs
	defer ds.draining.Store(false)
	for n := 0; limit == 0 || n < limit; n++ {
		if ds.queued.Load() == 0 {
			// Nothing to take. An action queued from now on is its
			// dispatcher's to drain: it sees draining false after the
			// deferred store, or drain's loop sees queued > 0.
			return true
		}
		s.mu.Lock()
		d, a := ds.nextLocked()
		s.mu.Unlock()
		if d == nil {
			return true
		}
		s.takeDirect(d, a)
	}
	return ds.queued.Load() == 0
}

// takeDirect hands a to d, failing d if take panics.
func (s *Store[S]) takeDirect(d *directEpic, a actions.Action) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("store: direct epic panicked", "epic", d.name, "type", a.Type, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			s.removeDirect(d)
			d.fail(fmt.Errorf("store: epic %q panicked on %q: %v", d.name, a.Type, r))
		}
	}()
	d.take(a)
}

func (s *Store[S]) kickDrainer() {
	select {
	case s.directs.kick <- struct{}{}:
	default:
	}
}

// runDrainer is the store's drainer goroutine: it takes what dispatchers
// left (a batch's worth was enough for them) until the store stops.
func (s *Store[S]) runDrainer() {
	defer s.wg.Done()
	for {
		select {
		case <-s.directs.kick:
			s.drain(0)
		case <-s.done:
			return
		}
	}
}

// addDirect makes the epic of boxes take its actions directly: what its
// mailbox holds since actions.Init first, then every action reduced from
// now on. It returns nil when the mailbox is gone (the store stopped).
func (s *Store[S]) addDirect(name string, take func(actions.Action), fail func(error), box *mailbox) *directEpic {
	in := box.claim()
	if in == nil {
		return nil
	}
	d := &directEpic{name: name, take: take, fail: fail}
	s.mu.Lock()
	s.actionHub.remove(in)
	for batch := in.q.Take(); batch != nil; batch = in.q.Take() {
		for _, it := range batch {
			if a, ok := it.V.(actions.Action); ok {
				d.push(a)
				s.directs.queued.Add(1)
			}
		}
	}
	in.q.Drop()
	s.directs.epics = append(s.directs.epics, d)
	s.mu.Unlock()
	s.drain(0) // the backlog since Init, on Start's goroutine
	return d
}

// removeDirect ends d: its epic is over, and it takes nothing more.
func (s *Store[S]) removeDirect(d *directEpic) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !d.failed {
		d.failed = true
		s.directs.queued.Add(-int64(d.pending()))
		clear(d.q)
		d.q, d.head = nil, 0
	}
	s.directs.epics = slices.DeleteFunc(slices.Clone(s.directs.epics), func(x *directEpic) bool { return x == d })
}
