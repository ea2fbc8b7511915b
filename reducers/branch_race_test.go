package reducers_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/hawechaty/hawechaty/reducers"
)

// TestBranchWhileNewestGrows changes a version of a table from several
// goroutines at once while one of them goes on deriving newer versions:
// the others copy it into lineages of their own (a branch), and under
// -race this checks that the copy reads nothing that the newest
// version's writer writes.
func TestBranchWhileNewestGrows(t *testing.T) {
	for round := range 100 {
		var base reducers.Table[int]
		for i := range 10 {
			base = base.Set(fmt.Sprint(i), i)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		lens := make([]int, 3)
		for g := range lens {
			wg.Go(func() {
				<-start
				tb := base
				for i := range 300 { // the first to change base goes on in its lineage
					tb = tb.Set(fmt.Sprint(g, "-", i), i)
				}
				lens[g] = tb.Len()
			})
		}
		close(start)
		wg.Wait()
		for g, n := range lens {
			if n != 310 || base.Len() != 10 {
				t.Fatalf("round %d goroutine %d: Len %d, base %d, want 310 and 10", round, g, n, base.Len())
			}
		}
	}
}
