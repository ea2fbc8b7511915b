package epics_test

import (
	"context"
	"strings"
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

// A removed bot's late events must leave nothing behind: a sign of life
// dispatched after BotRemoved (its pump racing Remove) used to be watched
// and failed later, and a BotFailed landing just after BotRemoved (the
// heartbeat firing as Remove ran) used to open a reset that never ended,
// so that a bot added again under the same name was never reset.
func TestResetRemovedThenReAddedBot(t *testing.T) {
	for _, tt := range []struct {
		name string
		late actions.Action
		want []string // what the late action leads to
	}{
		{"late message", actions.Message.New(actions.MessagePayload{Bot: "b1", MessageID: "m", From: "carol"}), nil},
		{"late heartbeat", actions.Heartbeat.New(actions.BotPayload{Bot: "b1"}), nil},
		{"late failure", actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "no sign of life"}), []string{"0s bot/FAILED b1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newLiveRig(t, epics.Config{})
				defer r.stop()
				r.add(t, "b1", newFake("b1"))
				r.dispatch(t, actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "b1"}))
				r.remove(t, "b1")
				r.dispatch(t, tt.late)
				time.Sleep(5 * time.Minute)
				synctest.Wait()
				assert.Equal(t, tt.want, r.log(failedOrReset...), "the removed bot is neither failed nor reset")

				// Added again; it never logs in: failed after FailAfter,
				// then reset with the backoff from the start.
				r.add(t, "b1", newFake("b1"))
				time.Sleep(2*time.Minute + 3*time.Second)
				synctest.Wait()
				assert.Equal(t, []string{
					"7m0s bot/FAILED b1",
					"7m1s bot/RESET_STARTED b1#1+1s",
					"7m1s bot/RESET_DONE b1#1+1s",
					"7m2.6s bot/RESET_STARTED b1#2+1.6s",
					"7m2.6s bot/RESET_DONE b1#2+1.6s",
				}, r.log(failedOrReset...))
			})
		})
	}
}

// A bot removed while its reset waits for the backoff is not reset again,
// and the reset in flight when it was removed does not schedule another.
func TestResetEndsWhenTheBotIsRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLiveRig(t, epics.Config{SendTimeout: time.Minute})
		defer r.stop()
		r.add(t, "b1", &slowStartPuppet{fakePuppet: newFake("b1"), d: 10 * time.Second})
		r.dispatch(t, actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "test"}))
		time.Sleep(5 * time.Second) // the first reset runs from 1 s to 11 s
		r.remove(t, "b1")
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		assert.Equal(t, []string{
			"0s bot/FAILED b1",
			"1s bot/RESET_STARTED b1#1+1s",
			"11s bot/RESET_DONE b1#1+1s",
		}, r.log(failedOrReset...))
	})
}

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

// A Dong from a logged-out bot (a puppet-level ding answered by its
// connection) proves nothing about the account: the resets go on.
func TestResetGoesOnWhenALoggedOutBotDongs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLiveRig(t, epics.Config{})
		defer r.stop()
		r.add(t, "b1", newFake("b1"))
		r.dispatch(t, actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "b1"}))
		r.dispatch(t, actions.Logout.New(actions.ReasonPayload{Bot: "b1", Reason: "kicked"}))
		r.dispatch(t, actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "test"}))
		time.Sleep(3 * time.Second)
		r.dispatch(t, actions.Dong.New(actions.BotPayload{Bot: "b1"}))
		time.Sleep(3 * time.Second)
		synctest.Wait()
		assert.Equal(t, []string{
			"1s bot/RESET_STARTED b1#1+1s",
			"2.6s bot/RESET_STARTED b1#2+1.6s",
			"5.16s bot/RESET_STARTED b1#3+2.56s",
		}, r.log(actions.ResetStarted.Type()))
	})
}

// A Scan pauses the resets (restarting the puppet would only restart the
// login); when no Login follows within ScanTimeout, the heartbeat fails
// the bot again and the resets start over.
func TestResetPausesWhileAScanIsPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newLiveRig(t, epics.Config{})
		defer r.stop()
		r.add(t, "b1", newFake("b1"))
		r.dispatch(t, actions.Login.New(actions.LoginPayload{Bot: "b1", Self: "b1"}))
		r.dispatch(t, actions.BotFailed.New(actions.ReasonPayload{Bot: "b1", Reason: "test"}))
		time.Sleep(3 * time.Second)
		r.dispatch(t, actions.Scan.New(actions.BotPayload{Bot: "b1"}))
		time.Sleep(epics.DefaultScanTimeout + 2*time.Second)
		synctest.Wait()
		assert.Equal(t, []string{
			"0s bot/FAILED b1",
			"1s bot/RESET_STARTED b1#1+1s",
			"2.6s bot/RESET_STARTED b1#2+1.6s",
			"10m3s bot/FAILED b1",
			"10m4s bot/RESET_STARTED b1#1+1s",
		}, r.log(actions.BotFailed.Type(), actions.ResetStarted.Type()))
		b, _ := r.st.State().Bots.Get("b1")
		assert.True(t, strings.HasPrefix(b.Reason, "no login 10m0s after a QR scan"), b.Reason)
	})
}
