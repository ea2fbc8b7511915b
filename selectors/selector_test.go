package selectors_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/selectors"
	"github.com/stretchr/testify/assert"
)

type state struct {
	Bots   reducers.Table[bool]
	Cursor int
	Label  string
}

func countTrue(t reducers.Table[bool]) int {
	n := 0
	for _, v := range t.All() {
		if v {
			n++
		}
	}
	return n
}

func TestCreate1HitsAndMisses(t *testing.T) {
	sel := selectors.Create1(func(s state) reducers.Table[bool] { return s.Bots }, countTrue)
	s := state{Bots: reducers.Table[bool]{}.Set("a", true).Set("b", false)}

	assert.Equal(t, 1, sel.Select(s))
	assert.Equal(t, uint64(1), sel.Recomputations())

	s.Cursor++ // an unrelated field changes
	s.Label = "x"
	assert.Equal(t, 1, sel.Select(s))
	assert.Equal(t, uint64(1), sel.Recomputations(), "input unchanged: cache hit")

	s.Bots = s.Bots.Set("b", true)
	assert.Equal(t, 2, sel.Select(s))
	assert.Equal(t, uint64(2), sel.Recomputations(), "input changed: recomputed")

	s.Bots = s.Bots.Delete("zz") // no-op returns the same table
	assert.Equal(t, 2, sel.Select(s))
	assert.Equal(t, uint64(2), sel.Recomputations())
}

func TestCreate2And3(t *testing.T) {
	sel2 := selectors.Create2(
		func(s state) reducers.Table[bool] { return s.Bots },
		func(s state) int { return s.Cursor },
		func(b reducers.Table[bool], c int) string { return fmt.Sprint(countTrue(b), "@", c) })
	sel3 := selectors.Create3(
		func(s state) reducers.Table[bool] { return s.Bots },
		func(s state) int { return s.Cursor },
		func(s state) string { return s.Label },
		func(b reducers.Table[bool], c int, l string) string {
			return fmt.Sprintf("%d %d %s", countTrue(b), c, l)
		})
	s := state{Bots: reducers.Table[bool]{}.Set("a", true)}
	assert.Equal(t, "1@0", sel2.Select(s))
	assert.Equal(t, "1@0", sel2.Select(s))
	assert.Equal(t, uint64(1), sel2.Recomputations())
	s.Cursor = 3
	assert.Equal(t, "1@3", sel2.Select(s))
	assert.Equal(t, uint64(2), sel2.Recomputations())

	assert.Equal(t, "1 3 ", sel3.Select(s))
	s.Label = "L"
	assert.Equal(t, "1 3 L", sel3.Select(s))
	assert.Equal(t, "1 3 L", sel3.Select(s))
	assert.Equal(t, uint64(2), sel3.Recomputations())
}

func TestConcurrentSelect(t *testing.T) {
	sel := selectors.Create1(func(s state) int { return s.Cursor }, func(c int) int { return c * 2 })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				c := (i + g) % 5
				if got := sel.Select(state{Cursor: c}); got != c*2 {
					t.Errorf("Select(%d) = %d", c, got)
					return
				}
			}
		})
	}
	wg.Wait()
}
