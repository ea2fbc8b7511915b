package store_test

import (
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
)

// BenchmarkDispatchOverhead measures the store's fixed cost per action
// with a reducer that does almost nothing: the middleware call, the lock,
// the time stamp (one monotonic clock read) and publishing a new state
// (one allocation of S). BenchmarkDispatchW1 minus this is the reducer.
func BenchmarkDispatchOverhead(b *testing.B) {
	s, err := store.New(func(n int, _ actions.Action) int { return n + 1 }, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	a := w1Request.New(actions.Empty{})
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Dispatch(a); err != nil {
			b.Fatal(err)
		}
	}
	if got, want := s.State(), int(s.Seq()); got != want {
		b.Fatalf("state %d after %d actions", got, want)
	}
}
