package store_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// EpicBacklog counts the actions an epic that lags has not taken, and
// falls to 0 when it catches up.
func TestEpicBacklogOfALaggingEpic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		taken := 0
		stuck := func(_ context.Context, in rxgo.Observable, _ store.StateStream[int]) rxgo.Observable {
			return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, _ chan<- rxgo.Item) {
				items := in.Observe(rxgo.WithContext(ctx))
				select {
				case <-release:
				case <-ctx.Done():
					return
				}
				for range items {
					taken++
				}
			}})
		}
		s, err := store.New(counter, 0, store.WithEpic("stuck", stuck))
		require.NoError(t, err)
		assert.Zero(t, s.EpicBacklog(), "not started")
		require.NoError(t, s.Start(t.Context()))
		const n = 2000
		for range n {
			require.NoError(t, s.Dispatch(add.New(1)))
		}
		synctest.Wait()
		backlog := s.EpicBacklog()
		assert.LessOrEqual(t, backlog, n+1, "Init and the adds, at most")
		assert.GreaterOrEqual(t, backlog, n+1-2*256, "all but what the epic's feeder holds")
		close(release)
		synctest.Wait()
		assert.Zero(t, s.EpicBacklog(), "caught up")
		assert.Equal(t, n+1, taken)
		s.Stop()
	})
}

func TestEpicBacklogWithoutEpics(t *testing.T) {
	s, err := store.New(counter, 0)
	require.NoError(t, err)
	require.NoError(t, s.Start(t.Context()))
	defer s.Stop()
	require.NoError(t, s.Dispatch(add.New(1)))
	assert.Zero(t, s.EpicBacklog())
}
