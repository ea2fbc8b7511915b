package reducers_test

import (
	"testing"
	"unsafe"

	"github.com/hawechaty/hawechaty/reducers"
)

// TestPoolIsSmall holds the state's size down: the store boxes the whole
// Pool into an any at every commit, and a Table or the Deadlines is one
// pointer wide, so that box stays small.
func TestPoolIsSmall(t *testing.T) {
	if got := unsafe.Sizeof(reducers.Table[int]{}); got != unsafe.Sizeof(uintptr(0)) {
		t.Errorf("a Table is %d bytes, want one pointer", got)
	}
	if got := unsafe.Sizeof(reducers.Deadlines{}); got != unsafe.Sizeof(uintptr(0)) {
		t.Errorf("Deadlines is %d bytes, want one pointer", got)
	}
	if got := unsafe.Sizeof(reducers.Pool{}); got > 256 {
		t.Errorf("a Pool is %d bytes, want at most 256", got)
	}
	// Two Send records are made per Say, from a slab of 16: at 200 bytes
	// a slab's chunk is in the same size class as before Send had
	// Collect and its bot's position.
	if got := unsafe.Sizeof(reducers.Send{}); got > 200 {
		t.Errorf("a Send is %d bytes, want at most 200", got)
	}
	t.Logf("Pool: %d bytes, Send: %d", unsafe.Sizeof(reducers.Pool{}), unsafe.Sizeof(reducers.Send{}))
}
