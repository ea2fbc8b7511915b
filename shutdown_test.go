package hawechaty_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests of Remove and Stop against calls under way into the
// puppets (found by a second read of the call tracking).

// A call that only ends when its context ends (a room lookup on a dead
// bot, with a context that never ends) does not hold Remove forever:
// after 30 s Remove cuts it short, then stops and closes the puppet.
func TestRemoveCutsShortACallThatWouldNotEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		b, err := world.AddBot("bot-a")
		require.NoError(t, err)
		pool := startPool(t, nil, b)
		defer pool.Stop(context.Background())
		b.Die()

		found := make(chan error, 1)
		go func() { _, err := pool.Room.FindAll(context.Background(), "x"); found <- err }()
		synctest.Wait()
		start := time.Now()
		err = pool.Remove(context.Background(), "bot-a")
		assert.Equal(t, 30*time.Second, time.Since(start), "waited 30 s for the call")
		assert.ErrorContains(t, err, "calls under way were cut short")
		assert.Error(t, <-found, "the lookup was cut short")
	})
}

// slowStop is a fake whose Stop takes 31 s whatever its context says, and
// which records the bots whose Stop got a context that was already over.
type slowStop struct {
	*fakePuppet
	mu      *sync.Mutex
	expired *[]string
}

func (s slowStop) Stop(ctx context.Context) error {
	s.mu.Lock()
	if ctx.Err() != nil {
		*s.expired = append(*s.expired, s.name)
	}
	s.mu.Unlock()
	time.Sleep(31 * time.Second)
	return s.fakePuppet.Stop(context.Background())
}

// Each bot's Stop gets 30 s of its own: a slow bot does not leave the next
// one an expired context (its logout would be skipped).
func TestStopGivesEachBotItsOwnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var expired []string
		pool, err := hawechaty.New(hawechaty.WithSeed(1))
		require.NoError(t, err)
		for _, n := range []string{"a", "b"} {
			require.NoError(t, pool.Add(t.Context(), slowStop{newFake(n), &mu, &expired}))
		}
		require.NoError(t, pool.Start(t.Context()))
		synctest.Wait()
		require.NoError(t, pool.Stop(context.Background()))
		assert.Empty(t, expired, "a puppet's Stop was given an expired context")
	})
}

// Remove with a context already done, and nothing under way, still takes
// the bot out of the pool: the name is free at once, and the idle puppet
// is stopped and closed in the background. Remove may say that it did
// not wait (its context had ended), and nothing else.
func TestRemoveWithADoneContextAndNothingUnderWay(t *testing.T) {
	for range 20 {
		synctest.Test(t, func(t *testing.T) {
			a := newFake("a")
			pool := startPool(t, nil, a)
			defer pool.Stop(context.Background())
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := pool.Remove(ctx, "a"); err != nil {
				require.ErrorIs(t, err, context.Canceled)
			}
			assert.ErrorIs(t, pool.Remove(context.Background(), "a"), hawechaty.ErrUnknownBot)
			synctest.Wait()
			assert.False(t, a.Started(), "not stopped")
			assert.True(t, a.Closed(), "not closed")
			assert.Zero(t, pool.State().Bots.Len())
			require.NoError(t, pool.Add(t.Context(), newFake("a")), "the name is not free")
		})
	}
}

// A Say under way when the pool stops learns that the message may have
// left (the puppet did send it here), not only that the pool stopped.
func TestSayUnderWayAtStopIsAnUnknownOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := slowSay{fakePuppet: newFake("a"), closed: new(atomic.Int32), late: new(atomic.Int32)}
		pool, err := hawechaty.New(hawechaty.WithSeed(1))
		require.NoError(t, err)
		require.NoError(t, pool.Add(t.Context(), a))
		require.NoError(t, pool.Start(t.Context()))
		synctest.Wait()
		said := make(chan error, 1)
		go func() { _, err := pool.Say(context.Background(), "alice", "x"); said <- err }()
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, pool.Stop(context.Background()))
		err = <-said
		var se *hawechaty.SendError
		require.True(t, errors.As(err, &se), "a SendError: %v", err)
		assert.ErrorIs(t, err, hawechaty.ErrStopped)
		assert.ErrorIs(t, err, puppet.ErrOutcomeUnknown)
		assert.Equal(t, []string{"alice:x"}, a.Said())
	})
}
