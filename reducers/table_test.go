package reducers_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func contents[V any](t reducers.Table[V]) map[string]V {
	out := map[string]V{}
	for k, v := range t.All() {
		out[k] = v
	}
	return out
}

func TestTableBasics(t *testing.T) {
	var empty reducers.Table[int]
	assert.Equal(t, 0, empty.Len())
	_, ok := empty.Get("a")
	assert.False(t, ok)
	assert.Equal(t, empty, empty.Delete("a"), "delete on empty is a no-op")
	assert.Equal(t, empty, empty.Update("a", func(int) int { panic("not called") }))
	assert.Equal(t, empty, empty.Set("", 1), "the empty key is refused")

	a := empty.Set("a", 1).Set("b", 2).Set("c", 3)
	b := a.Set("b", 20)
	c := b.Delete("a")
	d := c.Update("c", func(v int) int { return v * 10 })

	assert.Equal(t, map[string]int{"a": 1, "b": 2, "c": 3}, contents(a))
	assert.Equal(t, map[string]int{"a": 1, "b": 20, "c": 3}, contents(b))
	assert.Equal(t, map[string]int{"b": 20, "c": 3}, contents(c))
	assert.Equal(t, map[string]int{"b": 20, "c": 30}, contents(d))
	assert.Equal(t, []string{"b", "c"}, d.Keys(), "insertion order kept")
	assert.Equal(t, 1, d.Position("b"))
	assert.Equal(t, -1, d.Position("a"))
	k, v, ok := d.At(2)
	assert.Equal(t, "c", k)
	assert.Equal(t, 30, v)
	assert.True(t, ok)
	_, _, ok = d.At(0)
	assert.False(t, ok, "a deleted key leaves a hole")
	_, _, ok = d.At(99)
	assert.False(t, ok)
	assert.True(t, a == a.Delete("zz"), "no change: same value")
	assert.False(t, a == b)
}

func TestTableGrowsAcrossNodes(t *testing.T) {
	var tb reducers.Table[int]
	const n = 5000 // crosses leaf (32) and mid (1024) boundaries
	for i := range n {
		tb = tb.Set(fmt.Sprint(i), i)
	}
	require.Equal(t, n, tb.Len())
	for i := range n {
		v, ok := tb.Get(fmt.Sprint(i))
		require.True(t, ok)
		require.Equal(t, i, v)
	}
	old := tb
	tb = tb.Update("4097", func(int) int { return -1 })
	v, _ := old.Get("4097")
	assert.Equal(t, 4097, v, "old version untouched")
	v, _ = tb.Get("4097")
	assert.Equal(t, -1, v)
}

func TestTableCompactsHoles(t *testing.T) {
	var tb reducers.Table[int]
	for i := range 200 {
		tb = tb.Set(fmt.Sprint(i), i)
	}
	for i := range 150 {
		tb = tb.Delete(fmt.Sprint(i))
	}
	assert.Equal(t, 50, tb.Len())
	assert.Less(t, tb.Slots(), 200, "holes were compacted")
	want := []string{}
	for i := 150; i < 200; i++ {
		want = append(want, fmt.Sprint(i))
	}
	assert.Equal(t, want, tb.Keys())
}

func TestTableJSONRoundTrip(t *testing.T) {
	tb := reducers.Table[int]{}.Set("z", 1).Set("a", 2).Set("m", 3)
	data, err := json.Marshal(tb)
	require.NoError(t, err)
	assert.JSONEq(t, `{"z":1,"a":2,"m":3}`, string(data))
	assert.Equal(t, `{"z":1,"a":2,"m":3}`, string(data), "insertion order")
	var back reducers.Table[int]
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, tb.Keys(), back.Keys())
	assert.Equal(t, contents(tb), contents(back))

	for _, bad := range []string{`[1]`, `{"a":"x"}`, `{"":1}`, `{"a":1`, `"s"`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &back), bad)
	}
	require.NoError(t, json.Unmarshal([]byte(`null`), &back))
	assert.Equal(t, 0, back.Len())
}

// FuzzTableNeverWritesThroughItsInput applies random operations and checks
// after each one that every earlier version still holds exactly what it
// held when it was made, and that the newest matches a plain map model.
func FuzzTableNeverWritesThroughItsInput(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{1, 1, 1, 129, 129, 200, 3, 3, 77, 250, 250, 250})
	f.Fuzz(func(t *testing.T, ops []byte) {
		type version struct {
			tb   reducers.Table[int]
			want map[string]int
		}
		var tb reducers.Table[int]
		model := map[string]int{}
		var history []version
		for i, op := range ops {
			key := fmt.Sprint(op % 40)
			switch op >> 6 {
			case 0, 1:
				tb = tb.Set(key, i)
				model[key] = i
			case 2:
				tb = tb.Delete(key)
				delete(model, key)
			case 3:
				tb = tb.Update(key, func(v int) int { return v + 1000 })
				if v, ok := model[key]; ok {
					model[key] = v + 1000
				}
			}
			history = append(history, version{tb: tb, want: maps.Clone(model)})
		}
		for i, h := range history {
			if got := contents(h.tb); !maps.Equal(got, h.want) {
				t.Fatalf("version %d changed after later operations: got %v want %v", i, got, h.want)
			}
			if h.tb.Len() != len(h.want) {
				t.Fatalf("version %d: Len %d, want %d", i, h.tb.Len(), len(h.want))
			}
			keys := h.tb.Keys()
			if len(keys) != len(slices.Compact(slices.Clone(keys))) {
				t.Fatalf("version %d: duplicate keys %v", i, keys)
			}
		}
	})
}

// TestTableSetIndependentOfHistory: what Set returns depends on the table
// and the arguments only, not on what was derived from the table before.
// A key deleted and set again returns to its place on a branch too.
func TestTableSetIndependentOfHistory(t *testing.T) {
	x := reducers.Table[int]{}.Set("a", 1).Set("b", 2).Delete("a")
	first := x.Set("a", 3)  // x is the newest version
	second := x.Set("a", 3) // x is now a branch of first
	assert.Equal(t, []string{"a", "b"}, first.Keys())
	assert.Equal(t, first.Keys(), second.Keys())
	assert.Equal(t, first.Position("a"), second.Position("a"))
	assert.Equal(t, first.Slots(), second.Slots())
}

// TestTableUpdatePanicLeavesTableUsable: a reducer's f that panics (and is
// recovered by the caller) leaves the table as it was and still changeable.
func TestTableUpdatePanicLeavesTableUsable(t *testing.T) {
	tb := reducers.Table[int]{}.Set("a", 1).Set("b", 2)
	assert.Panics(t, func() { tb.Update("a", func(int) int { panic("boom") }) })
	v, _ := tb.Get("a")
	assert.Equal(t, 1, v)
	next := tb.Update("a", func(v int) int { return v + 10 })
	v, _ = next.Get("a")
	assert.Equal(t, 11, v)
	assert.Equal(t, []string{"a", "b"}, next.Keys())
	v, _ = tb.Get("a")
	assert.Equal(t, 1, v, "the old version is untouched")
}

// FuzzTableBranches derives each version from a version chosen by the
// input, often not the newest (as a reducer does after time travel), and
// checks that every version keeps exactly its own contents.
// tableVersion is a version of a fuzzed table and what it must hold.
type tableVersion struct {
	tb   reducers.Table[int]
	want map[string]int
}

// baseOf returns the version a fuzzed step changes: the newest, or, when
// from's low bit is set, an older one (a branch).
func baseOf(history []tableVersion, from byte) tableVersion {
	if from&1 == 1 {
		return history[int(from>>1)%len(history)]
	}
	return history[len(history)-1]
}

// fuzzChange makes the change op says (its top two bits: set, set,
// delete, update) to key, setting i, on tb and on model (tb's contents,
// changed in place; nil for none).
func fuzzChange(tb reducers.Table[int], model map[string]int, op byte, key string, i int) reducers.Table[int] {
	switch op >> 6 {
	case 0, 1:
		if model != nil {
			model[key] = i
		}
		return tb.Set(key, i)
	case 2:
		delete(model, key)
		return tb.Delete(key)
	default:
		if v, ok := model[key]; ok {
			model[key] = v + 1000
		}
		return tb.Update(key, func(v int) int { return v + 1000 })
	}
}

func FuzzTableBranches(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 1, 4, 3, 5, 0, 6})
	f.Add([]byte{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 200, 2, 70})
	f.Fuzz(func(t *testing.T, ops []byte) {
		history := []tableVersion{{want: map[string]int{}}}
		for i := 0; i+1 < len(ops); i += 2 {
			op, base := ops[i+1], baseOf(history, ops[i])
			model := maps.Clone(base.want)
			key := fmt.Sprint(op % 50)
			tb := fuzzChange(base.tb, model, op, key, i)
			// The same change to the same table, now a branch (base is no
			// longer the newest of its lineage), gives the same table.
			if again := fuzzChange(base.tb, nil, op, key, i); !slices.Equal(again.Keys(), tb.Keys()) || again.Slots() != tb.Slots() {
				t.Fatalf("step %d: the same change gave keys %v, then %v (slots %d, %d)",
					i, tb.Keys(), again.Keys(), tb.Slots(), again.Slots())
			}
			history = append(history, tableVersion{tb: tb, want: model})
		}
		for i, h := range history {
			if got := contents(h.tb); !maps.Equal(got, h.want) {
				t.Fatalf("version %d: got %v want %v", i, got, h.want)
			}
			for k, v := range h.want {
				if got, ok := h.tb.Get(k); !ok || got != v {
					t.Fatalf("version %d: Get(%q) = %d, %v; want %d", i, k, got, ok, v)
				}
			}
			for k := range 50 {
				key := fmt.Sprint(k)
				if _, want := h.want[key]; h.tb.Has(key) != want {
					t.Fatalf("version %d: Has(%q) = %v, want %v", i, key, !want, want)
				}
			}
			if h.tb.Len() != len(h.want) {
				t.Fatalf("version %d: Len %d, want %d", i, h.tb.Len(), len(h.want))
			}
		}
	})
}

// TestTableModelAtDepth runs seeded random changes on a table deep enough
// for inner nodes to fill their boxes and be copied (three levels), with
// an occasional branch from an old version, against a map model.
func TestTableModelAtDepth(t *testing.T) {
	const keys, steps = 3000, 60_000
	rng := rand.New(rand.NewPCG(1, 2))
	type version struct {
		tb   reducers.Table[int]
		want map[string]int
	}
	var tb reducers.Table[int]
	model := map[string]int{}
	var kept []version
	for i := range steps {
		if i%5000 == 4999 && len(kept) > 0 {
			// Branch: go on from an old version, as after time travel.
			v := kept[rng.IntN(len(kept))]
			tb, model = v.tb, maps.Clone(v.want)
		}
		key := fmt.Sprint(rng.IntN(keys))
		switch r := rng.IntN(10); {
		case r < 6:
			tb = tb.Update(key, func(v int) int { return v + 1 })
			if v, ok := model[key]; ok {
				model[key] = v + 1
			}
		case r < 9:
			tb = tb.Set(key, i)
			model[key] = i
		default:
			tb = tb.Delete(key)
			delete(model, key)
		}
		if i%997 == 0 {
			kept = append(kept, version{tb, maps.Clone(model)})
		}
	}
	kept = append(kept, version{tb, model})
	for i, v := range kept {
		require.Equal(t, v.want, contents(v.tb), "kept version %d", i)
		require.Equal(t, len(v.want), v.tb.Len(), "kept version %d", i)
		for k, want := range v.want {
			got, ok := v.tb.Get(k)
			require.True(t, ok && got == want, "kept version %d: Get(%q) = %d, %v; want %d", i, k, got, ok, want)
		}
	}
}

// TestTableReadersDuringWrites reads old versions from other goroutines
// while one goroutine keeps deriving new ones, the store's pattern; under
// -race this checks that recording a change in place is safe for readers.
func TestTableReadersDuringWrites(t *testing.T) {
	const keys, writes = 300, 20_000
	var tb reducers.Table[int]
	for i := range keys {
		tb = tb.Set(fmt.Sprint(i), 0)
	}
	published := make(chan reducers.Table[int], 64)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for snap := range published {
				// Every version holds one generation: all values equal.
				first, _ := snap.Get("0")
				for k, v := range snap.All() {
					if v != first {
						errs <- fmt.Errorf("torn version: %s=%d, 0=%d", k, v, first)
						return
					}
				}
			}
		}()
	}
	for w := 1; w <= writes/keys; w++ {
		for i := range keys {
			tb = tb.Update(fmt.Sprint(i), func(int) int { return w })
		}
		select {
		case published <- tb:
		default:
		}
	}
	close(published)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, _ := tb.Get("299")
	assert.Equal(t, writes/keys, v)
}

// TestTableChangesAllocateRarely holds the property BenchmarkTableUpdate
// measures: most changes are recorded in place, and a node is copied only
// once its boxes are full.
func TestTableChangesAllocateRarely(t *testing.T) {
	for _, n := range []int{100, 10_000} {
		var tb reducers.Table[int]
		for i := range n {
			tb = tb.Set(fmt.Sprint(i), i)
		}
		key := fmt.Sprint(n / 2)
		allocs := testing.AllocsPerRun(1000, func() {
			tb = tb.Update(key, func(v int) int { return v + 1 })
		})
		// A leaf copy is two allocations every 9 changes, and its parent
		// takes the copy in place 8 times out of 9.
		assert.Less(t, allocs, 0.5, "n=%d", n)
		v, _ := tb.Get(key)
		assert.Equal(t, n/2+1001, v)
	}
}

var (
	inc     = actions.Define[int]("reducers_test/INC")
	rename  = actions.Define[string]("reducers_test/RENAME")
	unknown = actions.Define[actions.Empty]("reducers_test/UNKNOWN")
)

type state struct {
	Count int
	Name  string
	Table reducers.Table[int]
}

var combined = reducers.Combine(
	reducers.Field(func(s state) int { return s.Count }, func(s *state, v int) { s.Count = v },
		reducers.On(inc, func(prev int, n int, _ actions.Meta) int { return prev + n })),
	reducers.Field(func(s state) string { return s.Name }, func(s *state, v string) { s.Name = v },
		reducers.On(rename, func(_ string, n string, _ actions.Meta) string { return n })),
	reducers.Field(func(s state) reducers.Table[int] { return s.Table }, func(s *state, v reducers.Table[int]) { s.Table = v },
		reducers.On(inc, func(prev reducers.Table[int], n int, _ actions.Meta) reducers.Table[int] {
			return prev.Update("x", func(v int) int { return v + n })
		})),
)

func TestCombine(t *testing.T) {
	s0 := state{Table: reducers.Table[int]{}.Set("x", 0)}
	tests := []struct {
		name      string
		action    actions.Action
		want      func(state) bool
		unchanged bool
	}{
		{"unknown action returns the same value", unknown.New(actions.Empty{}), nil, true},
		{"inc updates count and table", inc.New(2), func(s state) bool {
			v, _ := s.Table.Get("x")
			return s.Count == 2 && v == 2 && s.Name == ""
		}, false},
		{"rename touches one field", rename.New("pool"), func(s state) bool { return s.Name == "pool" && s.Count == 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := combined(s0, tt.action)
			if tt.unchanged {
				assert.True(t, got == struct {
					Count int
					Name  string
					Table reducers.Table[int]
				}(s0))
				return
			}
			assert.True(t, tt.want(got), "%+v", got)
			v, _ := s0.Table.Get("x")
			assert.Equal(t, 0, v, "input not written")
		})
	}
}

func TestChain(t *testing.T) {
	r := reducers.Chain(
		reducers.On(inc, func(p int, n int, _ actions.Meta) int { return p + n }),
		reducers.On(inc, func(p int, n int, _ actions.Meta) int { return p * 2 }),
	)
	assert.Equal(t, 8, r(1, inc.New(3)))
	assert.Equal(t, 1, r(1, rename.New("x")))
}

// TestTableRetentionIsBounded: changes recorded in place keep old values
// alive until their node is copied, and old nodes until their parent is.
// After many changes, holding only the newest version, the heap must stay
// within a small multiple of the table's own size.
func TestTableRetentionIsBounded(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	type bot struct{ LastSeen, Sent int64 }
	base := heap()
	var tb reducers.Table[*bot]
	keys := make([]string, 5000)
	for i := range keys {
		keys[i] = fmt.Sprint("bot-", i)
		tb = tb.Set(keys[i], &bot{})
	}
	built := heap() - base
	for i := range 500_000 {
		tb = tb.Update(keys[(i*7919)%len(keys)], func(b *bot) *bot { c := *b; c.Sent++; return &c })
	}
	after := heap() - base
	runtime.KeepAlive(tb)
	t.Logf("heap: %d KiB after building, %d KiB after 500k changes", built>>10, after>>10)
	assert.Less(t, after, 3*built, "old versions are retained without bound")
}
