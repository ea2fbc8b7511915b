package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Select maps the states the store makes: an action that leaves the
// state as it was makes no new state, so a selection emits nothing for
// it, even when its function's values never compare equal (a new
// pointer each call, as a selector that builds a view returns), and
// whether or not anybody watches the state stream.
func TestReview5SelectEmitsNothingForAnUnchangedState(t *testing.T) {
	for _, watched := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			var emitted atomic.Int32
			epic := func(ctx context.Context, _ rxgo.Observable, ss store.StateStream[int]) rxgo.Observable {
				sel := store.Select(ss, func(n int) *int { return &n })
				sel.DoOnNext(func(any) { emitted.Add(1) }, rxgo.WithContext(ctx))
				if watched {
					ss.Observe().DoOnNext(func(any) {}, rxgo.WithContext(ctx))
				}
				return idle(ctx)
			}
			s, err := store.New(counter, 0, store.WithEpic("sel", epic))
			require.NoError(t, err)
			require.NoError(t, s.Start(context.Background()))
			defer s.Stop()
			synctest.Wait() // subscribed: the first value is out
			require.Equal(t, int32(1), emitted.Load())
			for range 3 {
				require.NoError(t, s.Dispatch(add.New(0))) // the same state
			}
			require.NoError(t, s.Dispatch(add.New(1)))
			synctest.Wait()
			assert.Equal(t, int32(2), emitted.Load(), "watched %v: the first state, then one new state", watched)
		})
	}
}
