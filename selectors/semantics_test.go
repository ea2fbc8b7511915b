package selectors_test

// Reselect's documented behaviour of createSelector, in Go: each case
// names the rule it checks (reselect.js.org, createSelector and the
// memoization pages, read for this test).

import (
	"errors"
	"slices"
	"testing"

	"github.com/hawechaty/hawechaty/selectors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type todos struct {
	Items  *[]string
	Filter string
	Other  int
}

// The result function runs only when an input selector's result changed;
// a change elsewhere in the state only reruns the input selectors.
func TestReselectRecomputesOnlyOnInputChange(t *testing.T) {
	a, b := &[]string{"x", "y"}, &[]string{"x"}
	inputs := 0
	sel := selectors.Create2(
		func(s todos) *[]string { inputs++; return s.Items },
		func(s todos) string { return s.Filter },
		func(items *[]string, f string) int { return len(*items) + len(f) })
	steps := []struct {
		state   todos
		want    int
		recomps uint64
	}{
		{todos{Items: a}, 2, 1},
		{todos{Items: a, Other: 1}, 2, 1}, // unrelated field
		{todos{Items: a, Filter: "f"}, 3, 2},
		{todos{Items: b, Filter: "f"}, 2, 3},
		{todos{Items: b, Filter: "f"}, 2, 3},
	}
	for i, st := range steps {
		assert.Equal(t, st.want, sel.Select(st.state), "step %d", i)
		assert.Equal(t, st.recomps, sel.Recomputations(), "step %d", i)
	}
	assert.Equal(t, len(steps), inputs, "input selectors run on every call")
}

// lastResult is undefined before the first computation, then the last
// result; resetRecomputations zeroes the count and keeps the cache.
func TestReselectLastResultAndResetRecomputations(t *testing.T) {
	sel := selectors.Create1(func(s todos) int { return s.Other }, func(n int) int { return n * 10 })
	_, ok := sel.LastResult()
	assert.False(t, ok, "no result before the first Select")
	assert.Equal(t, 30, sel.Select(todos{Other: 3}))
	r, ok := sel.LastResult()
	assert.True(t, ok)
	assert.Equal(t, 30, r)
	sel.ResetRecomputations()
	assert.Equal(t, uint64(0), sel.Recomputations())
	assert.Equal(t, 30, sel.Select(todos{Other: 3}))
	assert.Equal(t, uint64(0), sel.Recomputations(), "the cache survives a reset")
	assert.Equal(t, 40, sel.Select(todos{Other: 4}))
	assert.Equal(t, uint64(1), sel.Recomputations())
}

// lruMemoize's default cache size is one: alternating inputs recompute
// every time; with maxSize 2 both stay cached, least recently used out
// first.
func TestReselectMaxSize(t *testing.T) {
	double := func(n int) int { return 2 * n }
	in := func(s todos) int { return s.Other }
	one := selectors.Create1(in, double)
	two := selectors.Create1(in, double, selectors.MaxSize(2))
	for _, n := range []int{1, 2, 1, 2, 1} {
		assert.Equal(t, 2*n, one.Select(todos{Other: n}))
		assert.Equal(t, 2*n, two.Select(todos{Other: n}))
	}
	assert.Equal(t, uint64(5), one.Recomputations())
	assert.Equal(t, uint64(2), two.Recomputations())
	two.Select(todos{Other: 3}) // evicts 2, the least recently used
	two.Select(todos{Other: 1})
	assert.Equal(t, uint64(3), two.Recomputations())
	two.Select(todos{Other: 2})
	assert.Equal(t, uint64(4), two.Recomputations())
}

// resultEqualityCheck: a recomputed result equal to a cached one is
// replaced by the cached one, so its identity is kept.
func TestReselectResultEqual(t *testing.T) {
	sel := selectors.Create1(func(s todos) int { return s.Other },
		func(n int) []int { return []int{n % 2} },
		selectors.ResultEqual(slices.Equal[[]int]))
	first := sel.Select(todos{Other: 1})
	again := sel.Select(todos{Other: 3}) // a new input, an equal result
	assert.Equal(t, uint64(2), sel.Recomputations(), "the combiner still runs")
	assert.Same(t, &first[0], &again[0], "the cached result is handed out again")
	last, _ := sel.LastResult()
	assert.Same(t, &first[0], &last[0])
}

// Reselect throws when an input selector is not a function; here the
// selector reports it and selects the zero value, without panicking.
func TestBadArgumentsAreErrorsNotPanics(t *testing.T) {
	in := func(s todos) int { return s.Other }
	cases := map[string]selectors.Selector[todos, int]{
		"nil input":          selectors.Create1[todos, int, int](nil, func(int) int { return 1 }),
		"nil combiner":       selectors.Create1[todos, int, int](in, nil),
		"nil inB":            selectors.Create2(in, nil, func(int, int) int { return 1 }),
		"nil inC":            selectors.Create3(in, in, nil, func(int, int, int) int { return 1 }),
		"negative MaxSize":   selectors.Create1(in, func(int) int { return 1 }, selectors.MaxSize(-1)),
		"nil option":         selectors.Create1(in, func(int) int { return 1 }, nil),
		"nil ResultEqual":    selectors.Create1(in, func(int) int { return 1 }, selectors.ResultEqual[int](nil)),
		"ResultEqual's type": selectors.Create1(in, func(int) int { return 1 }, selectors.ResultEqual(func(a, b string) bool { return a == b })),
		"zero Selector":      {},
	}
	for name, sel := range cases {
		t.Run(name, func(t *testing.T) {
			require.Error(t, sel.Err())
			assert.Equal(t, 0, sel.Select(todos{Other: 5}))
			assert.Equal(t, uint64(0), sel.Recomputations())
			sel.ResetRecomputations()
			_, ok := sel.LastResult()
			assert.False(t, ok)
		})
	}
	assert.ErrorIs(t, cases["nil inB"].Err(), selectors.ErrNilFunction)
	assert.ErrorContains(t, cases["nil inB"].Err(), "inB")
	assert.ErrorIs(t, cases["ResultEqual's type"].Err(), selectors.ErrBadOption)
	assert.ErrorIs(t, cases["zero Selector"].Err(), selectors.ErrZeroSelector)
	assert.NoError(t, selectors.Create1(in, func(int) int { return 1 }, selectors.MaxSize(0)).Err())
}

// An input of an interface type may hold a value == cannot compare (a
// slice): == would panic; such inputs recompute every time instead.
func TestUncomparableInputsRecomputeInsteadOfPanicking(t *testing.T) {
	sel := selectors.Create1(func(s todos) any { return []int{s.Other} }, func(v any) int { return v.([]int)[0] })
	assert.Equal(t, 1, sel.Select(todos{Other: 1}))
	assert.Equal(t, 1, sel.Select(todos{Other: 1}))
	assert.Equal(t, uint64(2), sel.Recomputations())
	assert.NoError(t, sel.Err())
	assert.False(t, errors.Is(sel.Err(), selectors.ErrNilFunction))
}

// Selectors compose: a memoized selector is an input selector of another
// (reselect's selectors of selectors, and createStructuredSelector, which
// builds a value from several selectors and keeps it while their results
// are the same). The outer one recomputes only when an inner result
// changed.
func TestSelectorsComposeAsInputSelectors(t *testing.T) {
	count := selectors.Create1(func(s todos) *[]string { return s.Items }, func(items *[]string) int { return len(*items) })
	filter := selectors.Create1(func(s todos) string { return s.Filter }, func(f string) string { return "[" + f + "]" })
	type view struct {
		N      int
		Filter string
	}
	structured := selectors.Create2(count.Select, filter.Select, func(n int, f string) *view { return &view{n, f} })

	items := &[]string{"a"}
	v1 := structured.Select(todos{Items: items, Filter: "x"})
	assert.Equal(t, &view{1, "[x]"}, v1)
	v2 := structured.Select(todos{Items: &[]string{"b"}, Filter: "x", Other: 3}) // a new slice, the same count
	assert.Same(t, v1, v2, "inner results unchanged: the same value")
	assert.Equal(t, uint64(2), count.Recomputations())
	assert.Equal(t, uint64(1), structured.Recomputations())
	v3 := structured.Select(todos{Items: items, Filter: "y"})
	assert.Equal(t, &view{1, "[y]"}, v3)
	assert.Equal(t, uint64(2), structured.Recomputations())
}
