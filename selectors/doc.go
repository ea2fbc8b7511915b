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
package selectors
