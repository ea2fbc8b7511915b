package hawechaty_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// threeBots returns a world with alice and bot-1, bot-2, bot-3 (beating
// every 30 s), closed when the test ends.
func threeBots(t *testing.T) (*mock.World, []*mock.Bot) {
	t.Helper()
	world := mock.NewWorld()
	t.Cleanup(func() { world.Close() })
	require.NoError(t, world.AddContact("alice", "Alice"))
	var bots []*mock.Bot
	for i := 1; i <= 3; i++ {
		b, err := world.AddBot(fmt.Sprint("bot-", i), mock.WithHeartbeat(30*time.Second))
		require.NoError(t, err)
		bots = append(bots, b)
	}
	return world, bots
}

// After a DevTools jump (Store().Replace) to any state the store held, or
// to reducers.Pool{} (RESET), the pool is as it was: the same state, every
// bot in Health, and sends go through. A Say in flight across jumps ends
// once, delivered once.
func TestTimeTravelKeepsThePool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world, bots := threeBots(t)
		pool, err := hawechaty.New(hawechaty.WithSeed(1))
		require.NoError(t, err)
		history := []reducers.Pool{{}}
		sub := pool.Store().Subscribe(1 << 16)
		for _, b := range bots {
			require.NoError(t, pool.Add(t.Context(), b))
		}
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())
		synctest.Wait()

		// A history: sends, a bot that dies, is failed and comes back.
		for i := range 3 {
			_, err := pool.Say(t.Context(), "alice", fmt.Sprint("before ", i))
			require.NoError(t, err)
		}
		bots[2].Die()
		time.Sleep(2*time.Minute + 500*time.Millisecond) // bot-3 failed, not yet reset
		synctest.Wait()
		require.Equal(t, []string{"bot-3"}, pool.Health().Failed)
		for len(sub.C()) > 0 {
			history = append(history, (<-sub.C()).State)
		}
		require.Greater(t, len(history), 20)

		for i, to := range history {
			before, health := pool.State(), pool.Health()
			require.NoError(t, pool.Store().Replace(to, "devtools"))
			assert.True(t, pool.State() == before, "jump %d of %d changed the pool", i, len(history))
			assert.Equal(t, health, pool.Health(), "jump %d", i)
		}
		assert.Equal(t, 3, pool.Health().Total)
		r, err := pool.Say(t.Context(), "alice", "after the jumps")
		require.NoError(t, err)
		assert.NotEqual(t, "bot-3", r.Bot, "routed to the failed bot")

		// A Say in flight across jumps, through a slow bot.
		next, _ := reducers.NextBot(pool.State(), "alice", nil)
		for _, b := range bots {
			if b.Name() == next {
				b.SetLatency(10 * time.Second)
			}
		}
		said := make(chan error, 1)
		go func() {
			_, err := pool.Say(t.Context(), "alice", "across")
			said <- err
		}()
		synctest.Wait()
		require.Equal(t, 1, pool.State().Sends.Len(), "the send is not in the state")
		require.NoError(t, pool.Store().Replace(history[0], "devtools"))
		require.NoError(t, pool.Store().Replace(history[len(history)/2], "devtools"))
		assert.Equal(t, 1, pool.State().Sends.Len(), "a jump lost the send in flight")
		require.NoError(t, <-said)
		synctest.Wait()
		assert.Zero(t, pool.State().Sends.Len(), "the send was not forgotten once collected")

		// bot-3's reset goes on after the jumps, and brings it back.
		time.Sleep(5 * time.Second)
		synctest.Wait()
		assert.Equal(t, 3, pool.Health().Available)
		n := 0
		for _, d := range world.Delivered() {
			if d.Text == "across" {
				n++
			}
		}
		assert.Equal(t, 1, n, "delivered %d times", n)
	})
}

// travelApp is an application's state with the pool as one slice.
type travelApp struct {
	Pool      reducers.Pool
	Requested int // send/REQUESTED seen: the application's own count
}

// In an application's store (NewSlice), a jump moves the application's
// slice and leaves the pool's: the application's count goes back, and
// every bot is still there to send.
func TestTimeTravelInAnApplicationsStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, bots := threeBots(t)
		sl, err := hawechaty.NewSlice(
			func(s travelApp) reducers.Pool { return s.Pool },
			func(s *travelApp, p reducers.Pool) { s.Pool = p },
			hawechaty.WithSeed(1))
		require.NoError(t, err)
		count := reducers.On(actions.SendRequested, func(n int, _ actions.SendPayload, _ actions.Meta) int { return n + 1 })
		st, err := store.New(reducers.Combine(sl.Reducer(),
			reducers.Field(func(s travelApp) int { return s.Requested }, func(s *travelApp, n int) { s.Requested = n }, count),
		), travelApp{}, sl.StoreOptions()...)
		require.NoError(t, err)
		pool, err := sl.Bind(st)
		require.NoError(t, err)
		assert.Nil(t, pool.Store(), "the store is the application's")
		for _, b := range bots {
			require.NoError(t, pool.Add(t.Context(), b))
		}
		require.NoError(t, pool.Start(t.Context()))
		defer pool.Stop(context.Background())
		synctest.Wait()
		atInit := st.State()

		var used []string
		for i := range 3 {
			r, err := pool.Say(t.Context(), "alice", fmt.Sprint("m", i))
			require.NoError(t, err)
			used = append(used, r.Bot)
		}
		assert.Equal(t, []string{"bot-1", "bot-2", "bot-3"}, used)
		require.Equal(t, 3, st.State().Requested)

		for _, to := range []travelApp{{}, atInit} {
			poolBefore := st.State().Pool
			require.NoError(t, st.Replace(to, "devtools"))
			assert.Zero(t, st.State().Requested, "the application's slice did not move")
			assert.True(t, st.State().Pool == poolBefore, "the pool's slice moved")
			assert.Equal(t, 3, pool.Health().Available)
			assert.Equal(t, 3, pool.State().Delivered)
		}
		r, err := pool.Say(t.Context(), "alice", "after")
		require.NoError(t, err)
		assert.Equal(t, "bot-1", r.Bot, "round robin goes on where it was")
		assert.Equal(t, 1, st.State().Requested)
	})
}
