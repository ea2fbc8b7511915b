package hawechaty_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAddRemoveStormLeavesNoGhost races Add and Remove of one name from
// many goroutines, in a started pool and in one not started yet. When the
// storm is over, the state's bots are the pool's puppets: no record
// without a puppet, no puppet without a record; the record of the bot
// tells of its current puppet (logged in exactly when that puppet is),
// not of one removed before; and every other puppet of the storm is
// stopped and closed.
func TestAddRemoveStormLeavesNoGhost(t *testing.T) {
	for _, started := range []bool{true, false} {
		for seed := range uint64(10) {
			t.Run(fmt.Sprintf("started=%v/seed=%d", started, seed), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) { storm(t, started, seed) })
			})
		}
	}
}

func storm(t *testing.T, started bool, seed uint64) {
	pool, err := hawechaty.New(hawechaty.WithSeed(seed))
	require.NoError(t, err)
	defer pool.Stop(context.Background())
	if started {
		require.NoError(t, pool.Add(t.Context(), newFake("other")))
		require.NoError(t, pool.Start(t.Context()))
	}
	var mu sync.Mutex
	var fakes []*fakePuppet
	var wg sync.WaitGroup
	for g := range 8 {
		rng := rand.New(rand.NewPCG(seed, uint64(g)))
		wg.Go(func() {
			for range 40 {
				if rng.IntN(2) == 0 {
					f := newFake("x")
					mu.Lock()
					fakes = append(fakes, f)
					mu.Unlock()
					switch err := pool.Add(t.Context(), f); {
					case errors.Is(err, hawechaty.ErrDuplicateBot):
						_ = f.Close() // never the pool's
					case err != nil:
						// Added, then removed by another goroutine
						// before its Start: the start was refused.
						assert.ErrorIs(t, err, puppet.ErrNotSent)
					}
				} else if err := pool.Remove(t.Context(), "x"); err != nil {
					assert.ErrorIs(t, err, hawechaty.ErrUnknownBot)
				}
				if rng.IntN(4) == 0 {
					time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	time.Sleep(time.Second)
	synctest.Wait()

	held := hawechaty.Puppets(pool)
	state := pool.State()
	assert.ElementsMatch(t, slices.Collect(maps.Keys(held)), state.Bots.Keys(), "the state's bots are not the pool's puppets")
	var current *fakePuppet
	for _, f := range fakes {
		if ch, ok := held["x"]; ok && f.Events() == ch {
			current = f
			continue
		}
		assert.True(t, f.Closed(), "a puppet outside the pool is not closed")
		assert.False(t, f.Started(), "a puppet outside the pool runs")
	}
	if _, ok := held["x"]; !ok {
		return
	}
	require.NotNil(t, current, "the pool holds a puppet the storm never made")
	bot, ok := state.Bots.Get("x")
	require.True(t, ok, "a puppet without a record")
	assert.False(t, current.Closed(), "the pool's puppet is closed")
	assert.Equal(t, current.Started(), bot.LoggedIn, "the record tells of another puppet than the pool's (%q)", bot.Reason)
	if started {
		assert.True(t, bot.Available, "%q", bot.Reason)
	}
}
