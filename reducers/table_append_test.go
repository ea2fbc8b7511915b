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

// TestTableDeletedValuesStayHidden: a deletion clears the key's slot and
// leaves the value's: no version after it reads that value (Get, At, All,
// Update, a branch copied from it), the versions before it still do, and
// the key set again reads its new value.
func TestTableDeletedValuesStayHidden(t *testing.T) {
	var a reducers.Table[int]
	for i := range 10 {
		a = a.Set(fmt.Sprint(i), i)
	}
	b := a.Delete("3")
	if v, ok := a.Get("3"); !ok || v != 3 {
		t.Fatalf("the version before the deletion reads %d, %v", v, ok)
	}
	if _, ok := b.Get("3"); ok {
		t.Fatal("the deleted key is still read")
	}
	if k, v, ok := b.At(3); ok || k != "" || v != 0 {
		t.Fatalf("At on the hole: %q %d %v", k, v, ok)
	}
	for k := range b.All() {
		if k == "3" {
			t.Fatal("All yields the deleted key")
		}
	}
	if c := b.Update("3", func(int) int { t.Fatal("Update called for a deleted key"); return 0 }); c != b {
		t.Fatal("Update of a deleted key changed the table")
	}
	c := b.Set("4", 40) // b is no longer the newest: a branch copies it
	branch := b.Set("9", 90)
	if _, ok := branch.Get("3"); ok {
		t.Fatal("a branch reads the deleted key")
	}
	if k, v, ok := branch.At(3); ok || v != 0 {
		t.Fatalf("a branch's hole holds %q=%d", k, v)
	}
	d := c.Set("3", 33)
	if v, _ := d.Get("3"); v != 33 || d.Position("3") != 3 {
		t.Fatalf("the key set again reads %d at %d", v, d.Position("3"))
	}
	if _, ok := c.Get("3"); ok {
		t.Fatal("setting the key again changed the version before")
	}
}
