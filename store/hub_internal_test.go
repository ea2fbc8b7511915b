package store

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/reactivex/rxgo/v2"
)

// TestStatesAreQueuedOnlyForEpicsThatObserveThem: boxing and queueing a
// state per action for an epic that never reads states was most of the
// cost of a store with epics (W1: 0.9M -> 1.5M actions/s without it).
func TestStatesAreQueuedOnlyForEpicsThatObserveThem(t *testing.T) {
	ignore := func(ctx context.Context, in rxgo.Observable, _ StateStream[int]) rxgo.Observable {
		return in.IgnoreElements(rxgo.WithContext(ctx))
	}
	watch := func(ctx context.Context, in rxgo.Observable, st StateStream[int]) rxgo.Observable {
		return st.Observe().IgnoreElements(rxgo.WithContext(ctx))
	}
	reducer := func(s int, _ actions.Action) int { return s + 1 }
	for _, tc := range []struct {
		name string
		epic Epic[int]
		want bool
	}{{"ignores states", ignore, false}, {"observes states", watch, true}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(reducer, 0, WithEpic("e", tc.epic))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer s.Stop()
			if got := s.stateHub.active(); got != tc.want {
				t.Fatalf("states queued: %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFinishedEpicStopsQueueingItsInput: an epic whose output ends (Take)
// or that fails (emits a non-action) no longer has its input queued, so a
// long-running store does not keep every later action for it.
func TestFinishedEpicStopsQueueingItsInput(t *testing.T) {
	take1 := func(ctx context.Context, in rxgo.Observable, _ StateStream[int]) rxgo.Observable {
		return in.Take(1, rxgo.WithContext(ctx)).IgnoreElements(rxgo.WithContext(ctx))
	}
	bad := func(ctx context.Context, in rxgo.Observable, _ StateStream[int]) rxgo.Observable {
		return in.Map(func(context.Context, any) (any, error) { return 42, nil }, rxgo.WithContext(ctx))
	}
	reducer := func(s int, _ actions.Action) int { return s + 1 }
	for name, epic := range map[string]Epic[int]{"completes": take1, "fails": bad} {
		t.Run(name, func(t *testing.T) {
			s, err := New(reducer, 0, WithEpic("e", epic))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer s.Stop()
			deadline := time.Now().Add(10 * time.Second)
			for s.actionHub.active() {
				// rxgo's Take completes on the item after its last one.
				if err := s.Dispatch(actions.Init.New(actions.Empty{})); err != nil {
					t.Fatal(err)
				}
				if time.Now().After(deadline) {
					t.Fatal("the finished epic's input is still queued after 10 s")
				}
				runtime.Gosched()
			}
		})
	}
}

// TestIgnoredInputIsFreedByTheGarbageCollector: an epic that drops its
// input (and a state stream it made) without subscribing can never claim
// its mailboxes; they are dropped once the Observables are garbage,
// without a timer, and the store stops queueing for the epic.
func TestIgnoredInputIsFreedByTheGarbageCollector(t *testing.T) {
	ignore := func(ctx context.Context, _ rxgo.Observable, st StateStream[int]) rxgo.Observable {
		_ = st.Observe() // made while building, then dropped
		return rxgo.Never()
	}
	s, err := New(func(s int, _ actions.Action) int { return s + 1 }, 0, WithEpic("ignore", ignore))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for s.actionHub.active() || s.stateHub.active() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: actions queued %v, states queued %v", s.actionHub.active(), s.stateHub.active())
		}
		if err := s.Dispatch(actions.Init.New(actions.Empty{})); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.Gosched()
	}
}

// TestHeldInputIsKeptUntilClaimed: the same epic, but one that keeps its
// input to subscribe later: nothing is dropped, however many collections
// and however much time passes.
func TestHeldInputIsKeptUntilClaimed(t *testing.T) {
	gate := make(chan struct{})
	var seen atomic.Int64
	late := func(ctx context.Context, in rxgo.Observable, _ StateStream[int]) rxgo.Observable {
		return rxgo.Defer([]rxgo.Producer{func(_ context.Context, _ chan<- rxgo.Item) {
			select {
			case <-gate:
			case <-ctx.Done():
				return
			}
			for range in.Observe(rxgo.WithContext(ctx)) {
				seen.Add(1)
			}
		}}, rxgo.WithContext(ctx))
	}
	s, err := New(func(s int, _ actions.Action) int { return s + 1 }, 0, WithEpic("late", late))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	for range 5 {
		if err := s.Dispatch(actions.Init.New(actions.Empty{})); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
	}
	close(gate)
	deadline := time.Now().Add(10 * time.Second)
	for seen.Load() < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s the epic saw %d actions of 6", seen.Load())
		}
		runtime.Gosched()
	}
}

// TestSameState: == for comparable states (identity for pointers), a
// panicking == counts as a change, and no comparison at all for states
// that == cannot compare.
func TestSameState(t *testing.T) {
	type ptr struct{ n int }
	a, b := &ptr{1}, &ptr{1}
	if !sameOf(a, a) || sameOf(a, b) {
		t.Error("pointers: identity")
	}
	if !sameOf(3, 3) || sameOf(3, 4) {
		t.Error("int: ==")
	}
	type withTime struct {
		At time.Time
		P  *ptr
	}
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if !sameOf(withTime{at, a}, withTime{at, a}) || sameOf(withTime{at, a}, withTime{at, b}) {
		t.Error("struct: == of the fields, identity of the pointers")
	}
	type withIface struct{ V any }
	if !sameOf(withIface{1}, withIface{1}) {
		t.Error("interface holding an int: ==")
	}
	if sameOf(withIface{[]int{1}}, withIface{[]int{1}}) {
		t.Error("interface holding a slice: == panics, which is a change")
	}
	var e1, e2 error = errors.New("x"), nil
	if !sameOf(e1, e1) || sameOf(e1, e2) || !sameOf(e2, e2) {
		t.Error("interface state: == of the dynamic values")
	}
	same, x, y := sameState[withTime](), withTime{at, a}, withTime{at, b}
	if n := testing.AllocsPerRun(10, func() { same(x, y) }); n > 0 {
		t.Errorf("comparing allocates: %v", n)
	}
	if sameState[[]int]() != nil || sameState[map[string]int]() != nil || sameState[struct{ F func() }]() != nil {
		t.Error("not comparable: every commit is a change")
	}
}

// sameOf is sameState[S] applied to a and b.
func sameOf[S any](a, b S) bool { return sameState[S]()(a, b) }
