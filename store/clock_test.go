package store_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStampsFollowTheClock checks the stamp clock against virtual time:
// within a second of its anchor and after it, a stamp is time.Now.
func TestStampsFollowTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := store.New(counter, 0)
		require.NoError(t, err)
		defer s.Stop()
		sub := s.Subscribe(16)
		for _, wait := range []time.Duration{0, 300 * time.Millisecond, 699 * time.Millisecond, time.Second, 2500 * time.Millisecond} {
			time.Sleep(wait)
			require.NoError(t, s.Dispatch(add.New(1)))
			c := <-sub.C()
			assert.True(t, c.Action.Meta.Time.Equal(time.Now()), "after %v: stamp %v, now %v", wait, c.Action.Meta.Time, time.Now())
		}
		// A stamp the caller set is kept.
		at := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		a := add.New(1)
		a.Meta.Time = at
		require.NoError(t, s.Dispatch(a))
		assert.Equal(t, at, (<-sub.C()).Action.Meta.Time)
	})
}

// TestStampsAreInDispatchOrder dispatches from several goroutines and
// checks that stamps never decrease in Seq order and fall between the
// wall-clock readings taken around the dispatches.
func TestStampsAreInDispatchOrder(t *testing.T) {
	const writers, each = 4, 2000
	s, err := store.New(counter, 0)
	require.NoError(t, err)
	defer s.Stop()
	sub := s.Subscribe(writers * each)
	before := time.Now()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				_ = s.Dispatch(add.New(1))
			}
		})
	}
	wg.Wait()
	after := time.Now()
	require.Zero(t, sub.Dropped())
	var last time.Time
	for i := range writers * each {
		c := <-sub.C()
		require.Equal(t, uint64(i+1), c.Action.Meta.Seq)
		ts := c.Action.Meta.Time
		require.False(t, ts.Before(last), "seq %d stamped %v, before %v", i+1, ts, last)
		require.False(t, ts.Before(before) || ts.After(after), "stamp %v outside [%v, %v]", ts, before, after)
		last = ts
	}
}
