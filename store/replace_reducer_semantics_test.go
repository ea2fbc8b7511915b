package store_test

// SEMANTICS (proposed by the semantics audit): Redux's store has
// replaceReducer(next): it swaps the reducer and dispatches its REPLACE
// action at once, so the new reducer sees the current state and can fill
// in what it adds; subscribers see that action; later actions go through
// the new reducer. The Store has Replace (a state), not a reducer swap.
// Proposed: func (s *Store[S]) ReplaceReducer(r Reducer[S]) error: nil r
// is an error; under the store lock, swap the reducer and reduce an
// action of a new type "@@store/REPLACE_REDUCER" (actions.ReducerReplaced)
// through it, as Replace reduces actions.Replaced; ErrStopped after Stop.

import (
	"testing"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
)

var bump = actions.Define[int]("semantics_test/BUMP")

func TestReplaceReducerAsRedux(t *testing.T) {
	st, err := store.New(func(s int, a actions.Action) int {
		if n, ok := bump.Match(a); ok {
			return s + n
		}
		return s
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	rr, ok := any(st).(interface {
		ReplaceReducer(store.Reducer[int]) error
	})
	if !ok {
		t.Fatal("SEMANTICS: *store.Store has no ReplaceReducer(Reducer[S]) error (Redux's store.replaceReducer)")
	}
	if err := st.Dispatch(bump.New(1)); err != nil {
		t.Fatal(err)
	}
	sub := st.Subscribe(8)
	defer sub.Close()
	var sawReplace []string
	if err := rr.ReplaceReducer(func(s int, a actions.Action) int {
		sawReplace = append(sawReplace, a.Type)
		if n, ok := bump.Match(a); ok {
			return s + 10*n
		}
		return s
	}); err != nil {
		t.Fatal(err)
	}
	if len(sawReplace) != 1 {
		t.Fatalf("SEMANTICS: the new reducer must reduce one replace action at once; it saw %q", sawReplace)
	}
	if c := <-sub.C(); c.Action.Type != sawReplace[0] || c.State != 1 {
		t.Fatalf("SEMANTICS: subscribers must see the replace action with the state kept (1); got %s, %d", c.Action.Type, c.State)
	}
	if err := st.Dispatch(bump.New(1)); err != nil {
		t.Fatal(err)
	}
	if got := st.State(); got != 11 {
		t.Fatalf("SEMANTICS: after ReplaceReducer the new reducer reduces: state %d, want 11", got)
	}
	if err := rr.ReplaceReducer(nil); err == nil {
		t.Fatal("SEMANTICS: ReplaceReducer(nil) must be an error")
	}
}
