package store

import (
	"testing"
)

// TestCellWriterNeverWaitsForReaders: with every slot held by readers
// that have not finished copying (marked), a commit neither waits nor
// writes a marked slot: it publishes a fresh one. The readers' slots
// keep the states they were reading.
func TestCellWriterNeverWaitsForReaders(t *testing.T) {
	var c stateCell[[4]int]
	c.store([4]int{0, 0, 0, 0})
	held := map[*stateSlot[[4]int]][4]int{}
	for i := 1; i <= stateSlots; i++ {
		sl := c.cur.Load()
		sl.readers.Add(1) // a reader stuck in the middle of its copy
		held[sl] = sl.v
		c.store([4]int{i, i, i, i})
	}
	for _, sl := range c.slots {
		if sl == nil || sl.readers.Load() == 0 {
			t.Fatal("the setup did not hold every slot")
		}
	}
	c.store([4]int{9, 9, 9, 9})
	if got := c.load(); got != [4]int{9, 9, 9, 9} {
		t.Fatalf("load after the commit: %v", got)
	}
	cur := c.cur.Load()
	if _, ok := held[cur]; ok {
		t.Fatal("the commit wrote a slot that readers hold")
	}
	for sl, v := range held {
		if sl.v != v {
			t.Fatalf("a held slot changed under its reader: %v, was %v", sl.v, v)
		}
		sl.readers.Add(-1)
	}
	// Once the readers are done the slots are reused: no allocation.
	if n := testing.AllocsPerRun(20, func() { c.store([4]int{7, 7, 7, 7}) }); n != 0 {
		t.Fatalf("a commit with free slots allocates: %v", n)
	}
	if got := c.load(); got != [4]int{7, 7, 7, 7} {
		t.Fatalf("load: %v", got)
	}
}
