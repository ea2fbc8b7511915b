package reducers

import (
	"testing"
	"unsafe"
)

// TestSmallBlocksPutSlotsAfterTheHead: entries finds a small table's
// slots at one offset from its head, whatever the block's capacity.
func TestSmallBlocksPutSlotsAfterTheHead(t *testing.T) {
	check := func(name string, offs ...uintptr) {
		for _, o := range offs[1:] {
			if o != offs[0] {
				t.Fatalf("%s: slots at offsets %v", name, offs)
			}
		}
	}
	check("*Send", unsafe.Offsetof(small1[*Send]{}.e), unsafe.Offsetof(small2[*Send]{}.e),
		unsafe.Offsetof(small4[*Send]{}.e))
	check("bool", unsafe.Offsetof(small1[bool]{}.e), unsafe.Offsetof(small2[bool]{}.e),
		unsafe.Offsetof(small4[bool]{}.e))
	check("[]string", unsafe.Offsetof(small1[[]string]{}.e), unsafe.Offsetof(small2[[]string]{}.e),
		unsafe.Offsetof(small4[[]string]{}.e))
	for n := 1; n <= smallMax; n++ {
		es := make([]entry[int], n)
		for i := range es {
			es[i] = entry[int]{key: string(rune('a' + i)), val: i}
		}
		tb := newSmall(es, n)
		for i, e := range tb.h.entries() {
			if e.key != es[i].key || e.val != i {
				t.Fatalf("%d slots: slot %d reads %+v", n, i, e)
			}
		}
	}
}
