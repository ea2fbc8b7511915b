package store

import (
	"context"
	"runtime"
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
