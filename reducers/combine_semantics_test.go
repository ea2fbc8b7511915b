package reducers_test

// combineReducers' documented rules (redux.js.org, combineReducers), in
// Go: every slice reducer is called for every action with its own slice
// of the previous state; the combined state is a new value only when a
// slice changed, else the previous state itself is returned; a key
// without a reducer is left out rather than failing.

import (
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
)

type combo struct {
	N    int
	Any  any
	Log  *[]string
	Same string
}

var (
	comboInc = actions.Define[int]("SEMANTICS_COMBO_INC")
	comboAny = actions.Define[any]("SEMANTICS_COMBO_ANY")
)

func TestCombineFollowsCombineReducers(t *testing.T) {
	var seen []string
	n := reducers.Field(func(s combo) int { return s.N }, func(s *combo, v int) { s.N = v },
		func(prev int, a actions.Action) int {
			seen = append(seen, "n:"+a.Type)
			if d, ok := comboInc.Match(a); ok {
				return prev + d
			}
			return prev
		})
	same := reducers.Field(func(s combo) string { return s.Same }, func(s *combo, v string) { s.Same = v },
		func(prev string, a actions.Action) string {
			seen = append(seen, "same:"+a.Type)
			return prev
		})
	red := reducers.Combine(n, nil, same) // a nil slice is left out

	s0 := combo{N: 1, Same: "x"}
	s1 := red(s0, comboInc.New(2))
	assert.Equal(t, combo{N: 3, Same: "x"}, s1)
	assert.Equal(t, []string{"n:SEMANTICS_COMBO_INC", "same:SEMANTICS_COMBO_INC"}, seen, "every slice sees every action, in order")

	log := &[]string{}
	s2 := combo{N: 3, Log: log}
	got := red(s2, comboInc.New(0))
	assert.Same(t, log, got.Log, "unchanged: the previous state is returned as it was")
	assert.Equal(t, s2, got)

	// Slices reduce the previous state, not each other's output.
	dbl := reducers.Field(func(s combo) int { return s.N }, func(s *combo, v int) { s.N = v },
		func(prev int, _ actions.Action) int { return prev * 10 })
	assert.Equal(t, 10, reducers.Combine(dbl, dbl)(combo{N: 1}, comboInc.New(0)).N)

	// No slices: the state never changes.
	assert.Equal(t, s0, reducers.Combine[combo]()(s0, comboInc.New(1)))
}

func TestCombineBadPartsAreNoOpsNotPanics(t *testing.T) {
	s0 := combo{N: 1}
	get := func(s combo) int { return s.N }
	set := func(s *combo, v int) { s.N = v }
	inc := func(prev int, _ actions.Action) int { return prev + 1 }
	for name, sl := range map[string]reducers.Slice[combo]{
		"nil get":     reducers.Field(nil, set, inc),
		"nil set":     reducers.Field(get, nil, inc),
		"nil reducer": reducers.Field[combo, int](get, set, nil),
	} {
		assert.Equal(t, s0, reducers.Combine(sl)(s0, comboInc.New(1)), name)
	}
	assert.Equal(t, s0, reducers.On[combo, int](comboInc, nil)(s0, comboInc.New(1)))
	assert.Equal(t, 2, reducers.Chain(nil, func(s combo, _ actions.Action) combo { s.N++; return s })(s0, comboInc.New(1)).N)
}

// A field of an interface type may hold a value == cannot compare (a
// slice): the field then counts as changed instead of panicking.
func TestCombineUncomparableFieldValue(t *testing.T) {
	red := reducers.Combine(reducers.Field(func(s combo) any { return s.Any }, func(s *combo, v any) { s.Any = v },
		func(prev any, a actions.Action) any {
			if v, ok := comboAny.Match(a); ok {
				return v
			}
			return prev
		}))
	s1 := red(combo{}, comboAny.New([]int{1}))
	assert.Equal(t, []int{1}, s1.Any)
	s2 := red(s1, comboAny.New([]int{2}))
	assert.Equal(t, []int{2}, s2.Any)
	assert.Equal(t, []int{2}, red(s2, comboInc.New(1)).Any)
}
