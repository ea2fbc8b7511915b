package reducers_test

import (
	"fmt"
	"testing"

	"github.com/hawechaty/hawechaty/reducers"
)

type benchBot struct {
	Available bool
	LastSeen  int64
	Sent      int
}

// BenchmarkTableUpdate changes one entry of tables of growing size: the
// allocations per update stay the same (the new value, plus a node copy
// every few changes) and the time grows only with the depth of the trie
// (one level per factor of 32).
func BenchmarkTableUpdate(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			var tb reducers.Table[*benchBot]
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("bot-%d", i)
				tb = tb.Set(keys[i], &benchBot{})
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				tb = tb.Update(keys[i%n], func(v *benchBot) *benchBot {
					c := *v
					c.LastSeen = int64(i)
					return &c
				})
			}
		})
	}
}

// BenchmarkTableGet reads entries of a table whose nodes carry recorded
// changes, the cost reads pay for changes made in place.
func BenchmarkTableGet(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			var tb reducers.Table[*benchBot]
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("bot-%d", i)
				tb = tb.Set(keys[i], &benchBot{})
			}
			for i := range 4 * n {
				tb = tb.Update(keys[i%n], func(v *benchBot) *benchBot { c := *v; c.Sent++; return &c })
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, ok := tb.Get(keys[i%n]); !ok {
					b.Fatal("missing key")
				}
			}
		})
	}
}

// BenchmarkTableChurn is the sends in flight: a key set and deleted again
// (a send that comes and goes) beside others that stay. With up to 4
// slots the table is small, one block copied on the set and on the
// delete, nothing on the delete that leaves it empty; past that it is big
// (version heads, a change recorded in the keys' node, a compaction
// every few dozen keys).
func BenchmarkTableChurn(b *testing.B) {
	for _, stay := range []int{0, 2, 4, 40} {
		b.Run(fmt.Sprintf("others=%d", stay), func(b *testing.B) {
			var tb reducers.Table[*benchBot]
			for i := range stay {
				tb = tb.Set(fmt.Sprintf("keep-%d", i), &benchBot{})
			}
			keys := make([]string, 1024)
			for i := range keys {
				keys[i] = fmt.Sprintf("say-%d", i)
			}
			v := &benchBot{}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				k := keys[i%len(keys)]
				tb = tb.Set(k, v).Delete(k)
			}
			if tb.Len() != stay {
				b.Fatalf("%d keys left, want %d", tb.Len(), stay)
			}
		})
	}
}
