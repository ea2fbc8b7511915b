package store_test

import (
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
)

// BenchmarkDispatchOverhead measures the store's fixed cost per action
// with a reducer that does almost nothing: the middleware call, the lock,
// the time stamp (one monotonic clock read) and publishing a new state
// (one allocation of S). With W1's state and an action that only moves
// the cursor, it is the floor under BenchmarkDispatchW1: the difference is
// the bots table.
func BenchmarkDispatchOverhead(b *testing.B) {
	b.Run("state=int", func(b *testing.B) {
		s, err := store.New(func(n int, _ actions.Action) int { return n + 1 }, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Stop()
		loopDispatch(b, s, w1Request.New(actions.Empty{}))
		if got, want := s.State(), int(s.Seq()); got != want {
			b.Fatalf("state %d after %d actions", got, want)
		}
	})
	b.Run("state=W1", func(b *testing.B) {
		initial, _ := w1Setup(100)
		s, err := store.New(w1Reducer, initial)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Stop()
		loopDispatch(b, s, w1Request.New(actions.Empty{}))
		if got, want := s.State().Cursor, int(s.Seq()%100); got != want {
			b.Fatalf("cursor %d after %d actions", got, s.Seq())
		}
	})
}

func loopDispatch[S any](b *testing.B, s *store.Store[S], a actions.Action) {
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Dispatch(a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEpicAnsweringTwice dispatches b.N PINGs into a store whose
// epic answers each with two PONGs, and waits for all of them: the cost
// of a round trip through an epic, and, run with -benchtime=1000000x, the
// proof at scale that such an epic never deadlocks the store.
func BenchmarkEpicAnsweringTwice(b *testing.B) {
	s := pingPongStore(b)
	defer s.Stop()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.Dispatch(ping.New(i)); err != nil {
			b.Fatal(err)
		}
	}
	for s.State() < 2*b.N {
		select {
		case <-s.Done():
			b.Fatal("store stopped")
		default:
		}
		runtimeGosched()
	}
}
