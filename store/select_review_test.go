package store_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Select's T is comparable, which an interface type satisfies; two values
// of an uncomparable dynamic type (slices here) make offer's != panic
// outside apply's recover, under the store's lock, in the middle of
// commit. reduce's recover then reports ErrReducerPanicked for an action
// that was committed (seq, state, subscribers and epics all have it),
// against the documented "the state is unchanged, nobody sees the action".
func TestReviewSelectUncomparableValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		epic := func(ctx context.Context, _ rxgo.Observable, ss store.StateStream[int]) rxgo.Observable {
			sel := store.Select(ss, func(n int) any { return []int{n} })
			sel.DoOnNext(func(any) {}, rxgo.WithContext(ctx))
			return idle(ctx)
		}
		s, err := store.New(counter, 0, store.WithEpic("sel", epic))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		defer s.Stop()
		synctest.Wait() // the selection is subscribed
		sub := s.Subscribe(4)
		err = s.Dispatch(add.New(1))
		assert.NoError(t, err, "a Select function's value is not the reducer's business")
		if assert.Len(t, sub.C(), 1) {
			assert.Equal(t, 1, (<-sub.C()).State)
		}
		if errors.Is(err, store.ErrReducerPanicked) {
			assert.Equal(t, 0, s.State(), "ErrReducerPanicked, yet the state changed")
		}
	})
}
