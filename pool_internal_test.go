package hawechaty

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
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
		waiting, _ := p.bell.count()
		assert.Zero(t, waiting, "Say left its doorbell behind")
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

// chanPuppet is a puppet whose events the test sends; Start logs in,
// Stop logs out.
type chanPuppet struct {
	name   string
	events chan puppet.Event
}

func (c *chanPuppet) Name() string { return c.name }
func (c *chanPuppet) Start(context.Context) error {
	c.events <- puppet.Event{Kind: puppet.EventLogin, Self: c.name}
	return nil
}
func (c *chanPuppet) Stop(context.Context) error {
	c.events <- puppet.Event{Kind: puppet.EventLogout, Data: "stopped"}
	return nil
}
func (c *chanPuppet) Events() <-chan puppet.Event                        { return c.events }
func (c *chanPuppet) Say(context.Context, string, string) error          { return nil }
func (c *chanPuppet) Rooms(context.Context) ([]puppet.Room, error)       { return nil, nil }
func (c *chanPuppet) Contacts(context.Context) ([]puppet.Contact, error) { return nil, nil }
func (c *chanPuppet) Close() error                                       { return nil }

// The events a removed puppet emits never reach a bot added again under
// its name: here the logout its Stop emits, while the removed bot's pump
// was busy with an earlier event. It used to mark the new bot logged out.
func TestRemovedPuppetsEventsDoNotReachItsSuccessor(t *testing.T) {
	for range 20 {
		synctest.Test(t, func(t *testing.T) {
			hold := make(chan struct{})
			holding := make(chan struct{})
			first := true
			mw := func(store.API[reducers.Pool]) func(store.DispatchFunc) store.DispatchFunc {
				return func(next store.DispatchFunc) store.DispatchFunc {
					return func(a actions.Action) error {
						if actions.Heartbeat.Is(a) && a.Meta.Source == "puppet/x" && first {
							first = false
							close(holding)
							<-hold
						}
						return next(a)
					}
				}
			}
			p, err := New(WithSeed(1), WithStoreOptions(store.WithMiddleware(mw)))
			require.NoError(t, err)
			old := &chanPuppet{name: "x", events: make(chan puppet.Event, 8)}
			require.NoError(t, p.Add(t.Context(), old))
			require.NoError(t, p.Start(t.Context()))
			defer p.Stop(context.Background())
			synctest.Wait()
			old.events <- puppet.Event{Kind: puppet.EventHeartbeat}
			<-holding                                      // the old pump is busy dispatching
			require.NoError(t, p.Remove(t.Context(), "x")) // its Stop queues a logout
			nu := &chanPuppet{name: "x", events: make(chan puppet.Event, 8)}
			require.NoError(t, p.Add(t.Context(), nu))
			synctest.Wait()
			close(hold)
			synctest.Wait()
			b, ok := p.State().Bots.Get("x")
			require.True(t, ok)
			assert.True(t, b.LoggedIn, "the old puppet's logout reached the new bot: %q", b.Reason)
		})
	}
}

// A puppet renamed from the environment keeps its TrySay: renaming
// changes nothing about sending.
func TestRenamedKeepsTrySay(t *testing.T) {
	w := mock.NewWorld()
	defer w.Close()
	if err := w.AddContact("alice", "Alice"); err != nil {
		t.Fatal(err)
	}
	b, err := w.AddBot("bot-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	done, err := puppet.TrySay(renamed{Puppet: b, name: "renamed-1"}, "alice", "hi")
	if !done || err != nil {
		t.Fatalf("TrySay through renamed: done %v, err %v; want done, nil", done, err)
	}
	if got := len(w.Delivered()); got != 1 {
		t.Fatalf("%d deliveries, want 1", got)
	}
}
