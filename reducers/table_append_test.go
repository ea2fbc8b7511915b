package reducers_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/hawechaty/hawechaty/reducers"
)

// TestTableReadersDuringAppends reads old versions from other goroutines
// while one goroutine keeps appending keys, which writes the new slots in
// place, in nodes the old versions share; under -race this checks that a
// reader never reads a slot past its version's length, and every version
// still holds exactly its own keys.
func TestTableReadersDuringAppends(t *testing.T) {
	const appends = 5_000
	type snap struct {
		tb reducers.Table[int]
		n  int
	}
	published := make(chan snap, 64)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for s := range published {
				i := 0
				for k, v := range s.tb.All() {
					if k != fmt.Sprint(v) || v != i {
						errs <- fmt.Errorf("version of %d keys: slot %d holds %s=%d", s.n, i, k, v)
						return
					}
					i++
				}
				if i != s.n || s.tb.Len() != s.n || s.tb.Has(fmt.Sprint(s.n)) {
					errs <- fmt.Errorf("version of %d keys walks %d, Len %d", s.n, i, s.tb.Len())
					return
				}
			}
		})
	}
	var tb reducers.Table[int]
	for i := range appends {
		tb = tb.Set(fmt.Sprint(i), i)
		select {
		case published <- snap{tb, i + 1}:
		default:
		}
	}
	close(published)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestTableAppendAfterDelete re-adds a deleted key at the end of a table
// (its hole is reused, not a fresh slot) and checks that the version
// before still reads it as deleted and the one before that as present.
func TestTableAppendAfterDelete(t *testing.T) {
	a := reducers.Table[int]{}.Set("x", 1).Set("y", 2)
	b := a.Delete("y")
	c := b.Set("y", 3)
	d := c.Set("z", 4)
	for _, tc := range []struct {
		name string
		tb   reducers.Table[int]
		want []string
	}{
		{"a", a, []string{"x=1", "y=2"}},
		{"b", b, []string{"x=1"}},
		{"c", c, []string{"x=1", "y=3"}},
		{"d", d, []string{"x=1", "y=3", "z=4"}},
	} {
		var got []string
		for k, v := range tc.tb.All() {
			got = append(got, fmt.Sprintf("%s=%d", k, v))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
