package store

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// stressState is a state of many words that a commit all sets to its
// Seq: a read that mixes two commits (torn) shows unequal words. Tag
// points to a copy of Seq, so that a torn pointer word shows too.
type stressState struct {
	Seq   uint64
	Words [15]uint64
	Tag   *uint64
}

func newStressState(seq uint64) stressState {
	s := stressState{Seq: seq, Tag: new(uint64)}
	*s.Tag = seq
	for i := range s.Words {
		s.Words[i] = seq
	}
	return s
}

// whole reports whether s is one committed state.
func (s stressState) whole() bool {
	if s.Tag == nil || *s.Tag != s.Seq {
		return false
	}
	for _, w := range s.Words {
		if w != s.Seq {
			return false
		}
	}
	return true
}

// TestCellStress: readers load the cell in tight loops while one writer,
// under a mutex as Store.mu, commits states 1..n, reads them back with
// latest, latestRef and boxed, and every so often marks every slot as a
// stuck reader would, so that commits go to fresh slots, then lets them
// go. A read is never torn, never older than the last commit that had
// finished before it began, never older than the reader's previous read;
// and a marked slot is never written.
func TestCellStress(t *testing.T) {
	const (
		n       = 50000
		readers = 4
		every   = 97 // commits between two rounds of marking every slot
	)
	var (
		c         stateCell[stressState]
		mu        sync.Mutex // Store.mu
		committed atomic.Uint64
		stop      atomic.Bool
		reads     atomic.Int64
		wg        sync.WaitGroup
	)
	c.store(newStressState(0))
	defer func() { // also when a check below ends the test
		stop.Store(true)
		wg.Wait()
	}()
	for range readers {
		wg.Go(func() {
			var last uint64
			var k int64
			for !stop.Load() {
				done := committed.Load()
				got := c.load()
				k++
				if !got.whole() {
					t.Errorf("a torn read: seq %d, tag %v, words %v", got.Seq, got.Tag, got.Words)
					return
				}
				if got.Seq < done {
					t.Errorf("a stale read: seq %d after commit %d had finished", got.Seq, done)
					return
				}
				if got.Seq < last {
					t.Errorf("a read went back: seq %d after %d", got.Seq, last)
					return
				}
				last = got.Seq
				if k%64 == 0 {
					runtime.Gosched() // let the others, the writer too, interleave
				}
			}
			reads.Add(k)
		})
	}

	fresh := 0 // commits that went to a fresh slot
	commit := func(seq uint64) {
		mu.Lock()
		defer mu.Unlock()
		c.store(newStressState(seq))
		if !slices.Contains(c.slots[:], c.cur.Load()) {
			fresh++
		}
		if got := c.latest(); got.Seq != seq || !got.whole() {
			t.Errorf("latest after commit %d: %+v", seq, got)
		}
		if got := c.latestRef(); got.Seq != seq || !got.whole() {
			t.Errorf("latestRef after commit %d: %+v", seq, *got)
		}
		b, ok := c.boxed().(stressState)
		if !ok || b.Seq != seq || !b.whole() {
			t.Errorf("boxed after commit %d: %v", seq, c.boxed())
		}
		committed.Store(seq)
	}

	seq := uint64(0)
	for seq < n {
		for range every {
			seq++
			commit(seq)
		}
		// Mark the current slot, as a reader that has checked it and is
		// copying, then commit, until every slot is marked; then commit a
		// few more (fresh slots) and let the marks go. The marked slots
		// must keep the states they had.
		held := map[*stateSlot[stressState]]uint64{}
		// Readers that mark a slot for a moment may send a commit to a
		// fresh slot first; a writer that wrote marked slots would never
		// get them all marked: give up after a while (fresh counts).
		for try := 0; len(held) < stateSlots && try < 16*stateSlots; try++ {
			mu.Lock()
			sl := c.cur.Load()
			if _, ok := held[sl]; !ok && slices.Contains(c.slots[:], sl) {
				sl.readers.Add(1)
				held[sl] = sl.v.Seq
			}
			mu.Unlock()
			seq++
			commit(seq)
		}
		for range 3 {
			seq++
			commit(seq)
		}
		mu.Lock()
		for sl, was := range held {
			if sl.v.Seq != was || !sl.v.whole() {
				t.Errorf("a marked slot was written: seq %d, was %d", sl.v.Seq, was)
			}
			sl.readers.Add(-1)
		}
		mu.Unlock()
	}
	stop.Store(true)
	wg.Wait()
	for i, sl := range c.slots {
		if n := sl.readers.Load(); n != 0 {
			t.Errorf("slot %d still marked by %d readers after every reader left", i, n)
		}
	}
	if fresh == 0 {
		t.Error("no commit went to a fresh slot: the fallback was not exercised")
	}
	if reads.Load() == 0 {
		t.Error("no reader read")
	}
	if got := c.load(); got.Seq != seq || !got.whole() {
		t.Errorf("the last read: %+v, want seq %d", got, seq)
	}
	t.Logf("%d commits (%d to fresh slots), %d reads", seq, fresh, reads.Load())
}

// TestCellPausedReader plays load's steps one by one for a reader paused
// between each of them while commits run, some slots marked by other
// readers: paused after its first load (its slot reused and republished
// meanwhile), after marking and before checking, and while copying. Its
// check passes only on the current slot, and a slot it has checked and
// marked is not written until it unmarks it, whatever commits run.
func TestCellPausedReader(t *testing.T) {
	seq := uint64(0)
	for before := range 3 * stateSlots { // commits between load and mark
		for between := range 3 { // commits between mark and check
			for others := range stateSlots + 1 { // slots other readers mark
				for during := range 3 * stateSlots { // commits while copying
					var c stateCell[stressState]
					commit := func() {
						seq++
						c.store(newStressState(seq))
					}
					commit()
					var marked []*stateSlot[stressState]
					for range others {
						sl := c.cur.Load()
						sl.readers.Add(1)
						marked = append(marked, sl)
						commit()
					}

					sl := c.cur.Load() // load's first step
					for range before {
						commit()
					}
					sl.readers.Add(1)
					for range between {
						commit()
					}
					cur := c.cur.Load()
					if cur != sl {
						sl.readers.Add(-1) // load tries again
						if between == 0 && before == 0 {
							t.Fatalf("before %d between %d others %d: the check failed with no commit", before, between, others)
						}
						continue
					}
					if between > 0 {
						t.Fatalf("before %d between %d others %d: a slot marked across a commit became current", before, between, others)
					}
					want := sl.v // what the check vouches for: the current state
					if want.Seq != seq || !want.whole() {
						t.Fatalf("before %d others %d: the checked slot holds %d, latest is %d", before, others, want.Seq, seq)
					}
					for range during {
						commit()
					}
					if sl.v != want {
						t.Fatalf("before %d others %d during %d: the slot was written while copied: %d, was %d",
							before, others, during, sl.v.Seq, want.Seq)
					}
					sl.readers.Add(-1)
					for _, m := range marked {
						m.readers.Add(-1)
					}
					commit()
					if got := c.load(); got.Seq != seq || !got.whole() {
						t.Fatalf("load after the readers left: %d, want %d", got.Seq, seq)
					}
				}
			}
		}
	}
}
