package reducers

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestIndexReadersWhileGrowing stores keys from one goroutine, growing the
// table many times, while readers look up every key already published;
// under -race it checks that lookups never miss a stored key.
func TestIndexReadersWhileGrowing(t *testing.T) {
	const keys = 20_000
	x := &newLineage[int]().index
	var stored atomic.Int64
	var wg sync.WaitGroup
	var misses atomic.Int64
	for r := range 2 {
		wg.Go(func() {
			for {
				n := stored.Load()
				for i := int64(r); i < n; i += 97 {
					if slot, ok := x.load(fmt.Sprint(i)); !ok || slot != int(i) {
						misses.Add(1)
					}
				}
				if n == keys {
					return
				}
			}
		})
	}
	for i := range keys {
		x.store(fmt.Sprint(i), i)
		stored.Store(int64(i + 1))
	}
	wg.Wait()
	if m := misses.Load(); m != 0 {
		t.Fatalf("%d lookups of stored keys missed", m)
	}
	if _, ok := x.load("absent"); ok {
		t.Fatal("found a key never stored")
	}
	empty := &newLineage[int]().index
	if _, ok := empty.load("a"); ok {
		t.Fatal("empty index found a key")
	}
}
