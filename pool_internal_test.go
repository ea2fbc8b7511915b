package hawechaty

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStartWatchesBotsAddedBeforeTheEpicsRan replays, step by step, the
// interleaving of an Add concurrent with Start that left a bot unwatched:
// Add joins after Start took its snapshot of the members, but its
// BotAdded is reduced before the store runs the epics. The heartbeat must
// still watch that bot, so one that never logs in is failed after
// FailAfter and reset.
func TestStartWatchesBotsAddedBeforeTheEpicsRan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		world := mock.NewWorld()
		defer world.Close()
		b, err := world.AddBot("bot-a")
		require.NoError(t, err)
		b.FailStart(-1) // never logs in: only the heartbeat can fail it
		p, err := New(WithSeed(1), WithDingAfter(30*time.Second), WithFailAfter(time.Minute))
		require.NoError(t, err)
		defer p.Stop(context.Background())

		// Add's dispatch lands before the epics run ...
		require.NoError(t, p.st.dispatch(actions.BotAdded.New(actions.BotAddedPayload{Bot: "bot-a", Puppet: "mock"}).WithSource("pool")))
		require.NoError(t, p.Start(t.Context()))
		// ... and its member joined after Start's snapshot.
		p.mu.Lock()
		p.bots["bot-a"] = newMember(b)
		p.mu.Unlock()

		time.Sleep(2 * time.Minute)
		synctest.Wait()
		bot, ok := p.State().Bots.Get("bot-a")
		require.True(t, ok)
		assert.Equal(t, reducers.Failed, bot.Phase, "never failed: the heartbeat does not watch it")
		assert.Positive(t, bot.Reset, "never reset")
	})
}

// A Say between Start's first step and the store's start fails at once: it
// used to wait, past its deadline, for epics that never saw it.
func TestSayDuringStartFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := New(WithSeed(1))
		require.NoError(t, err)
		p.mu.Lock()
		p.state = starting // what Start does first
		p.mu.Unlock()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err = p.Say(ctx, "alice", "hi")
		require.ErrorContains(t, err, "before Start has started the pool")
		assert.Zero(t, p.State().Sends.Len(), "the send was never requested")
		require.NoError(t, p.Stop(context.Background()))
		assert.Empty(t, p.bell.waiters, "Say left its doorbell behind")
	})
}

// A login that the bot's pump takes after Remove forgot the bot's own
// account does not record it again: messages from that account would be
// filtered out of Messages for good.
func TestRemovedBotsAccountIsForgotten(t *testing.T) {
	for range 100 {
		synctest.Test(t, func(t *testing.T) {
			world := mock.NewWorld()
			defer world.Close()
			b, err := world.AddBot("bot-a")
			require.NoError(t, err)
			p, err := New(WithSeed(1))
			require.NoError(t, err)
			require.NoError(t, p.Add(t.Context(), b))
			require.NoError(t, p.Start(t.Context()))
			defer p.Stop(context.Background())
			synctest.Wait()
			require.NoError(t, b.Stop(t.Context()))
			synctest.Wait()
			go b.Start(context.Background()) // a login on its way
			_ = p.Remove(context.Background(), "bot-a")
			time.Sleep(time.Second)
			synctest.Wait()
			assert.Zero(t, p.State().Selves.Len(), "the removed bot's account is still the pool's")
			assert.Zero(t, p.State().Bots.Len())
		})
	}
}
