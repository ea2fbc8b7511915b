package hawechaty_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type reviewApp struct {
	Other int
	Pool  reducers.Pool
}

var reviewBump = actions.Define[int]("review/BUMP")

// A pool mounted in an app's store (NewSlice) takes its Says' ends
// through the lens: concurrent Says, with the app's own actions and its
// own commit hook in between, each get their own receipt.
func TestReviewSliceSaysGetTheirEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sl, err := hawechaty.NewSlice(
			func(s reviewApp) reducers.Pool { return s.Pool },
			func(s *reviewApp, p reducers.Pool) { s.Pool = p })
		require.NoError(t, err)
		var hooked atomic.Int64 // the hook may still run for the last action when the Says have returned
		st, err := store.New(reducers.Combine(
			sl.Reducer(),
			reducers.Field(func(s reviewApp) int { return s.Other }, func(s *reviewApp, n int) { s.Other = n },
				reducers.On(reviewBump, func(n, d int, _ actions.Meta) int { return n + d })),
		), reviewApp{}, append(sl.StoreOptions(), store.WithCommitHook(func(actions.Action, *reviewApp) { hooked.Add(1) }))...)
		require.NoError(t, err)
		pool, err := sl.Bind(st)
		require.NoError(t, err)
		a, b := newFake("a"), newFake("b")
		a.SetSayDelay(10 * time.Millisecond)
		for _, p := range []*fakePuppet{a, b} {
			require.NoError(t, pool.Add(t.Context(), p))
		}
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())
		synctest.Wait()

		const says = 40
		ids := make([]string, says)
		var wg sync.WaitGroup
		for i := range says {
			wg.Go(func() {
				r, err := pool.Say(t.Context(), "alice", fmt.Sprint("m", i))
				assert.NoError(t, err)
				ids[i] = r.ID
			})
			wg.Go(func() { assert.NoError(t, st.Dispatch(reviewBump.New(1))) })
		}
		wg.Wait()
		assert.Len(t, uniq(ids), says)
		assert.Equal(t, says, st.State().Other)
		assert.Zero(t, st.State().Pool.Sends.Len())
		assert.Positive(t, hooked.Load())
		waiting, _ := hawechaty.Bells(pool)
		assert.Zero(t, waiting)
	})
}
