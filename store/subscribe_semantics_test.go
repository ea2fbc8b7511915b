package store_test

// SEMANTICS (proposed by the semantics audit): Subscribe with a huge
// buffer must not panic in make(chan): bad input is a clear outcome,
// never a panic. Proposed fix: cap the buffer (const MaxBuffer = 1 << 20,
// documented on Subscribe), as DefaultBuffer replaces sizes ≤ 0.

import (
	"math"
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
)

func TestSubscribeHugeBufferIsCappedNotAPanic(t *testing.T) {
	st, err := store.New(func(s int, _ actions.Action) int { return s }, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("SEMANTICS: Subscribe(math.MaxInt) panicked (%v); want the buffer capped", r)
		}
	}()
	sub := st.Subscribe(math.MaxInt)
	defer sub.Close()
	if c := cap(sub.C()); c > 1<<20 {
		t.Fatalf("SEMANTICS: Subscribe(math.MaxInt) made a buffer of %d; want at most 1<<20", c)
	}
}
