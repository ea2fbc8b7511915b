package epics_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveRig is a store with the heartbeat and reset epics whose puppets
// come and go as in the facade: remove forgets the puppet first, then
// dispatches BotRemoved.
type liveRig struct {
	*rig
	mu   sync.Mutex
	pups map[string]puppet.Puppet
}

func newLiveRig(t *testing.T, cfg epics.Config) *liveRig {
	t.Helper()
	r := &liveRig{rig: &rig{}, pups: map[string]puppet.Puppet{}}
	var st *store.Store[reducers.Pool]
	deps := epics.Deps{
		Puppet: func(b string) (puppet.Puppet, bool) {
			r.mu.Lock()
			defer r.mu.Unlock()
			p, ok := r.pups[b]
			return p, ok
		},
		Dispatch: func(a actions.Action) error { return st.Dispatch(a) },
	}
	cfg.Rand = func() float64 { return 0.5 } // no jitter: exact timings
	st, err := store.New(reducers.PoolReducer, reducers.Pool{},
		store.WithEpic("heartbeat", epics.Heartbeat(cfg, deps)),
		store.WithEpic("reset", epics.Reset(cfg, deps)))
	require.NoError(t, err)
	r.st, r.sub = st, st.Subscribe(100_000)
	require.NoError(t, st.Start(t.Context()))
	r.start = time.Now()
	return r
}

// add puts p in the pool as bot, not logged in yet.
func (r *liveRig) add(t *testing.T, bot string, p puppet.Puppet) {
	t.Helper()
	r.mu.Lock()
	r.pups[bot] = p
	r.mu.Unlock()
	r.dispatch(t, actions.BotAdded.New(actions.BotAddedPayload{Bot: bot, Puppet: "fake"}))
}

// remove takes bot out of the pool as the facade does: the puppet is
// forgotten first, then BotRemoved is dispatched.
func (r *liveRig) remove(t *testing.T, bot string) {
	t.Helper()
	r.mu.Lock()
	delete(r.pups, bot)
	r.mu.Unlock()
	r.dispatch(t, actions.BotRemoved.New(actions.BotPayload{Bot: bot}))
}

var failedOrReset = []string{actions.BotFailed.Type(), actions.ResetStarted.Type(), actions.ResetDone.Type(), actions.ResetFailed.Type()}

// slowStartPuppet's Start takes d, deaf to its context, then returns nil:
// a puppet that does not honour cancellation.
type slowStartPuppet struct {
	*fakePuppet
	d time.Duration
}

func (s *slowStartPuppet) Start(ctx context.Context) error {
	time.Sleep(s.d)
	return s.fakePuppet.Start(ctx)
}

// A reset whose Stop and Start return nil, but only after SendTimeout,
// counts as failed and the backoff goes on. It used to be dropped
// silently, leaving the bot marked as being reset forever.
func TestResetThatOverrunsItsTimeoutIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLiveRig(t, epics.Config{SendTimeout: 10 * time.Second})
		defer r.stop()
		r.add(t, "b1", &slowStartPuppet{fakePuppet: newFake("b1"), d: 11 * time.Second})
		r.dispatch(t, actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "test"}))
		time.Sleep(40 * time.Second) // between attempts: no Start in flight when the test ends
		synctest.Wait()
		assert.Equal(t, []string{
			"0s bot/FAILED b1",
			"1s bot/RESET_STARTED b1#1+1s",
			"12s bot/RESET_FAILED b1#1+1s",
			"13.6s bot/RESET_STARTED b1#2+1.6s",
			"24.6s bot/RESET_FAILED b1#2+1.6s",
			"27.16s bot/RESET_STARTED b1#3+2.56s",
			"38.16s bot/RESET_FAILED b1#3+2.56s",
		}, r.log(failedOrReset...))
		b, _ := r.st.State().Bots.Get("b1")
		assert.Equal(t, "reset failed: stop and start took longer than 10s: context deadline exceeded", b.Reason)
	})
}
