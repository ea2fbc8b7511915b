// Package selectors holds memoized reads of state, in the spirit of
// reselect: input selectors pick parts of the state, a combiner computes
// the result, and the result is cached until an input changes (==).
// Because reducers return the same value when nothing changed, and
// reducers.Table versions compare equal only when unchanged, selectors hit
// their cache on every action that does not touch their inputs.
//
// # Usage
//
//	available := selectors.Create1(
//		func(s State) reducers.Table[Bot] { return s.Bots },
//		func(bots reducers.Table[Bot]) int {
//			n := 0
//			for _, b := range bots.All() {
//				if b.Available {
//					n++
//				}
//			}
//			return n
//		})
//
//	n := available.Select(st.State()) // computed
//	n = available.Select(st.State())  // cached while Bots is unchanged
//
// # Against reselect
//
// As reselect's createSelector: input selectors run on every Select, the
// combiner (resultFunc) only when their results changed; Recomputations,
// ResetRecomputations and LastResult are recomputations(),
// resetRecomputations() and lastResult(). Memoization is lruMemoize's:
// one computation cached by default, more with MaxSize, and ResultEqual
// is its resultEqualityCheck. Selectors compose as reselect's do: pass a
// selector's Select as an input selector of another, which then
// recomputes only when that selector's result changed; a combiner that
// builds a struct from several selectors is createStructuredSelector.
// Differences: inputs compare with Go's ==
// (reselect's ===), and inputs holding values == cannot compare (a slice
// in an any) recompute every time; reselect 5's default weakMapMemoize,
// which caches every input ever seen, has no counterpart (Go has no weak
// map keyed by any value): use MaxSize. Bad arguments (a nil function, a
// bad option) are reported by Err, not thrown: the selector then selects
// the zero value.
package selectors
