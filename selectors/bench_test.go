package selectors_test

import (
	"testing"

	"github.com/hawechaty/hawechaty/selectors"
)

// BenchmarkSelectHit is a cache hit, against calling the input selector
// and comparing by hand (the baseline, in the same run).
func BenchmarkSelectHit(b *testing.B) {
	in := func(s todos) int { return s.Other }
	st := todos{Other: 7}
	b.Run("baseline", func(b *testing.B) {
		last, r := -1, 0
		for b.Loop() {
			if k := in(st); k != last {
				last, r = k, k*2
			}
		}
		_ = r
	})
	b.Run("Select", func(b *testing.B) {
		sel := selectors.Create1(in, func(n int) int { return n * 2 })
		for b.Loop() {
			sel.Select(st)
		}
	})
	b.Run("Select/MaxSize4", func(b *testing.B) {
		sel := selectors.Create1(in, func(n int) int { return n * 2 }, selectors.MaxSize(4))
		for b.Loop() {
			sel.Select(st)
		}
	})
}
