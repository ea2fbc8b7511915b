package reducers_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
)

// walkAt returns t's keys and values walked by position (Slots, At).
func walkAt(t reducers.Table[int]) ([]string, []int) {
	var keys []string
	var vals []int
	for i := range t.Slots() {
		if k, v, ok := t.At(i); ok {
			keys, vals = append(keys, k), append(vals, v)
		}
	}
	return keys, vals
}

// without returns keys without k.
func without(keys []string, k string) []string {
	return slices.DeleteFunc(slices.Clone(keys), func(x string) bool { return x == k })
}

// FuzzTableSmallAndBig changes tables of up to 12 keys, so that they turn
// from small to big and back (a small table holds at most 4 slots), on
// the newest version and on branches, against a map model. Every version
// reads as its model whichever way it is read (Get, Has, Len, All, At,
// Position), and a change keeps the order of the keys it does not touch.
func FuzzTableSmallAndBig(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 0, 9, 0, 10, 0, 139, 0, 130, 0, 131})
	f.Add([]byte{0, 1, 0, 129, 0, 2, 0, 130, 0, 3, 1, 131, 0, 3})
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 129, 0, 1, 0, 130, 0, 131, 0, 2, 3, 5, 0, 200})
	f.Fuzz(func(t *testing.T, ops []byte) {
		history := []tableVersion{{want: map[string]int{}}}
		for i := 0; i+1 < len(ops); i += 2 {
			op, base := ops[i+1], baseOf(history, ops[i])
			key := fmt.Sprint(op % 12)
			model := maps.Clone(base.want)
			tb := fuzzChange(base.tb, model, op, key, i)
			before, _ := walkAt(base.tb)
			after, _ := walkAt(tb)
			if b, a := without(before, key), without(after, key); !slices.Equal(b, a) {
				t.Fatalf("step %d (%q): the other keys' order went from %v to %v", i, key, b, a)
			}
			history = append(history, tableVersion{tb: tb, want: model})
		}
		for i, h := range history {
			if got := contents(h.tb); !maps.Equal(got, h.want) {
				t.Fatalf("version %d: got %v want %v", i, got, h.want)
			}
			if h.tb.Len() != len(h.want) {
				t.Fatalf("version %d: Len %d, want %d", i, h.tb.Len(), len(h.want))
			}
			keys, vals := walkAt(h.tb)
			if !slices.Equal(keys, h.tb.Keys()) {
				t.Fatalf("version %d: At walks %v, All %v", i, keys, h.tb.Keys())
			}
			for j, k := range keys {
				if h.want[k] != vals[j] {
					t.Fatalf("version %d: At reads %s=%d, want %d", i, k, vals[j], h.want[k])
				}
				if p := h.tb.Position(k); p < 0 || p >= h.tb.Slots() {
					t.Fatalf("version %d: Position(%q) = %d of %d slots", i, k, p, h.tb.Slots())
				} else if at, _, _ := h.tb.At(p); at != k {
					t.Fatalf("version %d: Position(%q) = %d, which holds %q", i, k, p, at)
				}
			}
			for k := range 12 {
				key := fmt.Sprint(k)
				if _, want := h.want[key]; h.tb.Has(key) != want || (h.tb.Position(key) >= 0) != want {
					t.Fatalf("version %d: Has(%q) = %v, want %v", i, key, !want, want)
				}
			}
		}
	})
}

// TestSmallTableChurn: a key that comes and goes (a send in flight) costs
// one small block when it comes and nothing when it goes, and the table
// it leaves is the empty one.
func TestSmallTableChurn(t *testing.T) {
	var tb reducers.Table[*int]
	v := new(int)
	allocs := testing.AllocsPerRun(1000, func() {
		tb = tb.Set("say-1", v).Delete("say-1")
	})
	assert.Equal(t, 1.0, allocs)
	assert.Equal(t, reducers.Table[*int]{}, tb, "the last key gone leaves the empty table")
}

// TestSmallTableKeepsPositions: a small table keeps its holes while it
// has no more holes than keys, and a key set again returns to its hole.
func TestSmallTableKeepsPositions(t *testing.T) {
	tb := reducers.Table[int]{}.Set("a", 1).Set("b", 2).Set("c", 3)
	d := tb.Delete("b")
	assert.Equal(t, 3, d.Slots())
	assert.Equal(t, 2, d.Position("c"))
	assert.Equal(t, 1, d.Set("b", 20).Position("b"), "back to its hole")
	e := d.Delete("a") // two holes, one key: compacted
	assert.Equal(t, 1, e.Slots())
	assert.Equal(t, 0, e.Position("c"))
	assert.Equal(t, []string{"c", "a"}, e.Set("a", 1).Keys(), "compacted: a key set again goes last")
}

// TestTableGrowsAndShrinks: a table grows past the small size and, once
// compacted to few keys, is small again; its contents and order hold
// through both.
func TestTableGrowsAndShrinks(t *testing.T) {
	var tb reducers.Table[int]
	var want []string
	for i := range 100 {
		tb = tb.Set(fmt.Sprint(i), i)
		want = append(want, fmt.Sprint(i))
	}
	for i := range 98 {
		tb = tb.Delete(fmt.Sprint(i))
	}
	assert.Equal(t, want[98:], tb.Keys())
	assert.LessOrEqual(t, tb.Slots(), 4, "compacted")
	allocs := testing.AllocsPerRun(100, func() { tb.Set("99", 1) })
	assert.Equal(t, 1.0, allocs, "small again: a change is one block")
}
